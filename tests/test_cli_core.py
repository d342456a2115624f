"""The ``caselens`` console script end to end: analyse, themes, evaluate, and bad input.

Every run starts a fresh interpreter that loads spaCy, so the runs are started
together once per module and each test checks one of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from nlp.codebook import get_codebook
from nlp.taxonomy import THEMES

CASELENS = Path(sys.executable).with_name("caselens")
CRLF_TEXT = "Visit notes\r\nThere is no chronology.\r\nThe child was seen alone.\r\n"


class Run(NamedTuple):
    args: list[str]
    stdin: bytes | None = None


def runs(folder: Path) -> dict[str, Run]:
    """The invocations under test, with the files they read written into ``folder``."""
    (folder / "note.txt").write_bytes(b"\xef\xbb\xbf" + CRLF_TEXT.encode("utf-8"))
    (folder / "latin1.txt").write_bytes("The child\u2019s caf\u00e9 visit.".encode("cp1252"))
    (folder / "gold.jsonl").write_text(
        json.dumps(
            {"id": "g1", "text": "There is no chronology.", "labels": ["chronology:concern"]}
        )
        + "\n\n"
        + json.dumps(
            {
                "id": "g2",
                "text": "The child was seen alone at every visit.",
                "doc_type": "case_note",
                "labels": ["voice_of_child:strength", "supervision:strength"],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    (folder / "bad_gold.jsonl").write_text(
        json.dumps({"text": "There is no chronology.", "labels": ["chronology:concern"]})
        + "\n"
        + json.dumps({"text": "Seen alone.", "labels": ["voice_of_child:praise"]})
        + "\n",
        encoding="utf-8",
    )
    return {
        "argument": Run(["analyse", "There is no chronology. The child was seen alone."]),
        "file_json": Run(["analyse", "--file", str(folder / "note.txt"), "--json"]),
        "stdin_json": Run(
            ["analyse", "--json", "--doc-type", "case_note", "--date", "2024-03-05"],
            b"Supervision is regular and reflective.",
        ),
        "themes": Run(["themes"]),
        "evaluate_json": Run(["evaluate", str(folder / "gold.jsonl"), "--json"]),
        "empty_text": Run(["analyse", "  \n "]),
        "not_utf8": Run(["analyse", "--file", str(folder / "latin1.txt")]),
        "bad_gold_line": Run(["evaluate", str(folder / "bad_gold.jsonl")]),
        "missing_file": Run(["analyse", "--file", str(folder / "absent.txt")]),
    }


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "CASELENS_DETECTORS": "rules", "NO_COLOR": "1", "COLUMNS": "200"}

    def run(item: tuple[str, Run]) -> tuple[str, subprocess.CompletedProcess[str]]:
        name, spec = item
        done = subprocess.run(
            [str(CASELENS), *spec.args],
            input=spec.stdin if spec.stdin is not None else b"",
            capture_output=True,
            env=env,
            cwd=folder,
            timeout=300,
            check=False,
        )
        return name, subprocess.CompletedProcess(
            done.args, done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
        )

    planned = runs(folder)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(pool.map(run, planned.items()))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_console_script_is_installed_next_to_the_interpreter() -> None:
    assert CASELENS.is_file()


def test_analyse_text_argument_prints_labels_and_evidence(results) -> None:
    out = ok(results["argument"])
    for expected in (
        "chronology:concern",
        "voice_of_child:strength",
        "no chronology",
        "There is no chronology.",
    ):
        assert expected in out


def test_analyse_file_as_json_keeps_offsets_into_the_file_text(results) -> None:
    data = json.loads(ok(results["file_json"]))
    assert data["labels"] == ["chronology:concern", "voice_of_child:strength"]
    assert data["codebook_hash"] == get_codebook().hash and data["model_hash"] is None
    for tag in data["tags"]:
        assert CRLF_TEXT[tag["start"] : tag["end"]] == tag["evidence"]
        assert CRLF_TEXT[tag["cue_start"] : tag["cue_end"]] == tag["cue"]


def test_analyse_standard_input_as_json_with_metadata(results) -> None:
    data = json.loads(ok(results["stdin_json"]))
    assert data["labels"] == ["supervision:strength"]
    assert data["meta"] == {"doc_type": "case_note", "date": "2024-03-05"}
    assert data["tags"][0]["evidence"] == "Supervision is regular and reflective."


def test_themes_lists_every_theme_under_the_codebook_hash(results) -> None:
    out = ok(results["themes"])
    assert f"Codebook {get_codebook().hash[:12]}" in out
    positions = [out.find(f" {theme} ") for theme in THEMES]
    assert -1 not in positions and positions == sorted(positions)


def test_evaluate_json_has_the_figures(results) -> None:
    data = json.loads(ok(results["evaluate_json"]))
    # g1 right; g2 finds voice_of_child:strength but misses supervision:strength
    assert data["documents"] == 2
    assert (data["micro_precision"], data["micro_recall"], data["micro_f1"]) == (1.0, 0.6667, 0.8)
    assert data["macro_f1"] == 0.6667
    assert data["per_label"]["supervision:strength"]["fn"] == 1
    assert set(data["per_label"]) == {
        "chronology:concern",
        "voice_of_child:strength",
        "supervision:strength",
    }


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("empty_text", ["text is empty"]),
        ("not_utf8", ["latin1.txt", "not UTF-8"]),
        ("bad_gold_line", ["bad_gold.jsonl", "line 2", "voice_of_child:praise"]),
        ("missing_file", ["absent.txt"]),
    ],
)
def test_bad_input_exits_2_with_one_line(results, name: str, fragments: list[str]) -> None:
    result = results[name]
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
