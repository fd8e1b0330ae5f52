"""How a category is written as a path (pure: the import parser uses it without Django)."""

PATH_MARK = "›"  # category names cannot contain it (labeling/services/taxonomy.py): a path reads one way only
PATH_SEPARATOR = f" {PATH_MARK} "


def category_path(name: str, parent_name: str | None) -> str:
    """'large › small' for small categories, the name for large ones ('/' may be part of a name)."""
    return f"{parent_name}{PATH_SEPARATOR}{name}" if parent_name else name
