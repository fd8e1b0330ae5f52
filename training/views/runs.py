"""Pages of the training app: runs compared, a run, requirements, champion changes, schedules."""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import roles
from core.errors import ApplicationError
from labeling.selectors import dataset_or_404
from training import selectors
from training.algorithms import ALGORITHMS, DEFAULT_ALGORITHM, ParameterError, parse_assignments
from training.models import ChampionChange, ModelRequirement, RetrainSchedule, TrainingRun
from training.services.champion import champion_demote, champion_promote
from training.services.requirements import requirement_update
from training.services.runs import run_cancel, run_start
from training.services.schedules import schedule_save


class RunForm(forms.Form):
    algorithm = forms.ChoiceField(
        choices=[(name, f"{name}: {cls.description}") for name, cls in ALGORITHMS.items()]
    )
    params = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="one name=value a line; the rest keep their defaults",
    )
    folds = forms.IntegerField(
        initial=5, min_value=0, max_value=10, help_text="k-fold for out-of-fold predictions"
    )
    refit_all = forms.BooleanField(
        required=False, initial=True, label="Refit on every row", help_text="after the held-out evaluation"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each algorithm's own first settings as the example (static/js/run_form.js swaps them on a change).
        examples = {
            name: "\n".join(f"{key}={param.default}" for key, param in list(cls.own_params.items())[:3])
            for name, cls in ALGORITHMS.items()
        }
        chosen = self["algorithm"].value() or DEFAULT_ALGORITHM
        self.fields["params"].widget.attrs |= {
            "placeholder": examples.get(chosen, ""),
            "data-placeholders": json.dumps(examples),
        }


class RequirementForm(forms.ModelForm):
    class Meta:
        model = ModelRequirement
        fields = [
            "primary_metric",
            "auto_promote",
            "min_accuracy",
            "min_macro_f1",
            "min_important_recall",
            "max_train_seconds",
            "max_latency_p99_ms",
            "max_model_mb",
        ]


class ScheduleForm(forms.ModelForm):
    algorithm = forms.ChoiceField(choices=[(name, name) for name in ALGORITHMS])

    class Meta:
        model = RetrainSchedule
        fields = ["enabled", "algorithm", "nightly_hour", "dirty_threshold", "check_minutes"]


@roles.role_required(roles.ANNOTATOR)
def runs_page(request, dataset_id: int):
    """Every run of a dataset side by side with its requirement verdicts; the champion marked."""
    dataset = dataset_or_404(dataset_id)
    columns, rows = selectors.runs_comparison(dataset, selectors.dataset_runs(dataset))
    context = {
        "dataset": dataset,
        "columns": columns,
        "rows": rows,
        "champion": selectors.dataset_champion_run(dataset),
        "changes": ChampionChange.objects.filter(dataset=dataset).select_related("user")[:20],
        "requirement": selectors.dataset_requirement(dataset),
        "form": RunForm(initial={"algorithm": DEFAULT_ALGORITHM}),
        "can_train": roles.request_has_role(request, roles.MANAGER),
    }
    return render(request, "training/runs.html", context)


@require_POST
@roles.role_required(roles.MANAGER)
def run_start_view(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("training:runs", dataset.id)
    try:
        params = parse_assignments(
            [line for line in form.cleaned_data["params"].splitlines() if line.strip()]
        )
        run = run_start(
            dataset=dataset,
            user=request.user,
            algorithm=form.cleaned_data["algorithm"],
            params=params,
            folds=form.cleaned_data["folds"],
            refit_all=form.cleaned_data["refit_all"],
        )
    except (ApplicationError, ParameterError) as error:
        messages.error(request, str(error))
        return redirect("training:runs", dataset.id)
    return redirect("training:run", run.id)


def _run_json(run: TrainingRun) -> JsonResponse:
    fields = ("status", "stage", "progress", "message")
    return JsonResponse({name: getattr(run, name) for name in fields})


@roles.role_required(roles.ANNOTATOR)
def run_page(request, run_id: int):
    run = get_object_or_404(
        TrainingRun.objects.select_related("dataset__taxonomy", "version", "created_by"), pk=run_id
    )
    if request.GET.get("format") == "json":
        return _run_json(run)
    champion = selectors.dataset_champion_run(run.dataset)
    context = {
        "run": run,
        "dataset": run.dataset,
        "is_champion": champion is not None and champion.id == run.id,
        "categories": selectors.run_category_figures(run),
        "can_manage": roles.request_has_role(request, roles.MANAGER),
    }
    labels, matrix = selectors.run_confusion(run)
    if len(labels) <= 40:
        context["confusion"] = list(zip(labels, matrix, strict=True))
        context["confusion_labels"] = labels
    return render(request, "training/run.html", context)


def _managed_run_action(request, run_id: int, action) -> TrainingRun:
    run = get_object_or_404(TrainingRun, pk=run_id)
    try:
        message = action(run)
        messages.success(request, message)
    except ApplicationError as error:
        messages.error(request, str(error))
    return run


@require_POST
@roles.role_required(roles.MANAGER)
def run_cancel_view(request, run_id: int):
    def cancel(run):
        run_cancel(run=run, user=request.user)
        return f"Run #{run.id} will stop at its next step."

    return redirect("training:run", _managed_run_action(request, run_id, cancel).id)


@require_POST
@roles.role_required(roles.MANAGER)
def run_promote_view(request, run_id: int):
    def promote(run):
        champion_promote(run=run, user=request.user, reason=request.POST.get("reason", ""))
        return f"Run #{run.id} is the champion now."

    return redirect("training:run", _managed_run_action(request, run_id, promote).id)


@require_POST
@roles.role_required(roles.MANAGER)
def champion_demote_view(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    try:
        change = champion_demote(dataset=dataset, user=request.user, reason=request.POST.get("reason", ""))
        after = (
            f"run #{change.run_id} is champion again" if change.run_id else "the dataset has no champion now"
        )
        messages.success(request, f"Champion demoted; {after}.")
    except ApplicationError as error:
        messages.error(request, str(error))
    return redirect("training:runs", dataset.id)


@roles.role_required(roles.ANNOTATOR)
def requirements_page(request, dataset_id: int):
    """The requirements a model must meet (managers edit them; everyone sees them)."""
    dataset = dataset_or_404(dataset_id)
    requirement = selectors.dataset_requirement(dataset)
    can_edit = roles.request_has_role(request, roles.MANAGER)
    form = RequirementForm(request.POST or None, instance=requirement)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Requirements are edited by category managers.")
        if form.is_valid():
            try:
                requirement_update(dataset=dataset, user=request.user, values=form.cleaned_data)
                messages.success(request, "Requirements saved; the next runs are judged against them.")
                return redirect("training:requirements", dataset.id)
            except ApplicationError as error:
                form.add_error(None, str(error))
    history = requirement.history.select_related("history_user")[:20]
    context = {"dataset": dataset, "form": form, "can_edit": can_edit, "history": history}
    return render(request, "training/requirements.html", context)


@roles.role_required(roles.ADMIN)
def schedule_page(request, dataset_id: int):
    """Nightly and "retrain when dirty" schedules of a dataset (django-celery-beat tasks underneath)."""
    dataset = dataset_or_404(dataset_id)
    schedule = RetrainSchedule.objects.filter(dataset=dataset).first() or RetrainSchedule(dataset=dataset)
    form = ScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        try:
            schedule_save(dataset=dataset, user=request.user, values=form.cleaned_data)
            messages.success(request, "Schedule saved.")
            return redirect("training:schedule", dataset.id)
        except ApplicationError as error:
            form.add_error(None, str(error))
    return render(request, "training/schedule.html", {"dataset": dataset, "form": form, "schedule": schedule})
