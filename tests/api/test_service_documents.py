"""Analyse, store (idempotent by id, with history), read documents and cases; identifier guard."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_helpers import CHRONOLOGY_GAP
from sqlalchemy import func, select

from api.storage.models import Analysis, Document, Tag

Auth = Callable[[str], dict[str, str]]
# 943 476 5919 has a valid Modulus 11 check digit; 123 456 789 is a nine-digit case reference.
NHS_NOTE = "Seen at clinic, NHS number 943 476 5919, and there is no chronology on file."
CASE_REF_NOTE = "Case reference 123456789: there is no chronology on file."


def _counts(app: FastAPI) -> tuple[int, int, int]:
    with app.state.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Document, Analysis, Tag)
        )


def test_analyse_returns_tags_with_evidence_and_versions_and_stores_nothing(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    response = client.post("/v1/analyse", headers=auth("auditor"),
                           json={"text": CHRONOLOGY_GAP, "doc_type": "case_note"})
    assert response.status_code == 200
    body = response.json()
    assert "chronology:concern" in body["labels"]
    tag = next(t for t in body["tags"] if t["label"] == "chronology:concern")
    assert CHRONOLOGY_GAP[tag["start"]:tag["end"]] == tag["evidence"]
    assert body["pipeline_version"] and body["codebook_hash"]
    assert body["meta"]["doc_type"] == "case_note"
    assert _counts(app) == (0, 0, 0)


def test_storing_is_idempotent_by_id_and_new_text_keeps_history(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    doc = {"id": "n1", "case_id": "C1", "date": "2025-03-14", "doc_type": "case_note",
           "service_area": "children_in_care", "team": "North", "text": CHRONOLOGY_GAP}
    first = client.post("/v1/documents", json=doc, headers=auth("qa_lead")).json()
    assert first["documents"][0]["status"] == "created"
    counts = _counts(app)

    again = client.post("/v1/documents", json={"documents": [doc]}, headers=auth("qa_lead"))
    assert again.json()["documents"][0] == {**first["documents"][0], "status": "unchanged"}
    assert _counts(app) == counts

    revised = {**doc, "text": "The chronology is up to date and informed the plan."}
    updated = client.post("/v1/documents", json=revised, headers=auth("qa_lead")).json()
    assert updated["documents"][0]["status"] == "updated"
    assert updated["documents"][0]["version"] == 2

    stored = client.get("/v1/documents/n1", headers=auth("auditor")).json()
    assert stored["text"] == revised["text"]
    assert stored["version"] == 2
    assert [v["version"] for v in stored["history"]] == [1, 2]
    assert "chronology:concern" in stored["history"][0]["labels"]
    assert (stored["team"], stored["service_area"], stored["date"]) == (
        "North", "children_in_care", "2025-03-14")
    for tag in stored["tags"]:
        assert stored["text"][tag["start"]:tag["end"]] == tag["evidence"]
    with app.state.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1
        assert session.scalar(select(func.count()).select_from(Analysis)) == 2


def test_a_list_is_stored_all_or_nothing(client: TestClient, auth: Auth, app: FastAPI) -> None:
    docs = [{"id": "a", "text": CHRONOLOGY_GAP}, {"id": "b", "text": "   "}]
    response = client.post("/v1/documents", json={"documents": docs}, headers=auth("admin"))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["document"] == "b"
    assert _counts(app) == (0, 0, 0)


def test_case_shows_documents_labels_and_a_dated_timeline(client: TestClient, auth: Auth) -> None:
    docs = [
        {"id": "late", "case_id": "C5", "date": "2025-06-01", "text": CHRONOLOGY_GAP},
        {"id": "early", "case_id": "C5", "date": "2025-01-10", "text": CHRONOLOGY_GAP},
        {"id": "other", "case_id": "C6", "text": CHRONOLOGY_GAP},
    ]
    client.post("/v1/documents", json={"documents": docs}, headers=auth("qa_lead"))
    case = client.get("/v1/cases/C5", headers=auth("auditor")).json()
    assert [d["id"] for d in case["documents"]] == ["early", "late"]
    assert case["labels"]["chronology:concern"] == 2
    dates = [e["date"] for e in case["timeline"]]
    assert dates == sorted(dates) and {e["document_id"] for e in case["timeline"]} == {
        "early", "late"}
    assert client.get("/v1/cases/none", headers=auth("auditor")).status_code == 404


def test_unknown_metadata_values_are_refused_with_the_allowed_values(
    client: TestClient, auth: Auth
) -> None:
    response = client.post("/v1/analyse", headers=auth("auditor"),
                           json={"text": CHRONOLOGY_GAP, "service_area": "fostering"})
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["loc"] == ["body", "service_area"]
    assert "early_help" in detail["message"] and "care_leavers" in detail["message"]
    assert "fostering" not in response.text  # submitted values are not echoed


def test_identifiers_are_refused_with_kind_and_position_and_nothing_is_stored(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    for path, body in (("/v1/analyse", {"text": NHS_NOTE}),
                       ("/v1/documents", {"id": "x", "text": NHS_NOTE})):
        response = client.post(path, json=body, headers=auth("admin"))
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "identifiers_found"
        start = NHS_NOTE.index("943")
        assert {"kind": "nhs_number", "start": start, "end": start + 12} == {
            k: error["details"][0][k] for k in ("kind", "start", "end")}
        assert "943" not in response.text
    assert _counts(app) == (0, 0, 0)


def test_identifiers_are_redacted_when_asked_and_never_stored_raw(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    response = client.post("/v1/documents", headers=auth("admin"),
                           json={"id": "r1", "text": NHS_NOTE, "redact": True})
    assert response.status_code == 200
    stored = client.get("/v1/documents/r1", headers=auth("admin")).json()
    assert "943 476 5919" not in stored["text"]
    assert "[NHS_NUMBER]" in stored["text"]
    with app.state.sessions() as session:
        assert all("5919" not in a.text for a in session.scalars(select(Analysis)))
    analysed = client.post("/v1/analyse", headers=auth("auditor"),
                           json={"text": NHS_NOTE, "redact": True}).json()
    assert analysed["redacted"] is True


def test_a_nine_digit_case_reference_is_not_an_nhs_number(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/analyse", json={"text": CASE_REF_NOTE}, headers=auth("auditor"))
    assert response.status_code == 200
    assert response.json()["redacted"] is False


@pytest.mark.parametrize("text,kind", [
    ("Mother can be reached on 07700 900123 about the chronology.", "phone"),
    ("Contact jane.doe@example.org about the chronology.", "email"),
    ("The family moved to SW1A 1AA; there is no chronology.", "postcode"),
    ("Mrs Hargreaves attended; there is no chronology.", "person_name"),
])
def test_each_kind_of_identifier_is_named(
    client: TestClient, auth: Auth, text: str, kind: str
) -> None:
    response = client.post("/v1/analyse", json={"text": text}, headers=auth("auditor"))
    assert response.status_code == 422
    assert kind in {d["kind"] for d in response.json()["error"]["details"]}
