"""Batch jobs of the service: an upload read into rows, analysed in worker processes.

A job moves ``reading`` → ``running`` → ``done`` (or ``failed``). Reading
stores each row (guarded text and metadata, or its error) as a batch item;
running analyses pending items chunk by chunk and, per chunk, stores the
documents and marks the items done in one transaction. A job interrupted while
running is picked up again (by any running or restarted server process) from
its pending items, so nothing is lost or stored twice: the process working on
a job keeps its heartbeat fresh (``Lease``), and every process claims jobs
whose heartbeat is older than the stale time (``ResumeWatch``). The upload
itself is held in memory only, never written to disk.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from api.batch.results import csv_header, format_line, result_row
from api.batch.rows import InputRow, analyse_rows, chunked, read_rows
from api.settings import ServiceSettings
from api.storage.documents import store_analyses
from api.storage.models import Analysis, BatchItem, BatchJob
from nlp.errors import InputError

T = TypeVar("T")

log = logging.getLogger("caselens.batch")

#: statuses of a job whose work is not finished
ACTIVE = ("reading", "running")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_job(session: Session, *, key_id: str, source_format: str, redact: bool) -> BatchJob:
    job = BatchJob(
        id=uuid.uuid4().hex,
        key_id=key_id,
        status="reading",
        source_format=source_format,
        redact=redact,
        heartbeat_at=_now(),
    )
    session.add(job)
    session.commit()
    return job


def _fail(sessions: sessionmaker[Session], job_id: str, message: str) -> None:
    with sessions() as session:
        session.execute(BatchItem.__table__.delete().where(BatchItem.batch_id == job_id))
        session.execute(
            update(BatchJob)
            .where(BatchJob.id == job_id)
            .values(status="failed", message=message, finished_at=_now())
        )
        session.commit()


def read_upload(
    sessions: sessionmaker[Session],
    job_id: str,
    data: bytes,
    *,
    name: str,
    fmt: str | None,
    mapping: Mapping[str, str] | None,
    redact: bool,
    settings: ServiceSettings,
) -> bool:
    """Store every row of the upload as an item; False (job failed) on a file-level error."""
    total = errors = 0
    try:
        rows = read_rows(data, fmt=fmt, mapping=mapping,
                         max_text_chars=settings.max_text_chars, redact=redact, name=name)
        for chunk in chunked(rows, settings.batch_chunk_size):
            total += len(chunk)
            if total > settings.max_batch_rows:
                _fail(sessions, job_id, f"more than {settings.max_batch_rows} rows; "
                                        "split the file")
                return False
            errors += sum(r.error is not None for r in chunk)
            with sessions() as session:
                session.add_all(_item(job_id, r) for r in chunk)
                session.execute(
                    update(BatchJob).where(BatchJob.id == job_id)
                    .values(total_rows=total, error_rows=errors, heartbeat_at=_now())
                )
                session.commit()
    except InputError as exc:
        _fail(sessions, job_id, str(exc))
        return False
    with sessions() as session:
        session.execute(
            update(BatchJob).where(BatchJob.id == job_id)
            .values(status="running", started_at=_now(), heartbeat_at=_now())
        )
        session.commit()
    return True


def _item(job_id: str, row: InputRow) -> BatchItem:
    return BatchItem(
        batch_id=job_id,
        row=row.row,
        document_id=row.record.get("id"),
        status="error" if row.error else "pending",
        record=row.record,
        error=row.error,
    )


def _pages(
    sessions: sessionmaker[Session],
    job_id: str,
    pending: bool,
    page: int,
    convert: Callable[[Session, Sequence[BatchItem]], list[T]],
) -> Iterator[list[T]]:
    """A job's pending (or finished) items in row order, a page at a time.

    ``convert`` turns each page into plain values while its session is open;
    the session is closed before the page is handed on, so no transaction
    stays open while the caller works.
    """
    status = BatchItem.status == "pending" if pending else BatchItem.status != "pending"
    last_row = 0
    while True:
        with sessions() as session:
            items = session.scalars(
                select(BatchItem)
                .where(BatchItem.batch_id == job_id, status, BatchItem.row > last_row)
                .order_by(BatchItem.row)
                .limit(page)
            ).all()
            if not items:
                return
            values = convert(session, items)
        yield values
        last_row = items[-1].row


def _pending_rows(
    sessions: sessionmaker[Session], job_id: str, page: int
) -> Iterator[InputRow]:
    """Pending items as rows, read page by page (items leave ``pending`` as they are done)."""
    for rows in _pages(
        sessions, job_id, True, page,
        lambda _, items: [InputRow(i.row, dict(i.record or {})) for i in items],
    ):
        yield from rows


def _store_chunk(
    sessions: sessionmaker[Session], job_id: str, chunk: list[tuple[InputRow, Any]]
) -> None:
    """Store a chunk's documents and mark its items, in one transaction."""
    failed = 0
    with sessions() as session:
        items = {
            item.row: item
            for item in session.scalars(
                select(BatchItem).where(
                    BatchItem.batch_id == job_id,
                    BatchItem.row.in_([row.row for row, _ in chunk]),
                )
            )
        }
        analysed: list[tuple[BatchItem, tuple[str, dict[str, Any], dict[str, Any]]]] = []
        for row, outcome in chunk:
            item = items[row.row]
            meta = {k: v for k, v in row.record.items() if k != "text"}
            if outcome and "analysis" in outcome:
                analysed.append((item, (row.record["text"], meta, outcome["analysis"])))
            else:
                item.status = "error"
                item.error = (outcome or {}).get("error", "not analysed")
                failed += 1
            item.record = meta  # the text now lives with the document only
        stored = store_analyses(session, [content for _, content in analysed])
        for (item, _), result in zip(analysed, stored):
            item.status, item.analysis_id = "done", result.analysis_id
        done = len(stored)
        session.execute(
            update(BatchJob).where(BatchJob.id == job_id).values(
                done_rows=BatchJob.done_rows + done,
                error_rows=BatchJob.error_rows + failed,
                heartbeat_at=_now(),
            )
        )
        session.commit()


def process(sessions: sessionmaker[Session], job_id: str, settings: ServiceSettings) -> None:
    """Analyse and store the job's pending items, then mark it done."""
    chunks = chunked(_pending_rows(sessions, job_id, settings.batch_chunk_size * 4),
                     settings.batch_chunk_size)
    for chunk in analyse_rows(chunks, settings.batch_processes):
        _store_chunk(sessions, job_id, chunk)
    with sessions() as session:
        session.execute(
            update(BatchJob).where(BatchJob.id == job_id)
            .values(status="done", finished_at=_now(), heartbeat_at=_now())
        )
        session.commit()


class _Every:
    """Runs ``action`` in a daemon thread every ``seconds`` until stopped; a failed
    round is logged (``what`` names it) and the next one tries again."""

    def __init__(self, name: str, seconds: float, action: Callable[[], object], what: str) -> None:
        self.seconds, self.action, self.what = seconds, action, what
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.action()
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.error("%s: %s", self.what, type(exc).__name__)


class Lease:
    """Keeps a job's heartbeat fresh while this process works on it.

    Another process claims a job only when its heartbeat is older than the
    stale time; renewing it every third of that time, whatever a chunk takes,
    keeps a slow but live job from being claimed and analysed twice.
    """

    def __init__(self, sessions: sessionmaker[Session], job_id: str, every: float) -> None:
        self.sessions, self.job_id = sessions, job_id
        self._renewal = _Every(f"lease-{job_id}", every, self._renew,
                               f"batch {job_id} heartbeat not renewed")

    def __enter__(self) -> Lease:
        self._renewal.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._renewal.stop()

    def _renew(self) -> None:
        with self.sessions() as session:
            session.execute(
                update(BatchJob)
                .where(BatchJob.id == self.job_id, BatchJob.status.in_(ACTIVE))
                .values(heartbeat_at=_now())
            )
            session.commit()


def run_job(
    sessions: sessionmaker[Session],
    job_id: str,
    settings: ServiceSettings,
    upload: dict[str, Any] | None = None,
) -> None:
    """Read the upload (when given) and process the job; any failure marks the job failed."""
    try:
        with Lease(sessions, job_id, settings.batch_stale_seconds / 3):
            if upload is not None and not read_upload(sessions, job_id, settings=settings, **upload):
                return
            process(sessions, job_id, settings)
    except Exception as exc:  # noqa: BLE001 - a background job reports, never raises
        log.error("batch %s stopped: %s", job_id, type(exc).__name__)
        with sessions() as session:
            session.execute(
                update(BatchJob).where(BatchJob.id == job_id)
                .values(status="failed", message="internal error while processing; rows "
                        "finished so far are stored, the others were not analysed",
                        finished_at=_now())
            )
            session.commit()


def start_job(
    sessions: sessionmaker[Session],
    job_id: str,
    settings: ServiceSettings,
    upload: dict[str, Any] | None = None,
) -> threading.Thread:
    thread = threading.Thread(
        target=run_job, args=(sessions, job_id, settings, upload),
        name=f"batch-{job_id}", daemon=True,
    )
    thread.start()
    return thread


def claim_interrupted(
    sessions: sessionmaker[Session], stale_after: dt.timedelta
) -> list[str]:
    """Jobs left unfinished by a stopped server, claimed for this process.

    A running job whose heartbeat is older than ``stale_after`` is claimed by
    moving its heartbeat (compare-and-set, so one server process wins); a job
    stopped while still reading lost its upload and is marked failed.
    """
    cutoff = _now() - stale_after
    claimed: list[str] = []
    with sessions() as session:
        stale = session.execute(
            select(BatchJob.id, BatchJob.status, BatchJob.heartbeat_at).where(
                BatchJob.status.in_(ACTIVE), BatchJob.heartbeat_at < cutoff
            )
        ).all()
    for job_id, status, beat in stale:
        if status == "reading":
            _fail(sessions, job_id, "the service stopped while reading the upload; upload again")
            continue
        with sessions() as session:
            won = session.execute(
                update(BatchJob)
                .where(BatchJob.id == job_id, BatchJob.heartbeat_at == beat)
                .values(heartbeat_at=_now())
            ).rowcount
            session.commit()
        if won:
            claimed.append(job_id)
    return claimed


class ResumeWatch:
    """Resumes interrupted jobs in this process: at once, then every half stale time.

    A job whose server died is claimed by whichever live process looks first,
    without waiting for a restart.
    """

    def __init__(self, sessions: sessionmaker[Session], settings: ServiceSettings) -> None:
        self.sessions, self.settings = sessions, settings
        self._rounds = _Every("batch-resume", settings.batch_stale_seconds / 2, self.resume,
                              "interrupted batches not claimed")

    def resume(self) -> list[str]:
        """Claim the interrupted jobs now and start them; their ids."""
        stale = dt.timedelta(seconds=self.settings.batch_stale_seconds)
        claimed = claim_interrupted(self.sessions, stale)
        for job_id in claimed:
            start_job(self.sessions, job_id, self.settings)
        return claimed

    def start(self) -> None:
        self.resume()
        self._rounds.start()

    def stop(self) -> None:
        self._rounds.stop()


def job_errors(session: Session, job_id: str, limit: int) -> list[dict[str, Any]]:
    items = session.execute(
        select(BatchItem.row, BatchItem.document_id, BatchItem.error)
        .where(BatchItem.batch_id == job_id, BatchItem.status == "error")
        .order_by(BatchItem.row)
        .limit(limit)
    ).all()
    return [{"row": row, "id": doc_id, "message": error} for row, doc_id, error in items]


def pending_count(session: Session, job_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(BatchItem).where(
            BatchItem.batch_id == job_id, BatchItem.status == "pending"
        )
    ) or 0


def result_lines(
    sessions: sessionmaker[Session], job_id: str, fmt: str, page: int = 500
) -> Iterator[str]:
    """The job's results, one line per finished row in row order (CSV: header first)."""
    if fmt == "csv":
        yield csv_header()

    def lines(session: Session, items: Sequence[BatchItem]) -> list[str]:
        analyses = {
            a.id: a
            for a in session.scalars(
                select(Analysis)
                .where(Analysis.id.in_([i.analysis_id for i in items if i.analysis_id]))
                .options(selectinload(Analysis.tags))
            )
        }
        return [
            format_line(
                result_row(item.row, item.record or {},
                           _as_dict(analyses.get(item.analysis_id) if item.analysis_id else None),
                           item.error),
                fmt,
            )
            for item in items
        ]

    for page_lines in _pages(sessions, job_id, False, page, lines):
        yield "".join(page_lines)


def _as_dict(analysis: Analysis | None) -> dict[str, Any] | None:
    if analysis is None:
        return None
    return {
        "labels": analysis.labels,
        "tags": [
            {c: getattr(t, c) for c in ("theme", "polarity", "label", "confidence", "detectors",
                                        "evidence", "start", "end", "cue", "cue_start",
                                        "cue_end", "assertion")}
            for t in analysis.tags
        ],
        "pipeline_version": analysis.pipeline_version,
        "codebook_hash": analysis.codebook_hash,
        "model_hash": analysis.model_hash,
    }
