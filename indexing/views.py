"""The indexing monitoring page (admins), per index: status, charts, dead letters, the operator's buttons."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import dispatch, roles
from indexing import services
from indexing.documents import DEFINITIONS
from indexing.monitoring import indexing_status, throughput_figure


def _index_of(data) -> str:
    name = data.get("index", "contents")
    return name if name in DEFINITIONS else "contents"


@roles.role_required(roles.ADMIN)
def indexing_page(request):
    name = _index_of(request.GET)
    context = {
        "status": indexing_status(name),
        "figure": throughput_figure(name),
        "indexes": sorted(DEFINITIONS),
        "index": name,
    }
    return render(request, "indexing/status.html", context)


@roles.role_required(roles.ADMIN)
@require_POST
def indexing_action(request):
    """The page's buttons: retry dead letters, repair drift now, rebuild (each runs on the worker)."""
    action, name = request.POST.get("action", ""), _index_of(request.POST)
    back = f"{reverse('indexing:status')}?index={name}"
    if not services.indexing_enabled():
        messages.error(request, "SEARCH_URL is not set: this site has no search engine.")
    elif action == "retry":
        messages.success(request, f"{services.dead_letters_retry(name=name)} documents back in the outbox.")
    elif action == "repair":
        dispatch.enqueue("indexing.tasks.drift_repair_task", force=True)
        messages.success(request, "Drift check and repair queued.")
    elif action == "rebuild":
        dispatch.enqueue("indexing.tasks.index_rebuild_task", name=name, resume=True)
        messages.success(request, "Rebuild queued: the alias swaps when it is done.")
    else:
        messages.error(request, "Unknown action.")
    return redirect(back)
