"""``POST /v1/batches`` (upload CSV, JSONL or XLSX), progress, and results as CSV or JSONL."""
from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from api.batch.jobs import job_errors, new_job, pending_count, result_lines, start_job
from api.deps import SessionDep, SettingsDep, require
from api.errors import ApiError
from api.schemas import BatchOut
from api.security import Permission
from api.storage.access import AccessRecord
from api.storage.models import BatchJob
from nlp.errors import InputError
from nlp.records import FIELDS, SUPPORTED_FORMATS, count_rows, iter_records

router = APIRouter(tags=["batches"])

BatchAccess = Annotated[AccessRecord, Depends(require(Permission.batches))]


def _mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ApiError(
            422,
            'mapping must be a JSON object from column name to field, e.g. '
            '{"note_text": "text", "ref": "id"}; fields are ' + ", ".join(FIELDS),
        )
    return mapping


def _batch_out(session: Session, job: BatchJob, errors: int) -> BatchOut:
    return BatchOut(
        id=job.id,
        status=job.status,
        source_format=job.source_format,
        redact=job.redact,
        total_rows=job.total_rows,
        done_rows=job.done_rows,
        error_rows=job.error_rows,
        pending_rows=pending_count(session, job.id),
        message=job.message,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        errors=job_errors(session, job.id, errors),
    )


@router.post("/batches", response_model=BatchOut, status_code=202, name="create_batch")
def create_batch(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    access: BatchAccess,
    file: Annotated[UploadFile, File(description="CSV, JSON Lines or XLSX")],
    mapping: Annotated[
        str | None, Form(description="JSON object: file column → field (" + ", ".join(FIELDS)
                         + "); default: columns named like the fields")
    ] = None,
    format: Annotated[
        Literal[SUPPORTED_FORMATS] | None,  # type: ignore[valid-type]
        Form(description="default: from the file name"),
    ] = None,
    redact: Annotated[bool, Form(description="redact identifiers instead of refusing rows")]
    = False,
) -> BatchOut:
    """Start a batch; rows are read and analysed in the background (poll the batch)."""
    columns = _mapping(mapping)
    name = file.filename or "upload"
    data = file.file.read()
    try:
        first = iter_records(data, format, columns, name=name)
        next(first, None)  # format, mapping, header and first row checked now
        fmt = format or _detected_format(name)
        estimate = count_rows(data, fmt, name=name)
    except InputError as exc:
        raise ApiError(422, str(exc)) from None
    if estimate is not None and estimate > settings.max_batch_rows:
        raise ApiError(
            413, f"about {estimate} rows; the limit is {settings.max_batch_rows} per batch"
        )
    job = new_job(session, key_id=access.key_id or "", source_format=fmt, redact=redact)
    access.path = f"{access.path}/{job.id}"
    upload = {"data": data, "name": name, "fmt": fmt, "mapping": columns, "redact": redact}
    start_job(request.app.state.sessions, job.id, settings, upload)
    return _batch_out(session, job, errors=0)


def _detected_format(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return "jsonl" if suffix == "ndjson" else suffix


def _job(session: Session, batch_id: str) -> BatchJob:
    job = session.get(BatchJob, batch_id)
    if job is None:
        raise ApiError(404, f"no batch {batch_id!r}")
    return job


@router.get("/batches/{batch_id}", response_model=BatchOut, name="get_batch")
def get_batch(
    batch_id: str,
    session: SessionDep,
    _access: BatchAccess,
    errors: Annotated[int, Query(ge=0, le=10_000, description="most row errors listed")] = 100,
) -> BatchOut:
    return _batch_out(session, _job(session, batch_id), errors)


@router.get("/batches/{batch_id}/results", name="batch_results")
def batch_results(
    request: Request,
    batch_id: str,
    session: SessionDep,
    _access: BatchAccess,
    format: Literal["jsonl", "csv"] = "jsonl",
) -> StreamingResponse:
    """Results of the rows finished so far, in row order (all rows once the batch is done)."""
    _job(session, batch_id)
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return StreamingResponse(
        result_lines(request.app.state.sessions, batch_id, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.{format}"'},
    )
