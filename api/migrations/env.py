"""Alembic environment of the caselens store.

The service runs migrations itself (``api.storage.db.migrate``) and hands the
open connection in ``config.attributes["connection"]``; run by hand, the URL
comes from the service settings (``CASELENS_DATABASE_URL``).
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from api.storage.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from api.settings import get_settings
    from api.storage.db import create_db_engine

    engine = create_db_engine(get_settings().database_url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("caselens migrations run online only")
run_migrations_online()
