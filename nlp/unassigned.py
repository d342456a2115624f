"""Candidate codebook themes: concern-like sentences that no theme covers, clustered.

1. Split each document into sentences (``nlp.split_sentences`` by default) and
   keep those that overlap no stored tag.
2. Keep the *concern-like* ones: sentences with a deficit or remedy cue
   ("not", "lack", "delayed", "should", …).  No theme matched them, so the cue
   list, not the codebook, decides what looks like an area for development.
3. Embed them with TF-IDF reduced by truncated SVD (latent semantic analysis)
   and cluster with HDBSCAN, which leaves sentences that belong nowhere as noise
   instead of forcing them into a group.
4. Name each cluster by its top terms under class-based TF-IDF (every cluster's
   sentences joined into one class document; BERTopic's c-TF-IDF).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

SentenceSplitter = Callable[[str], list[tuple[int, int]]]

CONCERN_CUES = re.compile(
    r"\b(?:not|no|never|nor|none|without|lack\w*|absen\w*|miss(?:ed|ing)|delay\w*|late|overdue|"
    r"poor\w*|limited|insufficient\w*|inadequate\w*|unclear|inconsisten\w*|concern\w*|"
    r"worr\w*|gaps?|fail\w*|unable|should|must|needs? to|requires? improvement|"
    r"weak\w*|ineffective|unsafe|superficial|[a-z]+n't)\b",
    re.IGNORECASE,
)


def is_concern_like(sentence: str) -> bool:
    """Whether a sentence carries a deficit or remedy cue."""
    return CONCERN_CUES.search(sentence) is not None


def _default_splitter() -> SentenceSplitter:
    from nlp import split_sentences

    return split_sentences


def uncovered_sentences(texts: Mapping[str, str], tags: pd.DataFrame,
                        split: SentenceSplitter | None = None,
                        concern_only: bool = True) -> pd.DataFrame:
    """Sentences of ``texts`` (doc_id → text) that overlap no tag of their document.

    ``tags`` needs ``doc_id, start, end``.  Columns: ``doc_id, start, end, sentence``.
    """
    split = split or _default_splitter()
    spans = {doc_id: group[["start", "end"]].to_numpy(dtype=np.int64)
             for doc_id, group in tags.groupby("doc_id")}
    rows = []
    for doc_id, text in texts.items():
        covered = spans.get(doc_id, np.empty((0, 2), dtype=np.int64))
        for start, end in split(text):
            if ((covered[:, 0] < end) & (covered[:, 1] > start)).any():
                continue
            sentence = " ".join(text[start:end].split())
            if sentence and (not concern_only or is_concern_like(sentence)):
                rows.append({"doc_id": doc_id, "start": start, "end": end, "sentence": sentence})
    return pd.DataFrame(rows, columns=["doc_id", "start", "end", "sentence"])


def cluster_sentences(sentences: Sequence[str], min_cluster_size: int = 5,
                      n_components: int = 50, random_state: int = 0) -> np.ndarray:
    """Cluster ids per sentence, -1 for noise (see the module docstring)."""
    if len(sentences) < max(min_cluster_size, 2):
        return np.full(len(sentences), -1)
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2),
                            min_df=2, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    try:
        matrix = tfidf.fit_transform(sentences)
    except ValueError:  # no term occurs twice: nothing can group
        return np.full(len(sentences), -1)
    components = min(n_components, matrix.shape[1] - 1, len(sentences) - 1)
    if components >= 2:
        matrix = TruncatedSVD(components, random_state=random_state).fit_transform(matrix)
    vectors = normalize(np.asarray(matrix.todense() if hasattr(matrix, "todense") else matrix))
    return HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min(3, min_cluster_size),
                   copy=True).fit_predict(vectors)


def class_tfidf_terms(sentences: Sequence[str], clusters: np.ndarray,
                      top_n: int = 5) -> dict[int, list[str]]:
    """Top terms of each cluster (noise excluded) under class-based TF-IDF.

    ``w(t, c) = tf(t, c) / |c| · log(1 + A / f(t))`` where ``A`` is the mean
    number of words per class and ``f(t)`` the frequency of t over all classes.
    """
    ids = sorted(int(c) for c in set(clusters.tolist()) if c >= 0)
    if not ids:
        return {}
    classes = [" ".join(s for s, c in zip(sentences, clusters, strict=True) if c == cid)
               for cid in ids]
    counter = CountVectorizer(stop_words="english", ngram_range=(1, 2),
                              token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    counts = counter.fit_transform(classes).toarray().astype(float)
    words_per_class = counts.sum(axis=1, keepdims=True)
    tf = counts / np.where(words_per_class > 0, words_per_class, 1)
    idf = np.log(1 + words_per_class.mean() / counts.sum(axis=0))
    weights = tf * idf
    vocab = counter.get_feature_names_out()
    return {cid: [str(vocab[j]) for j in np.argsort(-weights[row])[:top_n] if weights[row, j] > 0]
            for row, cid in enumerate(ids)}


def cluster_name(terms: Sequence[str], parts: int = 3) -> str:
    """Up to ``parts`` top terms, a phrase standing for the words inside it
    ("child protection / conferences", not "child protection / protection / child")."""
    chosen: list[str] = []
    for term in terms:
        words = set(term.split())
        if any(words <= set(c.split()) for c in chosen):
            continue
        chosen = [c for c in chosen if not set(c.split()) <= words]
        if len(chosen) == parts:
            break
        chosen.append(term)
    return " / ".join(chosen)


@dataclass(frozen=True)
class CandidateTheme:
    """A cluster of uncovered concern-like sentences, named by its top terms."""

    cluster: int
    name: str
    terms: list[str]
    size: int
    documents: int
    examples: list[dict[str, object]]


def candidate_themes(sentences: pd.DataFrame, min_cluster_size: int = 5,
                     n_examples: int = 3, top_n: int = 5, max_sentences: int = 5000,
                     random_state: int = 0) -> list[CandidateTheme]:
    """Cluster uncovered sentences (from :func:`uncovered_sentences`) into candidate themes.

    Distinct sentences are clustered (above ``max_sentences`` a random sample of
    them); a theme's size and documents count every occurrence of its sentences.
    Examples are the members that mention most of the cluster's top terms; themes
    are ordered by size.
    """
    distinct = sentences["sentence"].drop_duplicates()
    if len(distinct) > max_sentences:
        distinct = distinct.sample(max_sentences, random_state=random_state)
    texts = distinct.tolist()
    clusters = cluster_sentences(texts, min_cluster_size, random_state=random_state)
    cluster_of = dict(zip(texts, clusters.tolist(), strict=True))
    assigned = sentences.assign(_cluster=sentences["sentence"].map(cluster_of))
    themes = []
    for cid, top in class_tfidf_terms(texts, clusters, top_n).items():
        members = assigned[assigned["_cluster"] == cid].drop(columns="_cluster")
        themes.append(CandidateTheme(
            cluster=cid, name=cluster_name(top), terms=top, size=len(members),
            documents=int(members["doc_id"].nunique()),
            examples=_examples(members.drop_duplicates("sentence"), top, n_examples)))
    return sorted(themes, key=lambda t: (-t.size, t.cluster))


def _examples(members: pd.DataFrame, terms: list[str], n: int) -> list[dict[str, object]]:
    """Members ranked by how many top terms they mention, shorter first on ties."""
    lowered = members["sentence"].str.lower()
    score = sum(lowered.str.contains(rf"\b{re.escape(t)}\b", regex=True).astype(int)
                for t in terms)
    ranked = members.assign(_score=score, _len=members["sentence"].str.len())
    ranked = ranked.sort_values(["_score", "_len"], ascending=[False, True]).head(n)
    return ranked[["doc_id", "start", "end", "sentence"]].to_dict("records")
