"""The ``caselens`` command line. Every command calls the core in ``nlp``."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

import nlp
from nlp.baseline import KeywordBaseline
from nlp.codebook import get_codebook
from nlp.errors import CaselensError
from nlp.evaluate import evaluate as run_evaluation
from nlp.evaluate import predictor
from nlp.pipeline import DETECTOR_CHOICES, get_analyser
from nlp.records import read_gold, read_text_file

app = typer.Typer(
    name="caselens",
    help="Practice-theme tagging with evidence for children's social care QA.",
    no_args_is_help=True,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"caselens {nlp.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """caselens: text in, practice-theme tags with evidence out."""


def fail(message: str) -> NoReturn:
    """Print a clear error (never a traceback) and exit with status 2."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(2)


def _read_input(text: str | None, file: Path | None) -> str:
    if text is not None and file is not None:
        fail("give the text as an argument or with --file, not both")
    if file is not None:
        return read_text_file(file)
    if text is not None:
        return text
    if sys.stdin.isatty():
        fail("no text: give it as an argument, with --file, or on standard input")
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"standard input is not UTF-8 text (byte {exc.start}); save it as UTF-8")


@app.command()
def analyse(
    text: Optional[str] = typer.Argument(None, help="The text to analyse (or use --file / stdin)."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the text from this UTF-8 file."),
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
    detectors: str = typer.Option(
        "", "--detectors", help="rules, model or all (default: CASELENS_DETECTORS, else all)."
    ),
    doc_type: Optional[str] = typer.Option(None, help="Document type (metadata)."),
    service_area: Optional[str] = typer.Option(None, help="Service area (metadata)."),
    date: Optional[str] = typer.Option(None, help="ISO date of the recording (metadata)."),
) -> None:
    """Tag practice themes in one document and show the evidence."""
    try:
        content = _read_input(text, file)
        result = get_analyser(detectors or None).analyse(
            content, doc_type=doc_type, service_area=service_area, date=date
        )
    except CaselensError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    console = Console()
    if not result.tags:
        console.print("No practice themes found.")
        return
    table = Table(title=f"{len(result.labels)} label(s)", show_lines=True)
    for column in ("label", "confidence", "cue", "evidence"):
        table.add_column(column, overflow="fold")
    for tag in result.tags:
        colour = "red" if tag.polarity == "concern" else "green"
        table.add_row(f"[{colour}]{tag.label}[/{colour}]", f"{tag.confidence:.2f}", tag.cue, tag.evidence)
    console.print(table)


@app.command()
def themes(as_json: bool = typer.Option(False, "--json", help="Print the codebook as JSON.")) -> None:
    """List the codebook's themes."""
    try:
        codebook = get_codebook()
    except CaselensError as exc:
        fail(str(exc))
    if as_json:
        rows = [
            {"id": t.id, "label": t.label, "description": t.description, "cues": len(t.cues)}
            for t in codebook.themes
        ]
        typer.echo(json.dumps({"codebook_hash": codebook.hash, "themes": rows}, indent=2))
        return
    table = Table(title=f"Codebook {codebook.hash[:12]}", show_lines=True)
    for column in ("id", "label", "description", "cues"):
        table.add_column(column, overflow="fold")
    for t in codebook.themes:
        table.add_row(t.id, t.label, t.description, str(len(t.cues)))
    Console().print(table)


@app.command()
def evaluate(
    gold: Path = typer.Argument(..., help="Gold JSONL file (the taxonomy's format)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    detectors: str = typer.Option("", "--detectors", help="rules, model or all (default: all)."),
    baseline: str = typer.Option(
        "keyword", "--baseline", help="Baseline shown beside the detectors: keyword, or none."
    ),
    compare: bool = typer.Option(
        True, "--compare/--no-compare", help="Also score rules, model and all side by side."
    ),
    errors: int = typer.Option(15, "--errors", min=0, help="How many worst errors to list."),
) -> None:
    """Score caselens against a gold file: per-label precision, recall and F1."""
    if baseline not in ("keyword", "none"):
        fail("--baseline must be keyword or none")
    try:
        records = list(read_gold(gold))
        analyser = get_analyser(detectors or None)
        report = run_evaluation(records, predictor(analyser))
        runs: dict[str, dict[str, Any]] = {}
        if compare:
            for choice in DETECTOR_CHOICES:
                if choice == analyser.detectors:
                    runs[choice] = report.to_dict(0)
                elif choice in ("rules", "all") or get_analyser("all").classifier is not None:
                    runs[choice] = run_evaluation(records, predictor(get_analyser(choice))).to_dict(0)
        if baseline == "keyword":
            keyword = KeywordBaseline(analyser.codebook)
            runs["keyword"] = run_evaluation(records, lambda r: keyword.analyse(r["text"])).to_dict(0)
    except CaselensError as exc:
        fail(str(exc))
    summary = report.to_dict(errors)
    summary["detectors"] = analyser.detectors
    summary["comparison"] = {name: {k: v for k, v in run.items() if k.startswith(("micro", "macro"))} for name, run in runs.items()}
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    print_report(summary, f"{gold} ({summary['documents']} documents, detectors: {analyser.detectors})")


def print_report(summary: dict[str, Any], title: str) -> None:
    """The evaluation table, the averages and the worst errors, for people."""
    console = Console()
    table = Table(title=title)
    for column in ("label", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, s in sorted(summary["per_label"].items()):
        table.add_row(label, f"{s['precision']:.2f}", f"{s['recall']:.2f}", f"{s['f1']:.2f}", str(s["support"]))
    table.add_section()
    for avg in ("micro", "macro"):
        table.add_row(
            f"{avg} average",
            f"{summary[avg + '_precision']:.3f}",
            f"{summary[avg + '_recall']:.3f}",
            f"{summary[avg + '_f1']:.3f}",
            "",
        )
    console.print(table)
    if summary.get("comparison"):
        side = Table(title="Side by side")
        for column in ("run", "micro P", "micro R", "micro F1", "macro P", "macro R", "macro F1"):
            side.add_column(column, justify="left" if column == "run" else "right")
        for name, run in summary["comparison"].items():
            side.add_row(name, *(f"{run[f'{a}_{m}']:.3f}" for a in ("micro", "macro") for m in ("precision", "recall", "f1")))
        console.print(side)
    if summary["worst_errors"]:
        errs = Table(title="Worst errors", show_lines=True)
        for column in ("kind", "doc", "label", "sentence"):
            errs.add_column(column, overflow="fold")
        for e in summary["worst_errors"]:
            kind = "false +" if e["kind"] == "false_positive" else "missed"
            errs.add_row(kind, e["doc_id"], e["label"], e["sentence"] or "(no gold evidence given)")
        console.print(errs)


# Service commands: serve, keys, batch (api/service_cli.py)
from api import service_cli  # noqa: E402

service_cli.register(app)


from api import train_cli  # noqa: E402 - commands register themselves on the app

train_cli.register(app)

# Reporting command: report (api/report_cli.py)
from api import report_cli  # noqa: E402

report_cli.register(app)
