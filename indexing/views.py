"""The indexing monitoring page (admins): status, charts, dead letters and the operator's buttons."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core import dispatch, roles
from indexing import services
from indexing.monitoring import indexing_status, throughput_figure


@roles.role_required(roles.ADMIN)
def indexing_page(request):
    return render(
        request,
        "indexing/status.html",
        {"status": indexing_status(), "figure": throughput_figure()},
    )


@roles.role_required(roles.ADMIN)
@require_POST
def indexing_action(request):
    """The page's buttons: retry dead letters, repair drift now, rebuild (each runs on the worker)."""
    action = request.POST.get("action", "")
    if not services.indexing_enabled():
        messages.error(request, "SEARCH_URL is not set: this site has no search engine.")
    elif action == "retry":
        messages.success(
            request, f"{services.dead_letters_retry(name='contents')} documents back in the outbox."
        )
    elif action == "repair":
        dispatch.enqueue("indexing.tasks.drift_repair_task", force=True)
        messages.success(request, "Drift check and repair queued.")
    elif action == "rebuild":
        dispatch.enqueue("indexing.tasks.index_rebuild_task", resume=True)
        messages.success(request, "Rebuild queued: the alias swaps when it is done.")
    else:
        messages.error(request, "Unknown action.")
    return redirect("indexing:status")
