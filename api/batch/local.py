"""``caselens batch IN --out OUT``: analyse a file locally, resumably.

Results are appended to OUT one line per input row and flushed to disk chunk
by chunk. Re-running with the same IN and OUT reads the rows OUT already holds,
cuts off a line left half-written by an interruption, and analyses only the
rest: nothing lost, nothing written twice.
"""
from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from api.batch.results import FORMATS, csv_header, format_line, result_row
from api.batch.rows import InputRow, analyse_rows, chunked, read_rows
from nlp.errors import InputError
from nlp.records import count_rows

_OUT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


@dataclass
class LocalBatchSummary:
    out: Path
    format: str
    skipped: int = 0
    ok: int = 0
    errors: int = 0


def output_format(out: Path, requested: str | None = None) -> str:
    """``jsonl`` or ``csv``, as requested or from OUT's suffix."""
    fmt = requested or _OUT_SUFFIXES.get(out.suffix.lower())
    if fmt not in FORMATS:
        raise InputError(
            f"cannot tell the results format: name OUT .jsonl or .csv, or choose one of "
            f"{', '.join(FORMATS)}",
            where=str(out),
        )
    return fmt


def _cut_partial_line(path: Path) -> None:
    """Drop a last line without its newline: a write cut short by an interruption."""
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        position = size
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            block = handle.read(step)
            newline = block.rfind(b"\n")
            if newline >= 0:
                handle.truncate(position - step + newline + 1)
                return
            position -= step
        handle.truncate(0)


def done_rows(out: Path, fmt: str) -> dict[int, str | None]:
    """Rows OUT already holds (row number → document id), after cutting a partial line."""
    if not out.exists():
        return {}
    _cut_partial_line(out)
    done: dict[int, str | None] = {}
    with out.open(encoding="utf-8", newline="") as handle:
        if fmt == "jsonl":
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    result = _json_result(line, out, number)
                    done[int(result["row"])] = result.get("id")
        else:
            for result in csv.DictReader(handle):
                done[int(result["row"])] = result.get("id") or None
    return done


def _json_result(line: str, out: Path, number: int) -> dict[str, Any]:
    try:
        result = json.loads(line)
        int(result["row"])
    except (ValueError, KeyError, TypeError):
        raise InputError(
            "not a caselens results line; choose another --out", where=f"{out}, line {number}"
        ) from None
    return result


def _remaining(
    rows: Iterator[InputRow], done: Mapping[int, str | None], summary: LocalBatchSummary
) -> Iterator[InputRow]:
    """Rows not yet in OUT; a done row whose id differs means OUT belongs to another input."""
    for row in rows:
        if row.row in done:
            if done[row.row] != row.record.get("id"):
                raise InputError(
                    f"row {row.row} of the results has id {done[row.row]!r} but the input has "
                    f"{row.record.get('id')!r}: these results belong to another input; "
                    "choose another --out"
                )
            summary.skipped += 1
            continue
        yield row


def run_local_batch(
    source: Path,
    out: Path,
    *,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    out_format: str | None = None,
    processes: int = 2,
    chunk_size: int = 200,
    redact: bool = False,
    max_text_chars: int = 200_000,
    progress: bool = True,
) -> LocalBatchSummary:
    """Analyse ``source`` into ``out``, resuming where an earlier run stopped."""
    result_fmt = output_format(out, out_format)
    summary = LocalBatchSummary(out=out, format=result_fmt)
    done = done_rows(out, result_fmt)
    rows = read_rows(source, fmt=fmt, mapping=mapping, max_text_chars=max_text_chars,
                     redact=redact)
    total = count_rows(source, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        out.open("a", encoding="utf-8", newline="") as handle,
        tqdm(total=total, unit="row", disable=not progress) as bar,
    ):
        if result_fmt == "csv" and handle.tell() == 0:
            handle.write(csv_header())
        todo = _remaining(rows, done, summary)
        for chunk in analyse_rows(chunked(todo, chunk_size), processes):
            lines = []
            for row, outcome in chunk:
                analysis = (outcome or {}).get("analysis")
                error = row.error or (outcome or {}).get("error")
                lines.append(format_line(result_row(row.row, row.record, analysis, error),
                                         result_fmt))
                if analysis is None:
                    summary.errors += 1
                else:
                    summary.ok += 1
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
            bar.n = summary.skipped + summary.ok + summary.errors
            bar.refresh()
    return summary
