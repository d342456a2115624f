"""``caselens report``: the scrutiny-board briefing from a batch results file or the store.

``register(app)`` adds the command to the Typer app in ``api.cli``.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from nlp.aggregate import Filters, Frames, read_results_jsonl
from nlp.briefing import build_briefing, render_briefing
from nlp.errors import CaselensError


class Format(str, Enum):
    markdown = "markdown"
    html = "html"


class Period(str, Enum):
    month = "month"
    quarter = "quarter"
    year = "year"


def _from_store(filters: Filters) -> Frames:
    from api.settings import get_settings
    from api.storage import aggregates as store
    from api.storage.db import create_db_engine, migrate, session_factory

    engine = create_db_engine(get_settings().database_url)
    migrate(engine)
    with session_factory(engine)() as session:
        return store.load_frames(session, filters)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date", param_hint=option) from None


def report(
    results: Annotated[Path | None, typer.Option(
        "--results", exists=True, dir_okay=False,
        help="batch results JSONL (one analysis a line); default: the documents in the store "
             "(CASELENS_DATABASE_URL)")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write here, not stdout")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Markdown or HTML")] = Format.markdown,
    period: Annotated[Period, typer.Option(
        help="columns of the over-time tables")] = Period.quarter,
    recent_months: Annotated[int, typer.Option(
        min=1, help="months with documents in the 'rising' window")] = 3,
    title: Annotated[str, typer.Option(
        help="heading of the briefing")] = "Practice themes briefing",
    date_from: Annotated[str | None, typer.Option(help="first recording date, ISO")] = None,
    date_to: Annotated[str | None, typer.Option(help="last recording date, ISO")] = None,
    service_area: Annotated[list[str] | None, typer.Option(help="repeat for several")] = None,
    team: Annotated[list[str] | None, typer.Option(help="repeat for several")] = None,
) -> None:
    """Write the scrutiny-board briefing as Markdown or HTML.

    Headline themes; strengths and areas for development per service area with
    evidence quotes; what is rising; themes over time and by grade; audit grades.
    """
    filters = Filters(start=_date(date_from, "--date-from"), end=_date(date_to, "--date-to"),
                      service_area=tuple(service_area or ()), team=tuple(team or ()))
    try:
        frames = read_results_jsonl(results) if results else _from_store(filters)
        briefing = build_briefing(frames, filters, title=title, period=period.value,
                                  recent_months=recent_months)
    except CaselensError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    text = render_briefing(briefing, fmt.value)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({briefing.documents} documents)", err=True)


def register(app: typer.Typer) -> None:
    """Add ``report`` to the ``caselens`` app."""
    app.command("report")(report)
