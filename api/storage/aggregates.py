"""Reads behind the aggregate routes: filtering and counting in SQL, statistics in ``nlp``.

The database does what it is good at over millions of tags — select the
documents, join their *current* tags and count documents and distinct cases per
group and label — and returns small tables in the shapes that
``nlp.aggregate`` and ``nlp.emerging`` finish (shares, zero-filling, tests).
A document without a case id counts as its own case, as in ``nlp.aggregate``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    cast,
    distinct,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from api.storage.models import Analysis, Document, Tag
from nlp.aggregate import (
    DOC_COLUMNS,
    NOT_RECORDED,
    TAG_COLUMNS,
    TIME_GROUPINGS,
    EvidenceQuery,
    Filters,
    Frames,
    complete_periods,
    cooccurrence_from_pairs,
    prevalence_from_counts,
)
from nlp.emerging import Windows, assemble_counts, default_windows
from nlp.errors import InputError

_CASE = func.coalesce(Document.case_id, Document.id)
_CURRENT = Document.current_analysis_id == Tag.analysis_id


def _where(filters: Filters | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Document.current_analysis_id.is_not(None)]
    if filters is None:
        return conditions
    if filters.start is not None:
        conditions.append(Document.date >= filters.start)
    if filters.end is not None:
        conditions.append(Document.date <= filters.end)
    for column, values in filters.meta_items():
        conditions.append(getattr(Document, column).in_(values))
    return conditions


def _period(dialect: str, grouping: str) -> ColumnElement[Any]:
    """``YYYY-MM`` / ``YYYYQn`` / ``YYYY`` of the document date, as pandas writes them."""
    if dialect == "postgresql":
        formats = {"month": "YYYY-MM", "quarter": 'YYYY"Q"Q', "year": "YYYY"}
        return func.to_char(Document.date, formats[grouping])
    if grouping == "quarter":
        quarter = (cast(func.strftime("%m", Document.date), Integer) + 2) // 3
        return func.strftime("%Y", Document.date) + literal("Q") + cast(quarter, String)
    return func.strftime("%Y-%m" if grouping == "month" else "%Y", Document.date)


def _group_columns(session: Session, by: Sequence[str]) -> list[ColumnElement[Any]]:
    dialect = session.get_bind().dialect.name
    return [(_period(dialect, g) if g in TIME_GROUPINGS
             else func.coalesce(getattr(Document, g), NOT_RECORDED)).label(g) for g in by]


def _frame(session: Session, statement: Select[Any], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(statement).all(), columns=list(columns))


def _grouped(session: Session, by: Sequence[str],
             filters: Filters | None) -> tuple[list[ColumnElement[Any]], list[ColumnElement[bool]]]:
    conditions = _where(filters)
    if any(g in TIME_GROUPINGS for g in by):
        conditions.append(Document.date.is_not(None))
    return _group_columns(session, by), conditions


def totals(session: Session, by: Sequence[str], filters: Filters | None) -> pd.DataFrame:
    """Documents and distinct cases per group: ``[*by, total_docs, total_cases]``."""
    groups, conditions = _grouped(session, by, filters)
    statement = (select(*groups, func.count(Document.id), func.count(distinct(_CASE)))
                 .where(and_(*conditions)).group_by(*groups))
    return _frame(session, statement, [*by, "total_docs", "total_cases"])


def label_counts(session: Session, by: Sequence[str], filters: Filters | None,
                 labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Documents and distinct cases per group and label: ``[*by, label, docs, cases]``."""
    groups, conditions = _grouped(session, by, filters)
    if labels:
        conditions.append(Tag.label.in_(labels))
    statement = (select(*groups, Tag.label, func.count(distinct(Document.id)),
                        func.count(distinct(_CASE)))
                 .select_from(Tag).join(Document, _CURRENT)
                 .where(and_(*conditions)).group_by(*groups, Tag.label))
    return _frame(session, statement, [*by, "label", "docs", "cases"])


def prevalence(session: Session, by: Sequence[str], filters: Filters | None,
               labels: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`nlp.aggregate.prevalence` computed in the database."""
    return prevalence_from_counts(label_counts(session, by, filters, labels),
                                  totals(session, by, filters), list(by), labels)


def trends(session: Session, freq: str, by: Sequence[str], filters: Filters | None,
           labels: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`nlp.aggregate.trends` computed in the database."""
    if freq not in TIME_GROUPINGS or freq in by:
        raise InputError(f"freq must be one of {', '.join(TIME_GROUPINGS)} and not a grouping")
    keys = [freq, *by]
    group_totals = complete_periods(totals(session, keys, filters), freq, list(by))
    return prevalence_from_counts(label_counts(session, keys, filters, labels), group_totals,
                                  keys, labels)


def cooccurrence(session: Session, filters: Filters | None, min_count: int = 1) -> pd.DataFrame:
    """:func:`nlp.aggregate.cooccurrence` over the selected documents' current tags."""
    conditions = _where(filters)
    pairs = _frame(session, select(Tag.document_id, Tag.label).distinct()
                   .select_from(Tag).join(Document, _CURRENT).where(and_(*conditions)),
                   ["doc_id", "label"])
    n_docs = session.scalar(select(func.count(Document.id)).where(and_(*conditions))) or 0
    return cooccurrence_from_pairs(pairs, n_docs, min_count)


def windows(session: Session, filters: Filters | None, recent_months: int) -> Windows:
    """Default emerging windows: the last ``recent_months`` months with documents."""
    month = _group_columns(session, ["month"])[0]
    months = session.scalars(select(month).distinct()
                             .where(and_(*_where(filters), Document.date.is_not(None)))).all()
    return default_windows(list(months), recent_months)


def window_counts(session: Session, compared: Windows, filters: Filters | None) -> pd.DataFrame:
    """Counts for :func:`nlp.emerging.score_counts`, from the database."""
    base = filters or Filters()
    parts = []
    for window in (compared.recent_filters(base), compared.baseline_filters(base)):
        counts = label_counts(session, [], window).set_index("label")["docs"]
        parts.append((counts, int(totals(session, [], window)["total_docs"].iloc[0])))
    return assemble_counts(*parts[0], *parts[1])


_EVIDENCE_COLUMNS = ("doc_id", "case_id", "date", "service_area", "team", "doc_type", "grade",
                     "label", "theme", "polarity", "evidence", "start", "end", "confidence")


def evidence(session: Session, query: EvidenceQuery) -> pd.DataFrame:
    """Evidence sentences behind a cell, newest and most confident first (one page)."""
    conditions = _where(query.filters)
    if query.label is not None:
        conditions.append(Tag.label == query.label)
    if query.theme is not None:
        conditions.append(Tag.theme == query.theme)
    statement = (select(Document.id, Document.case_id, Document.date, Document.service_area,
                        Document.team, Document.doc_type, Document.grade, Tag.label, Tag.theme,
                        Tag.polarity, Tag.evidence, Tag.start, Tag.end, Tag.confidence)
                 .select_from(Tag).join(Document, _CURRENT).where(and_(*conditions))
                 .order_by(Document.date.is_(None), Document.date.desc(), Tag.confidence.desc(),
                           Document.id, Tag.start)
                 .limit(query.limit).offset(query.offset))
    return _frame(session, statement, _EVIDENCE_COLUMNS)


def load_frames(session: Session, filters: Filters | None) -> Frames:
    """The selected documents and their current tags as :class:`nlp.aggregate.Frames`."""
    conditions = _where(filters)
    docs = _frame(session, select(Document.id, Document.case_id, Document.date,
                                  Document.service_area, Document.team, Document.doc_type,
                                  Document.grade).where(and_(*conditions)), DOC_COLUMNS)
    tags = _frame(session, select(Tag.document_id, Tag.label, Tag.theme, Tag.polarity,
                                  Tag.evidence, Tag.start, Tag.end, Tag.confidence)
                  .select_from(Tag).join(Document, _CURRENT).where(and_(*conditions)),
                  TAG_COLUMNS)
    return Frames.build(docs, tags)


def load_texts(session: Session, filters: Filters | None,
               max_documents: int) -> tuple[dict[str, str], pd.DataFrame]:
    """Current texts of the newest ``max_documents`` selected documents, and their tag spans."""
    conditions = _where(filters)
    rows = session.execute(
        select(Document.id, Analysis.text).join(Analysis, Document.current_analysis_id == Analysis.id)
        .where(and_(*conditions))
        .order_by(Document.date.is_(None), Document.date.desc(), Document.id)
        .limit(max_documents)).all()
    texts = {doc_id: text for doc_id, text in rows}
    spans = _frame(session, select(Tag.document_id, Tag.start, Tag.end)
                   .select_from(Tag).join(Document, _CURRENT)
                   .where(and_(*conditions), Document.id.in_(list(texts))),
                   ["doc_id", "start", "end"])
    return texts, spans
