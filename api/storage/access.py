"""The access log: who read or wrote which case, and when. Never text."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from api.storage.models import AccessLog


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


def write_access(sessions: sessionmaker[Session], record: AccessRecord) -> None:
    """Write ``record`` in its own transaction, so it survives the request failing.

    A plain Core insert on the sessions' engine: it runs on every request, and
    skipping the ORM unit of work makes it several times cheaper.
    """
    engine = sessions.kw["bind"]
    with engine.begin() as connection:
        connection.execute(
            insert(AccessLog),
            {
                "at": dt.datetime.now(dt.UTC),
                "key_id": record.key_id,
                "action": record.action,
                "method": record.method,
                "path": record.path[:300],
                "status": record.status,
                "case_ids": sorted(record.case_ids),
                "document_ids": sorted(record.document_ids),
            },
        )


def recent_access(
    session: Session, *, limit: int = 100, key_id: str | None = None
) -> Sequence[AccessLog]:
    """Newest entries first, optionally only those of one key."""
    query = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)
    if key_id is not None:
        query = query.where(AccessLog.key_id == key_id)
    return session.scalars(query).all()
