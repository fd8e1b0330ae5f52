"""Text preparation shared by every algorithm: title + body, normalised, optionally Korean morphemes."""

import re
import unicodedata
from functools import lru_cache

CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")  # the control characters that are not spaces
DEFAULT_MAX_CHARS = 20_000


def document(title: str, body: str) -> str:
    """The text a model sees for one content: its title, then its body."""
    return f"{title}\n{body}" if body else title


def normalise(text: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """NFKC, lower case, one line with single spaces, cut at `max_chars` (posts of 75k characters exist)."""
    text = unicodedata.normalize("NFKC", text[: max_chars * 2])
    if CONTROL.search(text):
        text = CONTROL.sub(" ", text)
    # str.split() splits on exactly what the regex `\s` matches (str.isspace), faster than a sub
    return " ".join(text.split()).lower()[:max_chars]


@lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi

    return Kiwi()


def morphemes(text: str) -> str:
    """Korean morphological tokens (kiwipiepy) joined by spaces; other scripts pass through as tokens."""
    return " ".join(token.form for token in _kiwi().tokenize(text))


def prepare(
    texts: list[str], *, max_chars: int = DEFAULT_MAX_CHARS, use_morphemes: bool = False
) -> list[str]:
    """Normalise every text (and split Korean into morphemes when asked)."""
    prepared = [normalise(text, max_chars=max_chars) for text in texts]
    if use_morphemes:
        prepared = [morphemes(text) for text in prepared]
    return prepared
