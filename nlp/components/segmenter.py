"""Sentence segmentation for case recordings and text extracted from PDFs.

Sentences end at ``. ! ?`` (not after common abbreviations), and also at the
structure practitioners type: bullets, numbered items, headings, blank lines
and deliberate line breaks.  A hard-wrapped line — one that stops mid-sentence
and carries on in the next line, as PDF text does — is joined instead.

Boundaries are found on the text with regular expressions and then set on the
tokens in one array operation, which keeps this cheap on long documents.
"""
from __future__ import annotations

import re

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

#: a line that starts a list item: bullets, "1." / "2)" / "a)" / "(iv)"
_BULLET = re.compile(
    r"[ \t]*(?:[-*\u2022\u00b7\u2023\u25aa\u25cf\u25e6\u2013\u2014\u2043\uf0b7>]"
    r"|\d{1,2}[.)](?!\d)|[a-zA-Z][.)](?=\s)|\((?:\d{1,2}|[a-z]|[ivx]{1,4})\))"
)
#: characters that close a sentence at the end of a line
_LINE_END = re.compile(r"[.!?:;]['\"\u2019\u201d)\]]*\s*$")
#: sentence-final punctuation followed by space and a likely sentence start
_SENT_END = re.compile(
    r"(?<=[.!?])['\"\u2019\u201d)\]]*[ \t]+(?=['\"\u2018\u201c(\[]?[A-Z0-9\u2022])"
)
_ABBREV = frozenset(
    """mr mrs ms dr prof st no nos vs etc e.g eg i.e ie approx para paras cf ref
    jan feb mar apr jun jul aug sep sept oct nov dec fig p pp ed eds co ltd inc
    cllr rev gov dept""".split()
)
_LIST_NUMBER = re.compile(r"(?:^|\n)[ \t]*\d{1,3}\.$")
_DIGITS = re.compile(r"\d+")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
_JOIN_WORDS = frozenset(
    "a an the and or of to in on for with by from as at that which who whose is are was "
    "were be been has have had not no but than this these those their its our".split()
)
#: a line shorter than this with no closing punctuation reads as a heading ...
_WRAP_MIN = 55
#: ... and so does one shorter than this share of the text's usual long line (its
#: 90th-percentile length): hard-wrapped text fills its lines to about the same width,
#: while typed recordings hold whole paragraphs on a line and headings on their own
_WRAP_SHARE = 0.7


def _ends_sentence_at(text: str, match_start: int) -> bool:
    """False when the full stop before ``match_start`` closes an abbreviation or
    the number of a numbered list item ("1. " at the start of a line)."""
    if _LIST_NUMBER.search(text, max(0, match_start - 8), match_start):
        return False
    m = _WORD_BEFORE.search(text, max(0, match_start - 12), match_start)
    if m is None:
        return True
    return m.group(1).lower() not in _ABBREV


def _furniture(lines: list[str]) -> set[str]:
    """Page headers and footers: short lines repeated (numbers aside) three or more times."""
    counts: dict[str, int] = {}
    for line in lines:
        body = line.strip()
        if body and len(body) <= 100:
            key = _DIGITS.sub("#", body)
            counts[key] = counts.get(key, 0) + 1
    return {key for key, n in counts.items() if n >= 3 and not key.strip("# ") == ""}


def _line_break_starts(text: str) -> list[int]:
    lines = text.splitlines(keepends=True)
    furniture = _furniture(lines) if len(lines) > 20 else set()
    wrap_min = _wrap_min(lines)
    starts: list[int] = []
    prev: str | None = None
    blank_since_prev = False
    pos = 0
    for line in lines:
        body = line.strip()
        if not body:
            blank_since_prev = True
            pos += len(line)
            continue
        begin = pos + (len(line) - len(line.lstrip()))
        is_furniture = bool(furniture) and _DIGITS.sub("#", body) in furniture
        if prev is not None and (
            is_furniture or _breaks_between(prev, body, blank_since_prev, wrap_min)
        ):
            starts.append(begin)
        # after a header or footer line, the next line always starts afresh
        prev, blank_since_prev = ("." if is_furniture else body), False
        pos += len(line)
    return starts


def _wrap_min(lines: list[str]) -> int:
    """The shortest line that, stopping without punctuation, reads as hard-wrapped."""
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    if not lengths:
        return _WRAP_MIN
    usual = lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))]
    return max(_WRAP_MIN, int(_WRAP_SHARE * usual))


def _breaks_between(prev: str, line: str, blank: bool, wrap_min: int = _WRAP_MIN) -> bool:
    if _BULLET.match(line) or _LINE_END.search(prev):
        return True
    if prev.endswith(("-", ",", "(", "/", "&")):
        return False
    last_word = prev.rsplit(None, 1)[-1].lower()
    if last_word in _JOIN_WORDS:
        return False
    if blank:
        return True
    first = line[0]
    if first.islower() or first in "(,":
        return False
    # A long line that stops without punctuation was wrapped; a short one is a heading.
    return len(prev) < wrap_min


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences begin (the first is always 0)."""
    starts = {0}
    starts.update(_line_break_starts(text))
    for m in _SENT_END.finditer(text):
        if _ends_sentence_at(text, m.start()):
            starts.add(m.end())
    return sorted(starts)


def set_sentence_starts(doc: Doc) -> Doc:
    """Mark the tokens that begin a sentence according to :func:`sentence_starts`."""
    if len(doc) == 0:
        return doc
    idx = doc.to_array("IDX")
    token_starts = numpy.searchsorted(idx, sentence_starts(doc.text), side="left")
    flags = numpy.full(len(doc), -1, dtype="int64")
    flags[token_starts[token_starts < len(doc)]] = 1
    flags[0] = 1
    doc.from_array([SENT_START], flags.astype("uint64").reshape(-1, 1))
    return doc


@Language.component("caselens_segmenter")
def segmenter_component(doc: Doc) -> Doc:
    """spaCy component: sentence boundaries for case recordings and PDF text."""
    return set_sentence_starts(doc)
