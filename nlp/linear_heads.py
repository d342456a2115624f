"""Fitting one calibrated linear model per label (build time).

Each label gets a logistic regression or linear SVM on the shared features;
its scores are calibrated with a Platt sigmoid fitted on out-of-fold scores
(as ``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` does), and
the weights are stacked into a ``LinearHeads`` for fast scoring.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from nlp.sentence_classifier import LinearHeads

HEADS: tuple[str, ...] = ("logreg", "svm")
CALIBRATION_FOLDS = 5


@dataclass(frozen=True)
class HeadSpec:
    """Which linear model, its regularisation ``C`` and class weighting."""

    kind: str = "logreg"
    C: float = 4.0
    balanced: bool = False

    def estimator(self, seed: int) -> LogisticRegression | LinearSVC:
        class_weight = "balanced" if self.balanced else None
        if self.kind == "logreg":
            return LogisticRegression(
                C=self.C, solver="liblinear", class_weight=class_weight, random_state=seed
            )
        if self.kind == "svm":
            return LinearSVC(C=self.C, class_weight=class_weight, random_state=seed)
        raise ValueError(f"unknown head {self.kind!r}; expected one of {HEADS}")


def platt(scores: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Slope and offset of ``sigmoid(slope * score + offset)`` by weighted log-loss.

    Targets are smoothed as in Platt (1999), so a separable fold does not give
    an infinitely steep sigmoid.
    """
    n_pos = float(weights[y == 1].sum())
    n_neg = float(weights[y == 0].sum())
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * scores + params[1]
        value = -np.sum(weights * (target * log_expit(z) + (1 - target) * log_expit(-z)))
        residual = weights * (expit(z) - target)
        return float(value), np.array([np.sum(residual * scores), np.sum(residual)])

    prior = np.log((n_pos + 1) / (n_neg + 1))
    result = minimize(loss, x0=np.array([1.0, prior]), jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


def _fit_one(
    X: object, y: np.ndarray, weights: np.ndarray, spec: HeadSpec, seed: int
) -> tuple[np.ndarray, float, float, float]:
    """(coef, intercept, slope, offset) for one label."""
    n_features = X.shape[1]
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos < 2 or n_neg < 2:
        # too few examples to learn or calibrate: a constant, the smoothed base rate
        rate = (float(weights[y == 1].sum()) + 1) / (float(weights.sum()) + 2)
        return np.zeros(n_features), 0.0, 0.0, float(np.log(rate / (1 - rate)))
    folds = StratifiedKFold(min(CALIBRATION_FOLDS, n_pos, n_neg), shuffle=True, random_state=seed)
    oof = np.zeros(len(y))
    for fit_rows, score_rows in folds.split(np.zeros(len(y)), y):
        model = spec.estimator(seed).fit(X[fit_rows], y[fit_rows], sample_weight=weights[fit_rows])
        oof[score_rows] = model.decision_function(X[score_rows])
    slope, offset = platt(oof, y, weights)
    model = spec.estimator(seed).fit(X, y, sample_weight=weights)
    return model.coef_.ravel(), float(model.intercept_[0]), slope, offset


def fit_heads(
    X: object, Y: np.ndarray, spec: HeadSpec, *, weights: np.ndarray | None = None,
    seed: int = 0, n_jobs: int = 1,
) -> LinearHeads:
    """Fit calibrated heads for every column of the 0/1 matrix ``Y``.

    ``X`` must support row indexing (a CSR matrix or an array). Results do
    not depend on ``n_jobs``.
    """
    w = np.ones(Y.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if hasattr(X, "sum_duplicates"):
        X.sum_duplicates()  # canonical form, so worker processes never re-sort a shared copy
    fitted = Parallel(n_jobs=n_jobs)(
        delayed(_fit_one)(X, Y[:, j].astype(np.int64), w, spec, seed) for j in range(Y.shape[1])
    )
    return LinearHeads(
        coef=np.column_stack([f[0] for f in fitted]).astype(np.float32),
        intercept=np.array([f[1] for f in fitted]),
        slope=np.array([f[2] for f in fitted]),
        offset=np.array([f[3] for f in fitted]),
    )
