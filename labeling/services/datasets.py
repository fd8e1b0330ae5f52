from core.errors import ApplicationError
from labeling.models import Dataset, Taxonomy


def dataset_create(
    *,
    name: str,
    taxonomy: Taxonomy,
    min_examples_per_category: int = 200,
    description: str = "",
    content_sources: list[str] | None = None,
    user,
) -> Dataset:
    name = name.strip()
    if not name:
        raise ApplicationError("A dataset needs a name.")
    if Dataset.objects.filter(name=name).exists():
        raise ApplicationError(f"A dataset named {name!r} already exists.")
    if min_examples_per_category < 1:
        raise ApplicationError("The minimum number of examples per category must be at least 1.")
    return Dataset.objects.create(
        name=name,
        taxonomy=taxonomy,
        min_examples_per_category=min_examples_per_category,
        description=description,
        content_sources=content_sources or [],
        created_by=user,
    )
