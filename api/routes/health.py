"""``GET /health``: liveness and database reachability; the one route without a key."""
from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

import nlp
from api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health", name="health")
def health(session: SessionDep) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok", "version": nlp.__version__}
