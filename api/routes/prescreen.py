"""``GET /v1/prescreen``: cases ranked for audit by the concern themes found."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep, SettingsDep, require
from api.errors import ApiError
from api.prescreen import WEIGHTING, PrescreenFilters, rank_cases
from api.schemas import DocType, PrescreenOut, ServiceArea
from api.security import Permission
from api.storage.access import AccessRecord

router = APIRouter(tags=["prescreen"])


@router.get("/prescreen", response_model=PrescreenOut, name="prescreen")
def prescreen(
    session: SessionDep,
    settings: SettingsDep,
    access: Annotated[AccessRecord, Depends(require(Permission.prescreen))],
    service_area: ServiceArea | None = None,
    team: str | None = None,
    doc_type: DocType | None = None,
    date_from: Annotated[dt.date | None, Query(description="first recording date, ISO")] = None,
    date_to: Annotated[dt.date | None, Query(description="last recording date, ISO")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    evidence_per_theme: Annotated[int, Query(ge=1, le=20)] = 3,
) -> PrescreenOut:
    """Cases with concern themes, highest score first, each with reasons and evidence."""
    if date_from and date_to and date_from > date_to:
        raise ApiError(422, "date_from is after date_to")
    cases = rank_cases(
        session,
        weights=settings.prescreen_weights,
        repeat_bonus=settings.prescreen_repeat_bonus,
        filters=PrescreenFilters(service_area, team, doc_type, date_from, date_to),
        limit=limit,
        evidence_per_theme=evidence_per_theme,
    )
    access.touch(
        case_ids=[c.case_id for c in cases],
        document_ids=[e.document_id for c in cases for r in c.reasons for e in r.evidence],
    )
    return PrescreenOut(weighting=WEIGHTING, weights=settings.prescreen_weights, cases=cases)
