"""The board briefing: every section present, counts right, quotes short, output escaped."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from nlp.aggregate import Filters, Frames
from nlp.briefing import build_briefing, render_briefing, shorten
from nlp.errors import InputError

RISING = "chronology:concern"
LONG = ("The chronology has not been updated since the child became looked after and it does "
        "not inform the plan, the assessment or the review of contact arrangements, which means "
        "decisions are made without the history in view.")


def frames(seed: int = 0) -> Frames:
    """Eight months, two service areas; chronology:concern rises in the last three months."""
    rng = np.random.default_rng(seed)
    n = 8 * 30
    month = np.repeat(np.arange(8), 30)
    docs = pd.DataFrame({
        "doc_id": [f"d{i}" for i in range(n)], "case_id": [f"c{i // 2}" for i in range(n)],
        "date": pd.date_range("2025-01-01", periods=8, freq="MS")[month],
        "service_area": np.where(np.arange(n) % 2 == 0, "children_in_care", "early_help"),
        "team": "North", "doc_type": "audit_narrative",
        "grade": np.where(month < 4, "requires_improvement", "good"),
    })
    rows = []
    for i, m in enumerate(month):
        if rng.random() < (0.6 if m >= 5 else 0.1):
            rows.append((f"d{i}", RISING, LONG if i % 7 == 0 else f"Chronology gap {i % 3}."))
        if rng.random() < 0.3:
            rows.append((f"d{i}", "voice_of_child:strength", "Seen alone <and> heard."))
    tags = pd.DataFrame(rows, columns=["doc_id", "label", "evidence"])
    tags["start"], tags["end"], tags["confidence"] = 0, 10, 0.8
    return Frames.build(docs, tags)


def test_briefing_sections_counts_and_quotes() -> None:
    data = frames()
    briefing = build_briefing(data, title="Board briefing", today=date(2025, 9, 1))
    assert (briefing.documents, briefing.cases) == (240, 120)
    assert briefing.headline_concerns[0].label == RISING
    expected = data.tags.loc[data.tags["label"] == RISING, "doc_id"].nunique()
    assert briefing.headline_concerns[0].docs == expected
    assert [a.service_area for a in briefing.areas] == ["children_in_care", "early_help"]
    for area in briefing.areas:
        assert area.documents == 120
        for item in area.strengths + area.developments:
            assert 1 <= len(item.quotes) <= 2
            assert len(set(item.quotes)) == len(item.quotes)
            assert all(len(q) <= 182 for q in item.quotes)
    assert [r.label for r in briefing.rising] == [RISING]
    assert briefing.rising_window.startswith("Jun 2025–Aug 2025")
    assert [g["period"] for g in briefing.grade_trend] == ["2025Q1", "2025Q2", "2025Q3"]
    assert briefing.grade_trend[0] == {"period": "2025Q1", "good_or_better": 0,
                                       "not_yet_good": 90, "share_good": 0.0}
    assert briefing.themes_by_grade.columns == ["good_or_better", "not_yet_good"]
    assert briefing.themes_by_grade.totals == [120, 120]


def test_markdown_and_html_render_every_section() -> None:
    briefing = build_briefing(frames(), today=date(2025, 9, 1))
    markdown = render_briefing(briefing, "markdown")
    for heading in ("## Headline themes", "### Areas for development", "### Strengths",
                    "## By service area", "### Children in care", "## What is rising",
                    "## Themes over time", "## Themes by audit grade",
                    "## Audit grades over time"):
        assert heading in markdown
    assert "| 2025Q1 | 0 | 90 | 0% |" in markdown
    assert "Seen alone \\<and\\> heard." in markdown
    html = render_briefing(briefing, "html")
    assert html.startswith("<!doctype html>")
    assert "Seen alone &lt;and&gt; heard." in html and "<and>" not in html
    assert "<h2>What is rising</h2>" in html
    with pytest.raises(InputError):
        render_briefing(briefing, "pdf")  # type: ignore[arg-type]


def test_briefing_without_enough_months_says_so() -> None:
    briefing = build_briefing(frames(), Filters(end=date(2025, 3, 31)))
    assert briefing.rising == [] and "need more than 3 months" in briefing.rising_note
    assert "Not tested" in render_briefing(briefing)
    with pytest.raises(InputError, match="no documents"):
        build_briefing(frames(), Filters(team=("Nowhere",)))


def test_shorten_cuts_at_a_word() -> None:
    assert shorten("a  b\nc") == "a b c"
    cut = shorten(LONG, limit=60)
    assert cut.endswith(" …") and len(cut) <= 62 and LONG.startswith(cut[:-2])
