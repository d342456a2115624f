"""The bar a model proposal must clear in the fused detector, chosen on held-out documents.

The classifier's own thresholds maximise F1 per *sentence* on the held-out
sentence split. In the fused pipeline a document takes a label as soon as
one sentence does, and the rules already find many labels, so the bar for a
model-only label is set where the fused *document* labels are best. It is
chosen on whole recordings that no model was trained on
(``data_samples/heldout/``), in two steps:

1. each scheme - the sentence thresholds as they are, one threshold shared by
   all labels, a threshold per label - is chosen on all but one part of the
   held-out documents and scored on that part, for each part in turn (parts
   are the writers' files), so the
   comparison is not flattered by choosing and scoring on the same text;
2. the winning scheme is chosen again on all held-out documents, and its
   thresholds go into the artefact and the model card.

The same comparison sets the model's *veto* over the rules: a label that only
the rules found is dropped when the classifier gives it, in that sentence, a
probability below the veto (a cue read in a context the model has learnt is
not that theme). Each scheme is scored with each veto of ``VETOES``; 0 keeps
every rule label.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlp.analysis import Analysis
from nlp.model_metrics import scores
from nlp.taxonomy import LABELS

#: candidate thresholds for a model-only document label; above 1.0 turns the model off for it
GRID = tuple(float(t) for t in np.round(np.arange(0.15, 0.96, 0.05), 2)) + (1.01,)
#: a label needs this many positive documents before it gets a threshold of its own
MIN_LABEL_SUPPORT = 4

SCHEMES = ("sentence", "shared", "per_label")
#: candidate vetoes, smallest (no veto) first
VETOES = (0.0, 0.01, 0.02, 0.05, 0.1)


@dataclass(frozen=True)
class DocumentScores:
    """What each detector says of each held-out document, label by label.

    ``rules`` is -1 where the rules did not give the label, else the
    classifier's highest probability for it over the sentences where they did
    (1 where the model proposed it there too); ``model`` is the highest
    confidence of a model-only tag for it (0 when there is none); ``part``
    numbers the file each document came from.
    """

    truth: np.ndarray
    rules: np.ndarray
    model: np.ndarray
    part: np.ndarray

    def subset(self, rows: np.ndarray) -> DocumentScores:
        return DocumentScores(self.truth[rows], self.rules[rows], self.model[rows], self.part[rows])


def document_scores(
    analyse: Callable[[Iterable[Mapping[str, Any]]], Iterable[Analysis]],
    proba: Callable[[list[str]], np.ndarray],
    records: Sequence[Mapping[str, Any]],
    parts: Sequence[int],
) -> DocumentScores:
    """Run ``analyse`` (a fused pipeline whose model proposes at a low floor and
    vetoes nothing) over ``records``; ``proba`` scores the rules' evidence sentences."""
    n, width = len(records), len(LABELS)
    column = {label: j for j, label in enumerate(LABELS)}
    truth = np.zeros((n, width), dtype=bool)
    rules = np.full((n, width), -1.0)
    model = np.zeros((n, width))
    for i, (record, analysis) in enumerate(zip(records, analyse(records), strict=True)):
        for label in record["labels"]:
            truth[i, column[label]] = True
        rule_only = [tag for tag in analysis.tags if tag.detectors == ("rules",)]
        probabilities = proba([tag.evidence for tag in rule_only]) if rule_only else []
        for tag, row in zip(rule_only, probabilities, strict=True):
            j = column[tag.label]
            rules[i, j] = max(rules[i, j], float(row[j]))
        for tag in analysis.tags:
            j = column[tag.label]
            if "rules" not in tag.detectors:
                model[i, j] = max(model[i, j], tag.confidence)
            elif "model" in tag.detectors:
                rules[i, j] = 1.0
    return DocumentScores(truth, rules, model, np.asarray(parts))


def predict(ds: DocumentScores, thresholds: np.ndarray, veto: float = 0.0) -> np.ndarray:
    return (ds.rules >= veto) | (ds.model >= thresholds)


def _micro_f1(ds: DocumentScores, thresholds: np.ndarray, veto: float) -> float:
    return float(scores(ds.truth, predict(ds, thresholds, veto), LABELS)["micro"]["f1"])


def _label_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = int((truth & predicted).sum())
    wrong = int((truth ^ predicted).sum())
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def choose(scheme: str, ds: DocumentScores, sentence: np.ndarray, veto: float = 0.0) -> np.ndarray:
    """The thresholds ``scheme`` picks on ``ds``; ties go to the higher bar (fewer false alarms)."""
    if scheme == "sentence":
        return sentence.copy()
    if scheme == "shared":
        best = max(reversed(GRID), key=lambda t: _micro_f1(ds, np.full(len(LABELS), t), veto))
        return np.full(len(LABELS), best)
    if scheme != "per_label":
        raise ValueError(f"unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    chosen = sentence.copy()
    for j in range(len(LABELS)):
        truth = ds.truth[:, j]
        if truth.sum() < MIN_LABEL_SUPPORT:
            continue
        ruled = ds.rules[:, j] >= veto
        chosen[j] = max(reversed(GRID), key=lambda t: _label_f1(truth, ruled | (ds.model[:, j] >= t)))
    return chosen


def _folds(ds: DocumentScores) -> list[tuple[np.ndarray, np.ndarray]]:
    """(choose-on, score-on) row masks: the other writers against each writer, or halves of one file."""
    parts = np.unique(ds.part)
    if len(parts) >= 2:
        return [(ds.part != p, ds.part == p) for p in parts]
    half = np.arange(len(ds.part)) % 2 == 0
    return [(half, ~half), (~half, half)]


def select(
    ds: DocumentScores, sentence_thresholds: Mapping[str, float]
) -> tuple[dict[str, float], float, dict[str, Any]]:
    """Compare schemes and vetoes across parts, then fit the best pair on all documents.

    Returns the thresholds per label, the veto and a record of the comparison
    for the model card. Ties go to the simpler scheme and the smaller veto.
    """
    sentence = np.asarray([sentence_thresholds[label] for label in LABELS])
    crossed: dict[str, dict[str, float]] = {scheme: {} for scheme in SCHEMES}
    best, best_f1 = (SCHEMES[0], VETOES[0]), -1.0
    for veto in VETOES:
        for scheme in SCHEMES:
            pooled_truth, pooled_pred = [], []
            for choose_rows, score_rows in _folds(ds):
                thresholds = choose(scheme, ds.subset(choose_rows), sentence, veto)
                scored = ds.subset(score_rows)
                pooled_truth.append(scored.truth)
                pooled_pred.append(predict(scored, thresholds, veto))
            f1 = float(scores(np.vstack(pooled_truth), np.vstack(pooled_pred), LABELS)["micro"]["f1"])
            crossed[scheme][str(veto)] = f1
            if f1 > best_f1:
                best, best_f1 = (scheme, veto), f1
    scheme, veto = best
    final = choose(scheme, ds, sentence, veto)
    report = {
        "rule": "micro-F1 of fused document labels; each scheme and veto chosen on the other "
        "writers' held-out documents and scored on each writer's; the best pair refitted on all",
        "documents": len(ds.part),
        "cross_part_micro_f1": crossed,
        "scheme": scheme,
        "veto": veto,
        "model_off_for": [label for label, t in zip(LABELS, final) if t > 1.0],
    }
    return {label: float(t) for label, t in zip(LABELS, final)}, veto, report
