"""``GET /v1/access-log``: who read or wrote which case, and when (admins only)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep, require
from api.schemas import AccessLogEntry
from api.security import Permission
from api.storage.access import AccessRecord, recent_access

router = APIRouter(tags=["access log"])


@router.get("/access-log", response_model=list[AccessLogEntry], name="access_log")
def access_log(
    session: SessionDep,
    _access: Annotated[AccessRecord, Depends(require(Permission.access_log))],
    key_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[AccessLogEntry]:
    return [
        AccessLogEntry.model_validate(row, from_attributes=True)
        for row in recent_access(session, limit=limit, key_id=key_id)
    ]
