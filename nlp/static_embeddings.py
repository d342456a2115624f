"""Sentence vectors from a static token-embedding table, with numpy only.

The table is distilled once from all-MiniLM-L6-v2 with model2vec
(``nlp/distil_embeddings.py``, build time only, needs torch). At run time a
sentence vector is the mean of its WordPiece token vectors, L2-normalised,
as model2vec computes it. The tokeniser is a small re-implementation of the
BERT uncased tokeniser (lower-case, strip accents, split punctuation, greedy
longest-match WordPiece) so nothing beyond numpy/scipy is needed.

Token ids of each distinct word are cached, so the cost per word after the
first sighting is one dictionary look-up; only the table rows a batch uses are
read.

A pickled ``StaticEmbedder`` leaves the ~15 MB table out (it ships once, as
``models/static_embeddings.npy``) and keeps its SHA-256; ``attach`` puts a
table back only if it is that exact table.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from nlp.sparse_rows import counted_rows

VECTORS_FILE = "static_embeddings.npy"
VOCAB_FILE = "static_vocab.json"

_WORD_OR_PUNCT = re.compile(r"[^\W_]+|[^\w\s]|_")
_CONTINUATION = "##"
_MAX_WORD_CHARS = 100
_CACHE_LIMIT = 200_000


def _normalise(text: str) -> str:
    """Lower-case and strip accents as the BERT uncased normaliser does."""
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def wordpiece(word: str, index: dict[str, int]) -> tuple[int, ...]:
    """Greedy longest-match-first WordPiece ids of one word; () when unknown."""
    if len(word) > _MAX_WORD_CHARS:
        return ()
    ids: list[int] = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else _CONTINUATION + word[start:end]
            found = index.get(piece)
            if found is not None:
                break
            end -= 1
        if found is None:
            return ()
        ids.append(found)
        start = end
    return tuple(ids)


class StaticEmbedder(TransformerMixin, BaseEstimator):
    """Transformer: sentences -> mean-pooled, L2-normalised static embeddings.

    ``vectors`` is the (vocabulary, dims) table and ``tokens`` its vocabulary in
    row order. ``fit`` only builds the token index and records the table's
    hash; the table is not trained.
    """

    def __init__(self, vectors: np.ndarray, tokens: Sequence[str]) -> None:
        self.vectors = vectors
        self.tokens = tokens

    def fit(self, X: Iterable[str], y: object = None) -> StaticEmbedder:
        if len(self.tokens) != len(self.vectors):
            raise ValueError("the vocabulary and the embedding table differ in length")
        self.index_ = {tok: i for i, tok in enumerate(self.tokens)}
        self.n_features_out_ = int(self.vectors.shape[1])
        self.vectors_sha256_ = table_sha256(self.vectors)
        self._cache: dict[str, tuple[int, ...]] = {}
        return self

    @property
    def attached(self) -> bool:
        return self.vectors is not None

    def attach(self, vectors: np.ndarray) -> None:
        """Put back the table left out of the pickle; refuse any other table."""
        if table_sha256(vectors) != self.vectors_sha256_:
            raise ValueError("the embedding table is not the one this model was trained with")
        self.vectors = vectors
        self.index_ = {tok: i for i, tok in enumerate(self.tokens)}

    def _word_ids(self, word: str) -> tuple[int, ...]:
        cache = self.__dict__.setdefault("_cache", {})
        ids = cache.get(word)
        if ids is None:
            ids = wordpiece(word, self.index_)
            if len(cache) < _CACHE_LIMIT:
                cache[word] = ids
        return ids

    def _token_ids(self, sentences: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """WordPiece ids of every sentence, concatenated, and each sentence's start."""
        indptr = [0]
        indices: list[int] = []
        word_ids = self._word_ids
        for sentence in sentences:
            for word in _WORD_OR_PUNCT.findall(_normalise(sentence)):
                indices.extend(word_ids(word))
            indptr.append(len(indices))
        return np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)

    def _counted(self, sentences: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token counts in canonical CSR order: (counts, token ids, row pointers)."""
        indices, indptr = self._token_ids(sentences)
        counts, columns, row_ptr = counted_rows(indices, indptr, len(self.tokens))
        return counts.astype(np.float32), columns, row_ptr

    def token_counts(self, sentences: Iterable[str]) -> sp.csr_matrix:
        """A (sentences, vocabulary) matrix of WordPiece token counts."""
        counts, columns, row_ptr = self._counted(sentences)
        return sp.csr_matrix((counts, columns, row_ptr), shape=(len(row_ptr) - 1, len(self.tokens)))

    def transform(self, X: Iterable[str]) -> np.ndarray:
        if self.vectors is None:
            raise ValueError("the embedding table has not been attached")
        counts, columns, row_ptr = self._counted(X)
        # Only the rows of the table that occur are converted to float32 and
        # multiplied; multiplying by the whole (float16) table would convert all
        # of it on every call. The used ids are renumbered in the same order,
        # so each sum adds the same terms in the same order as with the whole
        # table, and the result is the same bit for bit.
        used, compact = np.unique(columns, return_inverse=True)
        counts_used = sp.csr_matrix((counts, compact, row_ptr), shape=(len(row_ptr) - 1, len(used)))
        rows = np.asarray(self.vectors[used], dtype=np.result_type(counts.dtype, self.vectors.dtype))
        summed = np.asarray(counts_used @ rows, dtype=np.float32)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        return summed / np.maximum(norms, 1e-12)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"emb{i}" for i in range(self.vectors.shape[1])], dtype=object)

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_cache", None)  # a run-time memo, rebuilt on use
        state.pop("index_", None)  # rebuilt by attach
        state["vectors"] = None  # shipped once beside the artefact; see attach
        return state


def table_sha256(vectors: np.ndarray) -> str:
    """SHA-256 of a table's dtype, shape and bytes."""
    digest = hashlib.sha256(f"{vectors.dtype.str}{vectors.shape}".encode())
    digest.update(np.ascontiguousarray(vectors).tobytes())
    return digest.hexdigest()


def read_table(folder: Path) -> np.ndarray:
    """The table saved in ``folder``, read without unpickling anything."""
    return np.load(folder / VECTORS_FILE, allow_pickle=False)


def load_static_embedder(folder: Path) -> StaticEmbedder:
    """The distilled table saved in ``folder`` (see ``nlp/distil_embeddings.py``), fitted."""
    vectors = read_table(folder)
    tokens = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
    return StaticEmbedder(vectors, tuple(tokens)).fit([])
