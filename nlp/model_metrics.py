"""Multi-label metrics and per-label threshold choice on a held-out split."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: candidate thresholds searched per label
THRESHOLD_GRID = np.round(np.arange(0.15, 0.91, 0.05), 2)
#: a label needs this many held-out positives before its threshold moves off 0.5
MIN_THRESHOLD_SUPPORT = 5
DEFAULT_THRESHOLD = 0.5


def _prf(tp: float, fp: float, fn: float, beta: float = 1.0) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    b2 = beta * beta
    denom = b2 * precision + recall
    f = (1 + b2) * precision * recall / denom if denom else 0.0
    return precision, recall, f


def scores(Y: np.ndarray, predicted: np.ndarray, labels: Sequence[str]) -> dict[str, object]:
    """Micro and macro precision/recall/F1 and per-label figures.

    Macro averages run over labels with at least one true or predicted
    positive, so a label absent from both sides does not count as perfect.
    """
    Y = Y.astype(bool)
    predicted = predicted.astype(bool)
    tp = (Y & predicted).sum(axis=0)
    fp = (~Y & predicted).sum(axis=0)
    fn = (Y & ~predicted).sum(axis=0)
    per_label: dict[str, dict[str, float]] = {}
    for j, label in enumerate(labels):
        p, r, f = _prf(tp[j], fp[j], fn[j])
        per_label[label] = {
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "support": int(Y[:, j].sum()),
        }
    active = [j for j in range(len(labels)) if tp[j] + fp[j] + fn[j] > 0]
    micro = _prf(tp.sum(), fp.sum(), fn.sum())
    macro = [float(np.mean([per_label[labels[j]][k] for j in active])) if active else 0.0
             for k in ("precision", "recall", "f1")]
    return {
        "micro": dict(zip(("precision", "recall", "f1"), (round(x, 4) for x in micro))),
        "macro": dict(zip(("precision", "recall", "f1"), (round(x, 4) for x in macro))),
        "per_label": per_label,
    }


def choose_thresholds(
    proba: np.ndarray, Y: np.ndarray, labels: Sequence[str], beta: float = 1.0
) -> dict[str, float]:
    """Per label, the grid threshold with the best F-beta on held-out probabilities.

    Ties go to the higher threshold (fewer false concerns); labels with fewer
    than ``MIN_THRESHOLD_SUPPORT`` held-out positives keep 0.5.
    """
    chosen: dict[str, float] = {}
    for j, label in enumerate(labels):
        truth = Y[:, j].astype(bool)
        if truth.sum() < MIN_THRESHOLD_SUPPORT:
            chosen[label] = DEFAULT_THRESHOLD
            continue
        best, best_f = DEFAULT_THRESHOLD, -1.0
        for t in THRESHOLD_GRID:
            hit = proba[:, j] >= t
            f = _prf((truth & hit).sum(), (~truth & hit).sum(), (truth & ~hit).sum(), beta)[2]
            if f >= best_f:
                best, best_f = float(t), f
        chosen[label] = best
    return chosen


def apply_thresholds(
    proba: np.ndarray, thresholds: dict[str, float], labels: Sequence[str]
) -> np.ndarray:
    return proba >= np.asarray([thresholds[label] for label in labels])
