"""The classification request's body checked by hand: what `ClassifyInput` (the documented serializer)
accepts, with the same 400 messages, at a small share of its cost (DRF checks every character of every
text for surrogates in Python, which a batch of 1,000 long texts feels; bench/results/api.md)."""

import re
from contextlib import suppress

from rest_framework.exceptions import ValidationError

from training.services.classify import MAX_BATCH, MAX_CHARS, TextToClassify

MAX_META = 500  # characters of a title or a source
K_DEFAULT, K_MIN, K_MAX = 3, 1, 20
TRAILING_ZEROS = re.compile(r"\.0*\s*$")


class _Invalid(Exception):
    """One field's message."""


def _string(value, *, max_length: int, trim: bool, allow_blank: bool) -> str:
    """DRF's CharField: numbers become strings, blank refused unless allowed, then the length checked."""
    if value is None:
        raise _Invalid("This field may not be null.")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid("Not a valid string.")
    value = str(value)
    if trim:
        value = value.strip()
    if not value:
        if not allow_blank:
            raise _Invalid("This field may not be blank.")
        return ""
    if len(value) > max_length:
        raise _Invalid(f"Ensure this field has no more than {max_length} characters.")
    if "\x00" in value:
        raise _Invalid("Null characters are not allowed.")
    if value.isascii():  # no surrogate there: the common case checked in one pass, without a copy
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise _Invalid(f"Surrogate characters are not allowed: U+{ord(value[error.start]):X}.") from None
    return value


def _k(value) -> int:
    if value is None:
        raise _Invalid("This field may not be null.")
    if isinstance(value, bool):
        raise _Invalid("A valid integer is required.")
    if isinstance(value, float | str) and len(str(value)) <= 1000:
        with suppress(ValueError):  # as DRF's IntegerField: "3", "3.0" and 3.0 are 3
            value = int(TRAILING_ZEROS.sub("", str(value)))
    if not isinstance(value, int):
        raise _Invalid("A valid integer is required.")
    if value < K_MIN:
        raise _Invalid(f"Ensure this value is greater than or equal to {K_MIN}.")
    if value > K_MAX:
        raise _Invalid(f"Ensure this value is less than or equal to {K_MAX}.")
    return value


def _fields(data: dict, specs: dict) -> tuple[dict, dict]:
    """Check `data` against {name: (parse, default)}: (values, errors by field)."""
    values, errors = {}, {}
    for name, (parse, default) in specs.items():
        if name not in data:
            if default is not None:
                values[name] = default
            continue
        try:
            values[name] = parse(data[name])
        except _Invalid as error:
            errors[name] = [str(error)]
    return values, errors


def _meta(value) -> str:
    return _string(value, max_length=MAX_META, trim=True, allow_blank=True)


SINGLE = {
    "text": (lambda v: _string(v, max_length=MAX_CHARS, trim=True, allow_blank=False), None),
    "title": (_meta, ""),
    "source": (_meta, ""),
    "k": (_k, K_DEFAULT),
}
ITEM = {
    "text": (lambda v: _string(v, max_length=MAX_CHARS, trim=False, allow_blank=True), None),
    "title": (_meta, ""),
    "source": (_meta, ""),
}


def _not_a_dict(value) -> str:
    return f"Invalid data. Expected a dictionary, but got {type(value).__name__}."


def _plain_item(entry: dict) -> TextToClassify | None:
    """An item whose fields are ASCII strings that pass every check, read at once (what `ITEM` would read);
    None for any other, which `ITEM` reads (and says what is wrong with)."""
    text, title, source = entry.get("text"), entry.get("title", ""), entry.get("source", "")
    if (
        type(text) is str
        and type(title) is str
        and type(source) is str
        and len(text) <= MAX_CHARS
        and len(title) <= MAX_META  # before trimming: no longer after
        and len(source) <= MAX_META
        and text.isascii()
        and title.isascii()
        and source.isascii()
        and "\x00" not in text
        and "\x00" not in title
        and "\x00" not in source
    ):
        return TextToClassify(text, title.strip(), source.strip())
    return None


def _items(raw) -> list[TextToClassify]:
    if raw is None:
        raise ValidationError({"items": ["This field may not be null."]})
    if not isinstance(raw, list):
        message = f'Expected a list of items but got type "{type(raw).__name__}".'
        raise ValidationError({"items": {"non_field_errors": [message]}})
    if not 1 <= len(raw) <= MAX_BATCH:
        raise ValidationError({"non_field_errors": [f"`items` holds 1 to {MAX_BATCH} texts."]})
    items, errors = [], {}
    for number, entry in enumerate(raw):
        plain = _plain_item(entry) if type(entry) is dict else None
        if plain is not None:
            items.append(plain)
            continue
        if not isinstance(entry, dict):
            errors[number] = {"non_field_errors": [_not_a_dict(entry)]}
            continue
        values, problems = _fields(entry, ITEM)
        if "text" not in entry:
            problems["text"] = ["This field is required."]
        if problems:
            errors[number] = problems
        else:
            items.append(TextToClassify(values["text"], values["title"], values["source"]))
    if errors:
        raise ValidationError({"items": errors})
    return items


def classify_input(data) -> tuple[list[TextToClassify], int]:
    """The texts to classify and k, or a ValidationError (400) saying what is wrong, field by field."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_not_a_dict(data)]})
    values, errors = _fields(data, SINGLE)
    if errors:
        raise ValidationError(errors)
    if ("text" in values) == ("items" in data):
        raise ValidationError({"non_field_errors": ["Send either `text` or `items`."]})
    if "items" in data:
        return _items(data["items"]), values["k"]
    return [TextToClassify(values["text"], values["title"], values["source"])], values["k"]
