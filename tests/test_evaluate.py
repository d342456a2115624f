"""Evaluation figures on a hand-made case whose answers are worked out below."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from nlp.analysis import Analysis, Tag
from nlp.evaluate import evaluate

A, B, C = "chronology:concern", "supervision:strength", "drift_delay:concern"

#: id -> (gold labels, predicted labels with the confidence of each predicted tag)
CASE: dict[str, tuple[list[str], dict[str, float]]] = {
    "d1": ([A, B], {A: 0.9, C: 0.6}),
    "d2": ([A], {A: 0.8}),
    "d3": ([C], {}),
    "d4": ([B], {B: 0.7, A: 0.95}),
}
# Per label, over documents:
#   A: tp d1 d2        fp d4   fn -    P 2/3  R 1    F1 0.8
#   B: tp d4           fp -    fn d1   P 1    R 1/2  F1 2/3
#   C: tp -            fp d1   fn d3   P 0    R 0    F1 0
# Micro (pooled): tp 3, fp 2, fn 2 -> P 3/5, R 3/5, F1 3/5.
# Macro (mean over A, B, C): P (2/3+1+0)/3 = 5/9, R (1+1/2+0)/3 = 1/2, F1 (4/5+2/3+0)/3 = 22/45.


def tag(label: str, confidence: float, evidence: str) -> Tag:
    theme, polarity = label.split(":")
    return Tag(
        theme, polarity, confidence, ("rules",), evidence, 0, len(evidence), theme, 0, len(theme)
    )


def predict(record: Mapping[str, Any]) -> Analysis:
    predicted = CASE[record["id"]][1]
    return Analysis(
        tuple(tag(label, conf, f"{record['id']} says {label}") for label, conf in predicted.items())
    )


@pytest.fixture(scope="module")
def gold() -> list[dict[str, Any]]:
    return [
        {
            "id": doc_id,
            "text": f"text of {doc_id}",
            "labels": labels,
            "evidence": {C: ["Work on hold."]},
        }
        for doc_id, (labels, _) in CASE.items()
    ]


def test_per_label_counts_and_scores(gold: list[dict[str, Any]]) -> None:
    report = evaluate(gold, predict)
    assert report.documents == 4
    assert report.active == [C, A, B]  # taxonomy order
    per = report.to_dict()["per_label"]
    assert per[A] == {
        "precision": 0.6667,
        "recall": 1.0,
        "f1": 0.8,
        "support": 2,
        "tp": 2,
        "fp": 1,
        "fn": 0,
    }
    assert per[B] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "support": 2,
        "tp": 1,
        "fp": 0,
        "fn": 1,
    }
    assert per[C] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
        "tp": 0,
        "fp": 1,
        "fn": 1,
    }


def test_micro_and_macro_averages(gold: list[dict[str, Any]]) -> None:
    summary = evaluate(gold, predict).to_dict()
    assert (summary["micro_precision"], summary["micro_recall"], summary["micro_f1"]) == (
        0.6,
        0.6,
        0.6,
    )
    assert summary["macro_precision"] == round(5 / 9, 4)
    assert summary["macro_recall"] == 0.5
    assert summary["macro_f1"] == round(22 / 45, 4)


def test_errors_carry_the_explaining_sentence(gold: list[dict[str, Any]]) -> None:
    report = evaluate(gold, predict)
    kinds = sorted((e.kind, e.doc_id, e.label) for e in report.errors)
    assert kinds == [
        ("false_negative", "d1", B),
        ("false_negative", "d3", C),
        ("false_positive", "d1", C),
        ("false_positive", "d4", A),
    ]
    # surest false positives first, then misses of the best-supported labels
    worst = [
        (e.kind, e.doc_id, e.label, e.sentence, e.confidence) for e in report.worst_errors(limit=4)
    ]
    assert worst == [
        ("false_positive", "d4", A, f"d4 says {A}", 0.95),
        ("false_positive", "d1", C, f"d1 says {C}", 0.6),
        ("false_negative", "d1", B, "", None),
        ("false_negative", "d3", C, "Work on hold.", None),
    ]
    assert len(report.to_dict(errors=1)["worst_errors"]) == 1


def test_perfect_and_empty_predictions() -> None:
    gold = [{"id": "x", "text": "t", "labels": [A]}, {"id": "y", "text": "t", "labels": []}]
    perfect = evaluate(
        gold, lambda r: Analysis(tuple(tag(label, 0.8, "s") for label in r["labels"]))
    ).to_dict()
    assert (perfect["micro_f1"], perfect["macro_f1"]) == (1.0, 1.0)
    silent = evaluate(gold, lambda r: Analysis(())).to_dict()
    assert (silent["micro_precision"], silent["micro_recall"], silent["micro_f1"]) == (
        0.0,
        0.0,
        0.0,
    )
    assert silent["per_label"] == {
        A: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "tp": 0, "fp": 0, "fn": 1}
    }
    nothing = evaluate([{"id": "z", "text": "t", "labels": []}], lambda r: Analysis(())).to_dict()
    assert (nothing["micro_f1"], nothing["macro_f1"], nothing["per_label"]) == (0.0, 0.0, {})
