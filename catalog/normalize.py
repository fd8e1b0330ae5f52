"""Offer titles -> clean tokens, pack sizes, units, model numbers and options (pure: no Django).

Shops decorate titles with delivery and promotion words ("[무료배송]", "【특가】", "당일발송") and write
the same quantity many ways ("2L", "2,000ml", "12개입", "x 12병", "2+1"). `title_normalize` strips the noise,
parses the quantities into attributes (volume in ml, weight in g, storage in GB, count of units), keeps
model numbers whole ("SK-M1600B"), segments Korean with kiwipiepy (brands from a user dictionary stay
one word) and keeps Latin tokens lower-cased. The grouping pipeline and the business rules read the result.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass, field

MAX_TITLE_CHARS = 500

PROMO_WORDS = (
    "무료배송",
    "무배",
    "당일발송",
    "당일배송",
    "당일출고",
    "오늘출발",
    "빠른배송",
    "로켓배송",
    "국내배송",
    "해외배송",
    "특가",
    "초특가",
    "최저가",
    "할인",
    "세일",
    "행사",
    "이벤트",
    "사은품",
    "증정",
    "정품",
    "신상",
    "신상품",
    "핫딜",
    "한정",
    "한정판매",
    "단독",
    "기획",
    "추천",
    "인기",
    "베스트",
    "best",
    "sale",
    "hot",
    "deal",
    "free",
    "shipping",
    "new",
    "genuine",
    "official",
)
BRACKETS = re.compile(r"[\[【〔(（<《]([^\]】〕)）>》]{0,40})[\]】〕)）>》]")
SEPARATORS = re.compile(r"[|/\\,;:·•★☆♥♡※#~!?'\"`´‘’“”_=*^]+")
HANGUL = re.compile(r"[\uac00-\ud7a3]")

VOLUME = {"ml": 1.0, "㎖": 1.0, "l": 1000.0, "ℓ": 1000.0, "리터": 1000.0, "cc": 1.0, "oz": 29.5735}
WEIGHT = {"mg": 0.001, "g": 1.0, "그램": 1.0, "kg": 1000.0, "㎏": 1000.0, "킬로": 1000.0, "lb": 453.592}
STORAGE = {"mb": 1 / 1024, "gb": 1.0, "tb": 1024.0}
COUNT_WORDS = (
    "개입|입|개|팩|병|캔|봉|봉지|박스|box|매|롤|포|구|정|캡슐|ea|pcs|pc|pack|pk|count|ct|bottles|cans|rolls"
)
NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
MEASURE = re.compile(
    NUMBER + r"\s*(ml|㎖|ℓ|l|리터|cc|oz|mg|kg|㎏|g|그램|킬로|lb|mb|gb|tb)(?![a-z가-힣])", re.IGNORECASE
)
TIMES_COUNT = re.compile(r"(?:[x×*]\s*(\d{1,4})\s*(?:" + COUNT_WORDS + r")?)(?![a-z가-힣\d])", re.IGNORECASE)
COUNT = re.compile(r"(\d{1,4})\s*(?:" + COUNT_WORDS + r")(?![a-z가-힣])", re.IGNORECASE)
BONUS = re.compile(r"(?<![\d.])(\d{1,2})\s*\+\s*(\d{1,2})(?![\d.])")
MODEL = re.compile(r"(?<![\w-])([a-z0-9]+(?:[-.][a-z0-9]+)*)(?![\w-])", re.IGNORECASE)
UNIT_TOKEN = re.compile(
    r"^\d+(?:\.\d+)?(?:ml|l|g|kg|mg|oz|lb|mb|gb|tb|mm|cm|m|in|inch|ft|w|v|mah|hz|khz|mhz|ghz|p|k|x|gbps|mbps|"
    r"ppm|dpi|bit|ch|pc|pcs|pk|ct|rpm|db|mp|fps|nm)$"
)
LATIN_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
MODEL_PUNCTUATION = re.compile(r"[-.]")
DIGIT = re.compile(r"\d")
CAPITAL = re.compile(r"[A-Z]")
SPACES = re.compile(r"\s+")

OPTIONS = {
    "colour": {
        "black": "black", "white": "white", "silver": "silver", "gray": "gray", "grey": "gray",
        "red": "red", "blue": "blue", "green": "green", "pink": "pink", "gold": "gold", "brown": "brown",
        "beige": "beige", "navy": "navy", "purple": "purple", "yellow": "yellow", "orange": "orange",
        "블랙": "black", "화이트": "white", "실버": "silver", "그레이": "gray", "레드": "red", "블루": "blue",
        "그린": "green", "핑크": "pink", "골드": "gold", "브라운": "brown", "베이지": "beige",
        "네이비": "navy",
        "퍼플": "purple", "옐로우": "yellow", "오렌지": "orange", "검정": "black", "흰색": "white",
    },
    "edition": {
        "upgrade": "upgrade", "full": "full", "student": "student", "academic": "student", "home": "home",
        "professional": "pro", "pro": "pro", "premium": "premium", "standard": "standard", "deluxe": "deluxe",
        "lite": "lite", "basic": "basic", "업그레이드": "upgrade", "학생용": "student", "가정용": "home",
        "프로": "pro", "프리미엄": "premium", "스탠다드": "standard", "라이트": "lite",
    },
    "platform": {
        "mac": "mac", "macintosh": "mac", "windows": "windows", "win": "windows", "맥": "mac",
        "윈도우": "windows",
    },
}  # fmt: skip
OPTION_OF = {word: (kind, value) for kind, words in OPTIONS.items() for word, value in words.items()}


@dataclass
class NormalizedTitle:
    """What the pipeline and the rules read from one title."""

    text: str  # the title without shop noise, for display and character n-grams
    tokens: list[str]  # words in order: Korean morphemes, Latin words, model numbers
    model_numbers: list[str] = field(default_factory=list)  # upper-case, hyphens and dots dropped
    attributes: dict[str, float] = field(default_factory=dict)  # volume_ml, weight_g, storage_gb, count
    options: dict[str, str] = field(default_factory=dict)  # colour / edition / platform -> "a|b" values
    noise: list[str] = field(default_factory=list)  # what was dropped


class Segmenter:
    """kiwipiepy, loaded once per process (it takes seconds), with brands as user words."""

    _lock = threading.Lock()
    _kiwi = None
    _brands: set[str] = set()

    @classmethod
    def add_brands(cls, brands) -> None:
        new = {brand.strip() for brand in brands if brand and HANGUL.search(brand)} - cls._brands
        if not new:
            return
        kiwi = cls.kiwi()
        with cls._lock:
            for brand in new:
                kiwi.add_user_word(brand.replace(" ", ""), "NNP", 10.0)
            cls._brands |= new

    @classmethod
    def kiwi(cls):
        with cls._lock:
            if cls._kiwi is None:
                from kiwipiepy import Kiwi

                cls._kiwi = Kiwi()
            return cls._kiwi

    @classmethod
    def words(cls, text: str) -> list[str]:
        """Korean content morphemes (nouns, roots, foreign words) of a text that contains Hangul."""
        keep = ("NN", "XR", "SL", "SH", "VA", "VV", "MM")
        return [token.form for token in cls.kiwi().tokenize(text) if token.tag.startswith(keep)]


# the same tokens recur across a category's titles: each is read once per process
@functools.lru_cache(maxsize=1 << 16)
def model_key(token: str) -> str:
    return MODEL_PUNCTUATION.sub("", token.upper())


@functools.lru_cache(maxsize=1 << 16)
def is_model_number(token: str) -> bool:
    """Letters and digits together, at least 3 characters, and not a quantity such as 500ml or 1080p."""
    bare = model_key(token)
    if len(bare) < 3 or not DIGIT.search(bare) or not CAPITAL.search(bare):
        return False
    return not UNIT_TOKEN.match(bare.lower())


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _strip_noise(text: str, noise: list[str]) -> str:
    def bracket(match: re.Match) -> str:
        inner = match.group(1).strip()
        words = inner.lower().split()
        if (
            not inner
            or any(word in PROMO_WORDS for word in words)
            or any(p in inner for p in PROMO_WORDS[:30])
        ):
            noise.append(inner)
            return " "
        return f" {inner} "

    text = BRACKETS.sub(bracket, text)
    text = text.replace("【", " ").replace("】", " ")
    for word in PROMO_WORDS[:30]:  # the Korean ones also glue to other words ("무료배송상품")
        if word in text:
            noise.append(word)
            text = text.replace(word, " ")
    return text


def _parse_quantities(text: str, attributes: dict[str, float]) -> str:
    def measure(match: re.Match) -> str:
        value, unit = _number(match.group(1)), match.group(2).lower()
        for name, table in (("volume_ml", VOLUME), ("weight_g", WEIGHT), ("storage_gb", STORAGE)):
            if unit in table:
                attributes.setdefault(name, round(value * table[unit], 3))
        return " "

    def bonus(match: re.Match) -> str:
        attributes["count"] = attributes.get("count", 1) * (int(match.group(1)) + int(match.group(2)))
        return " "

    def count(match: re.Match) -> str:
        attributes["count"] = attributes.get("count", 1) * int(match.group(1))
        return " "

    text = MEASURE.sub(measure, text)
    text = BONUS.sub(bonus, text)
    text = TIMES_COUNT.sub(count, text)
    return COUNT.sub(count, text)


def title_normalize(title: str, *, segment_korean: bool = True) -> NormalizedTitle:
    """Parse one offer title. Never raises; an empty title gives empty tokens."""
    text = unicodedata.normalize("NFKC", title or "")[:MAX_TITLE_CHARS]
    noise: list[str] = []
    attributes: dict[str, float] = {}
    text = _strip_noise(text, noise)
    shown = SPACES.sub(" ", text).strip()
    rest = _parse_quantities(text, attributes)
    models: list[str] = []

    def model(match: re.Match) -> str:
        token = match.group(1)
        if is_model_number(token):
            models.append(model_key(token))
            return f" {model_key(token).lower()} "
        return match.group(0)

    rest = MODEL.sub(model, SEPARATORS.sub(" ", rest))
    tokens: list[str] = []
    for chunk in rest.split():
        if HANGUL.search(chunk) and segment_korean:
            tokens.extend(word.lower() for word in Segmenter.words(chunk))
        else:
            tokens.extend(LATIN_WORD.findall(chunk.lower()) or ([chunk] if HANGUL.search(chunk) else []))
    options = {}
    for token in tokens:
        if token in OPTION_OF:
            kind, value = OPTION_OF[token]
            if value not in options.get(kind, "").split("|"):
                options[kind] = f"{options[kind]}|{value}" if kind in options else value
    return NormalizedTitle(
        text=shown,
        tokens=tokens,
        model_numbers=list(dict.fromkeys(models)),
        attributes=attributes,
        options=options,
        noise=noise,
    )
