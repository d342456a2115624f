"""``POST /v1/analyse``: analyse one document; nothing is stored.

The route itself runs on the event loop; the guard, the analysis and the JSON
of the answer are built in the app's analysis threads
(``CASELENS_ANALYSIS_THREADS``), so the loop stays free for other requests and
the CPU-bound work is not spread over the general thread pool.
"""
from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

import nlp
from api.deps import SettingsDep, require
from api.guard import guard_fields
from api.schemas import AnalyseRequest, AnalysisOut
from api.security import Permission
from api.storage.access import AccessRecord

router = APIRouter(tags=["analyse"])


def _analysed(body: AnalyseRequest, max_chars: int) -> bytes:
    """The response body: the guarded text's analysis as JSON (``AnalysisOut``)."""
    [text] = guard_fields([("text", body.text)], redact=body.redact, max_chars=max_chars)
    result = nlp.analyse(text, **body.as_meta())
    return AnalysisOut(**result.to_dict(), redacted=text != body.text).model_dump_json().encode()


@router.post("/analyse", response_model=AnalysisOut, name="analyse")
async def analyse(
    request: Request,
    body: AnalyseRequest,
    settings: SettingsDep,
    access: Annotated[AccessRecord, Depends(require(Permission.analyse))],
) -> Response:
    access.touch(case_ids=[body.case_id], document_ids=[body.id])
    loop = asyncio.get_running_loop()
    content = await loop.run_in_executor(
        request.app.state.analysis_pool, _analysed, body, settings.max_text_chars
    )
    return Response(content, media_type="application/json")
