"""The QA lead's dashboard: server-rendered pages at ``/`` (see ``routes``)."""
from __future__ import annotations

from api.dashboard.routes import router

__all__ = ["router"]
