"""The result of analysing one document: labels and evidence-bearing tags."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Tag:
    """One practice-theme decision for one sentence, with its evidence.

    ``start``/``end`` are character offsets of the evidence sentence in the
    *original* text; ``cue_start``/``cue_end`` those of the cue that fired.
    """

    theme: str
    polarity: str
    confidence: float
    detectors: tuple[str, ...]
    evidence: str
    start: int
    end: int
    cue: str
    cue_start: int
    cue_end: int
    assertion: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.theme}:{self.polarity}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["label"] = self.label
        d["detectors"] = list(self.detectors)
        d["assertion"] = list(self.assertion)
        return d


@dataclass(frozen=True)
class Analysis:
    """Tags for one document; ``labels`` is the union over its sentences."""

    tags: tuple[Tag, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    pipeline_version: str = ""
    codebook_hash: str = ""
    model_hash: str | None = None

    @property
    def labels(self) -> list[str]:
        return sorted({t.label for t in self.tags})

    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": dict(self.meta),
            "labels": self.labels,
            "tags": [t.to_dict() for t in self.tags],
            "pipeline_version": self.pipeline_version,
            "codebook_hash": self.codebook_hash,
            "model_hash": self.model_hash,
        }


@dataclass(frozen=True)
class RecordError:
    """A record of ``analyse_many`` that could not be analysed (bad text or metadata).

    ``index`` is the record's 0-based position in the input stream.
    """

    index: int
    record_id: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
