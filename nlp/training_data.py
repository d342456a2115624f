"""Labelled training examples: loading, validation, a stable held-out split, a hash.

Training files are gold-format JSON Lines (``taxonomy.md``): one sentence or
short passage per line with ``text`` and ``labels`` (``[]`` for a hard
negative). A whole document with an ``evidence`` map (label -> sentences)
adds each evidence sentence, labelled with every label it evidences, and each
of its other sentences as a negative: the classifier runs on every sentence
of a document, so it must learn what routine recording looks like.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from nlp.errors import InputError
from nlp.taxonomy import LABELS

#: share of distinct texts kept out of training for model selection and thresholds
HELDOUT_SHARE = 0.2


@dataclass(frozen=True)
class Example:
    """One training text with its labels; ``source`` is ``file:line``."""

    text: str
    labels: frozenset[str]
    source: str
    doc_type: str = ""
    service_area: str = ""
    weight: float = 1.0


def _checked_labels(raw: object, where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise InputError("labels must be a list of THEME:POLARITY strings", where)
    unknown = sorted(set(raw) - set(LABELS))
    if unknown:
        raise InputError(f"unknown label(s) {', '.join(unknown)}", where)
    return frozenset(raw)


def _examples_of_record(record: dict[str, object], where: str) -> list[Example]:
    meta = {
        "doc_type": str(record.get("doc_type") or ""),
        "service_area": str(record.get("service_area") or ""),
    }
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("text must be a non-empty string", where)
    evidence = record.get("evidence")
    if not isinstance(evidence, dict):
        return [Example(text.strip(), _checked_labels(record.get("labels"), where), where, **meta)]
    by_sentence: dict[str, set[str]] = {}
    for label, sentences in evidence.items():
        _checked_labels([label], where)
        for sentence in sentences if isinstance(sentences, list) else [sentences]:
            if isinstance(sentence, str) and sentence.strip():
                by_sentence.setdefault(sentence.strip(), set()).add(label)
    examples = [Example(s, frozenset(labels), where, **meta) for s, labels in by_sentence.items()]
    return examples + [
        Example(s, frozenset(), where, **meta) for s in _other_sentences(text, by_sentence)
    ]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank sentence, by the pipeline's segmenter rules."""
    from nlp.components.segmenter import sentence_starts

    bounds = [*sentence_starts(text), len(text)]
    return [(a, b) for a, b in pairwise(bounds) if text[a:b].strip()]


def _other_sentences(text: str, evidence: Iterable[str]) -> list[str]:
    """Sentences of ``text`` overlapping none of the ``evidence`` strings."""
    covered = np.zeros(len(text), dtype=bool)
    for sentence in evidence:
        at = text.find(sentence)
        if at < 0:
            at = text.find(sentence[:40])  # evidence quoted with different spacing
        if at >= 0:
            covered[at : at + len(sentence)] = True
    return [
        " ".join(text[a:b].split()) for a, b in sentence_spans(text) if not covered[a:b].any()
    ]


def read_jsonl(path: Path) -> list[Example]:
    """Examples of one JSON Lines file; a bad line raises ``InputError`` naming it."""
    examples: list[Example] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON ({exc.msg})", where) from None
            if not isinstance(record, dict):
                raise InputError("each line must be a JSON object", where)
            examples.extend(_examples_of_record(record, where))
    return examples


def load_examples(paths: Iterable[Path]) -> list[Example]:
    """Examples of all ``paths`` in sorted path order, de-duplicated by text.

    Two lines with the same text (ignoring case and spacing) become one example
    carrying the union of their labels, so the held-out split cannot see a
    training text again.
    """
    merged: dict[str, Example] = {}
    for path in sorted(paths):
        for ex in read_jsonl(path):
            key = text_key(ex.text)
            seen = merged.get(key)
            merged[key] = ex if seen is None else Example(
                seen.text, seen.labels | ex.labels, seen.source, seen.doc_type, seen.service_area
            )
    return list(merged.values())


def text_key(text: str) -> str:
    return " ".join(text.lower().split())


def is_heldout(text: str, share: float = HELDOUT_SHARE) -> bool:
    """Stable membership of the held-out split, from a hash of the text alone."""
    digest = hashlib.sha256(text_key(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def split_heldout(
    examples: Sequence[Example], share: float = HELDOUT_SHARE
) -> tuple[list[Example], list[Example]]:
    """(train, held-out): the same text always falls on the same side."""
    train = [ex for ex in examples if not is_heldout(ex.text, share)]
    heldout = [ex for ex in examples if is_heldout(ex.text, share)]
    return train, heldout


def label_matrix(examples: Sequence[Example], labels: Sequence[str] = LABELS) -> np.ndarray:
    """A (examples, labels) 0/1 matrix."""
    column = {label: j for j, label in enumerate(labels)}
    y = np.zeros((len(examples), len(labels)), dtype=np.int8)
    for i, ex in enumerate(examples):
        for label in ex.labels:
            y[i, column[label]] = 1
    return y


def label_counts(examples: Iterable[Example]) -> dict[str, int]:
    """Positive examples per label, every label listed (zero included)."""
    counts = Counter(label for ex in examples for label in ex.labels)
    return {label: counts.get(label, 0) for label in LABELS}


def data_hash(examples: Iterable[Example]) -> str:
    """SHA-256 over the examples' texts, labels and weights, independent of file order."""
    lines = sorted(
        json.dumps([ex.text, sorted(ex.labels), ex.weight], ensure_ascii=False)
        for ex in examples
    )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
