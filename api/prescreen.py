"""Pre-screening: rank cases for audit by the concern themes found in their documents.

Weighting (documented in the service README, configurable by settings):

    score(case) = Σ over concern themes found in the case of
                  weight[theme] × (1 + repeat_bonus × (documents showing it − 1))

A theme counts once per case however many sentences show it, and more again
for each further document that shows it (a recurring concern weighs more than a
single mention). Only current analyses of documents that pass the filters count.
Each case comes with its reasons: every theme's weight, document count, score
share and evidence sentences (newest first).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.schemas import Evidence, PrescreenCase, Reason
from api.storage.models import Document, Tag

WEIGHTING = (
    "score = sum over concern themes found of weight[theme] * "
    "(1 + repeat_bonus * (documents showing the theme - 1))"
)


@dataclass(frozen=True)
class PrescreenFilters:
    service_area: str | None = None
    team: str | None = None
    doc_type: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def apply(self, query: Select) -> Select:  # type: ignore[type-arg]
        query = query.where(Document.case_id.is_not(None))
        if self.service_area:
            query = query.where(Document.service_area == self.service_area)
        if self.team:
            query = query.where(Document.team == self.team)
        if self.doc_type:
            query = query.where(Document.doc_type == self.doc_type)
        if self.date_from:
            query = query.where(Document.date >= self.date_from)
        if self.date_to:
            query = query.where(Document.date <= self.date_to)
        return query


def rank_cases(
    session: Session,
    *,
    weights: dict[str, float],
    repeat_bonus: float,
    filters: PrescreenFilters,
    limit: int,
    evidence_per_theme: int,
) -> list[PrescreenCase]:
    """Cases with at least one concern, highest score first (ties by case id)."""
    doc_counts = dict(
        session.execute(
            filters.apply(select(Document.case_id, func.count(Document.id))).group_by(
                Document.case_id
            )
        ).all()
    )
    rows = session.execute(
        filters.apply(
            select(Document.case_id, Document.id, Document.date, Tag)
            .join(Tag, Tag.analysis_id == Document.current_analysis_id)
            .where(Tag.polarity == "concern")
        ).order_by(Document.case_id, Tag.theme, Document.date.desc(), Document.id, Tag.start)
    ).all()

    found: dict[str, dict[str, list[tuple[str, dt.date | None, Tag]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for case_id, doc_id, date, tag in rows:
        found[case_id][tag.theme].append((doc_id, date, tag))

    cases = [
        _case(case_id, themes, doc_counts.get(case_id, 0), weights, repeat_bonus,
              evidence_per_theme)
        for case_id, themes in found.items()
    ]
    cases.sort(key=lambda c: (-c.score, c.case_id))
    return cases[:limit]


def _case(
    case_id: str,
    themes: dict[str, list[tuple[str, dt.date | None, Tag]]],
    documents: int,
    weights: dict[str, float],
    repeat_bonus: float,
    evidence_per_theme: int,
) -> PrescreenCase:
    reasons = []
    for theme, hits in themes.items():
        n_docs = len({doc_id for doc_id, _, _ in hits})
        weight = weights.get(theme, 1.0)
        score = weight * (1 + repeat_bonus * (n_docs - 1))
        reasons.append(
            Reason(
                theme=theme,
                label=f"{theme}:concern",
                weight=weight,
                documents=n_docs,
                score=round(score, 4),
                evidence=[
                    Evidence(
                        document_id=doc_id,
                        date=date,
                        tag_id=tag.id,
                        evidence=tag.evidence,
                        start=tag.start,
                        end=tag.end,
                    )
                    for doc_id, date, tag in hits[:evidence_per_theme]
                ],
            )
        )
    reasons.sort(key=lambda r: (-r.score, r.theme))
    return PrescreenCase(
        case_id=case_id,
        score=round(sum(r.score for r in reasons), 4),
        documents=documents,
        reasons=reasons,
    )
