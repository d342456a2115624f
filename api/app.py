"""The caselens HTTP service: ``create_app()`` builds the FastAPI application.

``caselens serve`` runs it under uvicorn; tests build it with their own settings.
"""
from __future__ import annotations

from fastapi import FastAPI

import nlp
from api.errors import install_error_handlers
from api.routes import health, v1
from api.settings import ServiceSettings, get_settings
from api.storage.db import create_db_engine, migrate, session_factory

DESCRIPTION = """\
Practice-theme tags with evidence for children's social care recordings.

Every route but `/health` needs an API key, sent as `X-API-Key: <key>` or
`Authorization: Bearer <key>`. Roles: auditor, qa_lead, admin.
Text that still holds identifiers is refused (422) unless `redact` is asked for.
"""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The application, with its database migrated to the newest schema."""
    settings = settings or get_settings()
    engine = create_db_engine(settings.database_url)
    migrate(engine)

    app = FastAPI(
        title="caselens",
        version=nlp.__version__,
        description=DESCRIPTION,
        max_body_size=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(v1)
    return app
