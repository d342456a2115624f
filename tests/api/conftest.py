"""Fixtures of the service tests: a migrated database (SQLite, and PostgreSQL when
``CASELENS_TEST_POSTGRES_URL`` is set), the real app behind a TestClient, and keys per role."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.security import Role, create_key
from api.settings import ServiceSettings

POSTGRES_URL = os.environ.get("CASELENS_TEST_POSTGRES_URL")

def reset_postgres(url: str) -> None:
    """Empty the test database: every test starts from a fresh migration."""
    engine = create_engine(url)
    with engine.begin() as conn:
        # connections an earlier test left open must not hold locks the drop needs;
        # only our own clients: the server's autovacuum workers may not be ended by us
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND usename = current_user AND backend_type = 'client backend'"
        ))
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not POSTGRES_URL, reason="CASELENS_TEST_POSTGRES_URL not set"),
            ],
        ),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'caselens.sqlite'}"
    assert POSTGRES_URL
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., ServiceSettings]:
    def make(**overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "batch_processes": 1,
            "batch_chunk_size": 4,
        }
        values.update(overrides)
        return ServiceSettings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., ServiceSettings]) -> ServiceSettings:
    return make_settings()


def close_app(application: FastAPI) -> None:
    """What the service's shutdown does: write queued access-log rows, close connections."""
    application.state.access_writer.close()
    application.state.engine.dispose()


@pytest.fixture
def make_app() -> Iterator[Callable[[ServiceSettings], FastAPI]]:
    """Apps made in a test, each shut down when the test ends."""
    made: list[FastAPI] = []

    def make(settings: ServiceSettings) -> FastAPI:
        made.append(create_app(settings))
        return made[-1]

    yield make
    for application in made:
        close_app(application)


@pytest.fixture
def app(settings: ServiceSettings, make_app: Callable[[ServiceSettings], FastAPI]) -> FastAPI:
    return make_app(settings)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture
def tokens(app: FastAPI) -> dict[str, str]:
    """One active key per role: role name → key."""
    with app.state.sessions() as session:
        return {role.value: create_key(session, role, f"test {role.value}").token for role in Role}


@pytest.fixture
def auth(tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """Request headers carrying the key of a role."""
    return lambda role: {"X-API-Key": tokens[role]}
