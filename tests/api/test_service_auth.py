"""Keys and roles: the auth matrix for every route and role, through the real app."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_helpers import CHRONOLOGY_GAP, wait_for_batch

from api.security import revoke_key
from api.storage.access import recent_access

ALL = {"auditor", "qa_lead", "admin"}
ANALYSTS = {"qa_lead", "admin"}

CSV_UPLOAD = f"id,case_id,text\nb1,C9,{CHRONOLOGY_GAP}\n".encode()


def _requests(batch_id: str) -> list[tuple[str, str, dict[str, Any], set[str], int]]:
    """(method, path, request kwargs, roles allowed, status when allowed) for every route."""
    return [
        ("POST", "/v1/analyse", {"json": {"text": CHRONOLOGY_GAP}}, ALL, 200),
        ("POST", "/v1/documents",
         {"json": {"id": "d2", "case_id": "C1", "text": CHRONOLOGY_GAP}}, ANALYSTS, 200),
        ("GET", "/v1/documents/d1", {}, ALL, 200),
        ("GET", "/v1/cases/C1", {}, ALL, 200),
        ("GET", "/v1/prescreen", {}, ALL, 200),
        ("POST", "/v1/feedback",
         {"json": {"document_id": "d1", "action": "confirm", "label": "chronology:concern"}},
         ALL, 201),
        ("GET", "/v1/themes", {}, ALL, 200),
        ("POST", "/v1/batches", {"files": {"file": ("rows.csv", CSV_UPLOAD, "text/csv")}},
         ANALYSTS, 202),
        ("GET", f"/v1/batches/{batch_id}", {}, ANALYSTS, 200),
        ("GET", f"/v1/batches/{batch_id}/results", {}, ANALYSTS, 200),
        ("GET", "/v1/access-log", {}, {"admin"}, 200),
    ]


@pytest.fixture
def routes(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> list[tuple[str, str, dict[str, Any], set[str], int]]:
    """Every route, with a stored document d1 (case C1) and a finished batch to ask about."""
    stored = client.post(
        "/v1/documents", json={"id": "d1", "case_id": "C1", "text": CHRONOLOGY_GAP},
        headers=auth("admin"),
    )
    assert stored.status_code == 200
    assert "chronology:concern" in stored.json()["documents"][0]["labels"]
    upload = client.post("/v1/batches", files={"file": ("rows.csv", CSV_UPLOAD, "text/csv")},
                         headers=auth("admin"))
    assert upload.status_code == 202
    wait_for_batch(client, upload.json()["id"], auth("admin"))
    return _requests(upload.json()["id"])


def test_every_route_admits_exactly_the_roles_of_the_matrix(
    client: TestClient, auth: Callable[[str], dict[str, str]], routes: list, app: FastAPI,
    tokens: dict[str, str],
) -> None:
    for method, path, kwargs, allowed, ok_status in routes:
        for role in sorted(ALL):
            response = client.request(method, path, headers=auth(role), **kwargs)
            expected = ok_status if role in allowed else 403
            assert response.status_code == expected, (method, path, role, response.text)
            if expected == 403:
                assert response.json()["error"]["code"] == "forbidden"
    with app.state.sessions() as session:
        denied = [e for e in recent_access(session, limit=1000) if e.status == 403]
    auditor_id = tokens["auditor"].split("_")[1]
    assert {e.path for e in denied if e.key_id == auditor_id} >= {"/v1/documents", "/v1/batches"}


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "cl_0000_nope"}, {"X-API-Key": "junk"},
                                     {"Authorization": "Bearer cl_abc_def"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_every_route_refuses_a_missing_or_unknown_key_with_401(
    client: TestClient, routes: list, headers: dict[str, str]
) -> None:
    for method, path, kwargs, _allowed, _ok in routes:
        response = client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorised"


def test_a_revoked_key_is_refused_and_bearer_is_accepted(
    client: TestClient, app: FastAPI, tokens: dict[str, str]
) -> None:
    token = tokens["auditor"]
    assert client.get("/v1/themes", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.state.sessions() as session:
        assert revoke_key(session, token.split("_")[1])
    assert client.get("/v1/themes", headers={"X-API-Key": token}).status_code == 401


def test_a_key_with_the_right_id_but_wrong_secret_is_refused(
    client: TestClient, tokens: dict[str, str]
) -> None:
    prefix, key_id, secret = tokens["admin"].split("_", 2)
    forged = f"{prefix}_{key_id}_{'x' * len(secret)}"
    assert client.get("/v1/themes", headers={"X-API-Key": forged}).status_code == 401


def test_health_needs_no_key(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_the_access_log_records_who_what_when_and_never_text(
    client: TestClient, auth: Callable[[str], dict[str, str]], app: FastAPI,
    tokens: dict[str, str],
) -> None:
    secret_sentence = "The chronology for this child was never written up."
    client.post("/v1/documents", json={"id": "d7", "case_id": "C7", "text": secret_sentence},
                headers=auth("qa_lead"))
    client.get("/v1/cases/C7", headers=auth("auditor"))
    client.get("/v1/documents/nope", headers=auth("auditor"))
    log = client.get("/v1/access-log", headers=auth("admin")).json()
    qa_id, auditor_id = tokens["qa_lead"].split("_")[1], tokens["auditor"].split("_")[1]
    by_path = {(e["key_id"], e["method"], e["path"]): e for e in log}
    write = by_path[(qa_id, "POST", "/v1/documents")]
    assert (write["case_ids"], write["document_ids"], write["status"]) == (["C7"], ["d7"], 200)
    read = by_path[(auditor_id, "GET", "/v1/cases/C7")]
    assert (read["case_ids"], read["document_ids"], read["action"]) == (["C7"], ["d7"],
                                                                       "read_cases")
    assert by_path[(auditor_id, "GET", "/v1/documents/nope")]["status"] == 404
    assert all(e["at"] for e in log)
    assert "chronology" not in str(log)
