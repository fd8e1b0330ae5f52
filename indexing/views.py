"""The indexing monitoring page (admins), per index: status, charts, dead letters, the operator's buttons."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import dispatch, roles
from indexing import services
from indexing.documents import DEFINITIONS
from indexing.monitoring import indexing_status, throughput_figure
from indexing.services.jobs import rebuild_job_current, rebuild_job_start


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
        "rebuild_job": rebuild_job_current(name),
    }
    return render(request, "indexing/status.html", context)


@roles.role_required(roles.ADMIN)
@require_POST
def indexing_action(request):
    """The page's buttons: retry dead letters, repair drift now (on the worker), rebuild (a job: its page)."""
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
        job = rebuild_job_start(name=name, user=request.user)
        messages.success(request, f"Rebuild of {name}: the alias swaps when it is done.")
        return redirect("core:job", job.id)
    else:
        messages.error(request, "Unknown action.")
    return redirect(back)
