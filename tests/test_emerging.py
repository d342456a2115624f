"""Emerging themes: windows, the test itself, and detection on synthetic data.

The synthetic data: twelve months of documents, every label at a steady
per-document rate; in the "injected" data one label's rate rises in the last
three months.  The false-positive rates measured here are printed (run with
``-s``) and bounded by the nominal level of the Benjamini–Hochberg procedure.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from nlp.aggregate import Filters, Frames
from nlp.emerging import Windows, default_windows, emerging, fisher_greater, score_counts
from nlp.errors import InputError
from nlp.taxonomy import LABELS

RISING = "placement_stability:concern"
SEEDS = range(100)


def synthetic(seed: int, rising: str | None = None, per_month: int = 60,
              months: int = 12) -> Frames:
    """Documents with every label at a steady rate in 5–30 %; ``rising`` goes 10 % → 30 %."""
    rng = np.random.default_rng(seed)
    month = np.repeat(np.arange(months), per_month)
    n = len(month)
    dates = pd.date_range("2024-01-01", periods=months, freq="MS")[month] + pd.to_timedelta(
        rng.integers(0, 28, n), unit="D")
    docs = pd.DataFrame({"doc_id": [f"d{i}" for i in range(n)],
                         "case_id": [f"c{i // 3}" for i in range(n)], "date": dates})
    rates = np.tile(rng.uniform(0.05, 0.30, len(LABELS)), (n, 1))
    if rising is not None:
        j = LABELS.index(rising)
        rates[:, j] = np.where(month >= months - 3, 0.30, 0.10)
    doc_i, label_i = np.nonzero(rng.random(rates.shape) < rates)
    tags = pd.DataFrame({"doc_id": docs["doc_id"].to_numpy()[doc_i],
                         "label": np.asarray(LABELS)[label_i],
                         "evidence": [f"sentence {k}" for k in range(len(doc_i))],
                         "start": 0, "end": 10, "confidence": 0.8})
    return Frames.build(docs, tags)


def test_default_windows_count_months_present_not_calendar_span() -> None:
    months = ["2024-01", "2024-02", "2024-02", "2024-05", "2024-07", "2024-08", None]
    assert default_windows(months) == Windows(
        recent_start=date(2024, 5, 1), recent_end=date(2024, 8, 31),
        baseline_start=date(2024, 1, 1), baseline_end=date(2024, 2, 29))
    assert default_windows(months, recent_months=1).recent_start == date(2024, 8, 1)
    with pytest.raises(InputError, match="more than 3 months"):
        default_windows(["2024-01", "2024-02", "2024-03"])


def test_fisher_greater_matches_scipy() -> None:
    k1, n1, k0, n0 = np.array([3, 12, 40]), np.array([30, 50, 90]), np.array([9, 20, 34]), np.array(
        [200, 300, 330])
    expected = [fisher_exact([[a, b - a], [c, d - c]], alternative="greater").pvalue
                for a, b, c, d in zip(k1, n1, k0, n0, strict=True)]
    assert fisher_greater(k1, n1, k0, n0) == pytest.approx(expected)


def test_score_counts_support_correction_and_direction() -> None:
    counts = pd.DataFrame({
        "label": ["a:concern", "b:concern", "c:concern", "d:strength"],
        "recent_docs": [40, 12, 4, 5],
        "recent_total": [100, 100, 100, 100],
        "baseline_docs": [40, 60, 0, 200],
        "baseline_total": [400, 400, 400, 400],
    })
    table = score_counts(counts, alpha=0.05, min_support=5).set_index("label")
    assert not table.at["c:concern", "tested"]  # 4 < min_support: reported, not tested
    assert np.isnan(table.at["c:concern", "p_value"])
    assert table.loc[["a:concern", "b:concern", "d:strength"], "tested"].all()
    assert table.at["a:concern", "flagged"] and not table.at["b:concern", "flagged"]
    assert not table.at["d:strength", "flagged"]  # fell from 50 % to 5 %
    a = table.loc["a:concern"]
    assert a.difference == pytest.approx(0.30)
    assert a.ratio == pytest.approx(4.0)
    assert a.ci_low < 0.30 < a.ci_high and a.ci_low > 0
    p = table.loc[["a:concern", "b:concern", "d:strength"], "p_value"].to_numpy()
    order = np.argsort(p)
    bh = np.minimum.accumulate((p[order] * 3 / np.arange(1, 4))[::-1])[::-1]
    assert table.loc[["a:concern", "b:concern", "d:strength"], "q_value"].to_numpy()[order] == \
        pytest.approx(np.minimum(bh, 1))
    assert table.index[0] == "a:concern"


def test_injected_rise_is_found_with_evidence() -> None:
    frames = synthetic(0, rising=RISING)
    result = emerging(frames)
    assert result.windows.recent_start == date(2024, 10, 1)
    assert result.windows.baseline_end == date(2024, 9, 30)
    flagged = result.table[result.table["flagged"]]
    assert flagged["label"].tolist() == [RISING]
    top = flagged.iloc[0]
    assert (top.recent_total, top.baseline_total) == (180, 540)
    assert top.ci_low > 0 and top.q_value < 0.05
    examples = result.examples[RISING]
    assert len(examples) == 3
    assert (examples["label"] == RISING).all()
    assert (examples["date"] >= pd.Timestamp("2024-10-01")).all()


def test_windows_and_filters_are_configurable() -> None:
    frames = synthetic(1, rising=RISING)
    early = Windows(date(2024, 4, 1), date(2024, 6, 30), date(2024, 1, 1), date(2024, 3, 31))
    assert not emerging(frames, windows=early).table["flagged"].any()
    narrowed = emerging(frames, filters=Filters(end=date(2024, 9, 30)))
    assert narrowed.windows.recent_start == date(2024, 7, 1)
    assert RISING not in set(narrowed.table.loc[narrowed.table["flagged"], "label"])


def test_rising_label_found_and_stable_labels_not_flagged_across_seeds() -> None:
    found, false_flags, seeds_with_false_flag = 0, 0, 0
    for seed in SEEDS:
        flagged = set(emerging(synthetic(seed, rising=RISING)).table.query("flagged")["label"])
        found += RISING in flagged
        false_flags += len(flagged - {RISING})
        seeds_with_false_flag += bool(flagged - {RISING})
    tests = len(SEEDS) * (len(LABELS) - 1)
    print(f"\ninjected: power {found / len(SEEDS):.2f}; false positives {false_flags}/{tests} "
          f"label tests ({false_flags / tests:.4f}); seeds with any {seeds_with_false_flag}/"
          f"{len(SEEDS)}")
    assert found / len(SEEDS) >= 0.95
    assert false_flags / tests <= 0.01


def test_no_flags_on_stable_data_beyond_the_nominal_rate() -> None:
    seeds_with_flag, flags = 0, 0
    for seed in SEEDS:
        n = int(emerging(synthetic(10_000 + seed)).table["flagged"].sum())
        flags += n
        seeds_with_flag += n > 0
    print(f"\nstable: seeds with any flag {seeds_with_flag}/{len(SEEDS)}; "
          f"false positives {flags}/{len(SEEDS) * len(LABELS)} label tests")
    # Under the complete null Benjamini–Hochberg controls the family-wise rate at alpha.
    assert seeds_with_flag / len(SEEDS) <= 0.10
