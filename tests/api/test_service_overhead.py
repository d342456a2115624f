"""The per-request shortcuts keep the guarantees: cached keys still die on revocation
(at once in this process, within ``key_cache_seconds`` elsewhere), and every queued
access-log row reaches the database, on its own, before a read, and at shutdown."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_helpers import CHRONOLOGY_GAP, free_port, start_service
from sqlalchemy import create_engine, func, select, update

from api.app import create_app
from api.security import KeyCache, Role, create_key
from api.settings import ServiceSettings
from api.storage.access import AccessLogWriter, AccessRecord, access_writer
from api.storage.models import AccessLog, ApiKey


def _revoke_elsewhere(database_url: str, key_id: str) -> None:
    """Revoke as another process would (``caselens keys revoke``): straight in the
    database, so this process's caches hear nothing of it."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(update(ApiKey).where(ApiKey.id == key_id)
                     .values(revoked_at=dt.datetime.now(dt.UTC)))
    engine.dispose()


def _logged(database_url: str, **where: str) -> list[AccessLog]:
    """Access-log rows as another connection sees them (no flush of this process's queue)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = select(AccessLog).order_by(AccessLog.id)
            for column, value in where.items():
                query = query.where(getattr(AccessLog, column) == value)
            return list(conn.execute(query))
    finally:
        engine.dispose()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_revoked_elsewhere_stops_working_when_its_cache_entry_expires(
    client: TestClient, app: FastAPI, tokens: dict[str, str], database_url: str
) -> None:
    clock = FakeClock()
    app.state.key_cache = KeyCache(5.0, clock=clock)
    token = tokens["auditor"]
    headers = {"X-API-Key": token}
    assert client.get("/v1/themes", headers=headers).status_code == 200
    _revoke_elsewhere(database_url, token.split("_")[1])
    clock.now += 4.9  # still inside the TTL: the verified key is trusted
    assert client.get("/v1/themes", headers=headers).status_code == 200
    clock.now += 0.2  # past the TTL: the database is asked again
    refused = client.get("/v1/themes", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorised"
    clock.now += 100  # a refusal is never cached as a pass
    assert client.get("/v1/themes", headers=headers).status_code == 401


def _used_then_revoked_elsewhere(application: FastAPI, database_url: str) -> tuple[TestClient, dict[str, str]]:
    """A client whose auditor key was accepted once, then revoked by another process."""
    with application.state.sessions() as session:
        token = create_key(session, Role.auditor).token
    client = TestClient(application)
    headers = {"X-API-Key": token}
    assert client.get("/v1/themes", headers=headers).status_code == 200
    _revoke_elsewhere(database_url, token.split("_")[1])
    return client, headers


def test_the_cache_ttl_comes_from_the_settings_and_real_time_ends_it(
    make_settings: Callable[..., ServiceSettings], database_url: str,
    make_app: Callable[[ServiceSettings], FastAPI],
) -> None:
    client, headers = _used_then_revoked_elsewhere(
        make_app(make_settings(key_cache_seconds=0.3)), database_url)
    deadline = time.monotonic() + 5
    while client.get("/v1/themes", headers=headers).status_code == 200:
        assert time.monotonic() < deadline, "the revoked key was still accepted"
        time.sleep(0.05)


def test_with_the_cache_off_revocation_elsewhere_is_immediate(
    make_settings: Callable[..., ServiceSettings], database_url: str,
    make_app: Callable[[ServiceSettings], FastAPI],
) -> None:
    client, headers = _used_then_revoked_elsewhere(
        make_app(make_settings(key_cache_seconds=0)), database_url)
    assert client.get("/v1/themes", headers=headers).status_code == 401


def test_a_cached_key_does_not_admit_a_wrong_secret(
    client: TestClient, tokens: dict[str, str]
) -> None:
    prefix, key_id, secret = tokens["admin"].split("_", 2)
    assert client.get("/v1/themes", headers={"X-API-Key": tokens["admin"]}).status_code == 200
    forged = f"{prefix}_{key_id}_{'x' * len(secret)}"
    assert client.get("/v1/themes", headers={"X-API-Key": forged}).status_code == 401


def test_the_cache_holds_no_tokens_and_stays_bounded() -> None:
    cache = KeyCache(60, max_entries=3)
    from api.security import VerifiedKey

    for i in range(5):
        cache.put(KeyCache.token_digest(f"cl_k{i}_secret{i}"), VerifiedKey(f"k{i}", "auditor"))
    assert len(cache._entries) == 3
    assert not any("secret" in digest for digest in cache._entries)
    assert cache.get(KeyCache.token_digest("cl_k0_secret0")) is None  # oldest gave way
    assert cache.get(KeyCache.token_digest("cl_k4_secret4")) == VerifiedKey("k4", "auditor")


def test_queued_rows_arrive_on_their_own_within_the_flush_interval(
    client: TestClient, app: FastAPI, tokens: dict[str, str], database_url: str
) -> None:
    writer: AccessLogWriter = app.state.access_writer
    assert writer.deferred
    auditor = tokens["auditor"].split("_")[1]
    for i in range(20):
        response = client.post("/v1/analyse", headers={"X-API-Key": tokens["auditor"]},
                               json={"id": f"n{i}", "case_id": "C5", "text": CHRONOLOGY_GAP})
        assert response.status_code == 200
    deadline = time.monotonic() + 10
    while len(rows := _logged(database_url, key_id=auditor)) < 20:
        assert time.monotonic() < deadline, f"only {len(rows)} of 20 rows arrived"
        time.sleep(0.05)
    assert [r.document_ids for r in rows] == [[f"n{i}"] for i in range(20)]
    assert {(r.action, r.path, r.status, tuple(r.case_ids)) for r in rows} == {
        ("analyse", "/v1/analyse", 200, ("C5",))}
    assert "chronology" not in str([tuple(r) for r in rows]).lower()


def test_the_access_log_route_sees_rows_still_queued(
    client: TestClient, app: FastAPI, auth: Callable[[str], dict[str, str]],
    tokens: dict[str, str],
) -> None:
    app.state.access_writer.flush_seconds = 60  # the timer will not write them in time
    for _ in range(3):
        client.get("/v1/cases/C404", headers=auth("auditor"))
    assert app.state.access_writer.pending() >= 3
    log = client.get("/v1/access-log", headers=auth("admin")).json()
    auditor = tokens["auditor"].split("_")[1]
    assert [e["path"] for e in log if e["key_id"] == auditor] == ["/v1/cases/C404"] * 3


def test_shutdown_writes_every_queued_row(
    make_settings: Callable[..., ServiceSettings], database_url: str
) -> None:
    application = create_app(make_settings(access_log_flush_seconds=5))
    with application.state.sessions() as session:
        token = create_key(session, Role.qa_lead).token
    key_id = token.split("_")[1]
    with TestClient(application) as client:  # runs the app's start-up and shutdown
        for i in range(50):
            client.get(f"/v1/documents/missing{i}", headers={"X-API-Key": token})
        client.get("/v1/themes", headers={"X-API-Key": token})
        assert len(_logged(database_url, key_id=key_id)) < 51  # still queued
    rows = _logged(database_url, key_id=key_id)
    application.state.engine.dispose()
    assert len(rows) == 51
    assert [r.path for r in rows[:50]] == [f"/v1/documents/missing{i}" for i in range(50)]
    assert {r.status for r in rows[:50]} == {404}


def test_a_failed_write_keeps_the_rows_for_the_next_try(
    app: FastAPI, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = AccessLogWriter(app.state.engine, flush_seconds=60)
    real_insert = writer._insert
    calls = []

    def flaky(rows: list) -> None:
        calls.append(len(rows))
        if len(calls) == 1:
            raise RuntimeError("database away")
        real_insert(rows)

    monkeypatch.setattr(writer, "_insert", flaky)
    for i in range(4):
        writer.submit(AccessRecord(key_id="k9", action="read_cases", method="GET",
                                   path=f"/v1/cases/C{i}"))
    with pytest.raises(RuntimeError):
        writer.flush()
    assert writer.pending() == 4
    writer.submit(AccessRecord(key_id="k9", action="read_cases", method="GET",
                               path="/v1/cases/C4"))
    writer.close()
    assert [r.path for r in _logged(database_url, key_id="k9")] == [
        f"/v1/cases/C{i}" for i in range(5)]


def test_with_no_flush_interval_each_row_is_written_at_once(
    make_settings: Callable[..., ServiceSettings], database_url: str,
    make_app: Callable[[ServiceSettings], FastAPI],
) -> None:
    application = make_app(make_settings(access_log_flush_seconds=0))
    assert not application.state.access_writer.deferred
    with application.state.sessions() as session:
        token = create_key(session, Role.auditor).token
    TestClient(application).get("/v1/cases/C1", headers={"X-API-Key": token})
    assert [r.path for r in _logged(database_url, key_id=token.split("_")[1])] == [
        "/v1/cases/C1"]


def test_one_writer_per_engine(app: FastAPI) -> None:
    assert access_writer(app.state.engine) is app.state.access_writer


def test_a_stopped_service_has_written_the_rows_of_all_its_workers(database_url: str) -> None:
    application = create_app(ServiceSettings(database_url=database_url))
    with application.state.sessions() as session:
        token = create_key(session, Role.auditor).token
    application.state.engine.dispose()
    port = free_port()
    server = start_service(database_url, port, CASELENS_WORKERS="2",
                           CASELENS_ACCESS_LOG_FLUSH_SECONDS="5")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for i in range(30):
                response = http.post("/v1/analyse", headers={"X-API-Key": token},
                                     json={"id": f"s{i}", "text": CHRONOLOGY_GAP})
                assert response.status_code == 200
    finally:
        server.terminate()  # a normal shutdown: SIGTERM
        server.communicate(timeout=60)
    assert server.returncode == 0
    rows = _logged(database_url, key_id=token.split("_")[1])
    assert sorted(d for r in rows for d in r.document_ids) == sorted(f"s{i}" for i in range(30))
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AccessLog)).scalar_one() == 30
    engine.dispose()


def test_start_up_loads_the_pipeline_before_the_first_request(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nlp

    calls: list[str] = []
    monkeypatch.setattr(nlp, "analyse", lambda text, **meta: calls.append(text))
    with TestClient(app) as client:
        assert len(calls) == 1  # before anything was asked
        assert client.get("/health").status_code == 200


def test_a_pipeline_that_fails_to_load_does_not_stop_the_service_starting(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import nlp
    from nlp.errors import ModelError

    def broken(text: str, **meta: object) -> None:
        raise ModelError("the model file /srv/secret/path is missing")

    monkeypatch.setattr(nlp, "analyse", broken)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
    assert "ModelError" in caplog.text
    assert "/srv/secret/path" not in caplog.text
