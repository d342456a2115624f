"""The base spaCy language: ``spacy.blank("en")`` whose NORM is a word's stem.

NORM is a lexical attribute, so the stem is computed once per distinct word
and cached in the vocabulary; the Matcher then matches cue words to any
inflection ("delay" ~ "delayed", "delays") at C speed.  Tokenizer exceptions
keep their own norms ("n't" -> "not").

The stemmer strips inflections only (-s, -es, -ies, -ed, -ing and a final -e).
Full stemmers also strip derivations, which here conflates words a cue must
keep apart ("timely" ~ "time", "officer" ~ "office").  Even inflections collide
now and then; :data:`STEM_EXCEPTIONS` keeps those words apart ("notes" is not
"not", "lasted" is not "last", "recorded" is not "record").
"""
from __future__ import annotations

import spacy
from spacy.attrs import NORM
from spacy.language import Language

from nlp.patterns import Normaliser

_VOWELS = frozenset("aeiouy")
_NO_UNDOUBLE = frozenset("lsz")

#: words whose stripped stem would collide with a different word
STEM_EXCEPTIONS: dict[str, str] = {
    # "note" -> "not" would make every case note a negation
    **dict.fromkeys(("note", "notes", "noted", "noting"), "note"),
    # the verb "to last" is not the adjective ("last week", "last updated")
    **dict.fromkeys(("lasts", "lasted", "lasting"), "lasted"),
    # "recorded" says where something was written, not how well the record is kept
    "recorded": "recorded",
}


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS | _NO_UNDOUBLE:
        return word[:-1]
    return word


def stem_norm(text: str) -> str:
    """Lower-case inflectional stem of one token's text ("planned" -> "plan")."""
    w = text.lower().replace("\u2019", "'")
    if len(w) <= 3 or not w.isalpha():
        return w
    if w in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[w]
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    elif w.endswith("ed") and len(w) > 4:
        w = _undouble(w[:-2])
    elif w.endswith("ing") and len(w) > 5:
        w = _undouble(w[:-3])
    if w.endswith("e") and len(w) >= 4 and not w.endswith(("ee", "ye")):
        w = w[:-1]
    return w


def blank_english() -> Language:
    """A blank English pipeline whose NORM attribute holds word stems."""
    nlp = spacy.blank("en")
    nlp.vocab.lex_attr_getters[NORM] = stem_norm
    return nlp


def literal_norms(nlp: Language) -> Normaliser:
    """A function giving the NORM values of the tokens of a literal cue word."""

    def normalise(word: str) -> list[str]:
        return [t.norm_ for t in nlp.make_doc(word) if not t.is_space]

    return normalise
