"""The row format of batch results, shared by the API's results file and ``caselens batch``.

One result per input row, in row order: the row number, the document's id
and metadata, ``status`` ``ok`` or ``error``, its labels (and, in JSON Lines,
its tags with evidence) or the error message.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from nlp.records import FIELDS

META_COLUMNS: tuple[str, ...] = tuple(f for f in FIELDS if f not in ("id", "text"))
CSV_COLUMNS: tuple[str, ...] = (
    "row", "id", "status", *META_COLUMNS, "labels", "tags", "error",
    "pipeline_version", "codebook_hash", "model_hash",
)
FORMATS: tuple[str, ...] = ("jsonl", "csv")


def result_row(
    row: int,
    record: Mapping[str, Any],
    analysis: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The result of one input row: ``analysis`` (``Analysis.to_dict()``) or ``error``."""
    result: dict[str, Any] = {
        "row": row,
        "id": record.get("id"),
        "status": "error" if analysis is None else "ok",
    }
    result.update({name: record.get(name) for name in META_COLUMNS})
    if analysis is None:
        result["error"] = error or "not analysed"
        return result
    result["labels"] = list(analysis.get("labels", []))
    result["tags"] = list(analysis.get("tags", []))
    for name in ("pipeline_version", "codebook_hash", "model_hash"):
        result[name] = analysis.get(name)
    return result


def jsonl_line(result: Mapping[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, default=str) + "\n"


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_line(result: Mapping[str, Any]) -> str:
    """One CSV line: labels joined by ``;``, ``tags`` the number of tags."""
    values: list[Any] = []
    for column in CSV_COLUMNS:
        value = result.get(column)
        if column == "labels":
            value = ";".join(value or [])
        elif column == "tags":
            value = len(value) if value is not None else ""
        if isinstance(value, str):
            value = " ".join(value.split())  # one physical line per row, for resuming
        values.append("" if value is None else value)
    return _csv_line(values)


def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def format_line(result: Mapping[str, Any], fmt: str) -> str:
    return jsonl_line(result) if fmt == "jsonl" else csv_line(result)
