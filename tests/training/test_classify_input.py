"""The classification body checked by hand gives what the documented serializer (ClassifyInput) gives."""

import pytest
from rest_framework.exceptions import ValidationError

from training.apis import ClassifyInput
from training.classify_input import classify_input
from training.services.classify import TextToClassify

BODIES = [
    {"text": "a rocket", "title": " Space ", "source": "", "k": 5},
    {"text": "  padded text  ", "k": "4"},
    {"text": 12.5, "k": 3.0},
    {"items": [{"text": "  kept as sent  ", "title": " t "}, {"text": "", "title": "title only"}]},
    {"text": ""},
    {"text": "   "},
    {"text": None},
    {"text": True},
    {"text": ["a list"]},
    {"text": "x" * 100_001},
    {"text": "nul\x00"},
    {"text": "lone \ud800 surrogate"},
    {"text": "a", "title": "t" * 501},
    {"text": "a", "k": 0},
    {"text": "a", "k": 21},
    {"text": "a", "k": "three"},
    {"text": "a", "k": True},
    {"text": "a", "k": None},
    {},
    {"text": "a", "items": [{"text": "b"}]},
    {"items": []},
    {"items": [{"text": "a"}] * 1001},
    {"items": "not a list"},
    {"items": [{"text": "ok"}, {"title": "no text"}, "a string", {"text": None}]},
    # items read at once when plain (ASCII strings), by the field checks otherwise: the same either way
    {"items": [{"text": "a", "title": "  " + "t" * 499 + "  ", "source": " s " * 200}]},
    {"items": [{"text": "a", "title": "t" * 501}, {"text": "b", "source": "s" * 501}]},
    {"items": [{"text": "x" * 100_001}, {"text": "nul\x00"}, {"text": "a", "title": "nul\x00"}]},
    {"items": [{"text": "a", "source": "nul\x00"}, {"text": "ünïcode", "title": "ü"}, {"text": 7}]},
    {"items": [{"text": "lone \ud800"}, {"text": "a", "title": None}, {"text": "a", "extra": 1}]},
    [1, 2],
]


def _serializer(body):
    data = ClassifyInput(data=body)
    if not data.is_valid():
        return ("invalid", _plain(data.errors))
    given = data.validated_data
    items = given.get("items") or [given]
    return ("valid", [TextToClassify(i["text"], i["title"], i["source"]) for i in items], given["k"])


def _by_hand(body):
    try:
        return ("valid", *classify_input(body))
    except ValidationError as error:
        return ("invalid", _plain(error.detail))


def _plain(errors):
    """Error details as plain lists and dicts of strings (DRF wraps them in ErrorDetail and ReturnDict)."""
    if isinstance(errors, dict):
        return {str(key): _plain(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_plain(value) for value in errors]
    return str(errors)


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_same_answer_and_same_messages_as_the_serializer(body):
    assert _by_hand(body) == _serializer(body)
