"""Name vectors and character n-grams of offer titles.

The seed's name vector is a TF-IDF-weighted mean of word vectors trained on the titles themselves. On
their own they capture the category rather than the product, so the pipeline blends them with character
3-gram TF-IDF similarity (`char`) and a model-number signal; `dense_for_search` joins a random projection
of the n-grams with the word vectors (and an image vector when the feed has one) for the kNN search.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from catalog.normalize import NormalizedTitle, title_normalize

logging.getLogger("gensim").setLevel(logging.WARNING)  # one INFO line per epoch otherwise

WORD2VEC_SAMPLE = 200_000  # titles the word vectors train on at most (the rest share their vocabulary)
RARE_MODEL_OFFERS = 25  # a model number shared by more offers is a series name, not one product


@dataclass
class Features:
    titles: list[NormalizedTitle]
    char: sparse.csr_matrix  # rows L2-normalised: a dot product is the cosine
    words: np.ndarray  # float32, rows L2-normalised (zero rows for titles without words)
    image: np.ndarray | None
    models: list[frozenset[str]]  # rare model numbers of each offer


def normalize_titles(titles: pd.Series) -> list[NormalizedTitle]:
    return [title_normalize(title) for title in titles.fillna("").astype(str)]


def char_ngrams(texts: list[str]) -> sparse.csr_matrix:
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 3), lowercase=True, sublinear_tf=True, dtype=np.float32, min_df=1
    )
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # no n-gram at all (every title empty)
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)


def title_vectors(token_lists: list[list[str]], *, dimensions: int = 64, seed: int = 7) -> np.ndarray:
    """Word2Vec trained on the titles; a title = TF-IDF-weighted mean of its words' vectors."""
    from gensim.models import Word2Vec

    n = len(token_lists)
    rng = np.random.default_rng(seed)
    sample = token_lists if n <= WORD2VEC_SAMPLE else [token_lists[i] for i in rng.choice(n, WORD2VEC_SAMPLE)]
    sentences = [tokens for tokens in sample if tokens]
    if not sentences:
        return np.zeros((n, dimensions), dtype=np.float32)
    model = Word2Vec(
        sentences, vector_size=dimensions, window=5, min_count=1, workers=2, epochs=5, seed=seed, sg=0
    )
    index = model.wv.key_to_index
    vocabulary = len(index)
    rows, cols = [], []
    for row, tokens in enumerate(token_lists):
        for token in tokens:
            col = index.get(token)
            if col is not None:
                rows.append(row)
                cols.append(col)
    counts = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, vocabulary), dtype=np.float32
    )
    document_frequency = np.bincount(counts.indices, minlength=vocabulary)
    idf = np.log((1 + n) / (1 + document_frequency)).astype(np.float32) + 1.0
    weighted = counts @ sparse.diags(idf)
    vectors = weighted @ model.wv.vectors
    return normalize(np.asarray(vectors, dtype=np.float32))


def rare_models(titles: list[NormalizedTitle], limit: int = RARE_MODEL_OFFERS) -> list[frozenset[str]]:
    frequency = Counter(key for title in titles for key in set(title.model_numbers))
    return [frozenset(key for key in title.model_numbers if frequency[key] <= limit) for title in titles]


def image_matrix(frame: pd.DataFrame) -> np.ndarray | None:
    if "image_vector" not in frame or frame["image_vector"].isna().all():
        return None
    present = frame["image_vector"].dropna()
    width = len(present.iloc[0])
    rows = [
        v if isinstance(v, list | np.ndarray) and len(v) == width else [0.0] * width
        for v in frame["image_vector"]
    ]
    return normalize(np.asarray(rows, dtype=np.float32))


def features_build(frame: pd.DataFrame, *, word_vectors: bool = True) -> Features:
    """Every signal of the offers in `frame` (columns: title, optional image_vector)."""
    titles = normalize_titles(frame["title"])
    texts = [" ".join(title.tokens) or title.text for title in titles]
    tokens = [title.tokens for title in titles]
    return Features(
        titles=titles,
        char=char_ngrams(texts),
        words=title_vectors(tokens) if word_vectors else np.zeros((len(titles), 1), np.float32),
        image=image_matrix(frame),
        models=rare_models(titles),
    )


def dense_for_search(features: Features, weights: dict[str, float], *, dimensions: int = 256, seed: int = 7):
    """One dense vector per offer whose dot products approximate the blended similarity (for kNN)."""
    from sklearn.random_projection import SparseRandomProjection

    n_features = features.char.shape[1]
    parts = []
    if n_features > dimensions:
        projection = SparseRandomProjection(n_components=dimensions, random_state=seed, dense_output=True)
        char = projection.fit_transform(features.char).astype(np.float32)
    else:
        char = features.char.toarray().astype(np.float32)
    parts.append(normalize(char) * np.sqrt(weights.get("char", 0.0)))
    parts.append(features.words * np.sqrt(weights.get("words", 0.0)))
    if features.image is not None:
        parts.append(features.image * np.sqrt(weights.get("image", 0.0)))
    return normalize(np.hstack(parts)).astype(np.float32)
