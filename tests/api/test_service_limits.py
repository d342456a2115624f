"""Bad input: size limits, malformed bodies, and no traceback ever reaching a client."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from service_helpers import CHRONOLOGY_GAP

import nlp
from api.security import Role, create_key
from api.settings import ServiceSettings

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def small_client(make_settings: Callable[..., ServiceSettings], make_app: Callable) -> tuple[TestClient, dict]:
    """An app with small limits, and an admin key for it."""
    app = make_app(make_settings(max_body_bytes=2_000, max_text_chars=300,
                                   max_documents_per_request=2, max_batch_rows=3))
    with app.state.sessions() as session:
        token = create_key(session, Role.admin).token
    return TestClient(app), {"X-API-Key": token}


def test_a_body_over_the_limit_is_refused_with_413(small_client: tuple[TestClient, dict]) -> None:
    client, headers = small_client
    body = json.dumps({"text": "word " * 1000})
    response = client.post("/v1/analyse", content=body,
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_text_over_the_limit_is_refused_with_422(small_client: tuple[TestClient, dict]) -> None:
    client, headers = small_client
    response = client.post("/v1/analyse", json={"text": "word " * 100}, headers=headers)
    assert response.status_code == 422
    assert "300" in response.json()["error"]["message"]


def test_too_many_documents_in_one_request_is_refused(
    small_client: tuple[TestClient, dict],
) -> None:
    client, headers = small_client
    docs = [{"id": str(i), "text": CHRONOLOGY_GAP} for i in range(3)]
    response = client.post("/v1/documents", json={"documents": docs}, headers=headers)
    assert response.status_code == 413
    assert "limit is 2" in response.json()["error"]["message"]


def test_a_batch_over_the_row_limit_is_refused(small_client: tuple[TestClient, dict]) -> None:
    client, headers = small_client
    rows = "".join(f"{i},Note {i} about the plan.\n" for i in range(5))
    response = client.post("/v1/batches", headers=headers,
                           files={"file": ("rows.csv", f"id,text\n{rows}".encode(), "text/csv")})
    assert response.status_code == 413


@pytest.mark.parametrize("content", [b"{not json", b'{"text": 5}', b"[]", b'{"text": "x", "z": 1}',
                                     b'{"id": "d", "text": "ok", "date": "14/03/2025"}'])
def test_malformed_bodies_get_a_json_422(client: TestClient, auth: Auth, content: bytes) -> None:
    response = client.post("/v1/documents", content=content,
                           headers={**auth("admin"), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_a_body_that_is_not_utf8_gets_a_json_400(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/documents", content=b'{"id": "d", "text": "Caf\xe9 visit"}',
                           headers={**auth("admin"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request", "message": "There was an error parsing the body", "details": []}


def test_empty_text_is_refused(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/analyse", json={"text": "  \n "}, headers=auth("auditor"))
    assert response.status_code == 422
    assert response.json()["error"]["message"]


def test_an_unexpected_error_returns_json_500_without_traceback_or_text(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(text: str, **meta: object) -> nlp.Analysis:
        raise RuntimeError(f"failed on {text}")

    monkeypatch.setattr(nlp, "analyse", broken)
    with caplog.at_level(logging.ERROR):
        response = client.post("/v1/analyse", json={"text": CHRONOLOGY_GAP},
                               headers=auth("auditor"))
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "Traceback" not in response.text and "chronology" not in response.text
    assert "chronology" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_a_broken_model_is_a_503_that_names_no_server_path(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, **meta: object) -> nlp.Analysis:
        raise nlp.ModelError("the model card /srv/models/model_card.json is missing")

    monkeypatch.setattr(nlp, "analyse", broken)
    response = client.post("/v1/analyse", json={"text": CHRONOLOGY_GAP}, headers=auth("auditor"))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "analysis_unavailable"
    assert "/srv" not in response.text


def test_unknown_routes_and_methods_get_json_errors(client: TestClient, auth: Auth) -> None:
    assert client.get("/v1/nothing", headers=auth("admin")).json()["error"]["code"] == "not_found"
    response = client.delete("/v1/themes", headers=auth("admin"))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
