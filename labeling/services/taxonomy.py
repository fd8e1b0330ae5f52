from django.db import transaction

from core.errors import ApplicationError
from core.history import save_with_history
from core.text import text_check
from labeling.models import Category, Taxonomy
from labeling.paths import PATH_MARK

NAME_MAX = Category._meta.get_field("name").max_length


def taxonomy_create(*, name: str, description: str = "") -> Taxonomy:
    name = name.strip()
    if not name:
        raise ApplicationError("A taxonomy needs a name.")
    if Taxonomy.objects.filter(name=name).exists():
        raise ApplicationError(f"A taxonomy named {name!r} already exists.")
    return Taxonomy.objects.create(name=name, description=description)


def _category_name(raw: str) -> str:
    name = text_check(raw.strip(), name="category name", max_length=NAME_MAX)
    if not name:
        raise ApplicationError("A category needs a name.")
    if PATH_MARK in name:
        raise ApplicationError(
            f"A category name cannot contain {PATH_MARK!r}: it separates large and small in paths."
        )
    return name


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
    name = _category_name(name)
    text_check(guideline, name="guideline")
    if parent is not None and (parent.taxonomy_id != taxonomy.id or not parent.is_large):
        raise ApplicationError(f"{parent.path!r} cannot hold small categories: pick a large category.")
    siblings = Category.objects.filter(taxonomy=taxonomy, parent=parent)
    if siblings.filter(name=name).exists():
        raise ApplicationError(f"{name!r} already exists there.")
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
        raise ApplicationError(f"Cannot change {', '.join(sorted(unknown))} here.")
    if "name" in changes:
        changes["name"] = _category_name(changes["name"])
    for field, value in changes.items():
        setattr(category, field, value)
    save_with_history(category, user=user, reason=reason)
    return category


@transaction.atomic
def category_move(*, category: Category, parent: Category, user, reason: str = "moved") -> Category:
    """Move a small category under another large category of the same taxonomy."""
    if category.is_large:
        raise ApplicationError("Only small categories move; rename a large category instead.")
    if parent.taxonomy_id != category.taxonomy_id or not parent.is_large:
        raise ApplicationError(f"{parent.path!r} is not a large category of this taxonomy.")
    if Category.objects.filter(parent=parent, name=category.name).exclude(pk=category.pk).exists():
        raise ApplicationError(f"{parent.name!r} already has a category named {category.name!r}.")
    category.parent = parent
    save_with_history(category, user=user, reason=reason)
    return category


@transaction.atomic
def category_retire(*, category: Category, user, reason: str = "retired") -> Category:
    """Take a category out of use; refused while examples still carry it (merge or exclude them first)."""
    from labeling.models import Example

    in_use = Example.objects.filter(category=category).exclude(status=Example.Status.REMOVED).count()
    if in_use:
        raise ApplicationError(f"{in_use} examples still use {category.path!r}: merge or exclude them first.")
    if category.is_large and category.children.filter(status=Category.Status.ACTIVE).exists():
        raise ApplicationError(f"{category.name!r} still has active small categories.")
    category.status = Category.Status.EXCLUDED
    save_with_history(category, user=user, reason=reason)
    return category
