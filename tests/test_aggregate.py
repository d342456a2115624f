"""Aggregates against a hand-made table whose answers were worked out by hand.

Six documents on four cases; d5 has no tags and d6 no date:

    doc case date        area              team  tags
    d1  A    2025-01-10  early_help        N     chronology:concern (twice), drift_delay:concern
    d2  A    2025-01-25  early_help        N     chronology:concern
    d3  B    2025-02-03  children_in_care  S     chronology:concern, voice_of_child:strength
    d4  C    2025-02-14  children_in_care  S     drift_delay:concern, voice_of_child:strength
    d5  C    2025-03-01  early_help        S     –
    d6  D    –           care_leavers      –     chronology:concern
"""
from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest

from nlp.aggregate import (
    NOT_RECORDED,
    EvidenceQuery,
    Filters,
    Frames,
    cooccurrence,
    evidence,
    frames_from_results,
    period_bounds,
    prevalence,
    read_results_jsonl,
    trends,
)
from nlp.errors import InputError
from nlp.taxonomy import LABELS

CHRON, DRIFT, VOICE = "chronology:concern", "drift_delay:concern", "voice_of_child:strength"


@pytest.fixture()
def frames() -> Frames:
    docs = pd.DataFrame({
        "doc_id": ["d1", "d2", "d3", "d4", "d5", "d6"],
        "case_id": ["A", "A", "B", "C", "C", "D"],
        "date": ["2025-01-10", "2025-01-25", "2025-02-03", "2025-02-14", "2025-03-01", None],
        "service_area": ["early_help", "early_help", "children_in_care", "children_in_care",
                         "early_help", "care_leavers"],
        "team": ["N", "N", "S", "S", "S", None],
        "doc_type": ["case_note", "audit_narrative", "case_note", "audit_narrative",
                     "case_note", "case_summary"],
        "grade": [None, "inadequate", None, "good", None, None],
    })
    rows = [("d1", CHRON, "first chronology sentence", 0), ("d1", CHRON, "second one", 40),
            ("d1", DRIFT, "drift sentence", 80), ("d2", CHRON, "late chronology", 0),
            ("d3", CHRON, "no chronology", 0), ("d3", VOICE, "seen alone", 30),
            ("d4", DRIFT, "plan on hold", 0), ("d4", VOICE, "wishes shaped the plan", 20),
            ("d6", CHRON, "chronology out of date", 0)]
    tags = pd.DataFrame(rows, columns=["doc_id", "label", "evidence", "start"])
    tags["end"] = tags["start"] + tags["evidence"].str.len()
    tags["confidence"] = 0.9
    return Frames.build(docs, tags)


def row(table: pd.DataFrame, label: str, **keys: str) -> pd.Series:
    mask = table["label"] == label
    for column, value in keys.items():
        mask &= table[column] == value
    assert mask.sum() == 1, (label, keys)
    return table[mask].iloc[0]


def test_overall_prevalence_counts_documents_and_cases_not_tags(frames: Frames) -> None:
    table = prevalence(frames)
    chron = row(table, CHRON)
    assert (chron.docs, chron.cases, chron.total_docs, chron.total_cases) == (4, 3, 6, 4)
    assert chron.doc_share == pytest.approx(4 / 6)
    assert chron.case_share == pytest.approx(3 / 4)
    assert (row(table, DRIFT).docs, row(table, DRIFT).cases) == (2, 2)
    assert set(LABELS) <= set(table["label"])
    assert row(table, "life_story:strength").docs == 0


def test_prevalence_by_month_leaves_out_undated_documents(frames: Frames) -> None:
    table = prevalence(frames, by=["month"])
    assert sorted(table["month"].unique()) == ["2025-01", "2025-02", "2025-03"]
    jan = row(table, CHRON, month="2025-01")
    assert (jan.docs, jan.cases, jan.total_docs, jan.total_cases) == (2, 1, 2, 1)
    assert row(table, DRIFT, month="2025-01").doc_share == pytest.approx(0.5)
    feb_voice = row(table, VOICE, month="2025-02")
    assert (feb_voice.docs, feb_voice.doc_share, feb_voice.case_share) == (2, 1.0, 1.0)
    assert row(table, CHRON, month="2025-03").docs == 0


def test_prevalence_by_service_area_and_team(frames: Frames) -> None:
    table = prevalence(frames, by=["service_area"])
    early = row(table, CHRON, service_area="early_help")
    assert (early.docs, early.cases, early.total_docs, early.total_cases) == (2, 1, 3, 2)
    assert early.case_share == pytest.approx(0.5)
    assert row(table, CHRON, service_area="care_leavers").doc_share == 1.0
    by_team = prevalence(frames, by=["team"], labels=[CHRON])
    assert dict(zip(by_team["team"], by_team["docs"], strict=True)) == {
        "N": 2, "S": 1, NOT_RECORDED: 1}


def test_prevalence_by_quarter_and_two_groupings(frames: Frames) -> None:
    quarter = prevalence(frames, by=["quarter"], labels=[CHRON])
    assert quarter[["quarter", "docs", "total_docs"]].values.tolist() == [["2025Q1", 3, 5]]
    both = prevalence(frames, by=["month", "doc_type"], labels=[DRIFT])
    hit = both[both["docs"] > 0][["month", "doc_type"]].values.tolist()
    assert hit == [["2025-01", "case_note"], ["2025-02", "audit_narrative"]]


def test_filters_restrict_documents_and_their_tags(frames: Frames) -> None:
    table = prevalence(frames, filters=Filters(team=("S",), start=date(2025, 2, 1)))
    assert row(table, CHRON).total_docs == 3  # d3, d4, d5
    assert row(table, CHRON).docs == 1
    assert row(table, VOICE).doc_share == pytest.approx(2 / 3)
    ended = prevalence(frames, filters=Filters(end=date(2025, 1, 25)), labels=[CHRON])
    assert (ended.docs.item(), ended.total_docs.item()) == (2, 2)  # the end date is inclusive
    graded = prevalence(frames, filters=Filters(grade=("good", "inadequate")), labels=[DRIFT])
    assert (graded.docs.item(), graded.total_docs.item()) == (1, 2)


def test_trends_keep_empty_months_as_gaps(frames: Frames) -> None:
    table = trends(frames, "month", filters=Filters(service_area=("early_help",)),
                   labels=[CHRON])
    assert table["month"].tolist() == ["2025-01", "2025-02", "2025-03"]
    assert table["total_docs"].tolist() == [2, 0, 1]
    assert table["docs"].tolist() == [2, 0, 0]
    shares = table["doc_share"].tolist()
    assert shares[0] == 1.0 and math.isnan(shares[1]) and shares[2] == 0.0


def test_trends_per_group(frames: Frames) -> None:
    table = trends(frames, "month", by=["service_area"], labels=[VOICE])
    assert len(table) == 3 * 2  # months × the two dated service areas
    feb = row(table, VOICE, month="2025-02", service_area="children_in_care")
    assert (feb.docs, feb.doc_share) == (2, 1.0)
    with pytest.raises(InputError):
        trends(frames, "week")


def test_cooccurrence_counts_and_lift(frames: Frames) -> None:
    table = cooccurrence(frames)
    pairs = {(r.label_a, r.label_b): r for r in table.itertuples()}
    assert set(pairs) == {(CHRON, DRIFT), (CHRON, VOICE), (DRIFT, VOICE)}
    dv = pairs[(DRIFT, VOICE)]
    assert (dv.count, dv.count_a, dv.count_b) == (1, 2, 2)
    assert dv.lift == pytest.approx(1 * 6 / (2 * 2))
    assert dv.jaccard == pytest.approx(1 / 3)
    assert pairs[(CHRON, DRIFT)].lift == pytest.approx(6 / (4 * 2))
    assert table.iloc[0][["label_a", "label_b"]].tolist() == [DRIFT, VOICE]  # highest lift first
    assert cooccurrence(frames, min_count=2).empty


def test_evidence_drill_down_newest_first(frames: Frames) -> None:
    start, end = period_bounds("2025-01")
    rows = evidence(frames, EvidenceQuery(label=CHRON, filters=Filters(start=start, end=end)))
    assert rows["doc_id"].tolist() == ["d2", "d1", "d1"]
    assert rows["evidence"].tolist() == ["late chronology", "first chronology sentence",
                                         "second one"]
    assert evidence(frames, EvidenceQuery(theme="voice_of_child", limit=1))["doc_id"].tolist() == [
        "d4"]


def test_period_bounds() -> None:
    assert period_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_bounds("2025Q2") == (date(2025, 4, 1), date(2025, 6, 30))
    assert period_bounds("2025") == (date(2025, 1, 1), date(2025, 12, 31))
    with pytest.raises(InputError):
        period_bounds("spring")


def test_frames_from_results_file(tmp_path) -> None:
    results = [
        {"meta": {"id": "x1", "case_id": "K", "date": "2025-05-02", "service_area": "early_help"},
         "labels": [CHRON], "tags": [{"label": CHRON, "theme": "chronology",
                                      "polarity": "concern", "evidence": "No chronology.",
                                      "start": 0, "end": 14, "confidence": 0.8}]},
        {"meta": {"id": "x2", "date": "2025-06-01"}, "labels": [], "tags": []},
    ]
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in results) + "\n\n", encoding="utf-8")
    frames = read_results_jsonl(path)
    assert frames.docs["doc_id"].tolist() == ["x1", "x2"]
    assert frames.docs["case_id"].tolist() == ["K", "x2"]  # no case: the document is its own
    assert frames.tags[["doc_id", "label", "theme", "end"]].values.tolist() == [
        ["x1", CHRON, "chronology", 14]]
    assert row(prevalence(frames), CHRON).doc_share == 0.5
    assert frames_from_results([]).docs.empty


def test_frames_from_batch_result_rows() -> None:
    rows = [{"row": 1, "id": "b1", "status": "ok", "case_id": "K", "date": "2025-05-02",
             "service_area": "care_leavers", "labels": [DRIFT],
             "tags": [{"theme": "drift_delay", "polarity": "concern", "evidence": "On hold.",
                       "start": 0, "end": 8, "confidence": 0.7}]},
            {"row": 2, "id": "b2", "status": "error", "error": "text holds identifiers"}]
    frames = frames_from_results(rows)
    assert frames.docs[["doc_id", "case_id", "service_area"]].values.tolist() == [
        ["b1", "K", "care_leavers"]]
    assert frames.tags[["doc_id", "label"]].values.tolist() == [["b1", DRIFT]]


def test_bad_input_is_reported_clearly(tmp_path, frames: Frames) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"meta": {}}\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError, match="broken.jsonl:2"):
        read_results_jsonl(path)
    with pytest.raises(InputError, match="cannot group by"):
        prevalence(frames, by=["colour"])
    with pytest.raises(InputError, match="duplicate"):
        Frames.build(pd.DataFrame({"doc_id": ["a", "a"]}), pd.DataFrame({"doc_id": [], "label": []}))
