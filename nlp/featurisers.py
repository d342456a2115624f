"""Sentence featurisers the classifier can be trained with.

Each is a scikit-learn transformer, so it is fitted on training text only and
pickled inside the artefact:

- ``words``: word uni- and bigram TF-IDF (fast; bigrams keep "no chronology"
  apart from "chronology").
- ``tfidf``: ``words`` plus character n-grams within word boundaries, which
  absorb typos, abbreviations and inflections ("chron", "supervsion").
- ``embeddings``: the distilled static MiniLM table, mean-pooled.
- ``tfidf+embeddings``: both, side by side.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from nlp.char_ngrams import CharNgramTfidf
from nlp.static_embeddings import StaticEmbedder

FEATURE_SETS: tuple[str, ...] = ("words", "tfidf", "embeddings", "tfidf+embeddings")
#: weight of the dense block next to the TF-IDF blocks (each L2-normalised)
EMBEDDING_WEIGHT = 1.0


def _word_tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w+\b",
        dtype=np.float32,
    )


def _char_tfidf() -> CharNgramTfidf:
    return CharNgramTfidf(ngram_range=(3, 5), min_df=2)


def build_featuriser(kind: str, embedder: StaticEmbedder | None = None) -> TransformerMixin:
    """An unfitted featuriser of ``kind`` (one of ``FEATURE_SETS``)."""
    if kind not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {kind!r}; expected one of {FEATURE_SETS}")
    if "embeddings" in kind and embedder is None:
        raise ValueError(f"feature set {kind!r} needs the static embedding table")
    parts: list[tuple[str, TransformerMixin]] = []
    if kind != "embeddings":
        parts.append(("words", _word_tfidf()))
    if kind in ("tfidf", "tfidf+embeddings"):
        parts.append(("chars", _char_tfidf()))
    if "embeddings" in kind:
        parts.append(("embeddings", embedder))
    weights = {"embeddings": EMBEDDING_WEIGHT} if "embeddings" in kind else None
    return FeatureUnion(parts, transformer_weights=weights)


def strip_fit_only_state(featuriser: TransformerMixin) -> None:
    """Drop attributes that would make the pickled artefact differ between runs.

    ``TfidfVectorizer.stop_words_`` is a set (its pickled order varies between
    processes) and unused by ``transform``; ``_stop_words_id`` is the memory
    address of the stop-word list, a cache key that is recomputed on use.
    """
    for _, part in getattr(featuriser, "transformer_list", []):
        for attribute in ("stop_words_", "_stop_words_id"):
            if hasattr(part, attribute):
                delattr(part, attribute)
