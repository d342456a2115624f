"""The access log: who read or wrote which case, and when. Never text.

Rows are written by an ``AccessLogWriter``, one per database engine. With a
flush interval above zero (``CASELENS_ACCESS_LOG_FLUSH_SECONDS``) the writer
queues each request's row and a background thread inserts the queue in one
transaction at that interval, so a request does not wait for a commit and
several worker processes do not take the database's write lock once per
request. No row is dropped: ``flush()`` runs before this process reads the
log, on a failed insert the rows go back on the queue for the next try, and
``close()`` (the service's shutdown) and interpreter exit write what is left.
With an interval of zero each row is written at once, in its own transaction.
"""
from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from api.storage.models import AccessLog

log = logging.getLogger("caselens.api")


@dataclass
class AccessRecord:
    """One request's entry, filled in by the route as it learns the ids it touches."""

    key_id: str | None
    action: str
    method: str
    path: str
    status: int = 200
    case_ids: set[str] = field(default_factory=set)
    document_ids: set[str] = field(default_factory=set)

    def touch(
        self, *, case_ids: Sequence[str | None] = (), document_ids: Sequence[str | None] = ()
    ) -> None:
        self.case_ids.update(c for c in case_ids if c)
        self.document_ids.update(d for d in document_ids if d)

    def row(self) -> dict[str, Any]:
        """The table row, stamped now (when the request ended, not when it is flushed)."""
        return {
            "at": dt.datetime.now(dt.UTC),
            "key_id": self.key_id,
            "action": self.action,
            "method": self.method,
            "path": self.path[:300],
            "status": self.status,
            "case_ids": sorted(self.case_ids),
            "document_ids": sorted(self.document_ids),
        }


class AccessLogWriter:
    """Writes access-log rows for one engine, at once or in timed batches."""

    def __init__(self, engine: Engine, flush_seconds: float = 0.0, max_batch: int = 1000) -> None:
        self._engine = weakref.ref(engine)  # the registry below must not keep engines alive
        self.flush_seconds = flush_seconds
        self.max_batch = max_batch
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards _pending and _thread
        self._flush_lock = threading.Lock()  # one insert at a time, in queue order
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def deferred(self) -> bool:
        """Whether ``submit`` only queues the row (it never waits for the database)."""
        return self.flush_seconds > 0 and not self._closed

    def submit(self, record: AccessRecord) -> None:
        row = record.row()
        if not self.deferred:
            self._insert([row])
            return
        with self._lock:
            self._pending.append(row)
            size = len(self._pending)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="caselens-access-log", daemon=True
                )
                self._thread.start()
        if size >= self.max_batch:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> None:
        """Write every queued row now; on failure they stay queued and the error is raised."""
        with self._flush_lock:
            with self._lock:
                rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                self._insert(rows)
            except BaseException:
                with self._lock:
                    self._pending[:0] = rows
                raise

    def close(self) -> None:
        """Stop the background thread and write what is left (the service's shutdown)."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self.flush()

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        engine = self._engine()
        if engine is None:
            raise RuntimeError(f"{len(rows)} access-log rows outlived their database engine")
        with engine.begin() as connection:
            connection.execute(insert(AccessLog), rows)

    def _run(self) -> None:
        """Flush every ``flush_seconds`` while rows arrive; end when the queue stays empty."""
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # kept queued; the next round tries again
                log.error("access log not written yet (%s); will retry", type(exc).__name__)
            with self._lock:
                if self._closed or self._thread is not threading.current_thread():
                    return
                if not self._pending:
                    self._thread = None
                    return


_writers: weakref.WeakKeyDictionary[Engine, AccessLogWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def access_writer(engine: Engine, flush_seconds: float | None = None) -> AccessLogWriter:
    """The writer of ``engine``'s access log; ``flush_seconds`` configures a new one."""
    with _writers_lock:
        writer = _writers.get(engine)
        if writer is None:
            writer = AccessLogWriter(engine, flush_seconds or 0.0)
            _writers[engine] = writer
        return writer


@atexit.register
def _flush_all_at_exit() -> None:
    for writer in list(_writers.values()):
        try:
            writer.close()
        except Exception as exc:
            log.error("access log rows not written at exit (%s)", type(exc).__name__)


def write_access(sessions: sessionmaker[Session], record: AccessRecord) -> None:
    """Log ``record`` in its own transaction, so it survives the request failing.

    A plain Core insert (no ORM unit of work), through the engine's writer:
    queued when the writer defers, else written at once.
    """
    access_writer(sessions.kw["bind"]).submit(record)


def recent_access(
    session: Session, *, limit: int = 100, key_id: str | None = None
) -> Sequence[AccessLog]:
    """Newest entries first, optionally only those of one key.

    Rows this process has queued are written first, so they are all seen.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind in _writers:
        _writers[bind].flush()
    query = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)
    if key_id is not None:
        query = query.where(AccessLog.key_id == key_id)
    return session.scalars(query).all()
