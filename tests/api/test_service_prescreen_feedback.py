"""Pre-screening ranks cases by weighted concern themes; feedback becomes gold records."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_helpers import CHRONOLOGY_GAP

from api.storage.feedback import feedback_gold

Auth = Callable[[str], dict[str, str]]
STRENGTH = "The chronology is up to date and was used to inform the plan."


@pytest.fixture
def stored(client: TestClient, auth: Auth) -> dict[str, list[str]]:
    """Three cases: C1 shows the concern in two documents, C2 in one, C3 not at all.

    Returns each stored document's labels, as analysed.
    """
    docs = [
        {"id": "a1", "case_id": "C1", "date": "2025-01-05", "team": "North",
         "service_area": "children_in_care", "doc_type": "case_note", "text": CHRONOLOGY_GAP},
        {"id": "a2", "case_id": "C1", "date": "2025-02-05", "team": "North",
         "service_area": "children_in_care", "doc_type": "case_note", "text": CHRONOLOGY_GAP},
        {"id": "b1", "case_id": "C2", "date": "2025-03-05", "team": "South",
         "service_area": "early_help", "doc_type": "supervision_record", "text": CHRONOLOGY_GAP},
        {"id": "c1", "case_id": "C3", "date": "2025-03-05", "team": "South",
         "service_area": "early_help", "doc_type": "case_note", "text": STRENGTH},
    ]
    response = client.post("/v1/documents", json={"documents": docs}, headers=auth("qa_lead"))
    return {d["id"]: d["labels"] for d in response.json()["documents"]}


def test_cases_are_ranked_by_weighted_concerns_with_reasons_and_evidence(
    client: TestClient, auth: Auth, stored: dict[str, list[str]], app: FastAPI
) -> None:
    assert not any(label.endswith(":concern") for label in stored["c1"])
    body = client.get("/v1/prescreen", headers=auth("auditor")).json()
    ranked = [c["case_id"] for c in body["cases"]]
    assert ranked == ["C1", "C2"]
    top = body["cases"][0]
    reason = next(r for r in top["reasons"] if r["theme"] == "chronology")
    bonus = app.state.settings.prescreen_repeat_bonus
    assert reason["documents"] == 2
    assert reason["score"] == pytest.approx(reason["weight"] * (1 + bonus))
    assert top["score"] == pytest.approx(sum(r["score"] for r in top["reasons"]))
    assert [e["document_id"] for e in reason["evidence"]] == ["a2", "a1"]  # newest first
    assert all(e["evidence"] in CHRONOLOGY_GAP for e in reason["evidence"])
    assert "weight" in body["weighting"]


@pytest.mark.parametrize("query,expected", [
    ("service_area=early_help", ["C2"]),
    ("team=North", ["C1"]),
    ("doc_type=supervision_record", ["C2"]),
    ("date_from=2025-02-01&date_to=2025-02-28", ["C1"]),
    ("date_from=2026-01-01", []),
])
def test_prescreen_filters(
    client: TestClient, auth: Auth, stored: dict, query: str, expected: list[str]
) -> None:
    body = client.get(f"/v1/prescreen?{query}", headers=auth("auditor")).json()
    assert [c["case_id"] for c in body["cases"]] == expected


def test_prescreen_weights_come_from_settings(
    make_settings: Callable, make_app: Callable, auth: Auth, stored: dict
) -> None:
    from api.security import Role, create_key

    app = make_app(make_settings(prescreen_weights={"chronology": 5.0},
                                   prescreen_repeat_bonus=0.0))
    with app.state.sessions() as session:
        headers = {"X-API-Key": create_key(session, Role.auditor).token}
    body = TestClient(app).get("/v1/prescreen", headers=headers).json()
    reason = next(r for r in body["cases"][0]["reasons"] if r["theme"] == "chronology")
    assert (reason["weight"], reason["score"]) == (5.0, 5.0)
    assert body["weights"]["drift_delay"] == 2.0  # themes left out keep their default


def test_prescreen_refuses_unknown_filter_values(client: TestClient, auth: Auth) -> None:
    response = client.get("/v1/prescreen?service_area=fostering", headers=auth("auditor"))
    assert response.status_code == 422
    assert "early_help" in response.text


def test_feedback_confirms_rejects_and_adds_and_yields_gold(
    client: TestClient, auth: Auth, stored: dict, app: FastAPI
) -> None:
    doc = client.get("/v1/documents/a1", headers=auth("auditor")).json()
    tag = next(t for t in doc["tags"] if t["label"] == "chronology:concern")
    confirm = client.post("/v1/feedback", headers=auth("auditor"),
                          json={"document_id": "a1", "action": "confirm", "tag_id": tag["id"]})
    assert confirm.status_code == 201
    assert (confirm.json()["start"], confirm.json()["end"]) == (tag["start"], tag["end"])

    sentence = "no chronology on file"
    added = client.post("/v1/feedback", headers=auth("auditor"), json={
        "document_id": "a1", "action": "add", "label": "recording:concern",
        "sentence": sentence})
    assert added.status_code == 201
    assert added.json()["start"] == CHRONOLOGY_GAP.index(sentence)

    rejected = client.post("/v1/feedback", headers=auth("auditor"), json={
        "document_id": "b1", "action": "reject", "label": "chronology:concern"})
    assert rejected.status_code == 201

    with app.state.sessions() as session:
        gold = {g["id"]: g for g in feedback_gold(session)}
    assert set(gold) == {"a1", "b1"}
    assert set(gold["a1"]["labels"]) == set(stored["a1"]) | {"recording:concern"}
    assert "chronology:concern" not in gold["b1"]["labels"]
    assert gold["a1"]["text"] == CHRONOLOGY_GAP
    assert gold["a1"]["evidence"]["recording:concern"] == [sentence]
    assert gold["a1"]["evidence"]["chronology:concern"] == [tag["evidence"]]
    assert (gold["a1"]["case_id"], gold["a1"]["date"], gold["a1"]["team"]) == (
        "C1", "2025-01-05", "North")


@pytest.mark.parametrize("body,status,fragment", [
    ({"document_id": "zz", "action": "confirm", "label": "chronology:concern"}, 404, "zz"),
    ({"document_id": "a1", "action": "reject", "label": "life_story:strength"}, 422, "no"),
    ({"document_id": "a1", "action": "confirm", "tag_id": 999999}, 422, "999999"),
    ({"document_id": "a1", "action": "add", "label": "recording:concern",
      "sentence": "words that are not in the note"}, 422, "does not occur"),
    ({"document_id": "a1", "action": "add", "label": "recording:concern",
      "sentence": "There is no", "start": 5}, 422, "offset 5"),
    ({"document_id": "a1", "action": "add", "label": "recording:concern"}, 422, "invalid"),
    ({"document_id": "a1", "action": "add", "label": "made_up:concern",
      "sentence": "There"}, 422, "invalid"),
])
def test_feedback_refuses_what_it_cannot_attach(
    client: TestClient, auth: Auth, stored: dict, body: dict, status: int, fragment: str
) -> None:
    response = client.post("/v1/feedback", json=body, headers=auth("auditor"))
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"] + response.json()["error"]["code"]
