"""The service commands: keys create/list/revoke, evaluate-feedback, and a served app."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from service_helpers import CHRONOLOGY_GAP, free_port, start_service
from typer.testing import CliRunner

from api.cli import app as cli
from api.settings import ServiceSettings, get_settings

runner = CliRunner()


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CASELENS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_keys_are_created_once_listed_without_secrets_and_revoked(cli_database: str) -> None:
    created = runner.invoke(cli, ["keys", "create", "--role", "auditor", "--name", "ann"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    prefix, key_id, secret = token.split("_", 2)
    assert prefix == "cl" and len(secret) >= 40

    listed = runner.invoke(cli, ["keys", "list"])
    assert key_id in listed.stdout and "auditor" in listed.stdout and "ann" in listed.stdout
    assert secret not in listed.stdout

    assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    assert runner.invoke(cli, ["keys", "revoke", "nosuchkey"]).exit_code == 1
    assert runner.invoke(cli, ["keys", "create", "--role", "boss"]).exit_code != 0


def test_serve_runs_the_api_with_a_key_from_the_cli(cli_database: str) -> None:
    token = runner.invoke(cli, ["keys", "create", "--role", "auditor"]).stdout.strip()
    port = free_port()
    server = start_service(cli_database, port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/docs").status_code == 200
        assert httpx.post(f"{base}/v1/analyse", json={"text": CHRONOLOGY_GAP}).status_code == 401
        analysed = httpx.post(f"{base}/v1/analyse", json={"text": CHRONOLOGY_GAP},
                              headers={"X-API-Key": token}, timeout=60)
        assert "chronology:concern" in analysed.json()["labels"]
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert b"no chronology" not in stderr.lower()  # text never reaches the server log


def test_evaluate_feedback_scores_against_the_database(
    cli_database: str, make_app: Callable[[ServiceSettings], FastAPI]
) -> None:
    from fastapi.testclient import TestClient

    assert runner.invoke(cli, ["evaluate-feedback"]).exit_code == 1  # nothing yet
    token = runner.invoke(cli, ["keys", "create", "--role", "qa_lead"]).stdout.strip()
    client = TestClient(make_app(get_settings()))
    headers = {"X-API-Key": token}
    client.post("/v1/documents", json={"id": "e1", "text": CHRONOLOGY_GAP}, headers=headers)
    client.post("/v1/feedback", headers=headers, json={
        "document_id": "e1", "action": "reject", "label": "chronology:concern"})
    result = runner.invoke(cli, ["evaluate-feedback", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["documents"] == 1
    assert {(e["kind"], e["label"]) for e in summary["worst_errors"]} >= {
        ("false_positive", "chronology:concern")}
