"""The aggregate and report routes: roles, filters, and agreement with ``nlp.aggregate``.

The service path (the store's label index and SQL reads) must give exactly
what the library, checked by hand in ``tests/test_aggregate.py``, gives on the
same documents, so every route is compared with the library on one random
store; a few figures are also checked directly.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pandas as pd
import pytest
from aggregate_helpers import LABELS, RISING, UNCOVERED, results, store_results
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nlp.aggregate import Filters, Frames, cooccurrence, frames_from_results, prevalence, trends
from nlp.emerging import emerging


@pytest.fixture
def stored(app: FastAPI) -> Frames:
    data = results()
    store_results(app.state.sessions, data)
    return frames_from_results(data)


def table(rows: list[dict], keys: list[str]) -> pd.DataFrame:
    flat = pd.DataFrame([{**r["group"], **{k: v for k, v in r.items() if k != "group"}}
                         for r in rows])
    return flat.sort_values([*keys, "label"]).reset_index(drop=True)


def same(api: pd.DataFrame, lib: pd.DataFrame, columns: list[str]) -> None:
    lib = lib.reset_index(drop=True)
    for column in columns:
        left, right = api[column].tolist(), lib[column].tolist()
        assert len(left) == len(right), column
        for a, b in zip(left, right, strict=True):
            if isinstance(b, float) and math.isnan(b):
                assert a is None or math.isnan(a), column  # JSON null
            else:
                assert a == pytest.approx(b), column


COUNT_COLUMNS = ["label", "docs", "cases", "total_docs", "total_cases", "doc_share", "case_share"]


@pytest.mark.parametrize("by", [[], ["month"], ["quarter", "service_area"], ["team", "grade"]])
def test_prevalence_matches_the_library(client: TestClient, auth: Callable, stored: Frames,
                                        by: list[str]) -> None:
    response = client.get("/v1/aggregates/prevalence", params={"by": by},
                          headers=auth("qa_lead"))
    assert response.status_code == 200, response.text
    api = table(response.json()["rows"], by)
    lib = prevalence(stored, by=by)
    same(api, lib, [*by, *COUNT_COLUMNS])


def test_prevalence_filters_and_labels(client: TestClient, auth: Callable,
                                       stored: Frames) -> None:
    params = {"service_area": ["early_help", "children_in_care"], "team": "North",
              "date_from": "2024-03-01", "date_to": "2024-08-31", "label": list(LABELS[:2])}
    rows = client.get("/v1/aggregates/prevalence", params=params, headers=auth("admin")).json()
    lib = prevalence(stored, filters=Filters(start=dt.date(2024, 3, 1),
                                              end=dt.date(2024, 8, 31),
                                              service_area=("early_help", "children_in_care"),
                                              team=("North",)), labels=list(LABELS[:2]))
    same(table(rows["rows"], []), lib, COUNT_COLUMNS)
    assert rows["filters"]["team"] == ["North"]



def test_trends_match_the_library(client: TestClient, auth: Callable, stored: Frames) -> None:
    params = {"freq": "month", "by": "service_area", "label": RISING}
    rows = client.get("/v1/aggregates/trends", params=params, headers=auth("qa_lead")).json()
    lib = trends(stored, "month", by=["service_area"], labels=[RISING])
    same(table(rows["rows"], ["month", "service_area"]), lib,
         ["month", "service_area", *COUNT_COLUMNS])
    assert rows["by"] == ["month", "service_area"]


def test_cooccurrence_matches_the_library(client: TestClient, auth: Callable,
                                          stored: Frames) -> None:
    body = client.get("/v1/aggregates/cooccurrence", headers=auth("qa_lead")).json()
    lib = cooccurrence(stored)
    assert body["documents"] == len(stored.docs)
    same(pd.DataFrame(body["rows"]), lib, list(lib.columns))


def test_emerging_finds_the_rise_and_links_its_evidence(client: TestClient, auth: Callable,
                                                        stored: Frames) -> None:
    body = client.get("/v1/aggregates/emerging", headers=auth("qa_lead")).json()
    assert body["windows"] == {"recent_from": "2024-08-01", "recent_to": "2024-10-31",
                               "baseline_from": "2024-01-01", "baseline_to": "2024-07-31"}
    flagged = [r for r in body["results"] if r["flagged"]]
    assert [r["label"] for r in flagged] == [RISING]
    lib = emerging(stored).table.set_index("label")
    top = flagged[0]
    assert top["p_value"] == pytest.approx(lib.at[RISING, "p_value"])
    assert top["q_value"] == pytest.approx(lib.at[RISING, "q_value"])
    assert len(top["examples"]) == 3
    linked = client.get(top["evidence_url"] + "&limit=500", headers=auth("qa_lead")).json()
    assert linked["rows"] and all(r["label"] == RISING and r["date"] >= "2024-08-01"
                                  for r in linked["rows"])
    assert len(linked["rows"]) == lib.at[RISING, "recent_docs"]


def test_emerging_with_explicit_windows(client: TestClient, auth: Callable,
                                        stored: Frames) -> None:
    params = {"recent_from": "2024-04-01", "recent_to": "2024-06-30",
              "baseline_from": "2024-01-01", "baseline_to": "2024-03-31"}
    body = client.get("/v1/aggregates/emerging", params=params, headers=auth("qa_lead")).json()
    assert not any(r["flagged"] for r in body["results"])
    partial = client.get("/v1/aggregates/emerging", params={"recent_from": "2024-04-01"},
                         headers=auth("qa_lead"))
    assert partial.status_code == 422


def test_evidence_for_a_heatmap_cell(client: TestClient, auth: Callable, stored: Frames) -> None:
    params = {"label": "chronology:concern", "period": "2024-03", "service_area": "early_help"}
    body = client.get("/v1/aggregates/evidence", params=params, headers=auth("qa_lead")).json()
    docs = stored.docs.set_index("doc_id")
    expected = stored.tags[(stored.tags["label"] == "chronology:concern")
                           & stored.tags["doc_id"].map(
                               lambda d: docs.at[d, "service_area"] == "early_help"
                               and str(docs.at[d, "date"])[:7] == "2024-03")]
    assert sorted(r["doc_id"] for r in body["rows"]) == sorted(expected["doc_id"])
    assert all(r["evidence"].startswith("Sentence about chronology") for r in body["rows"])
    bad = client.get("/v1/aggregates/evidence", params={"period": "March"},
                     headers=auth("qa_lead"))
    assert bad.status_code == 422


def test_unassigned_sentences_become_candidate_themes(client: TestClient, auth: Callable,
                                                      stored: Frames) -> None:
    body = client.get("/v1/aggregates/unassigned", headers=auth("qa_lead")).json()
    assert body["documents"] == len(stored.docs)
    assert body["sentences"] == sum(1 for i in range(len(stored.docs)) if i % 3 == 0)
    names = " ".join(t["name"] for t in body["themes"])
    assert "dental" in names and "transport" in names
    starts = tuple(u.split(" has not")[0] for u in UNCOVERED)
    assert all(e["sentence"].startswith(starts) for t in body["themes"] for e in t["examples"])


def test_briefing_route(client: TestClient, auth: Callable, stored: Frames) -> None:
    markdown = client.get("/v1/reports/briefing", headers=auth("qa_lead"))
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "## What is rising" in markdown.text and "Recording" in markdown.text
    html = client.get("/v1/reports/briefing", params={"format": "html", "period": "month",
                                                      "service_area": "early_help"},
                      headers=auth("admin"))
    assert html.headers["content-type"].startswith("text/html")
    assert "<h2>Audit grades over time</h2>" in html.text and "service area: early_help" in html.text


@pytest.mark.parametrize("path", ["/v1/aggregates/prevalence", "/v1/aggregates/emerging",
                                  "/v1/aggregates/evidence", "/v1/reports/briefing"])
def test_roles(client: TestClient, auth: Callable, stored: Frames, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth("auditor")).status_code == 403
    assert client.get(path, headers=auth("qa_lead")).status_code == 200


def test_bad_parameters_are_422(client: TestClient, auth: Callable, stored: Frames) -> None:
    for params in ({"by": "colour"}, {"date_from": "2024-05-01", "date_to": "2024-01-01"},
                   {"service_area": "moon"}, {"label": "chronology:maybe"}):
        response = client.get("/v1/aggregates/prevalence", params=params,
                              headers=auth("qa_lead"))
        assert response.status_code == 422, params


def test_aggregates_follow_new_and_changed_documents(app: FastAPI, client: TestClient,
                                                     auth: Callable, stored: Frames) -> None:
    def chronology_docs() -> int:
        body = client.get("/v1/aggregates/prevalence", params={"label": "chronology:concern"},
                          headers=auth("qa_lead")).json()
        return body["rows"][0]["docs"]

    before = chronology_docs()
    tag = {"label": "chronology:concern", "theme": "chronology", "polarity": "concern",
           "evidence": "No chronology.", "start": 0, "end": 14, "confidence": 0.9}
    new = {"meta": {"id": "NEW1", "date": "2024-05-05"}, "text": "No chronology.",
           "tags": [tag]}
    store_results(app.state.sessions, [new])
    assert chronology_docs() == before + 1
    store_results(app.state.sessions, [{**new, "text": "No chronology!", "tags": []}])
    assert chronology_docs() == before  # the new version has no tag; history is not counted
