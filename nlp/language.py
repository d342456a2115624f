"""The base spaCy language: ``spacy.blank("en")`` whose NORM is a word's stem.

NORM is a lexical attribute, so the stem is computed once per distinct word
and cached in the vocabulary; the Matcher then matches cue words to any
inflection ("delay" ~ "delayed", "delays") at C speed.  Tokenizer exceptions
keep their own norms ("n't" -> "not").
"""
from __future__ import annotations

import spacy
from snowballstemmer import stemmer
from spacy.attrs import NORM
from spacy.language import Language

from nlp.patterns import Normaliser

_STEMMER = stemmer("english")


def stem_norm(text: str) -> str:
    """Lower-case snowball stem of one token's text (apostrophes made plain)."""
    return _STEMMER.stemWord(text.lower().replace("\u2019", "'"))


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
