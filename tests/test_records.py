"""Record readers: formats, mapping, per-row errors, encodings and hostile input."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.errors import InputError
from nlp.records import (
    SUPPORTED_FORMATS,
    RowError,
    count_rows,
    iter_records,
    read_gold,
    read_text_file,
)

FIXTURES = Path(__file__).parent / "fixtures" / "records"
CSV_MAPPING = {
    "Ref": "id", "Case": "case_id", "Narrative": "text", "Recorded": "date",
    "Area": "service_area", "Kind": "doc_type", "Team name": "team",
}


def rows(source: object, fmt: str | None = "csv", **kwargs: object) -> list[dict | RowError]:
    return list(iter_records(source, fmt, **kwargs))  # type: ignore[arg-type]


def errors(items: list[dict | RowError]) -> dict[int, str]:
    return {item.row: item.message for item in items if isinstance(item, RowError)}


def records(items: list[dict | RowError]) -> list[dict]:
    return [item for item in items if not isinstance(item, RowError)]


def xlsx_bytes(table: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for values in table:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- formats


def test_csv_with_default_mapping_strips_and_omits_empty_values() -> None:
    data = b"id,text,team,grade,other\nd1,  First note.  ,  ,good,x\nd2,Second note.,West,,\n"
    assert rows(data) == [
        {"id": "d1", "text": "First note.", "grade": "good"},
        {"id": "d2", "text": "Second note.", "team": "West"},
    ]


def test_id_defaults_to_the_row_number() -> None:
    assert rows(b"text\nOne.\n\nThree.\n") == [
        {"id": "1", "text": "One."},
        {"id": "3", "text": "Three."},  # the blank row keeps its number
    ]


def test_csv_with_mapping_from_fixture_file() -> None:
    items = rows(FIXTURES / "mapped.csv", None, mapping=CSV_MAPPING)
    assert items == [
        {"id": "N-1", "text": "Chronology updated and used in the plan review.",
         "case_id": "C-100", "date": "2025-01-14", "service_area": "children_in_care",
         "team": "North", "doc_type": "plan_review"},
        {"id": "N-2", "text": "Supervision is regular and reflective.", "case_id": "C-100",
         "date": "2025-02-03", "service_area": "children_in_care",
         "doc_type": "supervision_record"},
        {"id": "N-3", "text": "Visit purpose unclear;\nno direct work recorded.",
         "case_id": "C-200", "date": "2025-02-10", "service_area": "early_help",
         "team": "South", "doc_type": "case_note"},
    ]


def test_jsonl_reports_each_bad_line_by_number_and_keeps_the_good_ones() -> None:
    items = rows(FIXTURES / "mixed.jsonl", None)
    assert records(items) == [
        {"id": "a1", "text": "Plan reviewed on time.", "date": "2025-03-01",
         "doc_type": "plan_review"},
        {"id": "7", "text": "Numeric id.", "case_id": "1042", "team": "East"},
    ]
    problems = errors(items)
    assert sorted(problems) == [2, 3, 5, 6, 7, 8, 10, 11]
    assert problems[2].startswith("not valid JSON")
    assert problems[3] == "not a JSON object but a list"
    assert problems[5] == "text is missing or empty"
    assert "doc_type 'audit' is not one of: case_note, case_summary" in problems[6]
    assert "date '01/03/2025' is not an ISO date YYYY-MM-DD" in problems[7]
    assert problems[8] == "duplicate id 'a1' (first used in row 1)"
    assert problems[10] == "team must be text or a number, not true/false"
    assert problems[11].startswith("not valid JSON: NaN is not allowed")


def test_xlsx_reads_typed_cells_and_reports_bad_rows() -> None:
    data = xlsx_bytes([
        ["id", "text", "date", "grade", None],
        [101, "Audit narrative one.", datetime(2025, 4, 2), "good", "ignored"],
        [None, None, None, None],
        [102, "Audit narrative two.", "2025-04-31", "excellent"],
        [103.0, "  Third.  ", datetime(2025, 4, 3, 9, 30), None],
    ])
    items = rows(data, "xlsx")
    assert records(items) == [
        {"id": "101", "text": "Audit narrative one.", "date": "2025-04-02", "grade": "good"},
    ]
    problems = errors(items)
    assert sorted(problems) == [3, 4]
    assert "grade 'excellent' is not one of: outstanding, good" in problems[3]
    assert "date '2025-04-31' is not an ISO date" in problems[3]
    assert problems[4] == "date '2025-04-03T09:30:00' is not an ISO date YYYY-MM-DD"


def test_xlsx_with_mapping_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "upload.xlsx"
    path.write_bytes(xlsx_bytes([["Narrative", "Ref"], ["Seen alone.", "r1"]]))
    assert rows(path, None, mapping={"Narrative": "text", "Ref": "id"}) == [
        {"id": "r1", "text": "Seen alone."},
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("d9,,case_note,2025-01-01", "text is missing or empty"),
        ("d9,   ,case_note,2025-01-01", "text is missing or empty"),
        ("d9,Note.,diary,2025-01-01", ("doc_type 'diary' is not one of: case_note, case_summary, "
                                       "supervision_record, audit_narrative, plan_review")),
        ("d9,Note.,case_note,2025-1-1", "date '2025-1-1' is not an ISO date YYYY-MM-DD"),
        ("d9,Note.,case_note,20250101", "date '20250101' is not an ISO date YYYY-MM-DD"),
        ("d9,Note.,case_note,2025-02-30", "date '2025-02-30' is not an ISO date YYYY-MM-DD"),
        ("d1,Note.,case_note,2025-01-01", "duplicate id 'd1' (first used in row 1)"),
        ("d9,This note is too long.,case_note,", "text is 22 characters, over the limit of 20"),
    ],
)
def test_each_bad_csv_row_is_reported_and_the_rest_read(line: str, message: str) -> None:
    data = f"id,text,doc_type,date\nd1,First.,,\n{line}\nd3,Third.,,\n".encode()
    items = rows(data, max_text_chars=20)
    assert items == [
        {"id": "d1", "text": "First."},
        RowError(2, message),
        {"id": "d3", "text": "Third."},
    ]


def test_a_row_with_several_problems_lists_them_all() -> None:
    items = rows(b"text,grade,date\n,great,soon\n")
    assert items == [RowError(1, "text is missing or empty; grade 'great' is not one of: "
                                 "outstanding, good, requires_improvement, inadequate; "
                                 "date 'soon' is not an ISO date YYYY-MM-DD")]


def test_row_error_messages_do_not_echo_text() -> None:
    secret = "Child disclosed something sensitive."
    items = rows(f"text,grade\n{secret},bad\n".encode(), max_text_chars=5)
    assert len(errors(items)) == 1
    assert secret not in errors(items)[1]


def test_a_failed_row_does_not_claim_its_id() -> None:
    items = rows(b"id,text,date\nd1,First.,never\nd1,Second.,2025-01-01\n")
    assert items == [
        RowError(1, "date 'never' is not an ISO date YYYY-MM-DD"),
        {"id": "d1", "text": "Second.", "date": "2025-01-01"},
    ]


# --------------------------------------------------------------------------- sources and formats


def test_format_comes_from_the_suffix_of_the_path_or_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.JSONL"
    path.write_text('{"text": "Note."}\n', encoding="utf-8")
    assert rows(path, None) == [{"id": "1", "text": "Note."}]
    assert rows(b"text\nNote.\n", None, name="upload.csv") == [{"id": "1", "text": "Note."}]


@pytest.mark.parametrize(
    ("source", "fmt", "kwargs", "fragment"),
    [
        (b"text\nx\n", None, {}, "cannot tell the format"),
        (b"text\nx\n", None, {"name": "notes.txt"}, "cannot tell the format"),
        (b"text\nx\n", "xls", {}, "unsupported format 'xls'"),
        (b"text\nx\n", "csv", {"mapping": {"Body": "body"}}, "unknown field(s) 'body'"),
        (b"text\nx\n", "csv", {"mapping": {"A": "text", "B": "text"}}, "several columns to 'text'"),
        (b"text\nx\n", "csv", {"mapping": {"A": "id"}}, "must map a column to 'text'"),
    ],
)
def test_bad_arguments_raise_input_error_at_once(
    source: bytes, fmt: str | None, kwargs: dict, fragment: str
) -> None:
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        iter_records(source, fmt, **kwargs)


def test_a_binary_stream_is_read_and_left_open() -> None:
    stream = io.BytesIO(b"text\nNote.\n")
    assert rows(stream) == [{"id": "1", "text": "Note."}]
    assert not stream.closed


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open the file"):
        rows(tmp_path / "absent.csv", None)


def test_supported_formats() -> None:
    assert SUPPORTED_FORMATS == ("csv", "jsonl", "xlsx")


# --------------------------------------------------------------------------- file-level errors


def test_missing_mapped_column_names_it_and_lists_the_columns_found() -> None:
    with pytest.raises(InputError) as caught:
        rows(b"Ref,Body\nr1,Note.\n", name="notes.csv", mapping={"Narrative": "text"})
    message = str(caught.value)
    assert message.startswith("notes.csv: no column 'Narrative' (for 'text')")
    assert "columns found: 'Ref', 'Body'" in message


def test_default_mapping_needs_a_text_column() -> None:
    with pytest.raises(InputError, match="no column 'text'.*columns found: 'id', 'body'"):
        rows(b"id,body\n1,Note.\n")


def test_missing_xlsx_column_is_reported_the_same_way() -> None:
    with pytest.raises(InputError, match="no column 'text'.*columns found: 'Ref'"):
        rows(xlsx_bytes([["Ref"], ["r1"]]), "xlsx")


def test_a_mapped_column_that_appears_twice_is_refused() -> None:
    with pytest.raises(InputError, match="column 'text' appears more than once"):
        rows(b"text,text\na,b\n")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf"])
def test_an_empty_csv_has_no_header(data: bytes) -> None:
    with pytest.raises(InputError, match="no header row"):
        rows(data)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_non_utf8_bytes_name_the_file_line_and_byte(fmt: str) -> None:
    head = b"text\nFirst.\n" if fmt == "csv" else b'{"text": "First."}\n{"text": "Second."}\n'
    data = head + b"Caf\xe9 visit\n"
    bad_line = head.count(b"\n") + 1
    with pytest.raises(InputError) as caught:
        rows(data, fmt, name=f"export.{fmt}")
    assert str(caught.value) == (
        f"export.{fmt}: not UTF-8 text: byte 0xe9 at line {bad_line}, "
        f"byte {len(head) + 3} — save it as UTF-8"
    )


def test_records_before_a_bad_byte_are_streamed_first() -> None:
    stream = iter_records(b"text\nFirst.\nSecond.\n\xff\n", "csv")
    assert next(stream) == {"id": "1", "text": "First."}
    assert next(stream) == {"id": "2", "text": "Second."}
    with pytest.raises(InputError, match="line 4, byte 20"):
        next(stream)


def test_utf16_with_nul_bytes_is_refused() -> None:
    data = "text\nNote.\n".encode("utf-16-le")
    with pytest.raises(InputError, match="NUL byte at line 1, byte 1 .* save it as UTF-8"):
        rows(data)


def test_json_nul_escape_is_a_row_error() -> None:
    items = rows(b'{"text": "a\\u0000b"}\n{"text": "ok"}\n', "jsonl")
    assert items == [RowError(1, "text contains a NUL character"), {"id": "2", "text": "ok"}]


def test_json_lone_surrogate_is_a_row_error() -> None:
    items = rows(b'{"text": "\\ud800"}\n', "jsonl")
    assert items == [RowError(1, "text contains an unpaired surrogate, which is not text")]


def test_deeply_nested_json_is_a_row_error() -> None:
    items = rows(b"[" * 100_000 + b"\n" + b'{"text": "ok"}\n', "jsonl")
    assert items == [RowError(1, "not valid JSON: nested too deeply"), {"id": "2", "text": "ok"}]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_utf8_bom_is_dropped(fmt: str) -> None:
    body = "id,text\nd1,Café visit.\n" if fmt == "csv" else '{"id": "d1", "text": "Café visit."}\n'
    assert rows(b"\xef\xbb\xbf" + body.encode(), fmt) == [{"id": "d1", "text": "Café visit."}]


def test_csv_field_over_the_csv_limit_is_an_input_error() -> None:
    limit = csv.field_size_limit()
    data = b"id,text\nd1,Fine.\nd2," + b"x" * (limit + 1) + b"\n"
    stream = iter_records(data, "csv", name="big.csv")
    assert next(stream) == {"id": "d1", "text": "Fine."}
    with pytest.raises(InputError, match=r"big.csv: CSV row 2 .* field larger than field limit"):
        next(stream)


def test_csv_text_longer_than_the_csv_modules_default_limit_is_read() -> None:
    text = "Visit. " * 30_000  # 210,000 characters, over csv's default 131,072
    data = b"id,text\nd1," + text.strip().encode() + b"\nd2,Short.\n"
    assert rows(data, max_text_chars=300_000) == [
        {"id": "d1", "text": text.strip()}, {"id": "d2", "text": "Short."}]
    # over the text limit but within the CSV field allowance: a row error, the rest is read
    assert rows(data, max_text_chars=150_000) == [
        RowError(1, f"text is {len(text.strip())} characters, over the limit of 150000"),
        {"id": "d2", "text": "Short."}]


def test_huge_text_under_the_csv_limit_is_a_row_error() -> None:
    data = b"text\n" + b"x" * 100_000 + b"\nShort.\n"
    assert rows(data, max_text_chars=1000) == [
        RowError(1, "text is 100000 characters, over the limit of 1000"),
        {"id": "2", "text": "Short."},
    ]


@pytest.mark.parametrize(
    "data", [b"not a zip file", b"PK\x03\x04" + b"\x00" * 40, xlsx_bytes([["text"]])[:200]]
)
def test_malformed_xlsx_is_an_input_error(data: bytes) -> None:
    with pytest.raises(InputError, match="not a readable XLSX workbook"):
        rows(data, "xlsx", name="book.xlsx")


# --------------------------------------------------------------------------- counting


def test_count_rows_for_each_format(tmp_path: Path) -> None:
    assert count_rows(b"text\na\nb\nc", "csv") == 3
    assert count_rows(b'{"text": "a"}\n{"text": "b"}\n', "jsonl") == 2
    assert count_rows(xlsx_bytes([["text"], ["a"], ["b"]]), "xlsx") == 2
    assert count_rows(b"", "csv") == 0
    path = tmp_path / "a.csv"
    path.write_bytes(b"text\na\n")
    assert count_rows(path) == 1


def test_count_rows_leaves_a_stream_where_it_was() -> None:
    stream = io.BytesIO(b"text\na\nb\n")
    assert count_rows(stream, "csv") == 2
    assert rows(stream) == [{"id": "1", "text": "a"}, {"id": "2", "text": "b"}]


def test_count_rows_of_an_unreadable_workbook_is_unknown() -> None:
    assert count_rows(b"junk", "xlsx") is None


# --------------------------------------------------------------------------- single files


def test_read_text_file(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(b"\xef\xbb\xbfLine one.\r\nLine two \xe2\x80\x94 done.")
    assert read_text_file(path) == "Line one.\r\nLine two — done."


def test_read_text_file_names_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(b"ok\nstill ok\nbad \x92 quote\n")
    with pytest.raises(InputError, match=r"note.txt: not UTF-8 text: byte 0x92 at line 3, byte 16"):
        read_text_file(path)


def test_read_gold_passes_valid_documents_through() -> None:
    documents = list(read_gold(FIXTURES / "gold.jsonl"))
    assert [d["id"] for d in documents] == ["g1", "g2"]
    assert documents[0]["labels"] == ["chronology:concern"]
    assert documents[0]["annotator"] == "x"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('{"text": "x", "labels": ["chronology:concern"]', "not valid JSON"),
        ('["text", "labels"]', "not a JSON object but a list"),
        ('{"labels": []}', "'text' must be a non-empty string"),
        ('{"text": "  ", "labels": []}', "'text' must be a non-empty string"),
        ('{"text": 5, "labels": []}', "'text' must be a non-empty string"),
        ('{"text": "x"}', "'labels' must be a list"),
        ('{"text": "x", "labels": "chronology:concern"}', "'labels' must be a list"),
        ('{"text": "x", "labels": ["chronology:bad"]}', "not taxonomy labels: 'chronology:bad'"),
        ('{"text": "x", "labels": ["timeline:concern"]}', "not taxonomy labels"),
        ('{"text": "x", "labels": [3]}', "not taxonomy labels"),
    ],
)
def test_read_gold_names_the_file_and_line_of_an_invalid_line(
    tmp_path: Path, line: str, fragment: str
) -> None:
    path = tmp_path / "gold.jsonl"
    good = json.dumps({"text": "Fine.", "labels": ["supervision:strength"]})
    path.write_text(f"{good}\n\n{line}\n{good}\n", encoding="utf-8")
    documents = read_gold(path)
    assert next(documents)["text"] == "Fine."
    with pytest.raises(InputError) as caught:
        next(documents)
    assert str(caught.value).startswith(f"{path}, line 3: ")
    assert fragment in str(caught.value)


# --------------------------------------------------------------------------- hostile bytes


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400), fmt=st.sampled_from(SUPPORTED_FORMATS))
def test_arbitrary_bytes_give_rows_row_errors_or_input_error(data: bytes, fmt: str) -> None:
    try:
        for item in iter_records(data, fmt, max_text_chars=50):
            assert isinstance(item, (dict, RowError))
            if isinstance(item, dict):
                assert item["text"] and all(isinstance(v, str) and v for v in item.values())
    except InputError:
        pass


_CSV_PIECES = st.sampled_from(
    [b"id", b"text", b"date", b"grade", b",", b"\n", b"\r\n", b'"', b"x", b"2025-01-01",
     b"good", b"\xef\xbb\xbf", b"\xff", b"\x00", b"\r"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CSV_PIECES, max_size=40).map(b"".join))
def test_csv_shaped_bytes_give_rows_row_errors_or_input_error(data: bytes) -> None:
    try:
        items = rows(b"text," + data)
    except InputError:
        return
    assert all(isinstance(item, (dict, RowError)) for item in items)
