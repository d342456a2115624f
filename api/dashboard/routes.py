"""Dashboard pages at ``/``: theme × period heatmap, trend lines, emerging themes, filters and
drill-down to evidence sentences.  Same roles as the aggregate API (QA leads and admins)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.dashboard import auth
from api.dashboard.charts import Cell, heatmap, line_chart
from api.routes.aggregates import filter_params, records
from api.security import verify_key
from api.storage import aggregates as store
from nlp.aggregate import EvidenceQuery, Filters, LabelIndex, period_bounds
from nlp.briefing import theme_title
from nlp.emerging import emerging_table
from nlp.errors import InputError
from nlp.taxonomy import SERVICE_AREAS

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

Polarity = Literal["concern", "strength", "all"]
Freq = Literal["month", "quarter"]
TREND_LINES = 5
PAGE = 50


def label_title(label: str) -> str:
    theme, _, polarity = label.partition(":")
    return f"{theme_title(theme)} ({polarity})"


def _filters(service_area: str, team: str, date_from: str, date_to: str) -> Filters:
    try:
        start = dt.date.fromisoformat(date_from) if date_from else None
        end = dt.date.fromisoformat(date_to) if date_to else None
    except ValueError:
        raise InputError("dates must be ISO dates (YYYY-MM-DD)") from None
    return Filters(start=start, end=end, service_area=(service_area,) if service_area else (),
                   team=(team,) if team else ())


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _forbidden(request: Request, user: auth.DashboardUser) -> Response:
    auth.log_view(request, user, status=403)
    return _page(request, "message.html", {"user": user, "title": "Not allowed",
                                           "message": f"The role {user.role!r} may not use the "
                                                      "dashboard; it is for QA leads and admins."},
                 status=403)


@router.get("/static/dashboard.css", name="dashboard_css")
def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "dashboard.css", media_type="text/css")


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = auth.new_csrf_token()
    response = _page(request, "login.html", {"user": None, "error": error, "csrf": token},
                     status)
    auth.set_login_csrf(request, response, token)
    return response


@router.get("/login", name="dashboard_login")
def login_form(request: Request) -> Response:
    if auth.signed_in(request):
        return RedirectResponse("/", status_code=303)
    return _login_page(request)


@router.post("/login", name="dashboard_login_submit")
def login(request: Request, api_key: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "") -> Response:
    """Exchange an API key for a session cookie; the key must match the form's CSRF cookie."""
    if not auth.login_csrf_ok(request, csrf_token):
        return _login_page(request, "The sign-in form expired; please try again.", 403)
    with request.app.state.sessions() as session:
        key = verify_key(session, api_key.strip())
    if key is None:
        return _login_page(request, "That API key is unknown or revoked.", 401)
    response = RedirectResponse("/", status_code=303)
    auth.start_session(request, response, key)
    return response


@router.post("/logout", name="dashboard_logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    user = auth.signed_in(request)
    if user is not None and not auth.csrf_ok(user, csrf_token):
        return _page(request, "message.html", {"user": user, "title": "Not signed out",
                                               "message": "The form expired; please retry."},
                     status=403)
    response = RedirectResponse("/login", status_code=303)
    auth.end_session(response)
    return response


def _cells(table: Any, freq: str, link: dict[str, str]) -> list[Cell]:
    cells = []
    for row in records(table):
        share = row["doc_share"]
        query = urlencode({"label": row["label"], "period": row[freq], **link})
        cells.append(Cell(row=row["label"], column=row[freq], share=share, docs=row["docs"],
                          total=row["total_docs"],
                          href=f"/evidence?{query}" if share is not None else None))
    return cells


def _emerging(index: LabelIndex, filters: Filters, polarity: str) -> tuple[list[dict], str]:
    try:
        windows, table = emerging_table(index, filters)
    except InputError as exc:
        return [], str(exc)
    rows = [r for r in records(table) if r["tested"]
            and (polarity == "all" or r["polarity"] == polarity)][:12]
    recent = windows.recent_filters(filters)
    for r in rows:
        r["title"] = label_title(r["label"])
        r["href"] = "/evidence?" + urlencode([("label", r["label"]), *filter_params(recent)])
    note = (f"{windows.recent_start:%b %Y}–{windows.recent_end:%b %Y} against "
            f"{windows.baseline_start:%b %Y}–{windows.baseline_end:%b %Y}")
    return rows, note


def _viewer(request: Request) -> auth.DashboardUser | Response:
    """The signed-in user allowed to see the dashboard, or the response that turns them away."""
    user = auth.signed_in(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not user.may_view:
        return _forbidden(request, user)
    return user


def _charts(index: LabelIndex, filters: Filters, polarity: str, freq: str,
            link: dict[str, str]) -> tuple[Markup | None, Markup | None]:
    """The theme × period heatmap (themes by frequency) and lines of the most frequent ones."""
    table = index.trends(freq, filters=filters)
    if polarity != "all":
        table = table[table["polarity"] == polarity]
    overall = table.groupby("label")["docs"].sum()
    labels = overall[overall > 0].sort_values(ascending=False).index.tolist()
    if not labels:
        return None, None
    table = table[table["label"].isin(labels)]
    periods = list(dict.fromkeys(table[freq]))
    shares = table.pivot(index="label", columns=freq, values="doc_share")
    lines = {label: [None if pd.isna(v) else float(v) for v in shares.loc[label, periods]]
             for label in labels[:TREND_LINES]}
    return (heatmap(labels, periods, _cells(table, freq, link), label_title),
            line_chart(periods, lines, label_title))


@router.get("/", name="dashboard")
def dashboard(request: Request, service_area: str = "", team: str = "",
              polarity: Polarity = "concern", freq: Freq = "month", date_from: str = "",
              date_to: str = "") -> Response:
    """Theme × period heatmap, trend lines of the most frequent themes, and rising themes."""
    user = _viewer(request)
    if isinstance(user, Response):
        return user
    filters = _filters(service_area, team, date_from, date_to)
    with request.app.state.sessions() as session:
        index = store.label_index(session)
    link = {k: v for k, v in (("service_area", service_area), ("team", team),
                              ("date_from", date_from), ("date_to", date_to)) if v}
    cells, lines = _charts(index, filters, polarity, freq, link)
    rising, window = _emerging(index, filters, polarity)
    auth.log_view(request, user)
    return _page(request, "dashboard.html", {
        "user": user, "service_areas": SERVICE_AREAS,
        "teams": sorted(index.docs["team"].dropna().unique()),
        "chosen": {"service_area": service_area, "team": team, "polarity": polarity,
                   "freq": freq, "date_from": date_from, "date_to": date_to},
        "documents": index.documents(filters), "heatmap": cells, "lines": lines,
        "rising": rising, "window": window, "area_title": theme_title,
    })


@router.get("/evidence", name="dashboard_evidence")
def evidence_page(request: Request, label: str = "", period: str = "", service_area: str = "",
                  team: str = "", date_from: str = "", date_to: str = "",
                  offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """The evidence sentences behind one heatmap cell or rising theme."""
    user = _viewer(request)
    if isinstance(user, Response):
        return user
    filters = _filters(service_area, team, date_from, date_to)
    if period:
        first, last = period_bounds(period)
        filters = Filters(start=first, end=last, service_area=filters.service_area,
                          team=filters.team)
    with request.app.state.sessions() as session:
        rows = records(store.evidence(session, EvidenceQuery(
            label=label or None, filters=filters, limit=PAGE + 1, offset=offset)))
    more, rows = len(rows) > PAGE, rows[:PAGE]
    auth.log_view(request, user, case_ids=[r["case_id"] for r in rows],
                  document_ids=[r["doc_id"] for r in rows])
    here = {k: v for k, v in (("label", label), ("period", period),
                              ("service_area", service_area), ("team", team),
                              ("date_from", date_from), ("date_to", date_to)) if v}
    back = {k: v for k, v in here.items() if k not in ("label", "period")}
    return _page(request, "evidence.html", {
        "user": user, "label": label, "title": label_title(label) if label else "All themes",
        "period": period, "filters": filters, "rows": rows, "offset": offset,
        "next": "/evidence?" + urlencode({**here, "offset": offset + PAGE}) if more else None,
        "back": "/?" + urlencode(back), "area_title": theme_title,
    })
