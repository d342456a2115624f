"""A service killed during a batch resumes it on restart: nothing lost, nothing stored twice."""
from __future__ import annotations

import json
import os
import signal
import time

import httpx
from service_helpers import CHRONOLOGY_GAP, free_port, start_service
from sqlalchemy import func, select

from api.security import Role, create_key
from api.storage.db import create_db_engine, session_factory
from api.storage.models import Analysis, Document

# Two service workers: the one that claims the interrupted job renews its heartbeat, so
# the other never claims it too (nothing is stored twice).
BATCH_ENV = {"CASELENS_BATCH_PROCESSES": "2", "CASELENS_BATCH_CHUNK_SIZE": "5",
             "CASELENS_BATCH_STALE_SECONDS": "1", "CASELENS_WORKERS": "2"}


def _poll(base: str, path: str, headers: dict, until, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{base}{path}", headers=headers).json()
        if until(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach the state in {timeout} s")


def test_a_batch_interrupted_by_a_killed_service_resumes_on_restart(database_url: str) -> None:
    rows = 400
    engine = create_db_engine(database_url)
    sessions = session_factory(engine)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_service(database_url, port, **BATCH_ENV)
    with sessions() as session:
        headers = {"X-API-Key": create_key(session, Role.qa_lead).token}
    data = "id,case_id,text\n" + "".join(f"k{i},C{i % 9},{CHRONOLOGY_GAP}\n" for i in range(rows))
    try:
        batch_id = httpx.post(f"{base}/v1/batches", headers=headers, timeout=60,
                              files={"file": ("n.csv", data.encode(), "text/csv")}).json()["id"]
        part = _poll(base, f"/v1/batches/{batch_id}", headers, lambda b: b["done_rows"] > 0)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    assert part["status"] == "running" and part["done_rows"] < rows

    server = start_service(database_url, port, **BATCH_ENV)
    try:
        done = _poll(base, f"/v1/batches/{batch_id}", headers, lambda b: b["status"] != "running")
        results = httpx.get(f"{base}/v1/batches/{batch_id}/results", headers=headers,
                            timeout=60).text.splitlines()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (done["status"], done["done_rows"], done["error_rows"]) == ("done", rows, 0)
    assert [json.loads(r)["id"] for r in results] == [f"k{i}" for i in range(rows)]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == rows
        assert session.scalar(select(func.count()).select_from(Analysis)) == rows
    engine.dispose()
