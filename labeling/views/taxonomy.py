"""Taxonomy page for category managers: the tree with counts, and create / rename / move / retire."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from core import roles
from core.errors import ApplicationError
from core.params import number_param
from labeling import selectors
from labeling.models import Category, Dataset
from labeling.selectors import dataset_or_404
from labeling.services.taxonomy import category_create, category_move, category_retire, category_update

__all__ = ["taxonomy_page"]


def _category(dataset: Dataset, data, name: str) -> Category:
    pk = number_param(data, name, required=True)
    return get_object_or_404(Category, pk=pk, taxonomy_id=dataset.taxonomy_id)


def _apply(request, dataset: Dataset) -> str:
    data, user = request.POST, request.user
    action = data.get("action")
    if action == "create":
        parent = _category(dataset, data, "parent") if data.get("parent") else None
        created = category_create(
            taxonomy=dataset.taxonomy,
            name=data.get("name", ""),
            parent=parent,
            guideline=data.get("guideline", ""),
            is_important=bool(data.get("is_important")),
            user=user,
        )
        return f"Created {created.path}."
    category = _category(dataset, data, "category")
    if action == "update":
        category_update(
            category=category,
            user=user,
            reason=data.get("reason") or "edited",
            name=data.get("name", category.name),
            guideline=data.get("guideline", ""),
            is_important=bool(data.get("is_important")),
        )
        return f"Saved {category.path}."
    if action == "move":
        category_move(category=category, parent=_category(dataset, data, "parent"), user=user)
        return f"Moved to {category.path}."
    if action == "retire":
        category_retire(category=category, user=user)
        return f"Retired {category.path}."
    raise ApplicationError("Unknown action.")


@roles.role_required(roles.MANAGER)
def taxonomy_page(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    if request.method == "POST":
        try:
            messages.success(request, _apply(request, dataset))
        except ApplicationError as error:
            messages.error(request, str(error))
        return redirect("labeling:taxonomy", dataset.id)
    summary = selectors.dataset_summary(dataset=dataset)
    larges = Category.objects.filter(taxonomy=dataset.taxonomy, level=1, status="active").order_by("name")
    return render(
        request, "labeling/taxonomy.html", {"dataset": dataset, "summary": summary, "larges": larges}
    )
