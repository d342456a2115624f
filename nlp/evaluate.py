"""Score predicted document labels against gold records: precision, recall, F1.

Per label: true/false positives and false negatives over documents; micro
averages pool the counts, macro averages take the mean over labels that
occur in the gold file or in the predictions.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nlp.analysis import Analysis
from nlp.taxonomy import LABELS

if TYPE_CHECKING:
    from nlp.pipeline import Analyser

Predictor = Callable[[Mapping[str, Any]], Analysis]


def predictor(analyser: Analyser) -> Predictor:
    """Analyse a gold record's text with its metadata, as a client would send them."""
    return lambda r: analyser.analyse(r["text"], **{k: v for k, v in r.items() if k != "text"})


@dataclass
class LabelScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class ErrorCase:
    """A wrong label on one document, with the sentence that explains it."""

    kind: str  # false_positive | false_negative
    doc_id: str
    label: str
    sentence: str
    confidence: float | None = None


@dataclass
class Report:
    scores: dict[str, LabelScore] = field(default_factory=lambda: {label: LabelScore() for label in LABELS})
    errors: list[ErrorCase] = field(default_factory=list)
    documents: int = 0

    def _pooled(self) -> LabelScore:
        pooled = LabelScore()
        for s in self.scores.values():
            pooled.tp += s.tp
            pooled.fp += s.fp
            pooled.fn += s.fn
        return pooled

    @property
    def active(self) -> list[str]:
        return [label for label, s in self.scores.items() if s.tp + s.fp + s.fn]

    @property
    def macro(self) -> dict[str, float]:
        active = [self.scores[label] for label in self.active]
        if not active:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        n = len(active)
        return {
            "precision": sum(s.precision for s in active) / n,
            "recall": sum(s.recall for s in active) / n,
            "f1": sum(s.f1 for s in active) / n,
        }

    def worst_errors(self, limit: int = 20) -> list[ErrorCase]:
        """False positives the system was surest of first, then misses of the largest labels."""
        fps = sorted((e for e in self.errors if e.kind == "false_positive"), key=lambda e: -(e.confidence or 0))
        fns = sorted(
            (e for e in self.errors if e.kind == "false_negative"),
            key=lambda e: -self.scores[e.label].support,
        )
        half = limit // 2
        picked = fps[:half] + fns[: limit - min(half, len(fps))]
        return picked[:limit]

    def to_dict(self, errors: int = 20) -> dict[str, Any]:
        micro = self._pooled()
        macro = self.macro
        return {
            "documents": self.documents,
            "micro_precision": round(micro.precision, 4),
            "micro_recall": round(micro.recall, 4),
            "micro_f1": round(micro.f1, 4),
            "macro_precision": round(macro["precision"], 4),
            "macro_recall": round(macro["recall"], 4),
            "macro_f1": round(macro["f1"], 4),
            "per_label": {label: self.scores[label].as_dict() for label in self.active},
            "worst_errors": [e.__dict__ for e in self.worst_errors(errors)],
        }


def evaluate(gold: Iterable[Mapping[str, Any]], predict: Predictor) -> Report:
    """Compare ``predict(record)`` with each gold record's ``labels``."""
    report = Report()
    for n, record in enumerate(gold):
        report.documents += 1
        doc_id = str(record.get("id", n + 1))
        analysis = predict(record)
        predicted = set(analysis.labels)
        expected = set(record["labels"])
        evidence: Mapping[str, list[str]] = record.get("evidence") or {}
        for label in predicted | expected:
            score = report.scores.setdefault(label, LabelScore())
            if label in predicted and label in expected:
                score.tp += 1
            elif label in predicted:
                score.fp += 1
                tag = max((t for t in analysis.tags if t.label == label), key=lambda t: t.confidence)
                report.errors.append(ErrorCase("false_positive", doc_id, label, tag.evidence, tag.confidence))
            else:
                score.fn += 1
                sentence = (evidence.get(label) or [""])[0]
                report.errors.append(ErrorCase("false_negative", doc_id, label, sentence))
    return report
