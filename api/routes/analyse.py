"""``POST /v1/analyse``: analyse one document; nothing is stored."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

import nlp
from api.deps import SettingsDep, require
from api.guard import guard_fields
from api.schemas import AnalyseRequest, AnalysisOut
from api.security import Permission
from api.storage.access import AccessRecord

router = APIRouter(tags=["analyse"])


@router.post("/analyse", response_model=AnalysisOut, name="analyse")
def analyse(
    body: AnalyseRequest,
    settings: SettingsDep,
    access: Annotated[AccessRecord, Depends(require(Permission.analyse))],
) -> AnalysisOut:
    access.touch(case_ids=[body.case_id], document_ids=[body.id])
    [text] = guard_fields(
        [("text", body.text)], redact=body.redact, max_chars=settings.max_text_chars
    )
    result = nlp.analyse(text, **body.as_meta())
    return AnalysisOut(**result.to_dict(), redacted=text != body.text)
