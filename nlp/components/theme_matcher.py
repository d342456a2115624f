"""Rule detector: codebook cue patterns matched on word stems, one proposal per match."""
from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.codebook import Codebook, Cue, get_codebook
from nlp.components.extensions import Proposal, declare_extensions
from nlp.cue_index import CueIndex
from nlp.language import literal_norms
from nlp.patterns import compile_pattern


def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """Token (start, end) of each sentence, in order."""
    return [(s.start, s.end) for s in doc.sents]


def sentence_index(bounds: list[tuple[int, int]], n_tokens: int) -> list[int]:
    """For each token, the index of its sentence in ``bounds``."""
    index = [0] * n_tokens
    for i, (start, end) in enumerate(bounds):
        index[start:end] = [i] * (end - start)
    return index


class ThemeMatcher:
    """Finds codebook cues; a match that crosses a sentence boundary is ignored.

    A cue found more than once in a sentence gives one proposal per separate match.
    """

    def __init__(self, nlp: Language, codebook: Codebook) -> None:
        declare_extensions()
        self.codebook = codebook
        self.index = CueIndex(nlp.vocab.strings.add)
        self._cues: dict[str, Cue] = {}
        normalise = literal_norms(nlp)
        for cue in codebook.cues:
            self.index.add(cue.key, compile_pattern(cue.pattern, normalise))
            self._cues[cue.key] = cue

    def __call__(self, doc: Doc) -> Doc:
        bounds = sentence_bounds(doc)
        index = sentence_index(bounds, len(doc))
        spans: dict[tuple[str, int], list[tuple[int, int]]] = {}
        for key, start, end in self.index.find(doc, bounds):
            spans.setdefault((key, index[start]), []).append((start, end))
        proposals: list[Proposal] = []
        for (key, sent), found in spans.items():
            cue = self._cues[key]
            for start, end in _non_overlapping(found):
                proposals.append(
                    Proposal(
                        theme=cue.theme,
                        kind=cue.kind,
                        start=start,
                        end=end,
                        sent_start=bounds[sent][0],
                        sent_end=bounds[sent][1],
                        detector="rules",
                        confidence=cue.confidence,
                        cue=cue.pattern,
                        negated=cue.negated,
                    )
                )
        doc._.proposals = (doc._.proposals or []) + sorted(proposals, key=lambda p: (p.start, p.theme))
        return doc


def _non_overlapping(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every match of one cue in one sentence that overlaps no shorter one.

    A cue with a gap can match several overlapping spans ("seen ... alone"): the
    shortest stands for them.  Separate matches ("did not see Finn alone; ... sees
    him alone") are all kept, so that each clause is asserted on its own.
    """
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[1] - s[0], s[0])):
        if all(end <= k_start or k_end <= start for k_start, k_end in kept):
            kept.append((start, end))
    return sorted(kept)


@Language.factory("caselens_theme_matcher", default_config={"codebook_path": None})
def make_theme_matcher(nlp: Language, name: str, codebook_path: str | None) -> ThemeMatcher:
    return ThemeMatcher(nlp, get_codebook(codebook_path))
