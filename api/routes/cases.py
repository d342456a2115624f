"""``GET /v1/cases/{case_id}``: a case's documents, labels and a timeline of tags."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import SessionDep, require
from api.errors import ApiError
from api.schemas import CaseDocument, CaseOut, TimelineEntry
from api.security import Permission
from api.storage.access import AccessRecord
from api.storage.documents import case_documents, current_tags
from api.storage.models import Tag

router = APIRouter(tags=["cases"])


@router.get("/cases/{case_id}", response_model=CaseOut, name="get_case")
def get_case(
    case_id: str,
    session: SessionDep,
    access: Annotated[AccessRecord, Depends(require(Permission.read_cases))],
) -> CaseOut:
    access.touch(case_ids=[case_id])
    docs = case_documents(session, case_id)
    if not docs:
        raise ApiError(404, f"no documents for case {case_id!r}")
    access.touch(document_ids=[d.id for d in docs])
    tags_by_doc: dict[str, list[Tag]] = defaultdict(list)
    for tag in current_tags(session, [d.id for d in docs]):
        tags_by_doc[tag.document_id].append(tag)

    label_counts: Counter[str] = Counter()
    documents: list[CaseDocument] = []
    timeline: list[TimelineEntry] = []
    for doc in docs:  # already in date order
        labels = sorted({t.label for t in tags_by_doc[doc.id]})
        label_counts.update(labels)
        documents.append(
            CaseDocument(
                id=doc.id,
                date=doc.date,
                doc_type=doc.doc_type,
                service_area=doc.service_area,
                team=doc.team,
                version=doc.version,
                labels=labels,
            )
        )
        timeline.extend(
            TimelineEntry(
                date=doc.date,
                document_id=doc.id,
                tag_id=t.id,
                label=t.label,
                confidence=t.confidence,
                evidence=t.evidence,
                start=t.start,
                end=t.end,
            )
            for t in tags_by_doc[doc.id]
        )
    return CaseOut(
        case_id=case_id,
        documents=documents,
        labels=dict(sorted(label_counts.items())),
        timeline=timeline,
    )
