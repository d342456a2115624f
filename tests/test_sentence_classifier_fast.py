"""The classifier's fast scoring path gives the same numbers as the plain one.

Each featuriser part is checked against a small reference written the direct
way (scikit-learn's own ``TfidfVectorizer.transform``; per-word arrays summed
as duplicates and ``normalize``; the whole embedding table multiplied), and
whole-model probabilities against scoring with those references.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from nlp import model_store
from nlp.char_ngrams import CharNgramTfidf, word_ngrams
from nlp.components.classifier import ClassifierProposer
from nlp.components.extensions import Proposal
from nlp.featurisers import build_featuriser
from nlp.language import blank_english
from nlp.linear_heads import HeadSpec, fit_heads
from nlp.pipeline import split_sentences
from nlp.sentence_classifier import SentenceClassifier, plain_word_tfidf, word_tfidf
from nlp.static_embeddings import _WORD_OR_PUNCT, StaticEmbedder, _normalise
from nlp.taxonomy import LABELS

SAMPLES = Path(__file__).resolve().parent.parent / "data_samples" / "sample_corpus.jsonl"
SHIPPED = model_store.package_model_dir()
needs_shipped = pytest.mark.skipif(
    not (SHIPPED / model_store.ARTEFACT_FILE).exists(), reason="no artefact shipped in models/"
)

# Written for these tests: plain, odd and empty inputs.
EDGE = [
    "",
    "   ",
    "x",
    "The chronology is out of date.",
    "The chronology is out of date. The chronology is out of date.",
    "Supervsion notes: chron not updated, IRO escalation 2x!!",
    "Café, naïve résumé and über-style words with accents.",
    "under_scores and hyphen-ated words; numbers 12 345",
    "zzqx vvwk",
    "a " * 80,
]


def _sentences(limit: int = 300) -> list[str]:
    out: list[str] = []
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        out += [text[a:b] for a, b in split_sentences(text)]
        if len(out) >= limit:
            break
    return out[:limit] + EDGE


# --- references: the direct implementations -----------------------------------------


def reference_chars(part: CharNgramTfidf, texts: list[str]) -> sp.csr_matrix:
    low, high = part.ngram_range
    vocab = part.vocabulary_
    pieces: list[np.ndarray] = []
    indptr = [0]
    for text in texts:
        for word in re.findall(r"\w+", text.lower()):
            grams = word_ngrams(word, low, high)
            pieces.append(np.fromiter((vocab[g] for g in grams if g in vocab), dtype=np.int64))
        indptr.append(sum(len(p) for p in pieces))
    indices = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    tfidf = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, np.asarray(indptr)),
        shape=(len(texts), len(vocab)),
    )
    tfidf.sum_duplicates()
    tfidf.data = (1 + np.log(tfidf.data)) * part.idf_[tfidf.indices]
    return normalize(tfidf, copy=False)


def reference_embeddings(part: StaticEmbedder, texts: list[str]) -> np.ndarray:
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        for word in _WORD_OR_PUNCT.findall(_normalise(text)):
            indices.extend(part._word_ids(word))
        indptr.append(len(indices))
    counts = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
        shape=(len(texts), len(part.tokens)),
    )
    counts.sum_duplicates()
    summed = np.asarray(counts @ part.vectors, dtype=np.float32)
    return summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-12)


def reference_part(part: object, texts: list[str]) -> object:
    if isinstance(part, CharNgramTfidf):
        return reference_chars(part, texts)
    if isinstance(part, StaticEmbedder):
        return reference_embeddings(part, texts)
    return part.transform(texts)


def reference_proba(clf: SentenceClassifier, texts: list[str]) -> np.ndarray:
    weights = clf.featuriser.transformer_weights or {}
    total = np.tile(clf.heads.intercept, (len(texts), 1))
    start = 0
    for name, part in clf.featuriser.transformer_list:
        X = reference_part(part, texts)
        width = X.shape[1]
        total += np.asarray(X @ clf.heads.coef[start : start + width]) * weights.get(name, 1.0)
        start += width
    return clf.heads.proba_from_scores(total)


def same_matrix(a: object, b: object) -> bool:
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    a.sort_indices()
    b.sort_indices()
    return (
        a.shape == b.shape and a.dtype == b.dtype
        and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


# --- a small model of every part, built here ----------------------------------------


@pytest.fixture(scope="module")
def small_embedder() -> StaticEmbedder:
    """A made-up WordPiece vocabulary with a random float16 table (as shipped)."""
    words = sorted({w for s in _sentences(200) for w in _WORD_OR_PUNCT.findall(_normalise(s))})
    tokens = ["[UNK]", *words[::2], *(f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"),
              *"abcdefghijklmnopqrstuvwxyz0123456789"]
    tokens = list(dict.fromkeys(tokens))
    vectors = np.random.default_rng(3).normal(size=(len(tokens), 24)).astype(np.float16)
    return StaticEmbedder(vectors, tuple(tokens)).fit([])


@pytest.fixture(scope="module")
def small_model(small_embedder: StaticEmbedder) -> SentenceClassifier:
    texts = _sentences(240)
    rng = np.random.default_rng(5)
    Y = (rng.random((len(texts), len(LABELS))) < 0.2).astype(np.int64)
    featuriser = build_featuriser("tfidf+embeddings", small_embedder)
    X = featuriser.fit_transform(texts)
    heads = fit_heads(sp.csr_matrix(X), Y, LABELS, HeadSpec("logreg", C=1.0, stacked=True))
    return SentenceClassifier(LABELS, featuriser, heads, dict.fromkeys(LABELS, 0.5), name="small")


# --- the parts -----------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {},
    {"ngram_range": (1, 1)},
    {"ngram_range": (2, 3)},
    {"sublinear_tf": False},
    {"norm": None},
    {"lowercase": False},
    {"dtype": np.float64},
])
def test_word_tfidf_is_the_vectorizer_transform(options: dict[str, object]) -> None:
    texts = _sentences(200)
    params = {"ngram_range": (1, 2), "sublinear_tf": True, "token_pattern": r"(?u)\b\w+\b",
              "dtype": np.float32, **options}
    vectorizer = TfidfVectorizer(**params).fit(texts[:150])
    assert plain_word_tfidf(vectorizer)
    assert same_matrix(word_tfidf(vectorizer, texts), vectorizer.transform(texts))


@pytest.mark.parametrize("options", [
    {"stop_words": "english"}, {"binary": True}, {"analyzer": "char_wb"}, {"use_idf": False},
    {"norm": "l1"}, {"preprocessor": str.upper}, {"strip_accents": "unicode"},
])
def test_vectorizers_the_fast_path_does_not_reproduce_use_their_own_transform(
    options: dict[str, object],
) -> None:
    vectorizer = TfidfVectorizer(**options).fit(_sentences(50))
    assert not plain_word_tfidf(vectorizer)


def test_char_ngrams_match_the_reference() -> None:
    texts = _sentences()
    part = CharNgramTfidf().fit(texts[:200])
    assert same_matrix(part.transform(texts), reference_chars(part, texts))
    assert same_matrix(part.transform(texts), reference_chars(part, texts))  # cached words
    assert part.transform([]).shape == (0, len(part.vocabulary_))


def test_embeddings_match_the_whole_table_product(small_embedder: StaticEmbedder) -> None:
    texts = _sentences()
    fast = small_embedder.transform(texts)
    assert fast.dtype == np.float32
    assert np.array_equal(fast, reference_embeddings(small_embedder, texts))
    assert small_embedder.transform([]).shape == (0, small_embedder.vectors.shape[1])
    assert small_embedder.token_counts(["the the plan"]).sum() == 3


def test_small_model_probabilities_match_the_reference(small_model: SentenceClassifier) -> None:
    texts = _sentences()
    assert np.abs(small_model.predict_proba(texts) - reference_proba(small_model, texts)).max() <= 1e-12


# --- the shipped model ---------------------------------------------------------------


@needs_shipped
def test_shipped_model_probabilities_match_the_reference() -> None:
    clf = model_store.load_classifier(SHIPPED)
    texts = _sentences()
    reference = reference_proba(clf, texts)
    assert np.abs(clf.predict_proba(texts) - reference).max() <= 1e-9
    for text in texts[:40]:  # a batch of one (how the service scores one sentence)
        assert np.abs(clf.predict_proba([text]) - reference_proba(clf, [text])).max() <= 1e-9


@needs_shipped
def test_proposer_matches_a_plain_loop_and_follows_changed_thresholds() -> None:
    clf = model_store.load_classifier(SHIPPED)
    nlp = blank_english()
    nlp.add_pipe("caselens_segmenter")
    text = " ".join(_sentences(30))
    proposer = ClassifierProposer(clf)

    def proposals() -> list[Proposal]:
        doc = nlp(text)
        doc._.proposals = []
        return list(proposer(doc)._.proposals)

    doc = nlp(text)
    expected: list[Proposal] = []
    spans = [s for s in doc.sents if s.text.strip()]
    for sent, row in zip(spans, clf.predict_proba([s.text for s in spans])):
        expected += [
            Proposal(theme, polarity, sent.start, sent.end, sent.start, sent.end, "model", float(p))
            for (theme, polarity), p, t in zip(proposer.labels, row, proposer.thresholds) if p >= t
        ]
    assert expected and proposals() == expected

    proposer.thresholds = [1.01] * len(LABELS)
    assert proposals() == []
    proposer.thresholds = [0.0] * len(LABELS)
    assert len(proposals()) == len(spans) * len(LABELS)
