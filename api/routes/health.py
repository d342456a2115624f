"""``GET /health``: liveness; the one route without a key.

It runs on the event loop and touches neither the database nor the
analysis threads, so it answers promptly while analyses keep the CPU busy.
"""
from __future__ import annotations

from fastapi import APIRouter

import nlp

router = APIRouter(tags=["health"])


@router.get("/health", name="health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": nlp.__version__}
