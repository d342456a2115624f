"""The API's routers, one per resource, joined under ``/v1`` in one place."""
from __future__ import annotations

from fastapi import APIRouter

from api.routes import access_log, analyse, cases, documents, feedback, prescreen, themes

v1 = APIRouter(prefix="/v1")
for module in (analyse, documents, cases, prescreen, feedback, themes, access_log):
    v1.include_router(module.router)
