from training.views.runs import (
    champion_demote_view,
    requirements_page,
    run_cancel_view,
    run_page,
    run_promote_view,
    run_start_view,
    runs_page,
    schedule_page,
)
from training.views.verification import (
    category_exclude_view,
    category_merge_view,
    confusion_page,
    doubted_page,
    fixes_page,
    health_page,
    retrain_view,
    review_page,
)

__all__ = [
    "category_exclude_view",
    "category_merge_view",
    "champion_demote_view",
    "confusion_page",
    "doubted_page",
    "fixes_page",
    "health_page",
    "requirements_page",
    "retrain_view",
    "review_page",
    "run_cancel_view",
    "run_page",
    "run_promote_view",
    "run_start_view",
    "runs_page",
    "schedule_page",
]
