"""Fitting calibrated linear heads for every label (build time).

Base heads are linear models (logistic regression or linear SVM) on the
shared features, one per base target:

- one per label (``drift_delay:concern`` …);
- with ``stacked=True`` also one per theme (either polarity) and one per
  polarity (concern / strength, among sentences that carry any label). The
  polarity heads learn "is this a shortfall or good practice?" from every
  theme's examples at once, which single-label heads see only a few dozen
  times each ("the chronology is current" vs "out of date").

Calibration has two stages, both fitted on out-of-fold base scores (text the
base heads did not see), with Platt's smoothed targets:

1. each base head's score becomes a calibrated log-odds ``z``;
2. each label's probability is ``sigmoid(a * z_label + b * log p_theme +
   c * log p_polarity + d)``. With ``b = c = 1`` the two terms add the log of
   ``p(theme) * p(polarity)`` to the log-odds, which acts as an "and": a
   sentence that is clearly about chronologies but reads as good practice
   cannot become a likely chronology concern on the strength of the theme
   alone (additive log-odds of the raw scores could, and did).

The result is a ``LinearHeads``: one sparse-dense product and two small
mixing matrices at run time.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import minimize
from scipy.special import log_expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.svm import LinearSVC

from nlp.sentence_classifier import LinearHeads
from nlp.taxonomy import split_label

HEADS: tuple[str, ...] = ("logreg", "svm")
CALIBRATION_FOLDS = 5
#: L2 penalty on the stacking weights (keeps a rare label's sigmoid finite)
STACK_L2 = 1e-2


@dataclass(frozen=True)
class HeadSpec:
    """Which linear model, its regularisation ``C``, class weighting and stacking."""

    kind: str = "logreg"
    C: float = 4.0
    balanced: bool = False
    stacked: bool = False

    def estimator(self, seed: int) -> LogisticRegression | LinearSVC:
        class_weight = "balanced" if self.balanced else None
        if self.kind == "logreg":
            return LogisticRegression(
                C=self.C, solver="liblinear", class_weight=class_weight, random_state=seed
            )
        if self.kind == "svm":
            return LinearSVC(C=self.C, class_weight=class_weight, random_state=seed)
        raise ValueError(f"unknown head {self.kind!r}; expected one of {HEADS}")


@dataclass(frozen=True)
class BaseTargets:
    """0/1 targets of the base heads, the rows each may learn from, and the
    theme and polarity heads of each label."""

    Y: np.ndarray  # (examples, base heads); the first columns are the label heads
    rows: np.ndarray  # (examples, base heads) bool: row used to fit that head
    joint: list[list[int]]  # per label: its theme and polarity heads (stacked only)


def base_targets(Y: np.ndarray, labels: Sequence[str], stacked: bool) -> BaseTargets:
    """Targets for the label heads, and with ``stacked`` the theme and polarity heads."""
    n = Y.shape[0]
    columns = [Y[:, j] for j in range(len(labels))]
    rows = [np.ones(n, dtype=bool)] * len(labels)
    joint: list[list[int]] = [[] for _ in labels]
    if stacked:
        parts = [split_label(label) for label in labels]
        labelled = Y.any(axis=1)
        theme_at, polarity_at = {}, {}
        for theme in dict.fromkeys(t for t, _ in parts):
            theme_at[theme] = len(columns)
            columns.append(Y[:, [j for j, (t, _) in enumerate(parts) if t == theme]].max(axis=1))
            rows.append(np.ones(n, dtype=bool))
        for polarity in dict.fromkeys(p for _, p in parts):
            polarity_at[polarity] = len(columns)
            columns.append(Y[:, [j for j, (_, p) in enumerate(parts) if p == polarity]].max(axis=1))
            rows.append(labelled)
        for j, (theme, polarity) in enumerate(parts):
            joint[j] = [theme_at[theme], polarity_at[polarity]]
    return BaseTargets(np.column_stack(columns).astype(np.int64), np.column_stack(rows), joint)


def fit_sigmoid(S: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and offset of ``sigmoid(S @ w + b)`` by weighted log-loss.

    Targets are smoothed as in Platt (1999), so a separable set of scores does
    not give an infinitely steep sigmoid; a small L2 penalty keeps the weights
    of correlated inputs finite.
    """
    n_pos = float(weights[y == 1].sum())
    n_neg = float(weights[y == 0].sum())
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    k = S.shape[1]

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = S @ params[:k] + params[k]
        value = -np.sum(weights * (target * log_expit(z) + (1 - target) * log_expit(-z)))
        residual = weights * (np.exp(log_expit(z)) - target)
        grad = np.append(S.T @ residual + 2 * STACK_L2 * params[:k], residual.sum())
        return float(value + STACK_L2 * params[:k] @ params[:k]), grad

    start = np.append(np.full(k, 1.0 / k), np.log((n_pos + 1) / (n_neg + 1)))
    result = minimize(loss, x0=start, jac=True, method="L-BFGS-B")
    return result.x[:k], float(result.x[k])


def _fit_base(
    X: object, y: np.ndarray, weights: np.ndarray, spec: HeadSpec, seed: int
) -> tuple[np.ndarray, float]:
    """(coef, intercept) of one base head; a zero model when ``y`` has one class."""
    if y.min() == y.max():
        return np.zeros(X.shape[1]), 0.0
    model = spec.estimator(seed).fit(X, y, sample_weight=weights)
    return model.coef_.ravel(), float(model.intercept_[0])


def _fit_all_base(
    X: object, targets: BaseTargets, weights: np.ndarray, spec: HeadSpec, seed: int,
    n_jobs: int, fit_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (features, heads) and intercepts of every base head on ``fit_rows``."""
    jobs = []
    for k in range(targets.Y.shape[1]):
        rows = fit_rows[targets.rows[fit_rows, k]]
        jobs.append(delayed(_fit_base)(X[rows], targets.Y[rows, k], weights[rows], spec, seed))
    fitted = Parallel(n_jobs=n_jobs)(jobs)
    return np.column_stack([f[0] for f in fitted]), np.array([f[1] for f in fitted])


def fit_heads(
    X: object, Y: np.ndarray, labels: Sequence[str], spec: HeadSpec, *,
    weights: np.ndarray | None = None, seed: int = 0, n_jobs: int = 1,
) -> LinearHeads:
    """Fit calibrated heads for every column of the 0/1 label matrix ``Y``.

    ``X`` must support row indexing (a CSR matrix or an array). Results do not
    depend on ``n_jobs``.
    """
    w = np.ones(Y.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if hasattr(X, "sum_duplicates"):
        X.sum_duplicates()  # canonical form, so worker processes never re-sort a shared copy
    targets = base_targets(Y, labels, spec.stacked)
    n_base = targets.Y.shape[1]
    folds = KFold(min(CALIBRATION_FOLDS, Y.shape[0]), shuffle=True, random_state=seed)
    oof = np.zeros((Y.shape[0], n_base))
    for fit_rows, score_rows in folds.split(np.zeros(Y.shape[0])):
        coef, intercept = _fit_all_base(X, targets, w, spec, seed, n_jobs, fit_rows)
        oof[score_rows] = np.asarray(X[score_rows] @ coef) + intercept
    coef, intercept = _fit_all_base(X, targets, w, spec, seed, n_jobs, np.arange(Y.shape[0]))

    base_slope, base_offset = np.zeros(n_base), np.zeros(n_base)
    for k in range(n_base):
        rows = targets.rows[:, k]
        slope, base_offset[k] = _calibrate(oof[rows, k : k + 1], targets.Y[rows, k], w[rows])
        base_slope[k] = slope[0] if len(slope) else 0.0
    z = oof * base_slope + base_offset

    mix = np.zeros((n_base, len(labels)))
    joint = np.zeros((n_base, len(labels)))
    offset = np.zeros(len(labels))
    for j, joint_heads in enumerate(targets.joint):
        inputs = np.column_stack([z[:, j], *(log_expit(z[:, k]) for k in joint_heads)])
        weights_j, offset[j] = _calibrate(inputs, Y[:, j].astype(np.int64), w)
        if len(weights_j):
            mix[j, j] = weights_j[0]
            joint[joint_heads, j] = weights_j[1:]
    return LinearHeads(
        coef=coef.astype(np.float32), intercept=intercept, base_slope=base_slope,
        base_offset=base_offset, mix=mix, joint=joint, offset=offset,
    )


def _calibrate(S: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """``fit_sigmoid``, or a constant (no weights, smoothed base rate) below two
    positives or negatives."""
    if min(int(y.sum()), int(len(y) - y.sum())) < 2:
        rate = (float(weights[y == 1].sum()) + 1) / (float(weights.sum()) + 2)
        return np.zeros(0), float(np.log(rate / (1 - rate)))
    return fit_sigmoid(S, y, weights)
