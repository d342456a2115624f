"""A keyword baseline: a theme's concern wherever a word of its name appears.

It is what a reader with a search box would do, and the floor every
evaluation is compared with.
"""
from __future__ import annotations

import re

from nlp.analysis import Analysis, Tag
from nlp.codebook import Codebook

_STOP = frozenset("and the with for of work changes quality".split())


class KeywordBaseline:
    """Predicts ``THEME:concern`` for every theme whose name's words occur in the text."""

    def __init__(self, codebook: Codebook) -> None:
        self.codebook = codebook
        self.patterns: dict[str, re.Pattern[str]] = {}
        for theme in codebook.themes:
            words = {w for w in re.findall(r"[a-z][a-z-]{3,}", theme.label.lower()) if w not in _STOP}
            words |= {w for w in theme.id.split("_") if len(w) > 3 and w not in _STOP}
            self.patterns[theme.id] = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")", re.I)

    def analyse(self, text: str) -> Analysis:
        tags = []
        for theme, pattern in self.patterns.items():
            m = pattern.search(text)
            if m:
                tags.append(Tag(theme, "concern", 0.5, ("keyword",), m.group(0), m.start(), m.end(),
                                m.group(0), m.start(), m.end()))
        return Analysis(tuple(tags), codebook_hash=self.codebook.hash)
