"""Pages behind the API: rule mappings (with a test box), the ensemble, the prediction log and feedback."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core import roles
from core.errors import ApplicationError
from core.paging import COUNT_CAP, CappedPaginator
from core.params import number_param
from labeling.models import Category, Dataset
from labeling.selectors import dataset_or_404
from labeling.selectors.search import category_choices
from training.models import Champion, EnsembleConfig, PredictionLog, RuleMapping, TrainingRun
from training.services.classify import prediction_feedback
from training.services.serving import ensemble_save, rule_save, rule_try, small_categories


class RuleForm(forms.ModelForm):
    class Meta:
        model = RuleMapping
        fields = ["name", "kind", "pattern", "category", "weight", "priority", "enabled"]
        widgets = {"pattern": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, dataset: Dataset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = small_categories(dataset)


class EnsembleForm(forms.ModelForm):
    class Meta:
        model = EnsembleConfig
        fields = [
            "include_champion",
            "champion_weight",
            "runs",
            "run_weight",
            "rule_weight",
            "unanimous_models_win",
            "min_models_for_unanimity",
        ]

    def __init__(self, *args, dataset: Dataset, **kwargs):
        super().__init__(*args, **kwargs)
        runs = TrainingRun.objects.filter(dataset=dataset, status=TrainingRun.Status.SUCCEEDED).exclude(
            artifact_path=""
        )
        champion = Champion.objects.filter(dataset=dataset).values("run_id")  # it has a box of its own
        self.fields["runs"].queryset = runs.exclude(pk__in=champion).select_related("version")
        self.fields["runs"].required = False


def _rule_form_save(request, dataset: Dataset, form: RuleForm, rule: RuleMapping | None) -> bool:
    if not form.is_valid():
        return False
    try:
        rule_save(dataset=dataset, user=request.user, values=form.cleaned_data, rule=rule)
    except ApplicationError as error:
        form.add_error(None, str(error))
        return False
    messages.success(request, f"Rule {form.cleaned_data['name']!r} saved; answers use it within a second.")
    return True


@roles.role_required(roles.ANNOTATOR)
def rules_page(request, dataset_id: int):
    """The dataset's rules; managers add them and everyone can try one out on texts and recent contents."""
    dataset = dataset_or_404(dataset_id)
    can_edit = roles.request_has_role(request, roles.MANAGER)
    form = RuleForm(request.POST or None, dataset=dataset)
    trial = None
    if request.method == "POST" and request.POST.get("action") == "try":
        form = RuleForm(request.POST, dataset=dataset)
        form.is_valid()
        try:
            texts = request.POST.get("texts", "").replace("\r\n", "\n").split("\n---\n")  # browsers send CRLF
            trial = rule_try(dataset=dataset, values=form.cleaned_data, texts=texts)
        except ApplicationError as error:
            form.add_error(None, str(error))
    elif request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Rules are edited by category managers.")
        if _rule_form_save(request, dataset, form, None):
            return redirect("training:rules", dataset.id)
    rules = RuleMapping.objects.filter(dataset=dataset).select_related("category__parent")
    context = {"dataset": dataset, "rules": rules, "form": form, "trial": trial, "can_edit": can_edit}
    return render(request, "training/rules.html", context)


@roles.role_required(roles.MANAGER)
def rule_edit(request, dataset_id: int, rule_id: int):
    dataset = dataset_or_404(dataset_id)
    rule = get_object_or_404(RuleMapping, pk=rule_id, dataset=dataset)
    form = RuleForm(request.POST or None, instance=rule, dataset=dataset)
    if request.method == "POST" and _rule_form_save(request, dataset, form, rule):
        return redirect("training:rules", dataset.id)
    history = rule.history.select_related("history_user")[:20]
    return render(
        request,
        "training/rule_edit.html",
        {"dataset": dataset, "rule": rule, "form": form, "history": history},
    )


@roles.role_required(roles.MANAGER)
def ensemble_page(request, dataset_id: int):
    """Which models vote, their weights, the rules' weight and the unanimity rule (versioned)."""
    dataset = dataset_or_404(dataset_id)
    # Looking creates nothing: without a configuration the page shows the defaults, saved on the first POST.
    config = EnsembleConfig.objects.filter(dataset=dataset).first() or EnsembleConfig(dataset=dataset)
    form = EnsembleForm(request.POST or None, instance=config, dataset=dataset)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "runs"}
        try:
            config = ensemble_save(
                dataset=dataset, user=request.user, values=values, runs=list(form.cleaned_data["runs"])
            )
            messages.success(
                request, f"Ensemble v{config.version} saved; workers swap to it within a second."
            )
            return redirect("training:ensemble", dataset.id)
        except ApplicationError as error:
            form.add_error(None, str(error))
    history = config.history.select_related("history_user")[:20] if config.pk else []
    return render(
        request,
        "training/ensemble.html",
        {"dataset": dataset, "form": form, "config": config, "history": history},
    )


@roles.role_required(roles.ANNOTATOR)
def predictions_page(request, dataset_id: int):
    """The prediction log, filterable by category and review state; reviewers mark answers right or wrong."""
    dataset = dataset_or_404(dataset_id)
    rows = PredictionLog.objects.filter(dataset=dataset).select_related(
        "category__parent", "right_category", "reviewed_by"
    )
    category = request.GET.get("category", "")
    if (category_id := number_param(request.GET, "category")) is not None:
        rows = rows.filter(category_id=category_id)
    reviewed = request.GET.get("reviewed", "")
    if reviewed in ("yes", "no"):
        rows = rows.filter(correct__isnull=reviewed == "no")
    if request.GET.get("correct") in ("yes", "no"):
        rows = rows.filter(correct=request.GET["correct"] == "yes")
    page = CappedPaginator(rows, 50).get_page(request.GET.get("page"))  # a log of millions: no full count
    context = {
        "dataset": dataset,
        "page": page,
        "count_cap": COUNT_CAP,
        "categories": category_choices(dataset.taxonomy_id),
        "category_id": category_id,
        "filters": {"category": category, "reviewed": reviewed, "correct": request.GET.get("correct", "")},
    }
    return render(request, "training/predictions.html", context)


@require_POST
@roles.role_required(roles.ANNOTATOR)
def prediction_feedback_view(request, prediction_id: int):
    prediction = get_object_or_404(PredictionLog.objects.select_related("dataset"), pk=prediction_id)
    right_id = number_param(request.POST, "right_category")
    right = None if right_id is None else Category.objects.filter(pk=right_id).first()
    try:
        prediction_feedback(
            prediction=prediction,
            user=request.user,
            correct=request.POST.get("correct") == "1",
            right_category=right,
        )
        messages.success(
            request, f"Prediction #{prediction.id} marked {'right' if prediction.correct else 'wrong'}."
        )
    except ApplicationError as error:
        messages.error(request, str(error))
    back = request.POST.get("next", "")
    # a path on this site only (redirect() would take any other word for a view name)
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        back = reverse("training:predictions", args=[prediction.dataset_id])
    return HttpResponseRedirect(back)
