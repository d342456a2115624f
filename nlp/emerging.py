"""Emerging themes: labels whose prevalence in a recent window rose above a baseline.

For each label the unit is the document: ``k1`` of the ``n1`` documents in the
recent window carry it against ``k0`` of ``n0`` in the baseline window.

* effect size — the difference of proportions ``p1 - p0`` (with a two-sided
  Newcombe hybrid-score confidence interval) and the ratio ``p1 / p0``;
* test — one-sided Fisher's exact test (recent share greater than baseline),
  exact at the small counts a single team produces;
* multiplicity — Benjamini–Hochberg across the labels that reach the minimum
  support (``k1 >= min_support``); labels below it are reported but untested.

A label is *flagged* when it was tested, its BH-adjusted q-value is below
``alpha`` and the share rose.  Documents of one case are treated as independent;
with many recordings per case this makes the test somewhat liberal.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import hypergeom
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from nlp.aggregate import (
    EvidenceQuery,
    Filters,
    Frames,
    LabelIndex,
    evidence,
    label_parts,
)
from nlp.errors import InputError
from nlp.taxonomy import LABELS

RESULT_COLUMNS: tuple[str, ...] = (
    "label", "theme", "polarity",
    "recent_docs", "recent_total", "recent_share",
    "baseline_docs", "baseline_total", "baseline_share",
    "difference", "ci_low", "ci_high", "ratio",
    "p_value", "q_value", "tested", "flagged",
)


@dataclass(frozen=True)
class Windows:
    """Inclusive date ranges of the recent and baseline windows."""

    recent_start: date
    recent_end: date
    baseline_start: date
    baseline_end: date

    def recent_filters(self, base: Filters) -> Filters:
        return _with_dates(base, self.recent_start, self.recent_end)

    def baseline_filters(self, base: Filters) -> Filters:
        return _with_dates(base, self.baseline_start, self.baseline_end)


def _with_dates(base: Filters, start: date, end: date) -> Filters:
    return Filters(start=start, end=end, service_area=base.service_area, team=base.team,
                   doc_type=base.doc_type, grade=base.grade, case_id=base.case_id)


def default_windows(months_present: Sequence[str | None], recent_months: int = 3) -> Windows:
    """The last ``recent_months`` calendar months present against all earlier ones.

    ``months_present`` holds ``YYYY-MM`` strings (duplicates and None allowed).
    Months with no documents inside the span do not count towards ``recent_months``.
    """
    if recent_months < 1:
        raise InputError("recent_months must be at least 1")
    months = sorted({str(m) for m in months_present if m is not None and not pd.isna(m)})
    if len(months) <= recent_months:
        raise InputError(
            f"need more than {recent_months} months with documents to compare windows; "
            f"found {len(months)}")
    recent = [pd.Period(m, freq="M") for m in months[-recent_months:]]
    earlier = [pd.Period(m, freq="M") for m in months[:-recent_months]]
    return Windows(recent_start=recent[0].start_time.date(),
                   recent_end=recent[-1].end_time.date(),
                   baseline_start=earlier[0].start_time.date(),
                   baseline_end=earlier[-1].end_time.date())


def window_counts(index: LabelIndex, windows: Windows, filters: Filters | None = None,
                  labels: list[str] | None = None) -> pd.DataFrame:
    """Per label: documents with it and documents in total, in each window.

    ``labels`` defaults to the taxonomy plus any label present.
    """
    base = filters or Filters()
    per_label, totals = [], []
    for window_filters in (windows.recent_filters(base), windows.baseline_filters(base)):
        counts, total = index.counts((), window_filters)
        per_label.append(counts.set_index("label")["docs"])
        totals.append(int(total["total_docs"].iloc[0]))
    labels = labels or sorted(set(LABELS).union(*(c.index for c in per_label)))
    return pd.DataFrame({
        "label": labels,
        "recent_docs": per_label[0].reindex(labels, fill_value=0).to_numpy(),
        "recent_total": totals[0],
        "baseline_docs": per_label[1].reindex(labels, fill_value=0).to_numpy(),
        "baseline_total": totals[1],
    })


def fisher_greater(k1: np.ndarray, n1: np.ndarray, k0: np.ndarray,
                   n0: np.ndarray) -> np.ndarray:
    """One-sided Fisher's exact p-values that the recent share exceeds the baseline.

    With the margins fixed, the recent count is hypergeometric: drawing ``n1``
    documents from ``n0 + n1`` of which ``k0 + k1`` carry the label.  The
    p-value is P(X >= k1) — the same as ``scipy.stats.fisher_exact(...,
    alternative="greater")``, vectorised over labels.
    """
    return hypergeom.sf(k1 - 1, n0 + n1, k0 + k1, n1)


def score_counts(counts: pd.DataFrame, alpha: float = 0.05, min_support: int = 5,
                confidence: float = 0.95) -> pd.DataFrame:
    """Test each label's rise; ``counts`` has ``label, recent_docs, recent_total,
    baseline_docs, baseline_total`` (from pandas or SQL).  Sorted by q-value."""
    out = counts.copy()
    for column in ("recent_docs", "recent_total", "baseline_docs", "baseline_total"):
        out[column] = out[column].astype("int64")
    out["theme"], out["polarity"] = label_parts(out["label"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["recent_share"] = (out["recent_docs"]
                               / out["recent_total"].where(out["recent_total"] > 0))
        out["baseline_share"] = (out["baseline_docs"]
                                 / out["baseline_total"].where(out["baseline_total"] > 0))
        out["difference"] = out["recent_share"] - out["baseline_share"]
        out["ratio"] = out["recent_share"] / out["baseline_share"].where(out["baseline_share"] > 0)
    out["tested"] = ((out["recent_docs"] >= min_support)
                     & (out["recent_total"] > 0) & (out["baseline_total"] > 0))
    for column in ("ci_low", "ci_high", "p_value", "q_value"):
        out[column] = np.nan
    tested = out["tested"].to_numpy()
    if tested.any():
        k1, n1, k0, n0 = (out.loc[tested, c].to_numpy() for c in
                          ("recent_docs", "recent_total", "baseline_docs", "baseline_total"))
        p_values = fisher_greater(k1, n1, k0, n0)
        out.loc[tested, "p_value"] = p_values
        out.loc[tested, "q_value"] = multipletests(p_values, method="fdr_bh")[1]
        low, high = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb",
                                               compare="diff", alpha=1 - confidence)
        out.loc[tested, "ci_low"], out.loc[tested, "ci_high"] = low, high
    out["flagged"] = out["tested"] & (out["q_value"] < alpha) & (out["difference"] > 0)
    out = out[list(RESULT_COLUMNS)]
    return out.sort_values(["flagged", "q_value", "difference", "label"],
                           ascending=[False, True, False, True],
                           na_position="last").reset_index(drop=True)


@dataclass(frozen=True)
class EmergingResult:
    """Test results per label, the windows compared and example evidence per flagged label."""

    windows: Windows
    table: pd.DataFrame
    examples: dict[str, pd.DataFrame]


def emerging_table(index: LabelIndex, filters: Filters | None = None,
                   windows: Windows | None = None, recent_months: int = 3,
                   alpha: float = 0.05, min_support: int = 5) -> tuple[Windows, pd.DataFrame]:
    """The windows compared and :func:`score_counts` of every label, from an index."""
    if windows is None:
        windows = default_windows(index.months(filters), recent_months)
    return windows, score_counts(window_counts(index, windows, filters), alpha, min_support)


def emerging(frames: Frames, filters: Filters | None = None, windows: Windows | None = None,
             recent_months: int = 3, alpha: float = 0.05, min_support: int = 5,
             n_examples: int = 3) -> EmergingResult:
    """Which labels rose in the recent window; see the module docstring for the method.

    Without ``windows``, the last ``recent_months`` calendar months present in the
    selected documents are compared with all earlier months in them.
    """
    windows, table = emerging_table(LabelIndex.from_frames(frames), filters, windows,
                                    recent_months, alpha, min_support)
    recent = windows.recent_filters(filters or Filters())
    examples = {label: evidence(frames, EvidenceQuery(label=label, filters=recent,
                                                      limit=n_examples))
                for label in table.loc[table["flagged"], "label"]}
    return EmergingResult(windows=windows, table=table, examples=examples)
