"""Response schemas of the aggregate and report routes (kept apart from the table models)."""
from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class FiltersOut(BaseModel):
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    service_area: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list)
    doc_type: list[str] = Field(default_factory=list)
    grade: list[str] = Field(default_factory=list)


class PrevalenceRow(BaseModel):
    group: dict[str, str] = Field(description="grouping → value, e.g. {'month': '2025-03'}")
    label: str
    theme: str
    polarity: str
    docs: int = Field(description="documents with the label")
    cases: int = Field(description="distinct cases with the label")
    total_docs: int
    total_cases: int
    doc_share: float | None = Field(description="docs / total_docs (null without documents)")
    case_share: float | None


class PrevalenceOut(BaseModel):
    by: list[str]
    filters: FiltersOut
    rows: list[PrevalenceRow]


class CooccurrenceRow(BaseModel):
    label_a: str
    label_b: str
    count: int = Field(description="documents with both labels")
    count_a: int
    count_b: int
    lift: float = Field(description="count · N / (count_a · count_b); above 1: together more "
                                    "often than chance")
    jaccard: float


class CooccurrenceOut(BaseModel):
    documents: int
    filters: FiltersOut
    rows: list[CooccurrenceRow]


class EvidenceRow(BaseModel):
    doc_id: str
    case_id: str | None
    date: dt.date | None
    service_area: str | None
    team: str | None
    doc_type: str | None
    label: str
    evidence: str
    start: int
    end: int
    confidence: float


class EvidenceOut(BaseModel):
    label: str | None
    theme: str | None
    filters: FiltersOut
    limit: int
    offset: int
    rows: list[EvidenceRow]


class WindowsOut(BaseModel):
    recent_from: dt.date
    recent_to: dt.date
    baseline_from: dt.date
    baseline_to: dt.date


class EmergingRow(BaseModel):
    label: str
    theme: str
    polarity: str
    recent_docs: int
    recent_total: int
    recent_share: float | None
    baseline_docs: int
    baseline_total: int
    baseline_share: float | None
    difference: float | None = Field(description="recent_share − baseline_share")
    ci_low: float | None = Field(description="Newcombe confidence interval of the difference")
    ci_high: float | None
    ratio: float | None = Field(description="recent_share / baseline_share")
    p_value: float | None = Field(description="one-sided Fisher's exact test; null if untested")
    q_value: float | None = Field(description="Benjamini–Hochberg adjusted across tested labels")
    tested: bool = Field(description="recent_docs reached min_support")
    flagged: bool = Field(description="tested, q_value < alpha and the share rose")
    evidence_url: str = Field(description="the label's evidence sentences in the recent window")
    examples: list[EvidenceRow] = Field(default_factory=list)


class EmergingOut(BaseModel):
    windows: WindowsOut
    alpha: float
    min_support: int
    method: str
    filters: FiltersOut
    results: list[EmergingRow]


class ExampleSentence(BaseModel):
    doc_id: str
    start: int
    end: int
    sentence: str


class CandidateThemeOut(BaseModel):
    name: str
    terms: list[str]
    size: int = Field(description="sentences in the cluster")
    documents: int
    examples: list[ExampleSentence]


class UnassignedOut(BaseModel):
    documents: int = Field(description="documents read (the newest selected)")
    sentences: int = Field(description="concern-like sentences no theme covers")
    filters: FiltersOut
    themes: list[CandidateThemeOut]
