"""``GET /v1/reports/briefing``: the scrutiny-board briefing as Markdown or HTML."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from api.deps import SessionDep
from api.routes.aggregates import AggregateAccess, FiltersDep, Period
from api.storage import aggregates as store
from nlp.briefing import build_briefing, render_briefing

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/briefing", name="report_briefing", response_class=PlainTextResponse,
            responses={200: {"content": {"text/markdown": {}, "text/html": {}}}})
def briefing(
    session: SessionDep,
    _access: AggregateAccess,
    filters: FiltersDep,
    format: Literal["markdown", "html"] = "markdown",
    period: Annotated[Period, Query(description="columns of the over-time tables")] = "quarter",
    recent_months: Annotated[int, Query(ge=1, le=120)] = 3,
    title: Annotated[str, Query(max_length=200)] = "Practice themes briefing",
) -> Response:
    """Headline themes, strengths and areas for development per service area with
    evidence quotes, what is rising, themes over time and by grade, and audit grades."""
    report = build_briefing(store.load_frames(session, filters), filters, title=title,
                            period=period, recent_months=recent_months)
    text = render_briefing(report, format)
    if format == "html":
        return HTMLResponse(text)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
