"""The API's fast paths change no result: TF-IDF models give scikit-learn's probabilities, text preparation is
unchanged, and the prediction log holds the rows bulk_create wrote."""

import hashlib
import re
import unicodedata

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from core import roles
from tests.factories import user_with_role
from tests.training.conftest import newsgroups_posts
from tests.training.test_runs import train
from training.algorithms import model_load
from training.algorithms.linear import FastPredict, TfidfLinearSVC, TfidfLogReg, _Vectorizer, _word_tokens
from training.algorithms.text import document, normalise
from training.algorithms.word_counts import WordTable
from training.models import PredictionLog
from training.services.classify import TextToClassify, classify
from training.serving import forget_all

GROUPS = ("rec.autos", "sci.space", "talk.politics.guns", "comp.graphics", "sci.med")


@pytest.fixture(scope="module")
def posts() -> tuple[list[str], list[str], list[str]]:
    rows = newsgroups_posts(GROUPS, per_group=30)
    texts = [document(row["title"], row["body"]) for row in rows]
    labels = [row["category"] for row in rows]
    unseen = [
        "The shuttle's orbit and the moon mission",
        "",  # empty: every vectorizer sees no term
        "Zzzzq xqxqx",  # no known term
        "Gun control, ENGINES, jpeg images and doctors\x00\x85 \u00a0 \u2028 ﬁle naïve Ünïcödé",
        *texts[:20],
    ]
    return texts, labels, unseen


def _sklearn(model, texts: list[str]) -> np.ndarray:
    """What the model answered before the fast path: the scikit-learn pipeline on the prepared texts."""
    order = [list(model.pipeline.classes_).index(name) for name in model.classes]
    scores = model.pipeline.predict_proba(model.prepare(texts))[:, order].astype(np.float32)
    return scores / scores.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("algorithm", "params", "smallest_group"),
    [
        (TfidfLinearSVC, {"min_df": 1}, 30),  # the default shape: word unigrams, one SVM + sigmoids
        (TfidfLinearSVC, {"min_df": 1, "calibration": "sigmoid-3-svms"}, 30),  # before 2026-12: 3 SVMs
        (TfidfLinearSVC, {"min_df": 1, "calibration": "temperature"}, 30),  # one SVM, one softmax scale
        (TfidfLinearSVC, {"min_df": 1, "max_chars": 300}, 30),  # longer texts cut: not counted as they come
        (TfidfLinearSVC, {"word_ngrams": 2, "char_ngrams": 4, "min_df": 1}, 30),  # two vectorizers, bigrams
        (TfidfLinearSVC, {"word_ngrams": 2, "min_df": 2}, 30),  # bigrams counted by the word table
        (TfidfLinearSVC, {"min_df": 1}, 2),  # a category of 2 examples: calibration on 2 folds
        (TfidfLinearSVC, {"min_df": 1}, 1),  # a category of 1 example: softmax of the SVM scores
        (TfidfLogReg, {"min_df": 1}, 30),  # fast features, scikit-learn's own logistic regression
    ],
)
def test_fast_path_gives_the_pipelines_probabilities(posts, tmp_path, algorithm, params, smallest_group):
    texts, labels, unseen = posts
    keep = [i for i, label in enumerate(labels) if label != GROUPS[-1]]
    keep += [i for i, label in enumerate(labels) if label == GROUPS[-1]][:smallest_group]
    model = algorithm(params).fit([texts[i] for i in keep], [labels[i] for i in keep])
    expected = _sklearn(model, unseen)

    assert np.abs(model.predict_proba(unseen) - expected).max() <= 1e-6
    for text, row in zip(unseen, expected, strict=True):  # one text at a time, as the API mostly asks
        assert np.abs(model.predict_proba([text])[0] - row).max() <= 1e-6

    model.save(tmp_path / "model")
    loaded = model_load(tmp_path / "model")
    assert isinstance(loaded._fast, FastPredict)
    assert (loaded._fast.scores is not None) == (algorithm is TfidfLinearSVC)  # the SVMs' own fast product
    assert loaded._fast.vectorizers[0].table is not None  # default words (and bigrams): the compiled counter
    assert np.abs(loaded.predict_proba(unseen) - expected).max() <= 1e-6


def test_binary_one_svm_is_fast_and_calibrated(posts):
    texts, labels, unseen = posts
    keep = [i for i, label in enumerate(labels) if label in GROUPS[:2]]
    model = TfidfLinearSVC({"min_df": 1}).fit([texts[i] for i in keep], [labels[i] for i in keep])
    assert model._fast.scores is not None and model.pipeline[-1].sigmoids_.shape == (2, 2)
    expected = _sklearn(model, unseen)
    assert np.abs(model.predict_proba(unseen) - expected).max() <= 1e-6
    assert np.abs(model.predict_proba(unseen[:1]) - expected[:1]).max() <= 1e-6


@pytest.mark.parametrize("char_ngrams", [0, 3])
def test_fast_features_equal_the_vectorizers(posts, char_ngrams):
    texts, labels, unseen = posts
    model = TfidfLinearSVC({"word_ngrams": 1, "char_ngrams": char_ngrams, "min_df": 1}).fit(texts, labels)
    prepared = model.prepare(unseen)
    # the ASCII texts are counted by the compiled word table, the others by the analyzer
    assert {text.isascii() for text in prepared} == {True, False}
    for batch in (prepared, prepared[:3], prepared[3:4]):
        fast = model._fast.transform(batch)
        reference = model.pipeline[:-1].transform(batch)
        assert fast.dtype == reference.dtype and fast.shape == reference.shape
        assert abs(fast - reference).max() == 0


WORDS = [
    "ab",
    "x_y",
    "under_score_words",
    "abcdefgh",
    "abcdefghi",
    "abcdefghijklmnop",
    "abcdefghijklmnopq",
    "internationalization",
    "2026",
    "a1",
]


def test_word_table_counts_the_terms_the_analyzer_counts(posts):
    vectorizer = CountVectorizer(min_df=1).fit([*posts[0], " ".join(WORDS)])
    table = WordTable(vectorizer.vocabulary_)
    batch = [
        *posts[0][:30],
        " ".join(WORDS * 3),
        "ABCDEFGHIJKLMNOP abcdefghijklmnopqrstuvwxyz Under_Score_Words a b c AB",  # longer, upper case
        "",
        "   \t\n  ",
        "x",
        "\x00abcdefgh\x7fabcdefgh,abcdefgh;2026-11-28",
        "zz" * 40,  # an unknown long word
        "abcdefghijklmnopqrstuvwxyz" * 3,  # a long word whose start is a term
    ]
    indptr, columns, counts = table.counts(batch)
    expected = vectorizer.transform(batch)
    expected.sort_indices()
    assert indptr.tolist() == expected.indptr.tolist()
    assert columns.tolist() == expected.indices.tolist()
    assert counts.tolist() == expected.data.tolist()
    assert [len(part) for part in table.counts([])] == [1, 0, 0]


@pytest.mark.parametrize(
    "options",
    [
        {"min_df": 1},
        {"min_df": 2, "max_df": 0.5},  # words dropped as terms stay tokens of the bigrams kept
        {"min_df": 1, "max_features": 2000},  # the most frequent terms: rarer words dropped
    ],
)
def test_word_table_counts_bigrams_as_scikit_learn(posts, options):
    texts, _, unseen = posts
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32, **options)
    vectorizer.fit([*texts, " ".join(WORDS)])
    vocabulary = vectorizer.vocabulary_
    orphans = any(" " in term and not set(term.split(" ")) <= set(vocabulary) for term in vocabulary)
    assert orphans == (options != {"min_df": 1})  # bigrams whose words are no terms
    batch = [
        *texts[:40],
        " ".join(WORDS * 3),
        "the the the of the, of THE! a the x of",  # repeated pairs; 1-letter words are no tokens
        "ABCDEFGHIJKLMNOPQRS abcdefghijklmnopqrs abcdefghijklmnopqrs",
        "",
        "x",
    ]
    indptr, columns, counts = WordTable(vocabulary).counts(batch)
    expected = CountVectorizer(ngram_range=(1, 2), vocabulary=vocabulary).transform(batch)
    expected.sort_indices()
    assert indptr.tolist() == expected.indptr.tolist()
    assert columns.tolist() == expected.indices.tolist()
    assert counts.tolist() == expected.data.tolist()
    fast = _Vectorizer(vectorizer)  # and the analyzer that counts the other texts
    assert fast.table is not None
    for batch in (unseen, unseen[3:4]):
        assert abs(fast.transform(batch) - vectorizer.transform(batch)).max() <= 1e-6
    for text in (unseen[0], unseen[3]):  # one text, as the API's small batches: (columns, values)
        row = np.zeros(fast.size, dtype=np.float32)
        row[fast.terms(text)[0]] = fast.terms(text)[1]
        assert np.abs(row - vectorizer.transform([text]).toarray()[0]).max() <= 1e-6


SPACES_AND_CONTROLS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def _normalise_by_regex(text: str, max_chars: int) -> str:
    """The definition normalise() had: every run of spaces and control characters becomes one space."""
    text = unicodedata.normalize("NFKC", text[: max_chars * 2])
    return SPACES_AND_CONTROLS.sub(" ", text).strip().lower()[:max_chars]


def test_normalise_is_unchanged(posts):
    texts = posts[0][:40] + [
        "".join(map(chr, range(0, 0x2100))),  # every control and space character of the first planes
        "  Tabs\tand\r\nnewlines\x0b\x0c \x1c\x1d\x1e\x1f\x85\u00a0\u1680\u2000\u2028\u2029\u3000 end  ",
        "\x00\x07bell\x1b[0m \x7f\x80\x9f ﬁ ｆｕｌｌ Ⅻ İstanbul ß",
        "",
        "   ",
    ]
    for text in texts:
        for max_chars in (5, 100, 20_000):
            assert normalise(text, max_chars=max_chars) == _normalise_by_regex(text, max_chars)


@pytest.mark.django_db
def test_the_log_holds_one_row_per_answer_as_bulk_create_wrote_it(news):
    forget_all()
    champion = train(news, folds=0)
    user = user_with_role(roles.ANNOTATOR, username="caller")
    items = [TextToClassify(row["body"], row["title"]) for row in newsgroups_posts(per_group=42)[40::14]]
    items.append(TextToClassify("no title here: the text alone"))
    batch = classify(dataset=news, items=items, user=user)  # a batch: ids reserved, rows copied
    single = classify(dataset=news, items=items[:1], user=user)  # one answer: one INSERT
    forget_all()

    for item, answer in zip([*items, items[0]], [*batch, *single], strict=True):
        row = PredictionLog.objects.get(pk=answer["prediction_id"])
        text = f"{item.title}\n{item.text}" if item.title else item.text
        expected = PredictionLog(
            input_hash=hashlib.sha1(text.encode()).hexdigest(),
            excerpt=text[:1000],
            category_id=answer["category"]["id"],
            score=answer["category"]["score"],
            explanation=answer["explanation"],
        )
        assert (row.dataset, row.champion_run, row.ensemble_version, row.requested_by) == (
            news,
            champion,
            1,
            user,
        )
        for field in ("input_hash", "excerpt", "category_id", "score", "explanation"):
            assert getattr(row, field) == getattr(expected, field), field
        assert row.created_at is not None and row.correct is None and row.reviewed_at is None
    assert PredictionLog.objects.count() == len(items) + 1


def test_word_tokens_are_the_default_token_patterns(posts):
    texts = posts[0][:40] + [
        "Under_score x y zz 1a Z9 \t tab\nnew line @#$%^&*()[]{}<>,.;:'\"!?/\\|`~ end",
        "naïve Ünïcödé words ﬁle and ASCII",
        "",
    ]
    for text in texts:
        for given in (text, normalise(text)):
            tokens = _word_tokens(given)
            assert tokens == re.findall(r"(?u)\b\w\w+\b", given.lower())
