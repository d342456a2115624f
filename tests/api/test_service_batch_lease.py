"""Interrupted batches are claimed by a live service; a live batch is never claimed twice."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from service_helpers import CHRONOLOGY_GAP
from sqlalchemy import func, select, update

from api.batch.jobs import Lease, claim_interrupted, new_job, read_upload
from api.settings import ServiceSettings
from api.storage.models import BatchJob, Document


def _stored_job(app: FastAPI, rows: int) -> str:
    """A job read and ready to run whose server then vanished (heartbeat an hour old)."""
    sessions, settings = app.state.sessions, app.state.settings
    with sessions() as session:
        job_id = new_job(session, key_id="k", source_format="csv", redact=False).id
    data = "id,text\n" + "".join(f"r{i},{CHRONOLOGY_GAP}\n" for i in range(rows))
    assert read_upload(sessions, job_id, data.encode(), name="n.csv", fmt=None, mapping=None,
                       redact=False, settings=settings)
    with sessions() as session:
        session.execute(update(BatchJob).where(BatchJob.id == job_id).values(
            heartbeat_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
        session.commit()
    return job_id


def test_a_running_service_resumes_a_batch_whose_server_stopped(
    make_settings: Callable[..., ServiceSettings], make_app: Callable[[ServiceSettings], FastAPI]
) -> None:
    app = make_app(make_settings(batch_stale_seconds=1))
    with TestClient(app):  # started: the job below appears after its start-up claim
        job_id = _stored_job(app, rows=9)
        deadline = time.monotonic() + 120
        while True:
            with app.state.sessions() as session:
                job = session.get(BatchJob, job_id)
                assert job is not None
                if job.status != "running":
                    break
            assert time.monotonic() < deadline, "the interrupted batch was not resumed"
            time.sleep(0.1)
        assert (job.status, job.done_rows, job.error_rows) == ("done", 9, 0)
        with app.state.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Document)) == 9


def test_a_lease_keeps_a_live_batch_from_being_claimed(
    make_settings: Callable[..., ServiceSettings], make_app: Callable[[ServiceSettings], FastAPI]
) -> None:
    app = make_app(make_settings())  # not started: nothing claims but this test
    job_id = _stored_job(app, rows=2)
    stale = dt.timedelta(seconds=2)
    with Lease(app.state.sessions, job_id, every=0.1):
        time.sleep(2.5)  # longer than the stale time, but the heartbeat is renewed
        assert claim_interrupted(app.state.sessions, stale) == []
    time.sleep(2.5)  # no one renews it now
    assert claim_interrupted(app.state.sessions, stale) == [job_id]
    assert claim_interrupted(app.state.sessions, stale) == []  # claimed once


def test_a_stale_time_under_a_second_is_refused() -> None:
    with pytest.raises(ValidationError, match="batch_stale_seconds"):
        ServiceSettings(batch_stale_seconds=0)
