"""``POST /v1/documents`` (store, idempotent by id) and ``GET /v1/documents/{id}``."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.exc import IntegrityError

import nlp
from api.deps import SessionDep, SettingsDep, require
from api.errors import ApiError
from api.guard import guard_fields
from api.schemas import (
    DocumentOut,
    DocumentsRequest,
    DocumentsResponse,
    StoredDocument,
    TagOut,
    VersionOut,
)
from api.security import Permission
from api.storage.access import AccessRecord
from api.storage.documents import (
    StoreResult,
    content_hash,
    current_analysis,
    history,
    store_analyses,
    unchanged_version,
)
from api.storage.models import Document

router = APIRouter(tags=["documents"])


def _analyse_all(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Analyses of ``records`` as dicts; any unusable record fails the request with a 422."""
    results = list(nlp.analyse_many(records, errors="collect"))
    problems = [
        {"document": records[r.index].get("id"), "message": r.message}
        for r in results
        if isinstance(r, nlp.RecordError)
    ]
    if problems:
        raise ApiError(422, "some documents cannot be analysed", details=problems)
    return [r.to_dict() for r in results]


def _stored(result: StoreResult) -> StoredDocument:
    return StoredDocument(
        id=result.document_id, status=result.status, version=result.version, labels=result.labels
    )


@router.post("/documents", response_model=DocumentsResponse, name="store_documents")
def store_documents(
    body: DocumentsRequest,
    session: SessionDep,
    settings: SettingsDep,
    access: Annotated[AccessRecord, Depends(require(Permission.store_documents))],
) -> DocumentsResponse:
    """Store one document or a list, each with its analysis.

    Re-posting the same id with the same text and metadata changes nothing;
    new text or metadata re-analyses it and keeps the earlier versions.
    """
    docs = body.documents
    if len(docs) > settings.max_documents_per_request:
        raise ApiError(
            413,
            f"{len(docs)} documents in one request; the limit is "
            f"{settings.max_documents_per_request} (use /v1/batches for more)",
        )
    ids = [d.id for d in docs]
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise ApiError(422, f"document ids repeated in one request: {', '.join(doubled)}")
    access.touch(case_ids=[d.case_id for d in docs], document_ids=ids)

    texts = guard_fields(
        [(f"documents[{i}].text", d.text) for i, d in enumerate(docs)],
        redact=body.redact,
        max_chars=settings.max_text_chars,
    )
    metas = [d.as_meta() for d in docs]
    stored: dict[str, StoredDocument] = {}
    todo: list[int] = []
    for i, (text, meta) in enumerate(zip(texts, metas)):
        same = unchanged_version(session, meta["id"], content_hash(text, meta))
        if same is None:
            todo.append(i)
        else:
            stored[same.document_id] = _stored(same)
    analyses = _analyse_all([{"text": texts[i], **metas[i]} for i in todo])
    results = store_analyses(
        session, [(texts[i], metas[i], analysis) for i, analysis in zip(todo, analyses)]
    )
    stored.update((result.document_id, _stored(result)) for result in results)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ApiError(409, "a document in this request was stored concurrently; retry") from None
    return DocumentsResponse(documents=[stored[i] for i in ids])


@router.get("/documents/{document_id}", response_model=DocumentOut, name="get_document")
def get_document(
    document_id: str,
    session: SessionDep,
    access: Annotated[AccessRecord, Depends(require(Permission.read_cases))],
) -> DocumentOut:
    access.touch(document_ids=[document_id])
    doc = session.get(Document, document_id)
    analysis = current_analysis(session, doc) if doc is not None else None
    if doc is None or analysis is None:
        raise ApiError(404, f"no document {document_id!r}")
    access.touch(case_ids=[doc.case_id])
    return DocumentOut(
        id=doc.id,
        case_id=doc.case_id,
        doc_type=doc.doc_type,
        service_area=doc.service_area,
        team=doc.team,
        date=doc.date,
        grade=doc.grade,
        version=doc.version,
        text=analysis.text,
        labels=analysis.labels,
        tags=[TagOut.model_validate(t) for t in analysis.tags],
        pipeline_version=analysis.pipeline_version,
        codebook_hash=analysis.codebook_hash,
        model_hash=analysis.model_hash,
        history=[VersionOut.model_validate(v) for v in history(session, document_id)],
    )
