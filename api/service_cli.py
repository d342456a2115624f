"""Service commands of the ``caselens`` CLI: ``serve``, ``keys`` and ``batch``.

``register(app)`` adds them to the Typer app in ``api.cli``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

import nlp
from api.security import Role, create_key, list_keys, revoke_key
from api.settings import get_settings
from api.storage.db import create_db_engine, migrate, session_factory
from nlp.errors import InputError

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
err = Console(stderr=True)


def _sessions() -> sessionmaker[Session]:
    engine = create_db_engine(get_settings().database_url)
    migrate(engine)
    return session_factory(engine)


def serve(
    host: Annotated[str | None, typer.Option(help="default: CASELENS_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: CASELENS_PORT")] = None,
    workers: Annotated[int | None, typer.Option(help="default: CASELENS_WORKERS")] = None,
) -> None:
    """Run the HTTP API (OpenAPI page at /docs)."""
    import uvicorn

    settings = get_settings()
    _sessions()  # migrate once here, before worker processes start
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
        log_level="info",
        access_log=False,  # the service keeps its own access log, without query strings
    )


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="auditor, qa_lead or admin")],
    name: Annotated[str, typer.Option(help="who or what the key is for")] = "",
) -> None:
    """Create a key and print it once; only its hash is stored."""
    with _sessions()() as session:
        key = create_key(session, role, name)
    err.print(f"key {key.id} ({key.role.value}) created; it is shown once, store it now:")
    typer.echo(key.token)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids, roles, names, dates), never the keys themselves."""
    table = Table("id", "role", "name", "created", "revoked")
    with _sessions()() as session:
        for key in list_keys(session):
            table.add_row(
                key.id, key.role, key.name, f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (see keys list)")]) -> None:
    """Revoke a key; a running service refuses it (401) within CASELENS_KEY_CACHE_SECONDS."""
    with _sessions()() as session:
        if not revoke_key(session, key_id):
            err.print(f"no key {key_id!r}")
            raise typer.Exit(1)
    err.print(f"key {key_id} revoked")


def _parse_mapping(pairs: list[str]) -> dict[str, str] | None:
    if not pairs:
        return None
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column or not field:
            raise typer.BadParameter(f"{pair!r} is not COLUMN=FIELD", param_hint="--map")
        mapping[column] = field
    return mapping


def batch(
    source: Annotated[Path, typer.Argument(help="CSV, JSON Lines or XLSX file", exists=True,
                                           dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="results file, .jsonl or .csv")],
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="COLUMN=FIELD, repeatable (fields: id, text, case_id, date, "
        "service_area, team, doc_type, grade); default: columns named like the fields")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or xlsx "
                                            "(default: from the file name)")] = None,
    processes: Annotated[int | None, typer.Option(
        min=1, help="worker processes (default: CASELENS_BATCH_PROCESSES)")] = None,
    chunk_size: Annotated[int | None, typer.Option(min=1, help="rows per worker task")] = None,
    redact: Annotated[bool, typer.Option(help="redact identifiers instead of refusing rows")]
    = False,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Analyse a file into OUT; re-running after an interruption resumes where it stopped."""
    from api.batch.local import run_local_batch

    settings = get_settings()
    try:
        summary = run_local_batch(
            source, out,
            fmt=fmt,
            mapping=_parse_mapping(map_ or []),
            processes=processes or settings.batch_processes,
            chunk_size=chunk_size or settings.batch_chunk_size,
            redact=redact,
            max_text_chars=settings.max_text_chars,
            progress=progress,
        )
    except InputError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    err.print(
        f"{summary.ok} analysed, {summary.errors} rows with errors, "
        f"{summary.skipped} already done → {summary.out}"
    )


def evaluate_feedback(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    errors: Annotated[int, typer.Option(min=0, help="How many worst errors to list.")] = 15,
) -> None:
    """Score caselens against auditors' feedback in the database (CASELENS_DATABASE_URL).

    Gold labels are each reviewed document's predicted labels corrected by the
    feedback: confirmed and added labels kept, rejected ones removed.
    """
    import json

    from api.cli import print_report
    from api.storage.feedback import feedback_gold
    from nlp.evaluate import evaluate as run_evaluation

    with _sessions()() as session:
        gold = list(feedback_gold(session))
    if not gold:
        err.print("no feedback in the database yet")
        raise typer.Exit(1)
    report = run_evaluation(
        gold, lambda r: nlp.analyse(r["text"], **{k: v for k, v in r.items()
                                                  if k not in ("text", "labels")})
    )
    summary = report.to_dict(errors)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    print_report(summary, f"feedback in the database ({summary['documents']} documents)")


def register(app: typer.Typer) -> None:
    """Add the service commands to the ``caselens`` app."""
    app.command("serve")(serve)
    app.command("batch")(batch)
    app.command("evaluate-feedback")(evaluate_feedback)
    app.add_typer(keys_app, name="keys")
