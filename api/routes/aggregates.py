"""``/v1/aggregates/…``: prevalence, trends, co-occurrence, emerging themes, candidate themes
and the evidence behind any cell. QA leads and admins only.

Every route takes the same document filters (``date_from``, ``date_to`` and
repeatable ``service_area``, ``team``, ``doc_type``, ``grade``).
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request

from api.aggregate_schemas import (
    CandidateThemeOut,
    CooccurrenceOut,
    CooccurrenceRow,
    EmergingOut,
    EmergingRow,
    EvidenceOut,
    EvidenceRow,
    FiltersOut,
    PrevalenceOut,
    PrevalenceRow,
    UnassignedOut,
    WindowsOut,
)
from api.deps import SessionDep, require
from api.errors import ApiError
from api.schemas import DocType, Grade, Label, ServiceArea
from api.security import Permission
from api.storage import aggregates as store
from api.storage.access import AccessRecord
from nlp import emerging as emerging_lib
from nlp.aggregate import EvidenceQuery, Filters, period_bounds
from nlp.taxonomy import THEMES
from nlp.unassigned import candidate_themes, uncovered_sentences

router = APIRouter(prefix="/aggregates", tags=["aggregates"])

Grouping = Literal["month", "quarter", "year", "service_area", "team", "doc_type", "grade"]
Period = Literal["month", "quarter", "year"]
Theme = Literal[THEMES]  # type: ignore[valid-type]
AggregateAccess = Annotated[AccessRecord, Depends(require(Permission.aggregates))]
EMERGING_METHOD = ("documents with the label, recent window against baseline window; "
                   "one-sided Fisher's exact test; Benjamini–Hochberg across labels with "
                   "recent_docs >= min_support; Newcombe interval for the difference")


def document_filters(
    date_from: Annotated[dt.date | None, Query(description="first recording date, ISO")] = None,
    date_to: Annotated[dt.date | None, Query(description="last recording date, ISO")] = None,
    service_area: Annotated[list[ServiceArea] | None, Query()] = None,
    team: Annotated[list[str] | None, Query()] = None,
    doc_type: Annotated[list[DocType] | None, Query()] = None,
    grade: Annotated[list[Grade] | None, Query()] = None,
) -> Filters:
    """The documents an aggregate is computed over."""
    if date_from and date_to and date_from > date_to:
        raise ApiError(422, "date_from is after date_to")
    return Filters(start=date_from, end=date_to, service_area=tuple(service_area or ()),
                   team=tuple(team or ()), doc_type=tuple(doc_type or ()),
                   grade=tuple(grade or ()))


FiltersDep = Annotated[Filters, Depends(document_filters)]


def filters_out(filters: Filters) -> FiltersOut:
    return FiltersOut(date_from=filters.start, date_to=filters.end,
                      service_area=list(filters.service_area), team=list(filters.team),
                      doc_type=list(filters.doc_type), grade=list(filters.grade))


def filter_params(filters: Filters) -> list[tuple[str, str]]:
    """``filters`` as query parameters, for links to other routes and pages."""
    params = [(name, str(value)) for name, value in (("date_from", filters.start),
                                                     ("date_to", filters.end)) if value]
    return params + [(name, v) for name, values in filters.meta_items() for v in values]


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with NaN and NaT as None and numpy scalars as Python ones."""
    rows = table.astype(object).to_dict("records")
    return [{k: (None if _missing(v) else v.date() if isinstance(v, pd.Timestamp)
                 else v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in rows]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def prevalence_rows(table: pd.DataFrame, by: list[str]) -> list[PrevalenceRow]:
    return [PrevalenceRow(group={g: str(row.pop(g)) for g in by}, **row)
            for row in records(table)]


def evidence_rows(table: pd.DataFrame) -> list[EvidenceRow]:
    return [EvidenceRow(**row) for row in records(table)]


def touch_evidence(access: AccessRecord, rows: list[EvidenceRow]) -> None:
    """Note in the access log the cases and documents whose sentences a response shows."""
    access.touch(case_ids=[r.case_id for r in rows], document_ids=[r.doc_id for r in rows])


@router.get("/prevalence", response_model=PrevalenceOut, name="aggregate_prevalence")
def prevalence(
    session: SessionDep,
    _access: AggregateAccess,
    filters: FiltersDep,
    by: Annotated[list[Grouping] | None, Query(description="repeat to group by several")] = None,
    label: Annotated[list[Label] | None, Query(description="only these labels")] = None,
) -> PrevalenceOut:
    """For every label: documents and distinct cases with it, and their shares, per group."""
    groups = list(dict.fromkeys(by or []))
    table = store.label_index(session).prevalence(groups, filters, label)
    return PrevalenceOut(by=groups, filters=filters_out(filters),
                         rows=prevalence_rows(table, groups))


@router.get("/trends", response_model=PrevalenceOut, name="aggregate_trends")
def trends(
    session: SessionDep,
    _access: AggregateAccess,
    filters: FiltersDep,
    freq: Period = "month",
    by: Annotated[list[Grouping] | None, Query(description="series per group")] = None,
    label: Annotated[list[Label] | None, Query()] = None,
) -> PrevalenceOut:
    """A time series per label (and group); periods without documents have null shares."""
    groups = list(dict.fromkeys(by or []))
    table = store.label_index(session).trends(freq, groups, filters, label)
    keys = [freq, *groups]
    return PrevalenceOut(by=keys, filters=filters_out(filters), rows=prevalence_rows(table, keys))


@router.get("/cooccurrence", response_model=CooccurrenceOut, name="aggregate_cooccurrence")
def cooccurrence(
    session: SessionDep,
    _access: AggregateAccess,
    filters: FiltersDep,
    min_count: Annotated[int, Query(ge=1)] = 1,
) -> CooccurrenceOut:
    """Label pairs in the same document, with lift and Jaccard index, highest lift first."""
    index = store.label_index(session)
    table = index.cooccurrence(filters, min_count)
    return CooccurrenceOut(documents=index.documents(filters), filters=filters_out(filters),
                           rows=[CooccurrenceRow(**r) for r in records(table)])


@router.get("/evidence", response_model=EvidenceOut, name="aggregate_evidence")
def evidence(
    session: SessionDep,
    access: AggregateAccess,
    filters: FiltersDep,
    label: Label | None = None,
    theme: Theme | None = None,
    period: Annotated[str | None, Query(description="2025-03, 2025Q1 or 2025; narrows the "
                                                    "dates to that period")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EvidenceOut:
    """The evidence sentences behind any aggregate cell, newest first."""
    if period is not None:
        first, last = period_bounds(period)
        filters = Filters(start=max(filter(None, (first, filters.start))),
                          end=min(filter(None, (last, filters.end))),
                          service_area=filters.service_area, team=filters.team,
                          doc_type=filters.doc_type, grade=filters.grade)
    rows = evidence_rows(store.evidence(session, EvidenceQuery(
        label=label, theme=theme, filters=filters, limit=limit, offset=offset)))
    touch_evidence(access, rows)
    return EvidenceOut(label=label, theme=theme, filters=filters_out(filters), limit=limit,
                       offset=offset, rows=rows)


@router.get("/emerging", response_model=EmergingOut, name="aggregate_emerging")
def emerging(
    request: Request,
    session: SessionDep,
    access: AggregateAccess,
    filters: FiltersDep,
    recent_months: Annotated[int, Query(ge=1, le=120, description="months with documents in "
                                                                 "the recent window")] = 3,
    recent_from: dt.date | None = None,
    recent_to: dt.date | None = None,
    baseline_from: dt.date | None = None,
    baseline_to: dt.date | None = None,
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    min_support: Annotated[int, Query(ge=1)] = 5,
    examples: Annotated[int, Query(ge=0, le=10)] = 3,
) -> EmergingOut:
    """Labels whose share of documents in a recent window is significantly above a baseline.

    By default the last ``recent_months`` calendar months present in the selected
    documents against all earlier months; give all four window dates to choose.
    """
    explicit = (recent_from, recent_to, baseline_from, baseline_to)
    if any(explicit) and not all(explicit):
        raise ApiError(422, "give all of recent_from, recent_to, baseline_from, baseline_to "
                            "or none of them")
    chosen = emerging_lib.Windows(*explicit) if all(explicit) else None  # type: ignore[arg-type]
    compared, table = emerging_lib.emerging_table(store.label_index(session), filters, chosen,
                                                  recent_months, alpha, min_support)
    recent = compared.recent_filters(filters)
    link = request.app.url_path_for("aggregate_evidence")
    results = []
    for row in records(table):
        shown: list[EvidenceRow] = []
        if row["flagged"] and examples:
            shown = evidence_rows(store.evidence(session, EvidenceQuery(
                label=row["label"], filters=recent, limit=examples)))
            touch_evidence(access, shown)
        query = urlencode([("label", row["label"]), *filter_params(recent)])
        results.append(EmergingRow(**row, evidence_url=f"{link}?{query}", examples=shown))
    return EmergingOut(
        windows=WindowsOut(recent_from=compared.recent_start, recent_to=compared.recent_end,
                           baseline_from=compared.baseline_start,
                           baseline_to=compared.baseline_end),
        alpha=alpha, min_support=min_support, method=EMERGING_METHOD,
        filters=filters_out(filters), results=results)


@router.get("/unassigned", response_model=UnassignedOut, name="aggregate_unassigned")
def unassigned(
    session: SessionDep,
    access: AggregateAccess,
    filters: FiltersDep,
    max_documents: Annotated[int, Query(ge=1, le=20_000, description="newest documents read")]
    = 2000,
    min_cluster_size: Annotated[int, Query(ge=2, le=500)] = 5,
    examples: Annotated[int, Query(ge=1, le=10)] = 3,
) -> UnassignedOut:
    """Concern-like sentences no theme covers, clustered into candidate codebook themes."""
    texts, spans = store.load_texts(session, filters, max_documents)
    sentences = uncovered_sentences(texts, spans)
    themes = candidate_themes(sentences, min_cluster_size=min_cluster_size, n_examples=examples)
    access.touch(document_ids=[str(e["doc_id"]) for t in themes for e in t.examples])
    return UnassignedOut(
        documents=len(texts), sentences=len(sentences), filters=filters_out(filters),
        themes=[CandidateThemeOut(name=t.name, terms=t.terms, size=t.size,
                                  documents=t.documents, examples=t.examples) for t in themes])
