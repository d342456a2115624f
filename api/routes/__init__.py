"""The API's routers, one per resource, joined under ``/v1`` in one place."""
from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    access_log,
    aggregates,
    analyse,
    batches,
    cases,
    documents,
    feedback,
    prescreen,
    reports,
    themes,
)
from api.settings import ServiceSettings


def api_v1(settings: ServiceSettings) -> APIRouter:
    """Every ``/v1`` route; batch uploads get their own, larger body limit."""
    v1 = APIRouter(prefix="/v1")
    for module in (analyse, documents, cases, prescreen, feedback, themes, access_log,
                   aggregates, reports):
        v1.include_router(module.router)
    v1.include_router(batches.router, max_body_size=settings.max_upload_bytes)
    return v1
