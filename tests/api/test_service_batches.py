"""Batch uploads through the API: malformed rows by number, formats, mapping, results."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_helpers import CHRONOLOGY_GAP, wait_for_batch
from sqlalchemy import select

from api.security import Role, create_key
from api.storage.models import Analysis, BatchItem

Auth = Callable[[str], dict[str, str]]
NHS_NOTE = "NHS number 943 476 5919; there is no chronology on file."

MIXED_CSV = (
    "ref,case,area,note\n"
    f"r1,C1,children_in_care,{CHRONOLOGY_GAP}\n"
    "r2,C1,fostering,The plan was reviewed.\n"          # unknown service area
    "r3,C2,early_help,\n"                                 # no text
    f"r4,C2,early_help,{NHS_NOTE}\n"                      # identifiers
    "r1,C3,early_help,A second row with the id of row 1.\n"  # duplicate id
    f"r6,C3,care_leavers,{CHRONOLOGY_GAP}\n"
).encode()
MAPPING = json.dumps({"ref": "id", "case": "case_id", "area": "service_area", "note": "text"})


def _upload(client: TestClient, auth: Auth, name: str, data: bytes, **form: str):
    return client.post("/v1/batches", headers=auth("qa_lead"),
                       files={"file": (name, data, "application/octet-stream")}, data=form)


def test_malformed_rows_are_reported_by_row_and_the_rest_processed(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    response = _upload(client, auth, "notes.csv", MIXED_CSV, mapping=MAPPING)
    assert response.status_code == 202
    batch = wait_for_batch(client, response.json()["id"], auth("qa_lead"))
    assert batch["status"] == "done"
    assert (batch["total_rows"], batch["done_rows"], batch["error_rows"]) == (6, 2, 4)
    errors = {e["row"]: e["message"] for e in batch["errors"]}
    assert sorted(errors) == [2, 3, 4, 5]
    assert "early_help" in errors[2] and "fostering" in errors[2]
    assert "text" in errors[3]
    assert "nhs_number" in errors[4] and "943" not in errors[4]
    assert "duplicate id" in errors[5]

    lines = client.get(f"/v1/batches/{batch['id']}/results", headers=auth("qa_lead")).text
    results = [json.loads(line) for line in lines.splitlines()]
    assert [r["row"] for r in results] == [1, 2, 3, 4, 5, 6]
    assert [r["status"] for r in results] == ["ok", "error", "error", "error", "error", "ok"]
    assert "chronology:concern" in results[0]["labels"]
    assert results[0]["case_id"] == "C1" and results[0]["tags"][0]["evidence"]

    stored = client.get("/v1/documents/r6", headers=auth("auditor")).json()
    assert stored["service_area"] == "care_leavers"
    with app.state.sessions() as session:
        assert {a.document_id for a in session.scalars(select(Analysis))} == {"r1", "r6"}
        items = session.scalars(select(BatchItem)).all()
        assert all("text" not in (i.record or {}) for i in items)  # text lives with documents


def test_results_as_csv_have_one_row_per_input_row(client: TestClient, auth: Auth) -> None:
    batch_id = _upload(client, auth, "notes.csv", MIXED_CSV, mapping=MAPPING).json()["id"]
    wait_for_batch(client, batch_id, auth("qa_lead"))
    response = client.get(f"/v1/batches/{batch_id}/results?format=csv", headers=auth("qa_lead"))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [r["id"] for r in rows if r["status"] == "ok"] == ["r1", "r6"]
    assert rows[0]["status"] == "ok" and "chronology:concern" in rows[0]["labels"].split(";")
    assert rows[1]["status"] == "error" and rows[1]["error"]


def test_redaction_stores_rows_with_identifiers_redacted(client: TestClient, auth: Auth) -> None:
    data = f"id,text\nk1,{NHS_NOTE}\n".encode()
    batch_id = _upload(client, auth, "notes.csv", data, redact="true").json()["id"]
    assert wait_for_batch(client, batch_id, auth("qa_lead"))["done_rows"] == 1
    text = client.get("/v1/documents/k1", headers=auth("auditor")).json()["text"]
    assert "5919" not in text and "[NHS_NUMBER]" in text


def test_jsonl_with_a_broken_line_and_xlsx_are_read(client: TestClient, auth: Auth) -> None:
    jsonl = (json.dumps({"id": "j1", "text": CHRONOLOGY_GAP}) + "\n{broken\n"
             + json.dumps({"id": "j3", "text": CHRONOLOGY_GAP}) + "\n").encode()
    batch = wait_for_batch(client, _upload(client, auth, "n.jsonl", jsonl).json()["id"],
                           auth("qa_lead"))
    assert (batch["done_rows"], [e["row"] for e in batch["errors"]]) == (2, [2])

    book = openpyxl.Workbook()
    book.active.append(["id", "text", "doc_type"])
    book.active.append(["x1", CHRONOLOGY_GAP, "case_note"])
    book.active.append(["x2", CHRONOLOGY_GAP, "memo"])
    buffer = io.BytesIO()
    book.save(buffer)
    batch = wait_for_batch(client, _upload(client, auth, "n.xlsx", buffer.getvalue()).json()["id"],
                           auth("qa_lead"))
    assert batch["done_rows"] == 1
    assert batch["errors"][0]["row"] == 2 and "case_note" in batch["errors"][0]["message"]


def test_a_file_that_is_not_utf8_fails_the_batch_naming_the_place(
    client: TestClient, auth: Auth
) -> None:
    good = "".join(f"g{i},{CHRONOLOGY_GAP}\n" for i in range(10))
    data = f"id,text\n{good}".encode() + "bad,Caf\u00e9 visit\n".encode("latin-1")
    batch = wait_for_batch(client, _upload(client, auth, "notes.csv", data).json()["id"],
                           auth("qa_lead"))
    assert batch["status"] == "failed"
    assert "UTF-8" in batch["message"] and "line 12" in batch["message"]
    assert batch["errors"] == [] and batch["pending_rows"] == 0


@pytest.mark.parametrize("form,fragment", [
    ({"mapping": '{"nothere": "text"}'}, "nothere"),
    ({"mapping": '["text"]'}, "JSON object"),
    ({"mapping": '{"note": "body"}'}, "body"),
])
def test_a_bad_mapping_is_refused_at_upload(
    client: TestClient, auth: Auth, form: dict[str, str], fragment: str
) -> None:
    response = _upload(client, auth, "notes.csv", MIXED_CSV, **form)
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]


def test_an_unknown_file_type_is_refused(client: TestClient, auth: Auth) -> None:
    response = _upload(client, auth, "notes.txt", b"id,text\n1,x\n")
    assert response.status_code == 422
    assert ".csv" in response.json()["error"]["message"]


def test_an_unknown_batch_is_404(client: TestClient, auth: Auth) -> None:
    assert client.get("/v1/batches/nope", headers=auth("admin")).status_code == 404
    assert client.get("/v1/batches/nope/results", headers=auth("admin")).status_code == 404


def test_a_batch_is_analysed_in_several_processes(make_settings: Callable, make_app: Callable) -> None:
    app = make_app(make_settings(batch_processes=2, batch_chunk_size=3))
    client = TestClient(app)
    with app.state.sessions() as session:
        headers = {"X-API-Key": create_key(session, Role.qa_lead).token}
    rows = "".join(f"p{i},C{i % 4},{CHRONOLOGY_GAP}\n" for i in range(20))
    response = client.post("/v1/batches", headers=headers, files={
        "file": ("n.csv", f"id,case_id,text\n{rows}".encode(), "text/csv")})
    batch = wait_for_batch(client, response.json()["id"], headers, timeout=300)
    assert (batch["status"], batch["done_rows"], batch["error_rows"]) == ("done", 20, 0)
    results = client.get(f"/v1/batches/{batch['id']}/results", headers=headers).text.splitlines()
    assert [json.loads(r)["id"] for r in results] == [f"p{i}" for i in range(20)]
