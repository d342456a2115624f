"""The cue-pattern language of the codebook, compiled to spaCy Matcher patterns.

A cue is a short line a QA lead can write and read:

- ``chronology out of date`` — words, matched on their stem and case-insensitively
  (``delay`` matches "delay", "delays", "delayed");
- ``seen|visited alone`` — ``|`` without spaces: one word out of several;
- ``(out of date / not current)`` — a group of phrases separated by `` / ``;
  ``(...)?`` makes the whole group optional;
- ``alone?`` — an optional word;
- ``...`` — up to four words of anything, within one sentence;
- ``<num>`` — any count, in digits or words ("3", "three"; not "first").

Words are tokenised by the same tokenizer as the text, so ``task-focused`` and
``didn't`` mean what they say.  The compiler expands groups into alternative
token sequences; each becomes one Matcher pattern.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

GAP_MAX = 4
#: ``<num>`` means a count: spaCy's LIKE_NUM also accepts these ordinals
ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th"
).split()
MAX_EXPANSIONS = 1024

_LEX = re.compile(r"\(|\)\??|\.\.\.|[^\s()]+")

TokenSpec = dict[str, object]
#: turns a literal word into the NORM values of its tokens ("task-focused" -> 3 norms)
Normaliser = Callable[[str], list[str]]


class PatternSyntaxError(ValueError):
    """A cue pattern that does not follow the cue language."""


@dataclass(frozen=True)
class _Word:
    alternatives: tuple[str, ...]
    optional: bool = False


@dataclass(frozen=True)
class _Group:
    phrases: tuple[tuple[object, ...], ...]
    optional: bool = False


@dataclass(frozen=True)
class _Gap:
    pass


@dataclass(frozen=True)
class _Num:
    optional: bool = False


def _parse(pattern: str) -> tuple[object, ...]:
    tokens = _LEX.findall(pattern)
    if not tokens:
        raise PatternSyntaxError("empty pattern")
    items, pos = _parse_seq(tokens, 0, in_group=False)
    if pos != len(tokens):
        raise PatternSyntaxError(f"unexpected {tokens[pos]!r}")
    return items


def _parse_seq(tokens: list[str], pos: int, in_group: bool) -> tuple[tuple[object, ...], int]:
    items: list[object] = []
    while pos < len(tokens):
        tok = tokens[pos]
        if tok.startswith(")") or (in_group and tok == "/"):
            if not in_group:
                raise PatternSyntaxError("')' without '('")
            break
        if tok == "(":
            phrases: list[tuple[object, ...]] = []
            pos += 1
            while True:
                phrase, pos = _parse_seq(tokens, pos, in_group=True)
                if not phrase:
                    raise PatternSyntaxError("empty alternative in a group")
                phrases.append(phrase)
                if pos >= len(tokens):
                    raise PatternSyntaxError("'(' without ')'")
                if tokens[pos] == "/":
                    pos += 1
                    continue
                items.append(_Group(tuple(phrases), optional=tokens[pos] == ")?"))
                pos += 1
                break
            continue
        if tok == "...":
            items.append(_Gap())
        elif tok in ("<num>", "<num>?"):
            items.append(_Num(optional=tok.endswith("?")))
        elif tok == "/":
            raise PatternSyntaxError("'/' outside a group")
        else:
            optional = tok.endswith("?") and len(tok) > 1
            word = tok[:-1] if optional else tok
            alts = tuple(a for a in word.split("|"))
            if any(not a for a in alts):
                raise PatternSyntaxError(f"empty alternative in {tok!r}")
            items.append(_Word(alts, optional))
        pos += 1
    return tuple(items), pos


def _expand(items: Sequence[object], normalise: Normaliser) -> list[list[TokenSpec]]:
    """Expand groups into alternative sequences of Matcher token specs."""
    choices: list[list[list[TokenSpec]]] = []
    for item in items:
        if isinstance(item, _Gap):
            choices.append([[{"OP": f"{{0,{GAP_MAX}}}"}]])
        elif isinstance(item, _Num):
            spec: TokenSpec = {"LIKE_NUM": True, "LOWER": {"NOT_IN": list(ORDINALS)}}
            if item.optional:
                spec["OP"] = "?"
            choices.append([[spec]])
        elif isinstance(item, _Word):
            norms = [normalise(a) for a in item.alternatives]
            if all(len(n) == 1 for n in norms):
                values = sorted({n[0] for n in norms})
                spec = {"NORM": values[0] if len(values) == 1 else {"IN": values}}
                if item.optional:
                    spec["OP"] = "?"
                choices.append([[spec]])
            else:
                alts = [[{"NORM": n} for n in ns] for ns in norms if ns]
                choices.append(alts + ([[]] if item.optional else []))
        elif isinstance(item, _Group):
            alts = [seq for phrase in item.phrases for seq in _expand(phrase, normalise)]
            choices.append(_merge_single_words(alts) + ([[]] if item.optional else []))
    expanded: list[list[TokenSpec]] = []
    for combo in itertools.product(*choices):
        expanded.append([spec for part in combo for spec in part])
        if len(expanded) > MAX_EXPANSIONS:
            raise PatternSyntaxError(f"expands to more than {MAX_EXPANSIONS} alternatives")
    return expanded


def _merge_single_words(alternatives: list[list[TokenSpec]]) -> list[list[TokenSpec]]:
    """Fold the single plain-word alternatives of a group into one ``NORM IN`` spec,
    keeping multi-word alternatives as they are (this keeps expansion small)."""
    values: set[str] = set()
    rest: list[list[TokenSpec]] = []
    for seq in alternatives:
        if len(seq) == 1 and set(seq[0]) == {"NORM"}:
            norm = seq[0]["NORM"]
            values.update(norm["IN"] if isinstance(norm, dict) else [norm])  # type: ignore[index]
        else:
            rest.append(seq)
    if not values:
        return rest
    ordered = sorted(values)
    return [[{"NORM": ordered[0] if len(ordered) == 1 else {"IN": ordered}}], *rest]


def _is_gap(spec: TokenSpec) -> bool:
    return "OP" in spec and len(spec) == 1


def compile_pattern(pattern: str, normalise: Normaliser) -> list[list[TokenSpec]]:
    """Compile one cue into Matcher patterns; raise PatternSyntaxError if malformed."""
    if not isinstance(pattern, str):
        raise PatternSyntaxError("a pattern must be a string")
    items = _parse(pattern)
    if isinstance(items[0], _Gap) or isinstance(items[-1], _Gap):
        raise PatternSyntaxError("'...' must stand between words")
    result = []
    for seq in _expand(items, normalise):
        # an optional part left out can leave a gap at either end: it matches nothing
        while seq and _is_gap(seq[0]):
            seq = seq[1:]
        while seq and _is_gap(seq[-1]):
            seq = seq[:-1]
        if not seq or all(_is_gap(s) or s.get("OP") == "?" for s in seq):
            raise PatternSyntaxError("pattern can match nothing but gaps or optional words")
        if seq not in result:
            result.append(seq)
    return result
