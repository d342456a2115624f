"""``caselens batch``: rows in order, errors by row, and resuming without loss or duplicates."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from service_helpers import CHRONOLOGY_GAP

from api.batch.local import run_local_batch
from nlp.errors import InputError

NOTES = [
    CHRONOLOGY_GAP,
    "Supervision is not reflective and has not happened for three months.",
    "The child was seen alone and her wishes shaped the plan.",
]


def _write_csv(path: Path, rows: int, *, bad_every: int = 0) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "case_id", "doc_type", "text"])
        for i in range(1, rows + 1):
            doc_type = "memo" if bad_every and i % bad_every == 0 else "case_note"
            writer.writerow([f"d{i}", f"C{i % 7}", doc_type, NOTES[i % len(NOTES)]])
    return path


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_every_row_gets_one_result_in_order_with_errors_by_row(tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "in.csv", 12, bad_every=5)
    summary = run_local_batch(source, tmp_path / "out.jsonl", processes=1, chunk_size=4,
                              progress=False)
    assert (summary.ok, summary.errors, summary.skipped) == (10, 2, 0)
    results = _rows(tmp_path / "out.jsonl")
    assert [r["row"] for r in results] == list(range(1, 13))
    bad = [r for r in results if r["status"] == "error"]
    assert [r["row"] for r in bad] == [5, 10]
    assert all("case_note" in r["error"] for r in bad)
    assert "chronology:concern" in results[2]["labels"]  # row 3 holds the chronology gap


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_an_interrupted_output_is_completed_without_loss_or_duplicates(
    tmp_path: Path, suffix: str
) -> None:
    source = _write_csv(tmp_path / "in.csv", 20, bad_every=6)
    reference = tmp_path / f"reference.{suffix}"
    run_local_batch(source, reference, processes=1, chunk_size=3, progress=False)
    full = reference.read_bytes()

    out = tmp_path / f"out.{suffix}"
    lines = full.splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:9]) + lines[9][: len(lines[9]) // 2])  # cut mid-line
    summary = run_local_batch(source, out, processes=1, chunk_size=3, progress=False)
    assert out.read_bytes() == full
    header = 1 if suffix == "csv" else 0
    assert summary.skipped == 9 - header

    again = run_local_batch(source, out, processes=1, chunk_size=3, progress=False)
    assert (again.skipped, again.ok, again.errors) == (20, 0, 0)
    assert out.read_bytes() == full


def test_results_of_another_input_are_not_mixed_in(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_local_batch(_write_csv(tmp_path / "a.csv", 3), out, processes=1, progress=False)
    other = tmp_path / "b.csv"
    other.write_text("id,text\nzz,Some other note.\n", encoding="utf-8")
    with pytest.raises(InputError, match="another input"):
        run_local_batch(other, out, processes=1, progress=False)


def test_the_results_format_must_be_known(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=".jsonl or .csv"):
        run_local_batch(_write_csv(tmp_path / "a.csv", 1), tmp_path / "out.txt", progress=False)


def test_a_bad_mapping_is_refused_before_any_output_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match="nothere"):
        run_local_batch(_write_csv(tmp_path / "a.csv", 2), out, mapping={"nothere": "text"},
                        progress=False)
    assert not out.exists()


def test_a_killed_batch_resumes_with_nothing_lost_or_duplicated(tmp_path: Path) -> None:
    """SIGKILL the command part-way through, run it again, and check every row once."""
    rows = 600
    source = _write_csv(tmp_path / "in.csv", rows, bad_every=50)
    out = tmp_path / "out.jsonl"
    command = [str(Path(sys.executable).with_name("caselens")), "batch", str(source),
               "--out", str(out), "--processes", "2", "--chunk-size", "5", "--no-progress"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size == 0):
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the command and its worker processes
    first.wait(timeout=30)
    written = out.read_bytes().count(b"\n")
    assert 0 < written < rows, "the batch was meant to be killed part-way"

    finished = subprocess.run(command, check=False, capture_output=True, text=True,
                              timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert f"{written} already done" in finished.stderr
    results = _rows(out)
    assert [r["row"] for r in results] == list(range(1, rows + 1))
    assert [r["row"] for r in results if r["status"] == "error"] == list(range(50, rows + 1, 50))
    assert [r["id"] for r in results if r["status"] == "ok"] == [
        f"d{i}" for i in range(1, rows + 1) if i % 50]
