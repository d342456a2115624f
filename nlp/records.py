"""Reading documents from CSV, JSON Lines and XLSX files and uploads.

Every input is treated as hostile. Problems with one row come back as a
``RowError`` in the stream and the other rows are still read; problems with the
whole file (wrong encoding, unreadable workbook, a mapped column that is not
there) raise ``InputError`` with a message naming the file and the place.
Nothing here logs or echoes document text.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

from nlp.errors import InputError
from nlp.taxonomy import CONTROLLED_META, LABELS

SUPPORTED_FORMATS: tuple[str, ...] = ("csv", "jsonl", "xlsx")
#: caselens fields a column can be mapped to, in the order records list them
FIELDS: tuple[str, ...] = (
    "id", "text", "case_id", "date", "service_area", "team", "doc_type", "grade",
)
#: a physical line longer than this is refused rather than held in memory
MAX_LINE_BYTES = 64 * 1024 * 1024

Source = str | os.PathLike[str] | bytes | BinaryIO
Record = dict[str, str]

_SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
_UNNAMED = "upload"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNT_CHUNK = 1 << 20
_SHOWN_CHARS = 40
_LABEL_SET = frozenset(LABELS)


class _Invalid(Exception):
    """One row's or line's problem, turned into a RowError or an InputError by the caller."""


@dataclass(frozen=True)
class RowError:
    """A row that could not be read; the rows around it are still read.

    ``row`` is the 1-based data row (header excluded) for CSV and XLSX, and
    the 1-based line number for JSON Lines.
    """

    row: int
    message: str


# --------------------------------------------------------------------------- public API


def iter_records(
    source: Source,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_text_chars: int | None = None,
    *,
    name: str | None = None,
) -> Iterator[Record | RowError]:
    """Yield each row of ``source`` as a record dict or a ``RowError``, in file order.

    ``source`` is a path, the file's bytes, or a binary file object (left open).
    ``fmt`` is one of ``SUPPORTED_FORMATS``; by default it comes from the suffix
    of the path or of ``name`` (the upload's file name, used in messages).
    ``mapping`` maps the file's column names (JSON keys) to caselens ``FIELDS``;
    by default every column named like a field is used. Only ``text`` is
    required. A record holds only the fields present, stripped, with empty
    values left out; ``id`` is the row number when absent or empty.

    Format and mapping are checked at once; the file itself is read lazily,
    so file-level ``InputError`` is raised from the iteration.
    """
    where = _source_name(source, name)
    resolved_fmt = _resolve_format(fmt, where)
    columns = _checked_mapping(mapping)
    if resolved_fmt == "jsonl":
        raw_rows = _jsonl_rows(source, columns or _IDENTITY, where)
    elif resolved_fmt == "csv":
        _allow_csv_fields(max_text_chars)
        raw_rows = _table_rows(_csv_cells(source, where), columns, where)
    else:
        raw_rows = _table_rows(_xlsx_cells(source, where), columns, where)
    return _records(raw_rows, max_text_chars)


#: a CSV field this many times the text limit is read (and refused as a row error);
#: a longer one stops the file, since a reader cannot resume inside a field
CSV_FIELD_FACTOR = 10


def _allow_csv_fields(max_text_chars: int | None) -> None:
    """Raise the csv module's field limit (131,072 by default) to fit the text limit.

    The limit is process-wide, so it only ever grows.
    """
    if max_text_chars is not None:
        wanted = max_text_chars * CSV_FIELD_FACTOR
        if wanted > csv.field_size_limit():
            csv.field_size_limit(wanted)


def count_rows(source: Source, fmt: str | None = None, *, name: str | None = None) -> int | None:
    """A cheap estimate of the number of data rows, for progress bars.

    CSV and JSON Lines count physical lines (a quoted CSV value spanning lines
    makes it an over-estimate); XLSX uses the size the workbook records. None
    when it cannot be told cheaply (an unseekable stream, a workbook without a
    recorded size or one that cannot be opened).
    """
    where = _source_name(source, name)
    resolved_fmt = _resolve_format(fmt, where)
    with _open_binary(source, where) as stream:
        if not _rewindable(stream):
            return None
        start = stream.tell()
        try:
            if resolved_fmt == "xlsx":
                return _xlsx_row_estimate(stream)
            lines = _count_lines(stream)
            return max(lines - 1, 0) if resolved_fmt == "csv" else lines
        finally:
            stream.seek(start)


def read_text_file(path: str | os.PathLike[str]) -> str:
    """The UTF-8 text of a single-document file (a leading BOM is dropped).

    Raises InputError naming the line and the 0-based byte offset in the file
    of the first byte that is not UTF-8 (or of a NUL byte).
    """
    where = os.fspath(path)
    with _open_binary(path, where) as stream:
        return "".join(line for _, line in _text_lines(stream, where))


def read_gold(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the documents of a gold JSON Lines file, validated line by line.

    Each line must be a JSON object with a non-empty string ``text`` and a list
    ``labels`` of taxonomy label ids; other fields are passed through unchecked.
    The first invalid line raises InputError naming the file and line.
    """
    where = os.fspath(path)
    with _open_binary(path, where) as stream:
        for number, line in _text_lines(stream, where):
            if not line.strip():
                continue
            try:
                document = _parse_json_object(line)
                _check_gold(document)
            except _Invalid as exc:
                raise InputError(str(exc), where=f"{where}, line {number}") from None
            yield document


# --------------------------------------------------------------------------- sources


def _source_name(source: Source, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    file_name = getattr(source, "name", None)
    return file_name if isinstance(file_name, str) else _UNNAMED


def _resolve_format(fmt: str | None, where: str) -> str:
    if fmt is not None:
        wanted = fmt.lower().lstrip(".")
        if wanted in SUPPORTED_FORMATS:
            return wanted
        raise InputError(f"unsupported format {fmt!r}: use one of {', '.join(SUPPORTED_FORMATS)}")
    detected = _SUFFIX_FORMATS.get(Path(where).suffix.lower())
    if detected is None:
        raise InputError(
            "cannot tell the format from the file name: use a .csv, .jsonl or .xlsx file "
            f"or name the format ({', '.join(SUPPORTED_FORMATS)})",
            where=where,
        )
    return detected


@contextmanager
def _open_binary(source: Source, where: str) -> Iterator[BinaryIO]:
    """Open a path (closed afterwards), wrap bytes, or pass a caller's stream through."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            stream = open(source, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise InputError(f"cannot open the file: {exc.strerror or exc}", where=where) from None
        with stream:
            yield stream
    else:
        yield source


def _rewindable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def _count_lines(stream: BinaryIO) -> int:
    lines, last = 0, b"\n"
    while chunk := stream.read(_COUNT_CHUNK):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    return lines + (last != b"\n")


# --------------------------------------------------------------------------- decoding


def _text_lines(stream: BinaryIO, where: str) -> Iterator[tuple[int, str]]:
    """Decode a byte stream as UTF-8, one line at a time, keeping line endings.

    Yields (1-based line number, line). Line by line is safe for UTF-8 because
    the newline byte never occurs inside a multi-byte character.
    """
    offset = 0
    for number in itertools.count(1):
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise InputError(
                f"line {number} is longer than {MAX_LINE_BYTES // 2**20} MiB", where=where
            )
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
            offset = len(codecs.BOM_UTF8)
        yield number, _decode_line(raw, number, offset, where)
        offset += len(raw)


def _decode_line(raw: bytes, number: int, offset: int, where: str) -> str:
    """``offset`` is the 0-based byte position of ``raw`` in the file."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {number}, "
            f"byte {offset + exc.start} — save it as UTF-8",
            where=where,
        ) from None
    if "\x00" in text:
        raise InputError(
            f"NUL byte at line {number}, byte {offset + raw.index(0)} — "
            "this looks like UTF-16 or a binary file; save it as UTF-8 text",
            where=where,
        )
    return text


# --------------------------------------------------------------------------- formats

_IDENTITY: dict[str, str] = {field: field for field in FIELDS}


def _checked_mapping(mapping: Mapping[str, str] | None) -> dict[str, str] | None:
    """Validate a column → field mapping; None keeps the default (identical names)."""
    if mapping is None:
        return None
    unknown = sorted({field for field in mapping.values() if field not in FIELDS})
    if unknown:
        raise InputError(
            f"mapping names unknown field(s) {', '.join(map(repr, unknown))}: "
            f"fields are {', '.join(FIELDS)}"
        )
    targets = list(mapping.values())
    doubled = sorted({field for field in targets if targets.count(field) > 1})
    if doubled:
        raise InputError(f"mapping maps several columns to {', '.join(map(repr, doubled))}")
    if "text" not in targets:
        raise InputError("mapping must map a column to 'text'")
    return {str(column).strip(): field for column, field in mapping.items()}


def _table_rows(
    cells: Iterator[tuple[int, Sequence[Any]]],
    columns: dict[str, str] | None,
    where: str,
) -> Iterator[tuple[int, dict[str, Any]] | RowError]:
    """Turn header + cell rows into (row number, {field: raw value}); skip blank rows."""
    header = next(cells, None)
    found = [] if header is None else ["" if c is None else str(c).strip() for c in header[1]]
    if not any(found):
        raise InputError("no header row: the first row must name the columns", where=where)
    positions = _column_positions(found, columns, where)
    for row, values in cells:
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in values):
            continue
        yield row, {
            field: values[index] if index < len(values) else None
            for field, index in positions.items()
        }


def _column_positions(
    found: list[str], columns: dict[str, str] | None, where: str
) -> dict[str, int]:
    """Map each wanted field to its column index; a missing mapped column is an error."""
    if columns is None:
        columns = {field: field for field in FIELDS if field in found or field == "text"}
    positions: dict[str, int] = {}
    for column, field in columns.items():
        if column not in found:
            listed = ", ".join(_show(name) for name in found if name) or "none"
            raise InputError(
                f"no column {column!r} (for {field!r}); columns found: {listed}", where=where
            )
        if found.count(column) > 1:
            raise InputError(f"column {column!r} appears more than once", where=where)
        positions[field] = found.index(column)
    return positions


def _csv_cells(source: Source, where: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows as (row number, cells); the header is row 0."""
    with _open_binary(source, where) as stream:
        reader = csv.reader(line for _, line in _text_lines(stream, where))
        for row in itertools.count(0):
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # A broken quoted value cannot be skipped reliably: the rest of
                # the file would be misread, so the file is refused.
                raise InputError(
                    f"CSV row {row} (line {reader.line_num}) cannot be read: {exc}", where=where
                ) from None
            yield row, cells


def _xlsx_cells(source: Source, where: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Rows of the workbook's active sheet as (row number, values); the header is row 0.

    openpyxl raises many exception types on damaged or hostile workbooks
    (zip, XML, key and type errors), so any exception it raises is reported
    as an unreadable workbook.
    """
    import openpyxl

    with _open_binary(source, where) as stream:
        try:
            workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - see docstring
            raise InputError("not a readable XLSX workbook", where=where) from None
        try:
            try:
                rows = workbook.active.iter_rows(values_only=True)
            except Exception:  # noqa: BLE001 - see docstring
                raise InputError("the workbook has no readable worksheet", where=where) from None
            for row in itertools.count(0):
                try:
                    values = next(rows)
                except StopIteration:
                    return
                except Exception:  # noqa: BLE001 - see docstring
                    raise InputError(
                        f"the workbook is damaged at data row {row}", where=where
                    ) from None
                yield row, values
        finally:
            workbook.close()


def _xlsx_row_estimate(stream: BinaryIO) -> int | None:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - unreadable workbooks are reported by iter_records
        return None
    try:
        max_row = getattr(workbook.active, "max_row", None)
        return max(max_row - 1, 0) if isinstance(max_row, int) else None
    finally:
        workbook.close()


def _jsonl_rows(
    source: Source, columns: dict[str, str], where: str
) -> Iterator[tuple[int, dict[str, Any]] | RowError]:
    """JSON Lines as (line number, {field: raw value}), or a RowError for a bad line."""
    with _open_binary(source, where) as stream:
        for number, line in _text_lines(stream, where):
            if not line.strip():
                continue
            try:
                obj = _parse_json_object(line)
            except _Invalid as exc:
                yield RowError(number, str(exc))
                continue
            yield number, {field: obj.get(column) for column, field in columns.items()}


def _parse_json_object(line: str) -> dict[str, Any]:
    """Parse one line of strict JSON that must be an object; _Invalid says what is wrong."""
    try:
        value = json.loads(line, parse_constant=_reject_constant)
    except RecursionError:
        raise _Invalid("not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise _Invalid(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise _Invalid(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _Invalid(f"not a JSON object but {_json_kind(value)}")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false",
             type(None): "null", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


def _check_gold(document: dict[str, Any]) -> None:
    text = document.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _Invalid("'text' must be a non-empty string")
    labels = document.get("labels")
    if not isinstance(labels, list):
        raise _Invalid("'labels' must be a list of label ids such as 'chronology:concern'")
    bad = [label for label in labels if not isinstance(label, str) or label not in _LABEL_SET]
    if bad:
        raise _Invalid(
            f"not taxonomy labels: {', '.join(_show(label) for label in bad[:5])} "
            "(a label is THEME:concern or THEME:strength)"
        )


# --------------------------------------------------------------------------- records


def _records(
    raw_rows: Iterator[tuple[int, dict[str, Any]] | RowError], max_text_chars: int | None
) -> Iterator[Record | RowError]:
    first_row_of_id: dict[str, int] = {}
    for item in raw_rows:
        if isinstance(item, RowError):
            yield item
            continue
        row, raw = item
        record, problems = _clean(row, raw, max_text_chars)
        earlier = first_row_of_id.get(record["id"])
        if earlier is not None:
            problems.append(f"duplicate id {_show(record['id'])} (first used in row {earlier})")
        if problems:
            yield RowError(row, "; ".join(problems))
        else:
            first_row_of_id[record["id"]] = row
            yield record


def _clean(
    row: int, raw: dict[str, Any], max_text_chars: int | None
) -> tuple[Record, list[str]]:
    """The record for one row (fields in ``FIELDS`` order) and what is wrong with it."""
    record: Record = {}
    problems: list[str] = []
    unreadable: set[str] = set()
    for field in FIELDS:
        try:
            value = _as_text(raw.get(field))
        except _Invalid as exc:
            problems.append(f"{field} {exc}")
            unreadable.add(field)
            continue
        if value:
            record[field] = value
    if "id" not in record:
        record = {"id": str(row), **record}
    text = record.get("text")
    if text is None:
        if "text" not in unreadable:
            problems.append("text is missing or empty")
    elif max_text_chars is not None and len(text) > max_text_chars:
        problems.append(f"text is {len(text)} characters, over the limit of {max_text_chars}")
    for field, allowed in CONTROLLED_META.items():
        value = record.get(field)
        if value is not None and value not in allowed:
            problems.append(f"{field} {_show(value)} is not one of: {', '.join(allowed)}")
    if "date" in record and not _is_iso_date(record["date"]):
        problems.append(f"date {_show(record['date'])} is not an ISO date YYYY-MM-DD")
    return record, problems


def _as_text(value: Any) -> str:
    """A cell or JSON value as stripped text; _Invalid for values that cannot be text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise _Invalid("must be text or a number, not true/false")
    if isinstance(value, str):
        text = value
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == time() else value.isoformat()
    elif isinstance(value, (date, time)):
        text = value.isoformat()
    else:
        raise _Invalid(f"must be text or a number, not {_json_kind(value)}")
    text = text.strip()
    if "\x00" in text:
        raise _Invalid("contains a NUL character")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _Invalid("contains an unpaired surrogate, which is not text") from None
    return text


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _show(value: object) -> str:
    """A short quoted form of a metadata value, column name or label for messages."""
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_CHARS else shown[:_SHOWN_CHARS] + "…"
