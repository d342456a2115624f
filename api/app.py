"""The caselens HTTP service: ``create_app()`` builds the FastAPI application.

``caselens serve`` runs it under uvicorn; tests build it with their own settings.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

import nlp
from api import dashboard
from api.batch.jobs import ResumeWatch
from api.errors import install_error_handlers
from api.routes import api_v1, health
from api.security import KeyCache
from api.settings import ServiceSettings, get_settings
from api.storage.access import access_writer
from api.storage.db import create_db_engine, migrate, session_factory

DESCRIPTION = """\
Practice-theme tags with evidence for children's social care recordings.

Every route but `/health` needs an API key, sent as `X-API-Key: <key>` or
`Authorization: Bearer <key>`. Roles: auditor, qa_lead, admin.
Text that still holds identifiers is refused (422) unless `redact` is asked for.
"""


log = logging.getLogger("caselens.api")

#: A short synthetic note analysed once at start-up, so the first request a
#: worker gets does not pay for loading the pipeline and model.
_WARM_UP_TEXT = "The plan was reviewed in supervision."


def _warm_up() -> None:
    try:
        nlp.analyse(_WARM_UP_TEXT)
    except Exception as exc:  # the routes report it (503) when asked; start anyway
        log.error("analysis pipeline not loaded at start-up: %s", type(exc).__name__)


def _analysis_pool(settings: ServiceSettings) -> ThreadPoolExecutor:
    """The threads that run analyses for the async routes (``CASELENS_ANALYSIS_THREADS``)."""
    return ThreadPoolExecutor(settings.analysis_threads, thread_name_prefix="caselens-analysis")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On start, load the analysis pipeline and resume batch jobs a stopped server left
    unfinished (and, while running, those of any server that stops); on stop, finish
    the analyses under way and write the queued access-log rows before the engine closes."""
    settings: ServiceSettings = app.state.settings
    if app.state.analysis_pool is None:  # started again after a stop
        app.state.analysis_pool = _analysis_pool(settings)
    await asyncio.get_running_loop().run_in_executor(app.state.analysis_pool, _warm_up)
    watch = ResumeWatch(app.state.sessions, settings)
    watch.start()
    yield
    watch.stop()
    pool, app.state.analysis_pool = app.state.analysis_pool, None
    pool.shutdown(wait=True)
    app.state.access_writer.close()
    app.state.engine.dispose()


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
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.key_cache = KeyCache(settings.key_cache_seconds)
    app.state.access_writer = access_writer(engine, settings.access_log_flush_seconds)
    app.state.analysis_pool = _analysis_pool(settings)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api_v1(settings))
    app.include_router(dashboard.router)
    return app
