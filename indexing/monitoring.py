"""What the monitoring page and GET /api/v1/indexing/status show: lag, throughput, errors, dead letters,
checkpoints, the last drift check."""

from datetime import timedelta

import plotly.graph_objects as go
from django.utils import timezone

from indexing.engine import EngineError
from indexing.models import DeadLetter, IndexState, SyncMinute
from indexing.services import engine_get, indexing_enabled, search_alias
from indexing.services.sync import outbox_figures


def indexing_status(name: str = "contents") -> dict:
    """Everything an operator checks first, as plain values (the API returns it as it is)."""
    state = IndexState.objects.filter(name=name).first()
    since = timezone.now() - timedelta(minutes=5)
    recent = SyncMinute.objects.filter(target=name, minute__gte=since)
    events = sum(row.events for row in recent)
    status = {
        "enabled": indexing_enabled(),
        "index": name,
        "alias": search_alias(name) if indexing_enabled() else "",
        "created": bool(state and state.live),
        **outbox_figures(name),
        "events_per_second": round(events / 300, 2),
        "bulk_errors_last_hour": sum(
            SyncMinute.objects.filter(
                target=name, minute__gte=timezone.now() - timedelta(hours=1)
            ).values_list("errors", flat=True)
        ),
        "dead_letters": list(
            DeadLetter.objects.filter(target=name)
            .order_by("-updated_at")
            .values("doc_id", "error", "attempts")[:100]
        ),
        "dead_letter_count": DeadLetter.objects.filter(target=name).count(),
    }
    if state:
        status |= {
            "live": state.live,
            "building": state.building,
            "rebuild": {
                "done": state.rebuild_done,
                "total": state.rebuild_total,
                "cursor": state.rebuild_cursor,
            }
            if state.building
            else None,
            "previous": state.previous,
            "previous_drop_after": state.previous_drop_after,
            "batch_checkpoint": state.batch_checkpoint,
            "batch_last_window": state.batch_last_window,
            "drift": state.last_drift,
            "repair_failures": state.repair_failures,
            "repair_next_at": state.repair_next_at,
            "repair_alert": state.repair_alert,
        }
    if indexing_enabled():
        try:
            health = engine_get().health()
            status["engine"] = {"status": health.get("status"), "cluster": health.get("cluster_name")}
        except EngineError as error:
            status["engine"] = {"status": "unreachable", "error": str(error)[:500]}
    return status


def throughput_figure(name: str = "contents") -> str:
    """Lag (worst per minute) and events handled per minute over the last day, as Plotly JSON."""
    now = timezone.localtime()
    rows = list(
        SyncMinute.objects.filter(target=name, minute__gte=now - timedelta(days=1)).order_by("minute")
    )
    minutes = [timezone.localtime(row.minute).strftime("%Y-%m-%d %H:%M") for row in rows]  # shown times
    figure = go.Figure()
    figure.add_bar(
        x=minutes, y=[row.events for row in rows], name="events / min", marker_color="#8fb3d9", width=60_000
    )
    figure.add_scatter(
        x=minutes, y=[row.lag_max_ms / 1000 for row in rows], name="lag (s, worst)", yaxis="y2", mode="lines"
    )
    figure.update_layout(
        height=320,
        margin={"l": 50, "r": 50, "t": 20, "b": 60},
        xaxis={
            "type": "date",
            "range": [f"{now - timedelta(days=1):%Y-%m-%d %H:%M}", f"{now:%Y-%m-%d %H:%M}"],
        },
        yaxis={"title": "events / min"},
        yaxis2={"title": "lag (s)", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        legend={"orientation": "h"},
    )
    return figure.to_json()
