"""The one path from text to tags: build the spaCy pipeline; ``analyse``/``analyse_many``."""
from __future__ import annotations

import datetime as dt
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

import nlp as _package
from nlp.analysis import Analysis, RecordError, Tag
from nlp.codebook import get_codebook
from nlp.components import assertion as _assertion  # noqa: F401 - registers the factory
from nlp.components import classifier as _classifier  # noqa: F401 - registers the factory
from nlp.components import model_veto as _model_veto  # noqa: F401 - registers the factory
from nlp.components import segmenter as _segmenter  # noqa: F401 - registers the component
from nlp.components import theme_matcher as _theme_matcher  # noqa: F401 - registers the factory
from nlp.components.classifier import load_for_pipeline
from nlp.components.extensions import Decision
from nlp.components.segmenter import sentence_starts
from nlp.errors import InputError
from nlp.language import blank_english
from nlp.settings import CoreSettings, get_core_settings
from nlp.taxonomy import CONTROLLED_META, META_FIELDS

DETECTOR_CHOICES = ("rules", "model", "all")

# One-to-one character replacements keep offsets into the original text unchanged.
_SAME_LENGTH = str.maketrans({
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": " ", "\ufeff": " ", "\t": " ",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2028": "\n", "\u2029": "\n", "\x0c": "\n", "\x0b": "\n", "\x00": " ",
})


@dataclass(frozen=True)
class _Prepared:
    text: str
    normal: str
    offsets: list[int] | None
    meta: dict[str, Any]


def normalise(text: str) -> tuple[str, list[int] | None]:
    """Unicode-normalise ``text``; return it and, if lengths changed, a map from
    each normalised character to its position in the original (else None)."""
    out = text.translate(_SAME_LENGTH)
    if out.isascii():
        return out, None
    if unicodedata.is_normalized("NFKC", out):
        return out, None
    pieces: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(out):
        norm = unicodedata.normalize("NFKC", ch) if ord(ch) > 127 else ch
        pieces.append(norm)
        offsets.extend([i] * len(norm))
    normal = "".join(pieces)
    # characters NFKC changed one for one leave every offset where it was
    return normal, (None if len(normal) == len(out) else offsets)


def validate_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the known metadata fields, checking controlled values and dates."""
    clean: dict[str, Any] = {}
    for key in META_FIELDS:
        value = meta.get(key)
        if value is None or value == "":
            continue
        if key in CONTROLLED_META and value not in CONTROLLED_META[key]:
            allowed = ", ".join(CONTROLLED_META[key])
            raise InputError(f"unknown {key} {value!r}; allowed: {allowed}", where=key)
        if key == "date":
            try:
                value = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise InputError(f"date {value!r} is not an ISO date (YYYY-MM-DD)", where="date") from None
        clean[key] = value if key in CONTROLLED_META or key == "date" else str(value)
    return clean


class Analyser:
    """A built pipeline and the settings it runs with."""

    def __init__(self, detectors: str = "all", settings: CoreSettings | None = None) -> None:
        if detectors not in DETECTOR_CHOICES:
            raise ValueError(f"detectors must be one of {DETECTOR_CHOICES}, not {detectors!r}")
        self.settings = settings or get_core_settings()
        self.codebook = get_codebook(self.settings.codebook_path)
        self.classifier = None
        if detectors in ("model", "all"):
            self.classifier = load_for_pipeline(self.settings, required=detectors == "model")
        self.detectors = detectors
        self.nlp = self._build()

    def _build(self) -> Language:
        nlp = blank_english()
        nlp.add_pipe("caselens_segmenter")
        if self.detectors in ("rules", "all"):
            nlp.add_pipe("caselens_theme_matcher", config={"codebook_path": str(self.settings.codebook_path)})
        if self.classifier is not None:
            model_dir = self.settings.model_dir
            nlp.add_pipe("caselens_classifier", config={"model_dir": str(model_dir) if model_dir else None})
        nlp.add_pipe("caselens_assertion", config={"codebook_path": str(self.settings.codebook_path)})
        if self.classifier is not None and self.detectors == "all":
            model_dir = self.settings.model_dir
            nlp.add_pipe("caselens_model_veto", config={"model_dir": str(model_dir) if model_dir else None})
        return nlp

    @property
    def model_hash(self) -> str | None:
        return self.classifier.sha256 if self.classifier is not None else None

    def prepare(self, text: Any, meta: Mapping[str, Any]) -> _Prepared:
        """Check one document's text and metadata; raise InputError if unusable."""
        if not isinstance(text, str):
            raise InputError("text must be a string", where="text")
        if not text.strip():
            raise InputError("text is empty", where="text")
        limit = self.settings.max_text_chars
        if len(text) > limit:
            raise InputError(
                f"text has {len(text):,} characters; the limit is {limit:,} (CASELENS_MAX_TEXT_CHARS)",
                where="text",
            )
        normal, offsets = normalise(text)
        return _Prepared(text, normal, offsets, validate_meta(meta))

    def _analysis(self, doc: Doc, prepared: _Prepared) -> Analysis:
        tags = tuple(self._tag(doc, d, prepared) for d in doc._.decisions or [])
        return Analysis(
            tags=tags,
            meta=prepared.meta,
            pipeline_version=_package.__version__,
            codebook_hash=self.codebook.hash,
            model_hash=self.model_hash,
        )

    @staticmethod
    def _tag(doc: Doc, d: Decision, prepared: _Prepared) -> Tag:
        sent = doc[d.sent_start:d.sent_end]
        s_start, s_end = _strip(prepared.normal, sent.start_char, sent.end_char)
        c_start, c_end = doc[d.start:d.end].start_char, doc[d.start:d.end].end_char
        if prepared.offsets is not None:
            m = prepared.offsets
            s_start, s_end = m[s_start], m[s_end - 1] + 1
            c_start, c_end = m[c_start], m[c_end - 1] + 1
        return Tag(
            theme=d.theme,
            polarity=d.polarity,
            confidence=round(d.confidence, 4),
            detectors=d.detectors,
            evidence=prepared.text[s_start:s_end],
            start=s_start,
            end=s_end,
            cue=prepared.text[c_start:c_end] if d.cue else "",
            cue_start=c_start,
            cue_end=c_end,
            assertion=d.assertion,
        )

    def analyse(self, text: str, **meta: Any) -> Analysis:
        prepared = self.prepare(text, meta)
        return self._analysis(self.nlp(prepared.normal), prepared)

    def analyse_many(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = 64,
        errors: str = "raise",
    ) -> Iterator[Analysis | RecordError]:
        """Analyse records (dicts with ``text`` and metadata) lazily, in input order.

        Only ``batch_size`` records are held at a time.  With ``errors="collect"``
        an unusable record yields a :class:`RecordError` instead of raising.
        """
        if errors not in ("raise", "collect"):
            raise ValueError("errors must be 'raise' or 'collect'")
        chunk: list[tuple[int, Mapping[str, Any]]] = []
        for index, record in enumerate(records):
            chunk.append((index, record))
            if len(chunk) >= batch_size:
                yield from self._chunk(chunk, errors)
                chunk = []
        if chunk:
            yield from self._chunk(chunk, errors)

    def _chunk(self, chunk: list[tuple[int, Mapping[str, Any]]], errors: str) -> Iterator[Analysis | RecordError]:
        slots: list[_Prepared | RecordError] = []
        for index, record in chunk:
            try:
                if not isinstance(record, Mapping):
                    raise InputError("record is not a mapping", where=f"record {index}")
                slots.append(self.prepare(record.get("text"), record))
            except InputError as exc:
                if errors == "raise":
                    raise
                rid = record.get("id") if isinstance(record, Mapping) else None
                slots.append(RecordError(index, None if rid is None else str(rid), str(exc)))
        ready = [s for s in slots if isinstance(s, _Prepared)]
        docs = iter(self.nlp.pipe(s.normal for s in ready))
        for slot in slots:
            yield slot if isinstance(slot, RecordError) else self._analysis(next(docs), slot)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (offsets into ``text``, trimmed
    of surrounding white space), as the pipeline segments them."""
    normal, offsets = normalise(text)
    starts = sentence_starts(normal)
    spans = []
    for start, end in zip(starts, [*starts[1:], len(normal)]):
        start, end = _strip(normal, start, end)
        if start < end:
            spans.append((start, end) if offsets is None else (offsets[start], offsets[end - 1] + 1))
    return spans


_analysers: dict[str, Analyser] = {}
_lock = threading.Lock()


def get_analyser(detectors: str | None = None) -> Analyser:
    """The process-wide analyser for a detector choice (built once)."""
    choice = detectors or get_core_settings().detectors
    with _lock:
        if choice not in _analysers:
            _analysers[choice] = Analyser(choice)
        return _analysers[choice]
