"""Documents and their analyses: idempotent storage with history, and reads.

A document is identified by its id. Storing the same id with the same text and
metadata changes nothing; a change of either adds a new analysis version and
makes it current, keeping the earlier ones.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import Analysis, Document, Tag

#: metadata columns of ``documents`` (besides the id)
DOCUMENT_META = ("case_id", "doc_type", "service_area", "team", "date", "grade")

StoreStatus = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class StoreResult:
    document_id: str
    status: StoreStatus
    version: int
    analysis_id: int
    labels: list[str]


def content_hash(text: str, meta: Mapping[str, Any]) -> str:
    """Hash of a document's text and metadata: what decides whether it changed."""
    payload = json.dumps(
        {"text": text, "meta": {k: meta.get(k) for k in DOCUMENT_META}},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def unchanged_version(session: Session, document_id: str, digest: str) -> StoreResult | None:
    """The stored result when ``document_id`` already holds exactly this content."""
    doc = session.get(Document, document_id)
    if doc is None or doc.current_analysis_id is None:
        return None
    current = session.get(Analysis, doc.current_analysis_id)
    if current is None or current.content_hash != digest:
        return None
    return StoreResult(document_id, "unchanged", doc.version, current.id, list(current.labels))


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def store_analysis(
    session: Session, text: str, meta: Mapping[str, Any], analysis: Mapping[str, Any]
) -> StoreResult:
    """Store ``analysis`` (``nlp.Analysis.to_dict()``) of ``text`` under ``meta["id"]``."""
    return store_analyses(session, [(text, meta, analysis)])[0]


def store_analyses(
    session: Session, items: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]]
) -> list[StoreResult]:
    """Store ``(text, meta, analysis)`` of several documents; ids must be distinct.

    A document whose text and metadata are already current is left unchanged;
    otherwise a new analysis version becomes current. The work is done in three
    flushes for the whole list, not per document (batches store hundreds at a
    time). Adds rows to the session; the caller commits.
    """
    ids = [str(meta["id"]) for _, meta, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError("document ids repeat in one store_analyses call")
    docs = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}
    current = {
        row.id: row
        for row in session.execute(
            select(Analysis.id, Analysis.content_hash, Analysis.labels).where(
                Analysis.id.in_([d.current_analysis_id for d in docs.values()
                                 if d.current_analysis_id is not None])
            )
        )
    }
    results: dict[str, StoreResult] = {}
    added: list[tuple[Document, Analysis, StoreStatus]] = []
    for document_id, (text, meta, analysis) in zip(ids, items):
        digest = content_hash(text, meta)
        doc = docs.get(document_id)
        now = current.get(doc.current_analysis_id) if doc is not None else None
        if doc is not None and now is not None and now.content_hash == digest:
            results[document_id] = StoreResult(
                document_id, "unchanged", doc.version, now.id, list(now.labels)
            )
            continue
        status: StoreStatus = "updated"
        if doc is None:
            doc = Document(id=document_id, version=0)
            session.add(doc)
            status = "created"
        doc.version += 1
        for name in DOCUMENT_META:
            value = meta.get(name)
            setattr(doc, name, _as_date(value) if name == "date" else (value or None))
        added.append((doc, _analysis_row(document_id, doc.version, text, digest, meta, analysis),
                      status))
    session.flush()  # documents first: the analyses refer to them
    session.add_all(row for _, row, _ in added)
    session.flush()
    for doc, row, status in added:
        doc.current_analysis_id = row.id
        results[doc.id] = StoreResult(doc.id, status, doc.version, row.id, list(row.labels))
    session.flush()
    return [results[document_id] for document_id in ids]


def _analysis_row(
    document_id: str,
    version: int,
    text: str,
    digest: str,
    meta: Mapping[str, Any],
    analysis: Mapping[str, Any],
) -> Analysis:
    return Analysis(
        document_id=document_id,
        version=version,
        text=text,
        content_hash=digest,
        meta={k: (str(v) if v is not None else None) for k, v in meta.items()},
        labels=list(analysis.get("labels", [])),
        pipeline_version=analysis.get("pipeline_version", ""),
        codebook_hash=analysis.get("codebook_hash", ""),
        model_hash=analysis.get("model_hash"),
        tags=[_tag_row(document_id, t) for t in analysis.get("tags", [])],
    )


def _tag_row(document_id: str, tag: Mapping[str, Any]) -> Tag:
    return Tag(
        document_id=document_id,
        theme=tag["theme"],
        polarity=tag["polarity"],
        label=tag.get("label") or f"{tag['theme']}:{tag['polarity']}",
        confidence=float(tag["confidence"]),
        detectors=list(tag.get("detectors", [])),
        evidence=tag["evidence"],
        start=int(tag["start"]),
        end=int(tag["end"]),
        cue=tag.get("cue", ""),
        cue_start=int(tag.get("cue_start", tag["start"])),
        cue_end=int(tag.get("cue_end", tag["end"])),
        assertion=list(tag.get("assertion", [])),
    )


def current_analysis(session: Session, doc: Document) -> Analysis | None:
    if doc.current_analysis_id is None:
        return None
    return session.get(Analysis, doc.current_analysis_id)


def history(session: Session, document_id: str) -> Sequence[Analysis]:
    """Every analysed version of a document, oldest first."""
    return session.scalars(
        select(Analysis).where(Analysis.document_id == document_id).order_by(Analysis.version)
    ).all()


def case_documents(session: Session, case_id: str) -> Sequence[Document]:
    """A case's documents by date (undated last), then id."""
    return session.scalars(
        select(Document)
        .where(Document.case_id == case_id)
        .order_by(Document.date.is_(None), Document.date, Document.id)
    ).all()


def current_tags(session: Session, document_ids: Sequence[str]) -> Sequence[Tag]:
    """Tags of the current analyses of ``document_ids``."""
    if not document_ids:
        return []
    return session.scalars(
        select(Tag)
        .join(Document, Document.current_analysis_id == Tag.analysis_id)
        .where(Document.id.in_(document_ids))
        .order_by(Tag.document_id, Tag.start, Tag.label)
    ).all()
