"""The codebook: themes, labels, descriptions and cue patterns, loaded from YAML.

The codebook is data a QA lead can edit.  It is validated on load: unknown
keys, duplicate ids, ids outside the taxonomy and malformed patterns each
raise one :class:`CodebookError` naming the theme and field.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from nlp.errors import CodebookError
from nlp.patterns import Normaliser, PatternSyntaxError, compile_pattern
from nlp.taxonomy import THEMES

CUE_KINDS = ("concern", "strength", "absence")
NEGATION_EFFECTS = ("flip", "drop")
_THEME_KEYS = {"id", "label", "description", "yields_to", *CUE_KINDS}
_CUE_KEYS = {"pattern", "negated", "confidence"}
DEFAULT_CONFIDENCE = 0.8


@dataclass(frozen=True)
class Cue:
    """One cue pattern of a theme.

    ``kind`` is ``concern`` or ``strength`` (what the cue evidences as written)
    or ``absence`` (a neutral mention whose negation or recommendation
    implies the concern: "no chronology", "a chronology should be completed").
    ``negated`` says what negation does to a concern/strength cue.
    """

    theme: str
    kind: str
    pattern: str
    negated: str = "flip"
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def key(self) -> str:
        return f"{self.theme}|{self.kind}|{self.pattern}"


@dataclass(frozen=True)
class Theme:
    """A codebook theme.  ``yields_to``: themes that take a claim instead of this
    one when both fire in one sentence (the taxonomy's boundary notes)."""

    id: str
    label: str
    description: str
    cues: tuple[Cue, ...]
    yields_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    themes: tuple[Theme, ...]
    hash: str
    source: str

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(theme_id)

    @property
    def cues(self) -> list[Cue]:
        return [c for t in self.themes for c in t.cues]


def _fail(where: str, message: str) -> CodebookError:
    return CodebookError(f"codebook {where}: {message}")


def _parse_cue(theme_id: str, kind: str, i: int, raw: Any, normalise: Normaliser | None) -> Cue:
    where = f"theme {theme_id!r}, field {kind!r}, item {i + 1}"
    if isinstance(raw, str):
        raw = {"pattern": raw}
    if not isinstance(raw, dict):
        raise _fail(where, "must be a pattern string or a mapping with 'pattern'")
    unknown = set(raw) - _CUE_KEYS
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_CUE_KEYS)}")
    pattern = raw.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise _fail(where, "'pattern' must be a non-empty string")
    negated = raw.get("negated", "flip")
    if negated not in NEGATION_EFFECTS:
        raise _fail(where, f"'negated' must be one of {list(NEGATION_EFFECTS)}, not {negated!r}")
    confidence = raw.get("confidence", DEFAULT_CONFIDENCE)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not (
        0 < confidence <= 1
    ):
        raise _fail(where, f"'confidence' must be a number in (0, 1], not {confidence!r}")
    if normalise is not None:
        try:
            compile_pattern(pattern, normalise)
        except PatternSyntaxError as exc:
            raise _fail(where, f"malformed pattern {pattern!r}: {exc}") from None
    return Cue(theme_id, kind, pattern.strip(), negated, float(confidence))


def parse_codebook(data: Any, source: str = "<data>", normalise: Normaliser | None = None) -> Codebook:
    """Validate parsed YAML and build a Codebook (patterns checked if ``normalise`` given)."""
    if not isinstance(data, dict) or not isinstance(data.get("themes"), list):
        raise _fail(source, "must be a mapping with a 'themes' list")
    unknown_top = set(data) - {"version", "themes"}
    if unknown_top:
        raise _fail(source, f"unknown top-level key(s) {sorted(unknown_top)}")
    themes: list[Theme] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["themes"]):
        if not isinstance(raw, dict):
            raise _fail(f"theme #{n + 1}", "must be a mapping")
        theme_id = raw.get("id")
        if not isinstance(theme_id, str):
            raise _fail(f"theme #{n + 1}", "field 'id' is missing or not a string")
        if theme_id not in THEMES:
            raise _fail(f"theme {theme_id!r}", f"field 'id' is not a taxonomy theme; known: {', '.join(THEMES)}")
        if theme_id in seen:
            raise _fail(f"theme {theme_id!r}", "field 'id' is duplicated")
        seen.add(theme_id)
        unknown = set(raw) - _THEME_KEYS
        if unknown:
            raise _fail(f"theme {theme_id!r}", f"unknown field(s) {sorted(unknown)}; allowed: {sorted(_THEME_KEYS)}")
        for field in ("label", "description"):
            if not isinstance(raw.get(field), str) or not raw[field].strip():
                raise _fail(f"theme {theme_id!r}", f"field {field!r} must be a non-empty string")
        cues: list[Cue] = []
        for kind in CUE_KINDS:
            items = raw.get(kind, [])
            if items is None:
                items = []
            if not isinstance(items, list):
                raise _fail(f"theme {theme_id!r}", f"field {kind!r} must be a list of patterns")
            cues.extend(_parse_cue(theme_id, kind, i, item, normalise) for i, item in enumerate(items))
        yields_to = raw.get("yields_to", [])
        if not isinstance(yields_to, list) or any(t not in THEMES or t == theme_id for t in yields_to):
            raise _fail(f"theme {theme_id!r}", "field 'yields_to' must list other taxonomy themes")
        themes.append(
            Theme(theme_id, raw["label"].strip(), " ".join(raw["description"].split()), tuple(cues), tuple(yields_to))
        )
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return Codebook(tuple(themes), digest, source)


def load_codebook(path: Path | str, normalise: Normaliser | None = None) -> Codebook:
    """Read and validate a codebook YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CodebookError(f"codebook {path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise CodebookError(f"codebook {path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CodebookError(f"codebook {path}: not valid YAML: {exc}") from None
    return parse_codebook(data, str(path), normalise)


@lru_cache(maxsize=4)
def _cached(path: str) -> Codebook:
    from nlp.language import blank_english, literal_norms

    return load_codebook(path, literal_norms(blank_english()))


def get_codebook(path: Path | str | None = None) -> Codebook:
    """The validated codebook at ``path`` (default: the configured one), cached."""
    from nlp.settings import get_core_settings

    return _cached(str(path or get_core_settings().codebook_path))
