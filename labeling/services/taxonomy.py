from django.db import transaction

from labeling.errors import LabelingError
from labeling.models import Category, Taxonomy
from labeling.services.history import save_with_history


def taxonomy_create(*, name: str, description: str = "") -> Taxonomy:
    name = name.strip()
    if not name:
        raise LabelingError("A taxonomy needs a name.")
    if Taxonomy.objects.filter(name=name).exists():
        raise LabelingError(f"A taxonomy named {name!r} already exists.")
    return Taxonomy.objects.create(name=name, description=description)


@transaction.atomic
def category_create(
    *,
    taxonomy: Taxonomy,
    name: str,
    parent: Category | None = None,
    guideline: str = "",
    is_important: bool = False,
    user,
    reason: str = "created",
) -> Category:
    """Create a large category (no parent) or a small one under a large category."""
    name = name.strip()
    if not name:
        raise LabelingError("A category needs a name.")
    if parent is not None and (parent.taxonomy_id != taxonomy.id or not parent.is_large):
        raise LabelingError(f"{parent.path!r} cannot hold small categories: pick a large category.")
    siblings = Category.objects.filter(taxonomy=taxonomy, parent=parent)
    if siblings.filter(name=name).exists():
        raise LabelingError(f"{name!r} already exists there.")
    category = Category(
        taxonomy=taxonomy,
        parent=parent,
        level=Category.Level.SMALL if parent else Category.Level.LARGE,
        name=name,
        guideline=guideline,
        is_important=is_important,
    )
    save_with_history(category, user=user, reason=reason)
    return category


CATEGORY_EDITABLE_FIELDS = {"name", "guideline", "is_important"}


@transaction.atomic
def category_update(*, category: Category, user, reason: str, **changes) -> Category:
    """Change a category's name, guideline or importance."""
    unknown = set(changes) - CATEGORY_EDITABLE_FIELDS
    if unknown:
        raise LabelingError(f"Cannot change {', '.join(sorted(unknown))} here.")
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            raise LabelingError("A category needs a name.")
    for field, value in changes.items():
        setattr(category, field, value)
    save_with_history(category, user=user, reason=reason)
    return category
