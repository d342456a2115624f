"""The ``caselens`` command line. Every command calls the core in ``nlp``."""
from __future__ import annotations

import typer

import nlp

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
