from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.history import save_with_history
from core.pauses import pause_point
from labeling.errors import StaleExampleError
from labeling.models import Category, Content, Dataset, Example
from labeling.services.locks import dataset_lock_shared
from labeling.services.words import content_words_refresh_later


def _check_category(dataset: Dataset, category: Category) -> None:
    if category.taxonomy_id != dataset.taxonomy_id:
        raise ApplicationError(f"{category.path!r} is not a category of dataset {dataset.name!r}.")
    if category.is_large:
        raise ApplicationError(f"{category.path!r} is a large category: label with a small one.")
    if category.status != Category.Status.ACTIVE:
        raise ApplicationError(f"{category.path!r} is {category.status}: pick an active category.")


def _refuse_if_stale(example: Example, expected_version: int | None) -> None:
    if expected_version is None or example.version == expected_version:
        return
    last = example.history.select_related("history_user").first()
    who = last.history_user.get_username() if last and last.history_user else "someone"
    raise StaleExampleError(
        example_id=example.id,
        changed_by=who,
        changed_at=timezone.localtime(last.history_date if last else example.updated_at),
    )


@transaction.atomic
def example_label(
    *,
    dataset: Dataset,
    content: Content,
    category: Category,
    user,
    reason: str = "labelled",
    note: str | None = None,
    expected_version: int | None = None,
) -> Example:
    """Label a content in a dataset (create or relabel the example).

    `expected_version` is the example version the caller saw; a different current version
    means someone else saved in between, and the write is refused.
    """
    _check_category(dataset, category)
    dataset_lock_shared(dataset.id)  # no bulk operation on the dataset runs meanwhile
    example = Example.objects.select_for_update().filter(dataset=dataset, content=content).first()
    if example is None:
        if expected_version not in (None, 0):
            raise ApplicationError("This example no longer exists; reload the page.")
        example = Example(dataset=dataset, content=content, version=1)
    else:
        _refuse_if_stale(example, expected_version)
        example.version += 1
    example.category = category
    example.status = Example.Status.ACTIVE
    example.labeled_by = user
    example.labeled_at = timezone.now()
    if note is not None:
        example.note = note
    if example._state.adding:
        content_words_refresh_later()  # its content's words, for body search
        _insert_first(example, user=user, reason=reason)
    else:
        save_with_history(example, user=user, reason=reason)
    return example


def _insert_first(example: Example, *, user, reason: str) -> None:
    """The first label of a content; when someone else's first label commits at the same instant, theirs
    stands and this one is refused with their name (the database's unique constraint decides)."""
    pause_point("example-first-insert")
    try:
        with transaction.atomic():
            save_with_history(example, user=user, reason=reason)
    except IntegrityError:
        other = Example.objects.filter(dataset_id=example.dataset_id, content_id=example.content_id).first()
        if other is None:
            raise
        _refuse_if_stale(other, 0)
        raise


@transaction.atomic
def example_note_set(*, example: Example, note: str, user, expected_version: int | None = None) -> Example:
    """Change only an example's note (its category, status and labeller stay); refused when stale."""
    dataset_lock_shared(example.dataset_id)  # no bulk operation on the dataset runs meanwhile
    example = Example.objects.select_for_update().get(pk=example.pk)
    _refuse_if_stale(example, expected_version)
    example.version += 1
    example.note = note
    save_with_history(example, user=user, reason="note changed")
    return example
