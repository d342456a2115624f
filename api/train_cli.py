"""``caselens train``: build the theme classifier artefact and its model card."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from nlp.errors import CaselensError

if TYPE_CHECKING:
    from nlp.train import WeakSource
    from nlp.training_data import Example

#: shared by train and calibrate
HELDOUT_DOCS_OPTION = typer.Option(
    None, "--heldout-docs", help="Gold JSONL file(s) of whole recordings, never trained on, "
    "for the fused thresholds and veto; default: data_samples/heldout/*.jsonl.",
)


def train_command(
    data: list[Path] = typer.Option(
        None, "--data", help="Training JSONL file(s); default: data_samples/train/*.jsonl "
        "plus data_samples/sample_corpus.jsonl and tricky_sentences.jsonl when present.",
    ),
    heldout_docs: list[Path] = HELDOUT_DOCS_OPTION,
    out: Path = typer.Option(
        None, "--out", help="Folder to write the artefact and card to; default: the admin "
        "setting CASELENS_MODEL_DIR, else the package's models/.",
    ),
    seed: int = typer.Option(0, help="Random seed; the same data and seed give the same artefact."),
    limit: int = typer.Option(None, help="Train on a subset of this many examples (smoke runs)."),
    candidates: str = typer.Option(
        None, help="Comma-separated candidate names to compare (default: all)."
    ),
    weak_corpus: Path = typer.Option(
        None, help="Folder of unlabelled .txt reports for the weak-supervision experiment, "
        "read in place.",
    ),
    weak_reports: int = typer.Option(40, help="How many reports of --weak-corpus to use."),
    weak_weight: float = typer.Option(0.5, help="Down-weight of a weakly labelled sentence."),
    cv_folds: int = typer.Option(3, help="Cross-validation folds reported in the card (0: skip)."),
    jobs: int = typer.Option(1, help="Worker processes for fitting (results do not depend on it)."),
) -> None:
    """Train the sentence classifier and write theme_classifier.joblib + model_card.json."""
    from nlp import model_store
    from nlp.train import CANDIDATES, train

    chosen = CANDIDATES
    if candidates:
        names = [n.strip() for n in candidates.split(",") if n.strip()]
        unknown = sorted(set(names) - {c.name for c in CANDIDATES})
        if unknown:
            known = ", ".join(c.name for c in CANDIDATES)
            raise typer.BadParameter(f"unknown candidate(s) {', '.join(unknown)}; known: {known}")
        chosen = tuple(c for c in CANDIDATES if c.name in names)
    try:
        result = train(
            data_paths=data or None,
            out_dir=out or model_store.resolve_model_dir(),
            seed=seed,
            candidates=chosen,
            weak_examples=_weak_source(weak_corpus, weak_reports, weak_weight) if weak_corpus else None,
            heldout_documents=heldout_docs or None,
            cv_folds=cv_folds,
            limit=limit,
            n_jobs=jobs,
            log=typer.echo,
        )
    except (CaselensError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    model_store.clear_cache()
    metrics = result.card["heldout_metrics"]["at_thresholds"]
    typer.echo(
        f"model {result.card['model']}: held-out micro-F1 {metrics['micro']['f1']}, "
        f"macro-F1 {metrics['macro']['f1']}; {result.card['training_seconds']} s; "
        f"card {result.card_path}"
    )
    _echo_fusion(result.card)


def calibrate_command(
    heldout_docs: list[Path] = HELDOUT_DOCS_OPTION,
    out: Path = typer.Option(
        None, "--out", help="Folder of the artefact to calibrate; default: CASELENS_MODEL_DIR, "
        "else the package's models/.",
    ),
) -> None:
    """Re-choose the fused thresholds and veto for the current codebook (after editing it),
    keeping the trained weights."""
    from nlp import model_store
    from nlp.train import calibrate

    try:
        result = calibrate(out or model_store.resolve_model_dir(), heldout_docs or None, log=typer.echo)
    except CaselensError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    model_store.clear_cache()
    _echo_fusion(result.card)


def _echo_fusion(card: dict[str, Any]) -> None:
    for detectors, row in (card["fusion"].get("heldout_documents") or {}).items():
        typer.echo(
            f"held-out recordings, detectors {detectors}: micro P {row['micro_precision']} "
            f"R {row['micro_recall']} F1 {row['micro_f1']}, macro-F1 {row['macro_f1']}"
        )


def _weak_source(folder: Path, reports: int, weight: float) -> WeakSource:
    """A ``WeakSource`` reading up to ``reports`` reports of ``folder`` in place."""
    from nlp.weak_supervision import corpus_sentences, weak_examples

    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder", param_hint="--weak-corpus")

    def source(labelled: Sequence[Example]) -> tuple[list[Example], dict[str, float]]:
        return weak_examples(corpus_sentences(folder, reports), labelled, down_weight=weight)

    return source


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("calibrate")(calibrate_command)
