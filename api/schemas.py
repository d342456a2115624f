"""Request and response schemas of the HTTP API (kept apart from the table models).

Controlled metadata (doc type, service area, grade) are ``Literal`` types built
from ``nlp.taxonomy``, so an unknown value is refused with the allowed values
listed, and the OpenAPI page shows them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nlp.taxonomy import DOC_TYPES, GRADES, LABELS, SERVICE_AREAS

DocType = Literal[DOC_TYPES]  # type: ignore[valid-type]
ServiceArea = Literal[SERVICE_AREAS]  # type: ignore[valid-type]
Grade = Literal[GRADES]  # type: ignore[valid-type]
Label = Literal[LABELS]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentMeta(_Strict):
    case_id: str | None = Field(None, max_length=200, description="pseudonymous case reference")
    doc_type: DocType | None = None
    service_area: ServiceArea | None = None
    date: dt.date | None = Field(None, description="ISO date of the recording")
    team: str | None = Field(None, max_length=200)
    grade: Grade | None = Field(None, description="audit narratives only")

    def as_meta(self) -> dict[str, Any]:
        """Metadata as ``nlp.analyse`` keyword arguments (unset fields left out)."""
        meta = self.model_dump(exclude_none=True, exclude={"text", "redact"})
        if "date" in meta:
            meta["date"] = meta["date"].isoformat()
        return meta


class AnalyseRequest(DocumentMeta):
    id: str | None = Field(None, max_length=200)
    text: str = Field(description="anonymised text of one document")
    redact: bool = Field(False, description="redact identifiers instead of refusing the text")


class DocumentIn(DocumentMeta):
    id: str = Field(min_length=1, max_length=200, description="the caller's document id")
    text: str


class DocumentsRequest(_Strict):
    documents: list[DocumentIn] = Field(min_length=1)
    redact: bool = Field(False, description="redact identifiers instead of refusing the text")

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: Any) -> Any:
        """Accept a single document object as well as ``{"documents": [...]}``."""
        if isinstance(data, dict) and "documents" not in data and "text" in data:
            redact = data.get("redact", False)
            doc = {k: v for k, v in data.items() if k != "redact"}
            return {"documents": [doc], "redact": redact}
        return data


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None = Field(None, description="stored tag id (for feedback); None when not stored")
    theme: str
    polarity: str
    label: str
    confidence: float
    detectors: list[str]
    evidence: str
    start: int
    end: int
    cue: str
    cue_start: int
    cue_end: int
    assertion: list[str]


class AnalysisOut(BaseModel):
    meta: dict[str, Any]
    labels: list[str]
    tags: list[TagOut]
    pipeline_version: str
    codebook_hash: str
    model_hash: str | None
    redacted: bool = Field(False, description="identifiers were redacted before analysis")


class StoredDocument(BaseModel):
    id: str
    status: Literal["created", "updated", "unchanged"]
    version: int
    labels: list[str]


class DocumentsResponse(BaseModel):
    documents: list[StoredDocument]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    created_at: dt.datetime
    labels: list[str]
    pipeline_version: str
    codebook_hash: str
    model_hash: str | None


class DocumentOut(BaseModel):
    id: str
    case_id: str | None
    doc_type: str | None
    service_area: str | None
    team: str | None
    date: dt.date | None
    grade: str | None
    version: int
    text: str
    labels: list[str]
    tags: list[TagOut]
    pipeline_version: str
    codebook_hash: str
    model_hash: str | None
    history: list[VersionOut]


class CaseDocument(BaseModel):
    id: str
    date: dt.date | None
    doc_type: str | None
    service_area: str | None
    team: str | None
    version: int
    labels: list[str]


class TimelineEntry(BaseModel):
    date: dt.date | None
    document_id: str
    tag_id: int
    label: str
    confidence: float
    evidence: str
    start: int
    end: int


class CaseOut(BaseModel):
    case_id: str
    documents: list[CaseDocument]
    labels: dict[str, int] = Field(description="label → number of documents carrying it")
    timeline: list[TimelineEntry]


class Evidence(BaseModel):
    document_id: str
    date: dt.date | None
    tag_id: int
    evidence: str
    start: int
    end: int


class Reason(BaseModel):
    theme: str
    label: str
    weight: float
    documents: int
    score: float
    evidence: list[Evidence]


class PrescreenCase(BaseModel):
    case_id: str
    score: float
    documents: int
    reasons: list[Reason]


class PrescreenOut(BaseModel):
    weighting: str
    weights: dict[str, float]
    cases: list[PrescreenCase]


class FeedbackIn(_Strict):
    document_id: str
    action: Literal["confirm", "reject", "add"]
    label: Label | None = Field(None, description="required for add; else taken from tag_id")
    tag_id: int | None = Field(None, description="the stored tag confirmed or rejected")
    sentence: str | None = Field(
        None, description="for add: the evidence sentence, as it appears in the document"
    )
    start: int | None = Field(None, ge=0, description="for add: offset of the sentence")

    @model_validator(mode="after")
    def _complete(self) -> FeedbackIn:
        if self.action == "add" and (self.label is None or self.sentence is None):
            raise ValueError("add needs label and sentence")
        if self.action != "add" and self.tag_id is None and self.label is None:
            raise ValueError(f"{self.action} needs tag_id or label")
        return self


class FeedbackOut(BaseModel):
    id: int
    document_id: str
    action: str
    label: str
    tag_id: int | None
    start: int | None
    end: int | None
    created_at: dt.datetime


class ThemeOut(BaseModel):
    id: str
    label: str
    description: str
    labels: list[str]


class BatchOut(BaseModel):
    id: str
    status: str
    source_format: str
    redact: bool
    total_rows: int
    done_rows: int
    error_rows: int
    pending_rows: int
    message: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    errors: list[dict[str, Any]] = Field(description="per-row errors: row number and message")


class AccessLogEntry(BaseModel):
    id: int
    at: dt.datetime
    key_id: str | None
    action: str
    method: str
    path: str
    status: int
    case_ids: list[str]
    document_ids: list[str]
