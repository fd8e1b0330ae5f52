"""Reading query and form values that pages share."""


def number_param(value: str | None) -> int | None:
    """A non-negative whole number from a query or form value; None when missing or not a number."""
    return int(value) if value and value.isdigit() else None
