"""The trained sentence classifier as it runs: featuriser, linear scores, calibration.

Training (``nlp/train.py``, ``nlp/linear_heads.py``) fits linear base heads
and a calibrated sigmoid per label over them; the run-time object keeps only
the weights, so scoring all labels is one sparse-dense product, a small
mixing matrix and a sigmoid. Needs numpy, scipy and scikit-learn only.

Scoring gives the same probabilities as the featuriser's own ``transform``
followed by ``LinearHeads.proba`` block by block; the faster paths are checked
against plain references in ``tests/test_sentence_classifier_fast.py``.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit
from sklearn.base import TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from nlp.static_embeddings import StaticEmbedder


@dataclass
class LinearHeads:
    """Linear base scores, calibrated and mixed into label probabilities.

    ``z = (X @ coef + intercept) * base_slope + base_offset`` are calibrated
    log-odds of the base heads; a label's log-odds are
    ``z @ mix + log_sigmoid(z) @ joint + offset`` (see ``nlp/linear_heads.py``).
    """

    coef: np.ndarray  # (features, base heads), float32
    intercept: np.ndarray  # (base heads,)
    base_slope: np.ndarray  # (base heads,)
    base_offset: np.ndarray  # (base heads,)
    mix: np.ndarray  # (base heads, labels)
    joint: np.ndarray  # (base heads, labels)
    offset: np.ndarray  # (labels,)

    def scores(self, X: object) -> np.ndarray:
        return np.asarray(X @ self.coef, dtype=np.float64) + self.intercept

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        z = scores * self.base_slope + self.base_offset
        return expit(z @ self.mix + log_expit(z) @ self.joint + self.offset)

    def proba(self, X: object) -> np.ndarray:
        return self.proba_from_scores(self.scores(X))


@dataclass
class SentenceClassifier:
    """Multi-label theme classifier for sentences, with calibrated probabilities.

    ``labels`` are the 36 ``THEME:POLARITY`` ids in column order;
    ``thresholds`` the per-label decision thresholds chosen on held-out data;
    ``veto`` the probability below which a rules-only label is dropped in the
    fused pipeline (0: none; see ``nlp/fusion.py``); ``sha256`` the artefact's
    hash, set when loaded by ``model_store``.
    """

    labels: tuple[str, ...]
    featuriser: TransformerMixin
    heads: LinearHeads
    thresholds: dict[str, float]
    name: str = ""
    veto: float = 0.0
    sha256: str = field(default="", compare=False)

    def static_embedder(self) -> StaticEmbedder | None:
        """The static-embedding part of the featuriser, if the model uses one."""
        parts = [p for _, p in getattr(self.featuriser, "transformer_list", [])] or [self.featuriser]
        return next((p for p in parts if isinstance(p, StaticEmbedder)), None)

    def predict_proba(self, sentences: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape ``(len(sentences), len(labels))``."""
        if len(sentences) == 0:
            return np.zeros((0, len(self.labels)))
        return self.heads.proba_from_scores(self._scores(list(sentences)))

    def _scores(self, sentences: list[str]) -> np.ndarray:
        """Base scores, block by block for a ``FeatureUnion``.

        Same result as scoring the union's stacked matrix, but a dense block
        (the embeddings) is multiplied as a dense array instead of being made
        sparse and stacked first, which makes the whole call ~40% faster. A
        plain word ``TfidfVectorizer`` is applied by ``word_tfidf`` (the same
        matrix without scikit-learn's per-call checks, about 3x faster).
        """
        parts = getattr(self.featuriser, "transformer_list", None)
        if parts is None:
            return self.heads.scores(self.featuriser.transform(sentences))
        weights = self.featuriser.transformer_weights or {}
        total = np.tile(self.heads.intercept, (len(sentences), 1))
        start = 0
        for name, part in parts:
            X = word_tfidf(part, sentences) if plain_word_tfidf(part) else part.transform(sentences)
            width = X.shape[1]
            total += np.asarray(X @ self.heads.coef[start : start + width]) * weights.get(name, 1.0)
            start += width
        return total

    def predict(self, sentences: Sequence[str]) -> list[list[str]]:
        """Labels whose probability reaches their threshold, per sentence."""
        cut = np.asarray([self.thresholds[label] for label in self.labels])
        hits = self.predict_proba(sentences) >= cut
        return [[self.labels[j] for j in np.flatnonzero(row)] for row in hits]


def plain_word_tfidf(part: object) -> bool:
    """True for a fitted word-level ``TfidfVectorizer`` that ``word_tfidf`` reproduces:
    text input, the built-in preprocessing and tokenising, no stop words, counts
    (not binary), IDF weights and L2 or no normalisation."""
    return (
        type(part) is TfidfVectorizer
        and part.analyzer == "word"
        and part.input == "content"
        and part.preprocessor is None
        and part.tokenizer is None
        and part.stop_words is None
        and part.strip_accents is None
        and not part.binary
        and part.use_idf
        and part.norm in ("l2", None)
        and hasattr(part, "vocabulary_")
        and re.compile(part.token_pattern).groups <= 1
    )


def word_tfidf(vectorizer: TfidfVectorizer, sentences: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(sentences)`` without scikit-learn's per-call checks.

    Same steps and number types as ``TfidfVectorizer.transform`` (counts of the
    word n-grams in the vocabulary, indices sorted per row, optional sublinear
    tf, IDF, L2 norm), so the matrix is identical; only for vectorizers that
    ``plain_word_tfidf`` accepts, and for ``str`` sentences.
    """
    find = re.compile(vectorizer.token_pattern).findall
    lowercase = vectorizer.lowercase
    low, high = vectorizer.ngram_range
    get = vectorizer.vocabulary_.get
    indices: list[int] = []
    values: list[int] = []
    indptr = [0]
    for sentence in sentences:
        tokens = find(sentence.lower() if lowercase else sentence)
        counts: dict[int, int] = {}
        for n in range(low, min(high, len(tokens)) + 1):
            grams = tokens if n == 1 else [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
            for gram in grams:
                j = get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        indices.extend(counts)
        values.extend(counts.values())
        indptr.append(len(indices))
    X = sp.csr_matrix(
        (np.asarray(values, dtype=vectorizer.dtype), np.asarray(indices, dtype=np.int32),
         np.asarray(indptr, dtype=np.int32)),
        shape=(len(sentences), len(vectorizer.vocabulary_)),
    )
    X.sort_indices()
    if vectorizer.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1.0
    X.data *= vectorizer.idf_[X.indices]
    if vectorizer.norm == "l2":
        inplace_csr_row_normalize_l2(X)
    return X
