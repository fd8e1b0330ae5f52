"""The poll every progress page answers: long work (jobs, catalog runs) shown as a bar that reloads itself."""

from django.http import JsonResponse


def progress_poll(request, work, result) -> JsonResponse | None:
    """`work`'s status, progress, stage, message and `result` as JSON when the page's poll asks for them;
    None when the page itself is asked for."""
    if request.headers.get("Accept") != "application/json" and request.GET.get("format") != "json":
        return None
    fields = {name: getattr(work, name) for name in ("status", "progress", "stage", "message")}
    return JsonResponse(fields | {"result": result})
