"""Catalog pages (category managers): catalogs, the review queue, a catalog, rules, runs, import, figures."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog import selectors
from catalog.errors import CatalogError
from catalog.figures import coverage_figure, quality_figure
from catalog.grouping.communities import METHODS
from catalog.models import Catalog, CatalogRun, CategoryRules, Offer, OfferImport
from catalog.services import review
from catalog.services.imports import offer_import_apply_enqueue, offer_import_upload, offers_classify_enqueue
from catalog.services.runs import catalog_run_cancel, catalog_run_enqueue, run_totals
from core import roles
from core.history import save_with_history
from core.params import number_param, numbers_param
from core.progress import progress_poll
from labeling.models import Category, Dataset

manager_only = roles.role_required(roles.MANAGER)
MAX_UPLOAD = 50 * 2**20


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(level=Category.Level.SMALL), required=False
    )
    status = forms.ChoiceField(choices=[("", "any"), *Catalog.Status.choices], required=False)


class RulesForm(forms.ModelForm):
    community = forms.ChoiceField(choices=[(m, m.replace("_", " ")) for m in METHODS])
    one_offer_per_shop = forms.BooleanField(required=False)
    pack_size = forms.BooleanField(required=False)
    model_numbers = forms.BooleanField(required=False)
    options = forms.BooleanField(required=False)
    price_ratio = forms.FloatField(min_value=0, max_value=1000, help_text="0 switches the rule off")
    threshold = forms.FloatField(min_value=0.05, max_value=1.0)
    publish_threshold = forms.FloatField(min_value=0.0, max_value=1.0)
    k = forms.IntegerField(min_value=1, max_value=500)
    image_weight = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        required=False,
        help_text="weight of the feed's image vectors in the similarity (names: characters 0.75, words 0.10, "
        "model number 0.15); 0 leaves images out",
    )

    class Meta:
        model = CategoryRules
        fields = ["threshold", "publish_threshold", "k", "community", "image_weight"]

    def clean_image_weight(self) -> float:
        return self.cleaned_data["image_weight"] or 0.0

    RULES = ("one_offer_per_shop", "pack_size", "model_numbers", "options", "price_ratio")


def _fail(request, error: CatalogError):
    messages.error(request, str(error))


@manager_only
def catalog_list(request):
    form = SearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    category = data.get("category")
    rows = selectors.catalog_search(
        category_id=category.id if category else None, q=data.get("q", ""), status=data.get("status", "")
    )[:200]
    runs = CatalogRun.objects.all()[:5]
    return render(request, "catalog/list.html", {"form": form, "catalogs": rows, "runs": runs})


@manager_only
def review_queue(request):
    """One catalog at a time, the largest and least certain first; keys in static/js/review.js."""
    skipped = numbers_param(request.GET, "skip")
    queue = selectors.review_queue().exclude(id__in=skipped)
    current = queue.first()
    view = selectors.catalog_detail(current) if current else None
    context = {
        "view": view,
        "waiting": selectors.review_queue().count(),
        "skipped": skipped,
    }
    return render(request, "catalog/review.html", context)


@manager_only
def catalog_page(request, catalog_id: int):
    catalog = get_object_or_404(Catalog.objects.select_related("category__parent"), pk=catalog_id)
    return render(request, "catalog/catalog.html", {"view": selectors.catalog_detail(catalog)})


@require_POST
@manager_only
def catalog_decide(request, catalog_id: int):
    """Approve, reject, split, retitle, merge, move: one decision, as history rows and constraints."""
    catalog = get_object_or_404(Catalog, pk=catalog_id)
    action = request.POST.get("action", "")
    try:
        if action == "approve":
            review.catalog_approve(catalog=catalog, user=request.user)
        elif action == "reject":
            review.catalog_reject(catalog=catalog, user=request.user)
        elif action == "split":
            offers = numbers_param(request.POST, "offer")
            review.catalog_split(catalog=catalog, offer_ids=offers, user=request.user)
        elif action == "title":
            review.catalog_title_set(catalog=catalog, title=request.POST.get("title", ""), user=request.user)
        elif action == "merge":
            source = Catalog.objects.filter(pk=number_param(request.POST, "source") or 0).first()
            if source is None:
                raise CatalogError("No catalog with that number to merge in.")
            review.catalog_merge(target=catalog, source=source, user=request.user)
        elif action == "move":
            target = Catalog.objects.filter(pk=number_param(request.POST, "target") or 0).first()
            if target is None:
                raise CatalogError("No catalog with that number to move the offers to.")
            offers = numbers_param(request.POST, "offer")
            review.offers_move(catalog=catalog, offer_ids=offers, target=target, user=request.user)
        else:
            raise CatalogError(f"Unknown action {action[:30]!r}.")
        messages.success(request, f"Catalog #{catalog.id}: {action} done.")
    except CatalogError as error:
        _fail(request, error)
    if request.POST.get("next") == "queue":
        return redirect("catalog:review")
    return redirect("catalog:catalog", catalog.id)


@manager_only
def rules_page(request, category_id: int):
    category = get_object_or_404(Category, pk=category_id, level=Category.Level.SMALL)
    rules = CategoryRules.objects.filter(category=category).first() or CategoryRules(category=category)
    current = {"one_offer_per_shop": True, "pack_size": True, "model_numbers": True, "options": True,
               "price_ratio": 3.0} | (rules.rules or {})  # fmt: skip
    form = RulesForm(request.POST or None, instance=rules, initial=current)
    if request.method == "POST" and form.is_valid():
        rules = form.save(commit=False)
        rules.rules = {name: form.cleaned_data[name] for name in RulesForm.RULES}
        save_with_history(rules, user=request.user, reason="rules page")
        messages.success(request, f"Rules of {category.path} saved; the next run uses them.")
        return redirect("catalog:rules", category.id)
    history = rules.history.select_related("history_user").order_by("-history_id")[:20] if rules.pk else []
    offers = Offer.objects.filter(category=category)
    images = {"offers": offers.count(), "with_image": offers.filter(image_vector__isnull=False).count()}
    context = {"form": form, "category": category, "history": history, "images": images}
    return render(request, "catalog/rules.html", context)


@require_POST
@manager_only
def run_start(request):
    mode = request.POST.get("mode", CatalogRun.Mode.FULL)
    category = number_param(request.POST, "category")
    try:
        run = catalog_run_enqueue(user=request.user, mode=mode, category_ids=[category] if category else None)
    except CatalogError as error:
        _fail(request, error)
        return redirect("catalog:list")
    return redirect("catalog:run", run.id)


@manager_only
def run_page(request, catalog_run_id: int):
    run = get_object_or_404(CatalogRun, pk=catalog_run_id)
    totals = run_totals(run)
    if poll := progress_poll(request, run, totals):
        return poll
    return render(request, "catalog/run.html", {"run": run, "totals": totals})


@require_POST
@manager_only
def run_cancel(request, catalog_run_id: int):
    run = get_object_or_404(CatalogRun, pk=catalog_run_id)
    try:
        catalog_run_cancel(run=run)
    except CatalogError as error:
        _fail(request, error)
    return redirect("catalog:run", run.id)


class UploadForm(forms.Form):
    file = forms.FileField()
    encoding = forms.ChoiceField(
        choices=[("", "detect"), ("utf-8", "UTF-8"), ("cp949", "CP949")], required=False
    )
    classify_with = forms.ModelChoiceField(
        queryset=Dataset.objects.order_by("name"),
        required=False,
        empty_label="(leave them without a category)",
        label="Offers without a category: classify by the champion of",
    )


class ClassifyForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"))


@manager_only
def import_page(request):
    """Upload -> preview job -> apply job; nothing is written to offers before the apply job."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if not 0 < upload.size <= MAX_UPLOAD:
            messages.error(request, f"The file has {upload.size:,} bytes; it must have 1 to {MAX_UPLOAD:,}.")
            return redirect("catalog:import")
        job = offer_import_upload(
            data=upload.read(),
            file_name=upload.name,
            encoding=form.cleaned_data["encoding"] or "",
            classify_with=form.cleaned_data["classify_with"],
            user=request.user,
        )
        return redirect("core:job", job.id)
    context = {
        "form": form,
        "classify_form": ClassifyForm(),
        "uncategorised": Offer.objects.filter(category__isnull=True).count(),
        "imports": OfferImport.objects.select_related("classify_with")[:10],
    }
    return render(request, "catalog/import.html", context)


@require_POST
@manager_only
def classify_start(request):
    form = ClassifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a dataset whose champion classifies the offers.")
        return redirect("catalog:import")
    try:
        job = offers_classify_enqueue(dataset=form.cleaned_data["dataset"], user=request.user)
    except CatalogError as error:
        _fail(request, error)
        return redirect("catalog:import")
    return redirect("core:job", job.id)


@manager_only
def import_detail(request, offer_import_id: int):
    upload = get_object_or_404(OfferImport.objects.select_related("classify_with"), pk=offer_import_id)
    if request.method == "POST":
        try:
            job = offer_import_apply_enqueue(upload=upload, user=request.user)
        except CatalogError as error:
            _fail(request, error)
            return redirect("catalog:import-detail", upload.id)
        return redirect("core:job", job.id)
    return render(request, "catalog/import_detail.html", {"upload": upload, "preview": upload.preview})


@manager_only
def figures_page(request):
    rows = selectors.category_figures()
    precision_rows, precision = selectors.reviewed_precision()
    context = {
        "rows": rows,
        "precision_rows": precision_rows,
        "precision": precision,
        "coverage_figure": coverage_figure(rows),
        "quality_figure": quality_figure(selectors.quality_scores()),
    }
    return render(request, "catalog/figures.html", context)
