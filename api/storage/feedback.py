"""Auditors' feedback on tags, and the gold records it yields for evaluation."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.documents import DOCUMENT_META
from api.storage.models import Analysis, Document, Feedback

#: verdicts that say a label is present in the document
PRESENT = frozenset({"confirm", "add"})


def feedback_gold(session: Session) -> Iterator[dict[str, Any]]:
    """One gold record (``{"id", "text", "labels", …meta}``) per document with feedback.

    The record is built on the newest analysed version that received feedback:
    its predicted labels, then for each label the latest verdict on that version
    wins (confirm or add → present, reject → absent). Labels nobody reviewed
    keep the prediction. Feedback on older versions is superseded by re-analysis.
    ``evidence`` maps each confirmed or added label to the sentence the auditor
    pointed at.
    """
    rows = session.scalars(
        select(Feedback)
        .where(Feedback.analysis_id.is_not(None))
        .order_by(Feedback.document_id, Feedback.analysis_id, Feedback.created_at, Feedback.id)
    )
    verdicts: dict[str, dict[int, dict[str, Feedback]]] = defaultdict(lambda: defaultdict(dict))
    for fb in rows:
        verdicts[fb.document_id][fb.analysis_id][fb.label] = fb  # type: ignore[index]
    for document_id in sorted(verdicts):
        analysis_id = max(verdicts[document_id])
        analysis = session.get(Analysis, analysis_id)
        doc = session.get(Document, document_id)
        if analysis is None or doc is None:
            continue
        labels = set(analysis.labels)
        evidence: dict[str, list[str]] = {}
        for label, fb in verdicts[document_id][analysis_id].items():
            if fb.action not in PRESENT:
                labels.discard(label)
                continue
            labels.add(label)
            if fb.start is not None and fb.end is not None:
                evidence[label] = [analysis.text[fb.start:fb.end]]
        record: dict[str, Any] = {"id": document_id, "text": analysis.text}
        for name in DOCUMENT_META:
            value = analysis.meta.get(name)
            if value is not None:
                record[name] = value
        record["labels"] = sorted(labels)
        if evidence:
            record["evidence"] = evidence
        yield record
