"""Input rows of a batch: read, numbered, guarded, and grouped into chunks for the workers."""
from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from api.batch.parallel import Outcome, analyse_chunks
from api.guard import IdentifiersFound, guard_record
from nlp.records import Record, RowError, Source, iter_records


@dataclass(frozen=True)
class InputRow:
    """One row: a record ready for analysis, or the error that stops it.

    ``row`` is the file's row number (1-based, header excluded; JSON Lines: the
    line). The readers number the rows they refuse; a good row is numbered one
    after the row before it, which is exact unless blank rows were skipped.
    """

    row: int
    record: dict[str, Any]
    error: str | None = None


def read_rows(
    source: Source,
    *,
    fmt: str | None,
    mapping: Mapping[str, str] | None,
    max_text_chars: int,
    redact: bool,
    name: str | None = None,
) -> Iterator[InputRow]:
    """Rows of ``source`` in file order, each guarded for identifiers.

    Format, mapping, header and first row are checked at once (``InputError``),
    before a caller writes anything; the rest is read lazily. A refused row
    keeps only its id (its text is never held), and its error names each
    identifier's kind and position.
    """
    items = iter_records(source, fmt, mapping, max_text_chars, name=name)
    first = next(items, None)
    return _numbered(itertools.chain([first] if first is not None else [], items), redact)


def _numbered(items: Iterable[Record | RowError], redact: bool) -> Iterator[InputRow]:
    row = 0
    for item in items:
        if isinstance(item, RowError):
            row = item.row
            yield InputRow(row, {}, item.message)
            continue
        row += 1
        try:
            yield InputRow(row, guard_record(item, redact=redact))
        except IdentifiersFound as exc:
            yield InputRow(
                row,
                {"id": item.get("id")},
                f"text holds identifiers ({exc.describe()}); remove them or use redaction",
            )


def chunked(rows: Iterable[InputRow], size: int) -> Iterator[list[InputRow]]:
    chunk: list[InputRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def analyse_rows(
    chunks: Iterable[list[InputRow]], processes: int
) -> Iterator[list[tuple[InputRow, Outcome | None]]]:
    """Each chunk's rows with their outcome (None for a row refused before analysis)."""
    held: deque[list[InputRow]] = deque()

    def records() -> Iterator[list[dict[str, Any]]]:
        for chunk in chunks:
            held.append(chunk)
            yield [r.record for r in chunk if r.error is None]

    for outcomes in analyse_chunks(records(), processes):
        chunk = held.popleft()
        analysed = iter(outcomes)
        yield [(r, None if r.error is not None else next(analysed)) for r in chunk]
