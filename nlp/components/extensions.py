"""Custom attributes of caselens on spaCy Docs, declared once, and the proposal type."""
from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc


@dataclass(frozen=True)
class Proposal:
    """A detector's claim that a sentence speaks to a theme.

    ``kind`` is ``concern``/``strength`` or, for rule cues, ``absence``;
    ``start``/``end`` are token offsets of the cue (the whole sentence for
    the classifier); ``negated`` is the cue's negation effect (flip or drop).
    """

    theme: str
    kind: str
    start: int
    end: int
    sent_start: int
    sent_end: int
    detector: str
    confidence: float
    cue: str = ""
    negated: str = "flip"


@dataclass(frozen=True)
class Decision:
    """The outcome for one (theme, polarity) in one sentence after assertion."""

    theme: str
    polarity: str
    confidence: float
    detectors: tuple[str, ...]
    start: int
    end: int
    sent_start: int
    sent_end: int
    cue: str
    assertion: tuple[str, ...]


def declare_extensions() -> None:
    """Register caselens' Doc attributes (idempotent).

    ``proposals`` and ``decisions`` are lists of the types above;
    ``sentence_proba`` maps a sentence's first token to the classifier's
    probabilities for it (label order of the artefact), when the model ran.
    """
    for name in ("proposals", "decisions", "sentence_proba"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
