"""Reads behind the aggregate routes.

Counting runs on a :class:`nlp.aggregate.LabelIndex` of the store — every
document's metadata and the distinct labels of its current analysis as integer
arrays — built from two plain SELECTs and kept per database engine until the
store changes (a new analysis, a new or removed document).  A million tags
then aggregate in about a tenth of a second on SQLite and PostgreSQL alike,
where the same COUNT(DISTINCT …) joins take seconds.  Evidence sentences,
texts and the briefing's tables are read with filtered SQL.
"""
from __future__ import annotations

import threading
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, and_, func, select
from sqlalchemy.orm import Session

from api.storage.models import Analysis, Document, Tag
from nlp.aggregate import (
    DOC_COLUMNS,
    TAG_COLUMNS,
    EvidenceQuery,
    Filters,
    Frames,
    LabelIndex,
    normalise_docs,
)

_CURRENT = Document.current_analysis_id == Tag.analysis_id
_EVIDENCE_COLUMNS = ("doc_id", "case_id", "date", "service_area", "team", "doc_type", "grade",
                     "label", "theme", "polarity", "evidence", "start", "end", "confidence")


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


def _frame(session: Session, statement: Select[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(statement).all(), columns=list(columns))


# --------------------------------------------------------------------------- the index


def fingerprint(session: Session) -> tuple[Any, ...]:
    """Changes whenever an analysis is stored (analyses only grow; a stored document with
    new text or metadata gets a new one) or a document is removed with its analyses."""
    newest = session.scalar(select(func.max(Analysis.id)))
    documents = session.scalar(select(func.count()).select_from(Document))
    return newest, documents


def _raw_rows(session: Session, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Rows as plain tuples from the driver's cursor: for a million rows, the ORM's Row
    objects cost several times the query.  Only for statements without parameters."""
    connection = session.connection()
    sql = str(statement.compile(dialect=connection.dialect))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def build_index(session: Session) -> LabelIndex:
    """Read every document's metadata and its current labels into a :class:`LabelIndex`."""
    rows = _raw_rows(session, select(Document.id, Document.case_id, Document.date,
                                     Document.service_area, Document.team, Document.doc_type,
                                     Document.grade, Document.current_analysis_id)
                     .where(Document.current_analysis_id.is_not(None)))
    docs = pd.DataFrame.from_records(rows, columns=[*DOC_COLUMNS, "analysis_id"])
    current = pd.Index(docs.pop("analysis_id").to_numpy(dtype=np.int64))
    tags = _raw_rows(session, select(Tag.analysis_id, Tag.label))
    analysis_ids = np.fromiter((t[0] for t in tags), dtype=np.int64, count=len(tags))
    return LabelIndex(normalise_docs(docs), current.get_indexer(analysis_ids),
                      [t[1] for t in tags])


class IndexCache:
    """One :class:`LabelIndex` per engine, rebuilt when the store's fingerprint changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: WeakKeyDictionary[Engine, tuple[tuple[Any, ...], LabelIndex]] = (
            WeakKeyDictionary())

    def get(self, session: Session) -> LabelIndex:
        engine = session.get_bind().engine
        current = fingerprint(session)
        with self._lock:  # one build at a time; others wait and reuse it
            entry = self._entries.get(engine)
            if entry is None or entry[0] != current:
                entry = (current, build_index(session))
                self._entries[engine] = entry
            return entry[1]


_CACHE = IndexCache()


def label_index(session: Session) -> LabelIndex:
    """The index of the store behind ``session``, current as of this call."""
    return _CACHE.get(session)


# --------------------------------------------------------------------------- reads


def evidence(session: Session, query: EvidenceQuery) -> pd.DataFrame:
    """Evidence sentences behind a cell, newest and most confident first (one page)."""
    conditions = _where(query.filters)
    if query.label is not None:
        theme, _, polarity = query.label.partition(":")
        # the theme and polarity are indexed; the label follows from them
        conditions += [Tag.theme == theme, Tag.polarity == polarity]
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
    rows = session.execute(
        select(Document.id, Analysis.text)
        .join(Analysis, Document.current_analysis_id == Analysis.id)
        .where(and_(*_where(filters)))
        .order_by(Document.date.is_(None), Document.date.desc(), Document.id)
        .limit(max_documents)).all()
    texts = {doc_id: text for doc_id, text in rows}
    spans = _frame(session, select(Tag.document_id, Tag.start, Tag.end)
                   .select_from(Tag).join(Document, _CURRENT)
                   .where(Document.id.in_(list(texts))), ("doc_id", "start", "end"))
    return texts, spans
