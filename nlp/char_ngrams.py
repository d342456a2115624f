"""Character n-gram TF-IDF computed per distinct word, with a word cache.

Equivalent in spirit to ``TfidfVectorizer(analyzer="char_wb")`` (n-grams
inside space-padded words), but the n-gram feature ids of each distinct word
are computed once and cached, so transforming text costs one dictionary
look-up per word instead of one per n-gram, and counting, weighting and
normalising are done for the whole batch at once with numpy. That keeps the
classifier fast enough to run on every sentence of a large batch.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from nlp.sparse_rows import counted_rows

_WORD = re.compile(r"\w+")
_CACHE_LIMIT = 200_000


def word_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of `` word `` (space-padded), lengths ``low``..``high``."""
    padded = f" {word} "
    grams: list[str] = []
    for n in range(low, high + 1):
        if n > len(padded):
            break
        grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class CharNgramTfidf(TransformerMixin, BaseEstimator):
    """Sublinear, smoothed-idf, L2-normalised TF-IDF of in-word character n-grams."""

    def __init__(self, ngram_range: tuple[int, int] = (3, 5), min_df: int = 2) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df

    def fit(self, X: Iterable[str], y: object = None) -> CharNgramTfidf:
        low, high = self.ngram_range
        df: Counter[str] = Counter()
        n_docs = 0
        for text in X:
            n_docs += 1
            df.update({g for w in set(_words(text)) for g in word_ngrams(w, low, high)})
        kept = sorted(g for g, c in df.items() if c >= self.min_df)
        self.vocabulary_ = {g: i for i, g in enumerate(kept)}
        counts = np.array([df[g] for g in kept], dtype=np.float64)
        self.idf_ = (np.log((1 + n_docs) / (1 + counts)) + 1).astype(np.float32)
        self._cache: dict[str, tuple[int, ...]] = {}
        return self

    def _ids(self, word: str) -> tuple[int, ...]:
        cache = self.__dict__.setdefault("_cache", {})
        ids = cache.get(word)
        if ids is None:
            low, high = self.ngram_range
            vocab = self.vocabulary_
            ids = tuple(vocab[g] for g in word_ngrams(word, low, high) if g in vocab)
            if len(cache) < _CACHE_LIMIT:
                cache[word] = ids
        return ids

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        indices: list[int] = []
        indptr = [0]
        ids = self._ids
        for text in X:
            for word in _words(text):
                indices.extend(ids(word))
            indptr.append(len(indices))
        return self._weigh(np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64))

    def _weigh(self, indices: np.ndarray, indptr: np.ndarray) -> sp.csr_matrix:
        """Sublinear TF-IDF, rows L2-normalised, from the n-gram ids of each row."""
        n_rows, width = len(indptr) - 1, len(self.vocabulary_)
        counts, columns, row_ptr = counted_rows(indices, indptr, width)
        data = (1 + np.log(counts.astype(np.float32))) * self.idf_[columns]
        tfidf = sp.csr_matrix((data, columns, row_ptr), shape=(n_rows, width))
        inplace_csr_row_normalize_l2(tfidf)
        return tfidf

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(list(self.vocabulary_), dtype=object)

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_cache", None)  # a run-time memo, rebuilt on use
        return state
