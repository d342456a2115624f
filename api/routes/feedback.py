"""``POST /v1/feedback``: an auditor confirms or rejects a tag, or adds a missed label."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import SessionDep, require
from api.errors import ApiError
from api.schemas import FeedbackIn, FeedbackOut
from api.security import Permission
from api.storage.access import AccessRecord
from api.storage.documents import current_analysis
from api.storage.models import Analysis, Document, Feedback, Tag

router = APIRouter(tags=["feedback"])


def _verdict_on_tag(body: FeedbackIn, analysis: Analysis) -> tuple[str, Tag | None]:
    """The label a confirm/reject is about, and the stored tag it names (if one does)."""
    if body.tag_id is not None:
        tag = next((t for t in analysis.tags if t.id == body.tag_id), None)
        if tag is None:
            raise ApiError(
                422, f"tag {body.tag_id} is not a tag of the current analysis of this document"
            )
        if body.label is not None and body.label != tag.label:
            raise ApiError(422, f"tag {body.tag_id} is {tag.label!r}, not {body.label!r}")
        return tag.label, tag
    assert body.label is not None  # FeedbackIn requires tag_id or label
    if body.label not in analysis.labels:
        raise ApiError(
            422,
            f"the document has no {body.label!r} tag to {body.action}; "
            f"its labels are: {', '.join(analysis.labels) or 'none'}",
        )
    return body.label, None


def _added_span(body: FeedbackIn, analysis: Analysis) -> tuple[int, int]:
    """Offsets of the sentence an added label rests on; it must be in the document."""
    assert body.sentence is not None  # FeedbackIn requires it for add
    sentence = body.sentence.strip()
    if not sentence:
        raise ApiError(422, "sentence is empty")
    if body.start is not None:
        start = body.start
        if analysis.text[start:start + len(sentence)] != sentence:
            raise ApiError(422, f"the document does not have this sentence at offset {start}")
    else:
        start = analysis.text.find(sentence)
        if start < 0:
            raise ApiError(422, "the sentence does not occur in the document as stored")
    return start, start + len(sentence)


@router.post("/feedback", response_model=FeedbackOut, status_code=201, name="feedback")
def give_feedback(
    body: FeedbackIn,
    session: SessionDep,
    access: Annotated[AccessRecord, Depends(require(Permission.feedback))],
) -> FeedbackOut:
    """Record a verdict on the document's current analysis.

    The sentence of an added label must be quoted from the stored (already
    guarded) text, so feedback never brings new text into the store.
    """
    access.touch(document_ids=[body.document_id])
    doc = session.get(Document, body.document_id)
    analysis = current_analysis(session, doc) if doc is not None else None
    if doc is None or analysis is None:
        raise ApiError(404, f"no document {body.document_id!r}")
    access.touch(case_ids=[doc.case_id])

    tag: Tag | None = None
    if body.action == "add":
        assert body.label is not None
        label = body.label
        start, end = _added_span(body, analysis)
    else:
        label, tag = _verdict_on_tag(body, analysis)
        start, end = (tag.start, tag.end) if tag is not None else (None, None)
    row = Feedback(
        document_id=doc.id,
        analysis_id=analysis.id,
        tag_id=tag.id if tag is not None else None,
        key_id=access.key_id or "",
        action=body.action,
        label=label,
        start=start,
        end=end,
    )
    session.add(row)
    session.commit()
    return FeedbackOut.model_validate(row, from_attributes=True)
