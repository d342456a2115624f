"""Fast matching of compiled cue patterns on token norms.

spaCy's Matcher tests every pattern's first token at every position, and its
``IN`` sets are Python predicates, so hundreds of cue patterns cost seconds per
report.  This index looks up each token's norm in a dictionary of the words
that can *start* a pattern, and only then follows the rest of the pattern,
so the cost grows with the text, not with the size of the codebook.

It accepts exactly what :func:`nlp.patterns.compile_pattern` produces.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spacy.attrs import LIKE_NUM, LOWER, NORM
from spacy.tokens import Doc

from nlp.patterns import TokenSpec

#: words are compared as the integer ids of spaCy's string store
WordId = int


@dataclass(frozen=True)
class _Step:
    kind: str  # word | num | gap
    words: frozenset[WordId] = frozenset()
    excluded: frozenset[WordId] = frozenset()
    optional: bool = False
    span: int = 0  # for gaps: most tokens skipped


def _step(spec: TokenSpec, to_id: Callable[[str], WordId]) -> _Step:
    op = str(spec.get("OP", ""))
    if op.startswith("{"):
        return _Step("gap", span=int(op.strip("{}").split(",")[1]))
    optional = op == "?"
    if "LIKE_NUM" in spec:
        lower = spec.get("LOWER") or {}
        excluded = lower.get("NOT_IN", ()) if isinstance(lower, dict) else ()
        return _Step("num", excluded=frozenset(map(to_id, excluded)), optional=optional)
    norm = spec["NORM"]
    words = norm["IN"] if isinstance(norm, dict) else [norm]  # type: ignore[index]
    return _Step("word", words=frozenset(map(to_id, words)), optional=optional)


class CueIndex:
    """Keys with their alternative token-spec sequences, matched within sentences.

    ``to_id`` maps a word to its id in the vocabulary's string store
    (``vocab.strings.add``), the ids that ``Doc.to_array`` returns.
    """

    def __init__(self, to_id: Callable[[str], WordId]) -> None:
        self._to_id = to_id
        self._by_word: dict[WordId, list[tuple[str, tuple[_Step, ...]]]] = {}
        self._by_num: list[tuple[str, tuple[_Step, ...]]] = []

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_word.values()) + len(self._by_num)

    def add(self, key: str, sequences: Sequence[Sequence[TokenSpec]]) -> None:
        for seq in sequences:
            for steps in _without_leading_optionals(tuple(_step(s, self._to_id) for s in seq)):
                first = steps[0]
                if first.kind == "num":
                    self._by_num.append((key, steps))
                else:
                    for word in first.words:
                        self._by_word.setdefault(word, []).append((key, steps))

    def find(self, doc: Doc, bounds: Sequence[tuple[int, int]]) -> list[tuple[str, int, int]]:
        """(key, start, end) of the shortest match of each key at each start, within a sentence."""
        if len(doc) == 0:
            return []
        columns = doc.to_array([NORM, LOWER, LIKE_NUM]).T.tolist()
        norms, lowers, like_num = columns
        found: list[tuple[str, int, int]] = []
        by_word, by_num = self._by_word, self._by_num
        for sent_start, sent_end in bounds:
            for i in range(sent_start, sent_end):
                seeds = by_word.get(norms[i])
                if like_num[i] and by_num:
                    seeds = (seeds or []) + by_num
                if not seeds:
                    continue
                seen: set[str] = set()
                for key, steps in seeds:
                    if key in seen:
                        continue
                    end = _match(steps, 0, i, sent_end, norms, lowers, like_num)
                    if end > i:
                        seen.add(key)
                        found.append((key, i, end))
        return found


def _without_leading_optionals(steps: tuple[_Step, ...]) -> list[tuple[_Step, ...]]:
    """Index a pattern under its first required word: drop optional starts, both ways."""
    while steps and steps[0].kind == "gap":
        steps = steps[1:]
    if not steps or not steps[0].optional:
        return [steps] if steps else []
    head = steps[0]
    required = _Step(head.kind, head.words, head.excluded, False, head.span)
    return [(required, *steps[1:]), *_without_leading_optionals(steps[1:])]


def _match(
    steps: tuple[_Step, ...], k: int, pos: int, limit: int,
    norms: Sequence[WordId], lowers: Sequence[WordId], like_num: Sequence[int],
) -> int:
    """End of the shortest match of ``steps[k:]`` from ``pos`` (before ``limit``), or -1."""
    if k == len(steps):
        return pos
    step = steps[k]
    if step.kind == "gap":
        for skip in range(0, step.span + 1):
            if pos + skip > limit:
                break
            end = _match(steps, k + 1, pos + skip, limit, norms, lowers, like_num)
            if end >= 0:
                return end
        return -1
    if step.optional:
        end = _match(steps, k + 1, pos, limit, norms, lowers, like_num)
        if end >= 0:
            return end
    if pos >= limit:
        return -1
    if step.kind == "word":
        ok = norms[pos] in step.words
    else:
        ok = like_num[pos] and lowers[pos] not in step.excluded
    return _match(steps, k + 1, pos + 1, limit, norms, lowers, like_num) if ok else -1
