"""ConText-style assertion: turns proposals into decisions using the labelling rules.

Triggers (``nlp/context_rules.yaml``) reach forward and/or backward from where
they stand, up to a window, and stop at terminators ("but", "however", …).
For each proposal the categories that reach its cue decide what happens:

- **hypothetical** ("if", "risk of", "could") — dropped (rule 4);
- **recommendation** ("should", "to ensure", "needs to be") — the concern, whatever
  the cue's polarity, because a recommendation implies the gap (rule 3);
- **resolved** ("until", "now addressed", "no longer") on a concern cue — the concern
  *and* the strength: the earlier failure is stated and the current state is good
  (rule 6);
- **negation** ("no", "not", "without", "lack of") — a concern or strength cue flips
  to the other polarity, or is dropped when the codebook marks it
  ``negated: drop`` (rule 2); an ``absence`` cue ("chronology") becomes the concern;
- **hedge** ("not always", "some", "at times") — kept, with less confidence (rule 5).

Classifier proposals cover the whole sentence, so every trigger in it reaches
them, and a recommendation turns them into the concern - unless the classifier
still proposes a strength with the recommendation's clause taken out (the
recommendation is about something else).  In a hypothetical or negated
sentence a classifier proposal stands only when

- the classifier read the trigger as part of the claim: its probability for
  the label falls when the negation and condition words are taken out of the
  sentence ("he has not been assessed" -> "he has been assessed"); or
- the claim lies outside what the trigger governs: the classifier still
  proposes the label when each trigger is taken out together with the rest of
  its clause ("attendance is up to 95%, and he has not been excluded since
  May" -> "attendance is up to 95%, and he has").

A proposal the model makes because it liked the words under the trigger
("there is no drift") is as likely or likelier without the "no", and nothing
of it is left once the clause is out, so it is dropped - in a negated sentence
unless a rule cue of the same theme reached the same decision.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

import yaml
from spacy.language import Language
from spacy.tokens import Doc

from nlp.codebook import Codebook, get_codebook
from nlp.components.extensions import Decision, Proposal, declare_extensions
from nlp.components.theme_matcher import sentence_bounds
from nlp.cue_index import CueIndex
from nlp.errors import CodebookError
from nlp.language import literal_norms
from nlp.patterns import PatternSyntaxError, compile_pattern

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "context_rules.yaml"
CATEGORIES = ("negation", "hypothetical", "recommendation", "hedge", "resolved")
#: categories that a pseudo-trigger ("not only", "no change") silences
SILENCEABLE = frozenset({"negation", "hypothetical", "recommendation"})
#: words too common to tell whether a trigger is spelt out inside a cue
_FUNCTION_WORDS = frozenset("to of be the a an is are was were has have had been in on for and it".split())
#: categories whose triggers, inside a cue, are spelt out only by their first word
_LEADING_WORD_CATEGORIES = frozenset({"recommendation", "hypothetical"})
HEDGE_FACTOR = 0.85
FLIP_FACTOR = 0.9
RESOLVED_FACTOR = 0.85
#: trigger categories whose words are taken out to test a classifier proposal
DOUBTING = frozenset({"negation", "hypothetical"})
#: how far a classifier proposal's probability must fall without those words to stand
#: (more than this); larger margins cost recall on held-out recordings and gained no precision
READ_THROUGH_MARGIN = 0.0


@dataclass(frozen=True)
class Trigger:
    category: str
    direction: str  # forward | backward
    start: int
    end: int
    window: int
    #: a negation in a contrast ("not held at school but at the hub") reaches only
    #: cues that start within [scope_start, scope_end): the part the contrast replaces
    scope_start: int = -1
    scope_end: int = -1
    #: a sentence-opening instruction, which recommends even the cue it opens
    instruction: bool = False


class Assertion:
    """Applies the ConText rules to ``doc._.proposals`` and fills ``doc._.decisions``."""

    def __init__(
        self, nlp: Language, rules_path: Path | str = DEFAULT_RULES, codebook: Codebook | None = None
    ) -> None:
        declare_extensions()
        self.nlp = nlp
        rules = yaml.safe_load(Path(rules_path).read_text(encoding="utf-8"))
        normalise = literal_norms(nlp)
        self.index = CueIndex(nlp.vocab.strings.add)
        self._keys: dict[str, tuple[str, str, int]] = {}

        def add(meaning: tuple[str, str, int], patterns: list[str]) -> None:
            key = "ctx|{}|{}|{}".format(*meaning)
            compiled = []
            for p in patterns:
                try:
                    compiled.extend(compile_pattern(p, normalise))
                except PatternSyntaxError as exc:
                    raise CodebookError(f"context rules {rules_path}: {key}: {p!r}: {exc}") from None
            self.index.add(key, compiled)
            self._keys[key] = meaning

        for category in CATEGORIES:
            spec = rules["categories"][category]
            for direction in ("forward", "backward"):
                by_window: dict[int, list[str]] = {}
                for item in spec.get(direction) or []:
                    # an item is a pattern, or {pattern, window} to reach less or further
                    pattern, window = (item["pattern"], item["window"]) if isinstance(item, dict) else (item, spec["window"])
                    by_window.setdefault(int(window), []).append(pattern)
                for window, patterns in by_window.items():
                    add((category, direction, window), patterns)
        add(("pseudo", "", 0), rules["pseudo"])
        #: a sentence that opens with "Should" is a condition ("Should the placement end, ...")
        self.inversion_window = int(rules["categories"]["hypothetical"]["window"])
        #: boundary notes: theme -> themes that take a shared sentence instead
        self.yields_to: dict[str, frozenset[str]] = {
            t.id: frozenset(t.yields_to) for t in (codebook.themes if codebook else []) if t.yields_to
        }
        #: the words each cue spells out, so a "not" written into a cue is not read as negation
        self.cue_words: dict[str, frozenset[str]] = {
            cue.pattern: frozenset(_literal_norms(compile_pattern(cue.pattern, normalise)))
            for cue in (codebook.cues if codebook else [])
        }
        norm = lambda w: normalise(w)[0]  # noqa: E731 - terminators are single tokens
        self.stop_both = frozenset(norm(w) for w in rules["terminators"]["both"])
        self.stop_backward = self.stop_both | frozenset(norm(w) for w in rules["terminators"]["backward"])
        #: where a trigger's clause ends, for a classifier proposal that covers the sentence
        self.clause_stops = self.stop_both | {","}
        contrast = rules["contrast"]
        self.contrast_negators = frozenset(norm(w) for w in contrast["negators"])
        self.contrast_but = frozenset(norm(w) for w in contrast["but"])
        self.contrast_opens = frozenset(norm(w) for w in contrast["opens"])
        self.contrast_within = int(contrast["within"])
        instructions = rules["instructions"]
        self.instruction_verbs = frozenset(w.lower() for w in instructions["verbs"])
        self.instruction_objects = frozenset(w.lower() for w in instructions["objects"])
        self.recommendation_window = int(rules["categories"]["recommendation"]["window"])

    def instructions(self, doc: Doc, bounds: list[tuple[int, int]]) -> list[Trigger]:
        """A sentence that opens with an instruction ("Update the assessment to ...",
        "Ensure that ...") recommends: the verb in its base form, followed by what it
        acts on.  Leading bullets and numbers are skipped; "Updated the assessment"
        reports what was done and does not count."""
        found = []
        for sent_start, sent_end in bounds:
            i = sent_start
            while i < sent_end and (doc[i].is_punct or doc[i].like_num or doc[i].is_space):
                i += 1
            if (
                i + 1 < sent_end
                and doc[i].lower_ in self.instruction_verbs
                and doc[i + 1].lower_ in self.instruction_objects
            ):
                found.append(
                    Trigger("recommendation", "forward", i, i + 1, self.recommendation_window, instruction=True)
                )
        return found

    def contrasts(self, doc: Doc, bounds: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        """(negator, scope start, "but") of each "not X but Y" whose Y is an adverbial
        ("not held at school but at the family hub", "not in person but by video").

        Y replaces only the adverbial part of X, from X's first adverbial word on; the
        words of X before it (here "held") are asserted, not negated.
        """
        found = []
        for sent_start, sent_end in bounds:
            for n in range(sent_start, sent_end):
                if doc[n].norm_ not in self.contrast_negators:
                    continue
                for b in range(n + 1, min(n + 2 + self.contrast_within, sent_end - 1)):
                    norm = doc[b].norm_
                    if norm in self.contrast_but:
                        if doc[b + 1].norm_ in self.contrast_opens:
                            scope = next((i for i in range(n + 1, b) if doc[i].norm_ in self.contrast_opens), -1)
                            if scope >= 0:
                                found.append((n, scope, b))
                        break
                    if norm in self.stop_both or norm == ",":
                        break
        return found

    def triggers(self, doc: Doc) -> list[Trigger]:
        found: list[Trigger] = []
        pseudo: list[tuple[int, int]] = []
        bounds = sentence_bounds(doc)
        starts = {start for start, _ in bounds}
        contrasts = self.contrasts(doc, bounds)
        for key, start, end in self.index.find(doc, bounds):
            category, direction, window = self._keys[key]
            if category == "pseudo":
                pseudo.append((start, end))
            elif category == "recommendation" and start in starts and doc[start].norm_ == "should":
                # inverted conditional: "Should the placement end, L would move" recommends nothing
                found.append(Trigger("hypothetical", "forward", start, end, self.inversion_window))
            elif category == "negation" and (c := _contrast_in(contrasts, start, end)):
                found.append(Trigger(category, direction, start, end, window, c[1], c[2]))
            else:
                found.append(Trigger(category, direction, start, end, window))
        found.extend(self.instructions(doc, bounds))
        if pseudo:
            found = [
                t for t in found
                if t.category not in SILENCEABLE or not any(s < t.end and t.start < e for s, e in pseudo)
            ]
        # a negated resolution ("has not been resolved") resolves nothing
        negations = [t for t in found if t.category == "negation"]
        return [
            t for t in found
            if t.category != "resolved"
            or not any(n.end <= t.start + 1 and t.start - n.end <= 3 and n.start < t.start for n in negations)
        ]

    def _reaches(self, doc: Doc, trig: Trigger, p: Proposal) -> bool:
        if trig.scope_start >= 0 and not trig.scope_start <= p.start < trig.scope_end:
            return False
        if p.start <= trig.start and trig.end <= p.end:
            # inside the cue's span: it modifies the cue unless the cue spells it out itself
            literal = self.cue_words.get(p.cue, frozenset())
            if trig.instruction:
                return True
            if trig.category in _LEADING_WORD_CATEGORIES:
                # "to be updated" inside "chronology ... updated" still recommends: only a
                # recommendation or condition word that opens the trigger counts as spelt out
                first = doc[trig.start].norm_
                return not (first in literal and first not in _FUNCTION_WORDS)
            return not any(
                doc[i].norm_ in literal and doc[i].norm_ not in _FUNCTION_WORDS
                for i in range(trig.start, trig.end)
            )
        if trig.end <= p.start and trig.direction == "forward":
            gap = range(trig.end, p.start)
            stops = self.stop_both
        elif trig.start >= p.end and trig.direction == "backward":
            gap = range(p.end, trig.start)
            stops = self.stop_backward
        else:
            return False
        if len(gap) > trig.window:
            return False
        return not any(doc[i].norm_ in stops for i in gap)

    def modifiers(self, doc: Doc, p: Proposal, sentence_triggers: list[Trigger]) -> set[str]:
        if p.detector != "rules":
            return {t.category for t in sentence_triggers}
        return {
            t.category for t in sentence_triggers
            if self._reaches(doc, t, p) and not self._handed_over(t, p, sentence_triggers)
        }

    def _misreads_contrast(self, p: Proposal, contrasts: list[tuple[int, int, int]]) -> bool:
        """A cue that writes the negator of a contrast ("core group was not held" in
        "... not held at school but at the hub"): the "not" belongs to the part the
        contrast replaces, not to what the cue says, so the cue has nothing to say."""
        literal = self.cue_words.get(p.cue, frozenset())
        return not self.contrast_negators.isdisjoint(literal) and any(
            p.start <= n < p.end for n, _, _ in contrasts
        )

    @staticmethod
    def _handed_over(trig: Trigger, p: Proposal, sentence_triggers: list[Trigger]) -> bool:
        """A forward trigger gives way to a nearer one of its category before or at the
        cue: in "no handover, no case summary" the second "no" alone speaks for the cue."""
        return trig.direction == "forward" and trig.end <= p.start and any(
            o is not trig and o.category == trig.category and trig.end <= o.start <= p.start
            for o in sentence_triggers
        )

    def decide(
        self, p: Proposal, mods: set[str], rule_decided: set[tuple[str, str]],
        read_through: bool = False,
    ) -> list[tuple[str, float, tuple[str, ...]]]:
        """(polarity, confidence, assertion tags) outcomes for one proposal.

        ``rule_decided`` holds the (theme, polarity) pairs the rules decided in
        the same sentence; ``read_through`` says the classifier read the
        sentence's negation and condition words as part of this proposal. In a
        negated sentence a model proposal stands only where the rules reached
        the same decision or the model read through; in a hypothetical one,
        only where the model read through.
        """
        conf = p.confidence * (HEDGE_FACTOR if "hedge" in mods else 1.0)
        tags = tuple(sorted(mods))
        if p.detector != "rules":
            if not read_through and (
                "hypothetical" in mods or ("negation" in mods and (p.theme, p.kind) not in rule_decided)
            ):
                return []
            if "recommendation" in mods:
                return [("concern", conf, tags)]
            return [(p.kind, conf, tags)]
        if "hypothetical" in mods and "recommendation" not in mods:
            return []
        if "recommendation" in mods:
            return [("concern", conf, tags)]
        if "resolved" in mods and p.kind == "concern":
            return [("concern", conf, tags), ("strength", conf * RESOLVED_FACTOR, tags)]
        if "negation" in mods:
            if p.kind == "absence":
                return [("concern", conf, tags)]
            if p.negated == "drop":
                return []
            flipped = "strength" if p.kind == "concern" else "concern"
            return [(flipped, conf * FLIP_FACTOR, tags)]
        if p.kind == "absence":
            return []
        return [(p.kind, conf, tags)]

    def __call__(self, doc: Doc) -> Doc:
        proposals: list[Proposal] = doc._.proposals or []
        if not proposals:
            doc._.decisions = []
            return doc
        triggers = self.triggers(doc)
        contrasts = self.contrasts(doc, sentence_bounds(doc))
        by_sentence: dict[int, list[Proposal]] = {}
        for p in proposals:
            by_sentence.setdefault(p.sent_start, []).append(p)
        standing, unrecommended = self._classifier_readings(doc, by_sentence, triggers)
        best: dict[tuple[int, str, str], Decision] = {}
        for sent_start, props in by_sentence.items():
            sent_end = props[0].sent_end
            in_sentence = [t for t in triggers if t.start >= sent_start and t.end <= sent_end]
            props = _drop_subsumed(props)
            # an absence cue speaks only when no concern or strength cue of its theme does
            voiced = {p.theme for p in props if p.detector == "rules" and p.kind != "absence"}
            rule_decided: set[tuple[str, str]] = set()
            # rule proposals first, so that model proposals can be checked against them
            for p in sorted(props, key=lambda p: p.detector != "rules"):
                if p.kind == "absence" and p.theme in voiced:
                    continue
                if p.detector == "rules" and self._misreads_contrast(p, contrasts):
                    continue
                mods = self.modifiers(doc, p, in_sentence)
                proposal_key = (p.sent_start, p.theme, p.kind)
                if proposal_key in unrecommended:
                    mods.discard("recommendation")
                read_through = proposal_key in standing
                for polarity, conf, tags in self.decide(p, mods, rule_decided, read_through):
                    if p.detector == "rules":
                        rule_decided.add((p.theme, polarity))
                    key = (sent_start, p.theme, polarity)
                    known = best.get(key)
                    detectors = {p.detector} | (set(known.detectors) if known else set())
                    if known is None or conf > known.confidence:
                        cue_from = p if p.detector == "rules" or known is None else known
                        best[key] = Decision(
                            p.theme, polarity, conf, tuple(sorted(detectors)),
                            cue_from.start, cue_from.end, sent_start, sent_end,
                            cue_from.cue, tags,
                        )
                    else:
                        best[key] = replace(known, detectors=tuple(sorted(detectors)))
        decided = {(d.sent_start, d.theme) for d in best.values()}
        doc._.decisions = sorted(
            (
                d for d in best.values()
                if not any((d.sent_start, other) in decided for other in self.yields_to.get(d.theme, ()))
            ),
            key=lambda d: (d.sent_start, d.theme, d.polarity),
        )
        return doc

    def _classifier_readings(
        self, doc: Doc, by_sentence: dict[int, list[Proposal]], triggers: list[Trigger]
    ) -> tuple[set[tuple[int, str, str]], set[tuple[int, str, str]]]:
        """How the classifier's own reading of a sentence bears on its triggers.

        Returns two sets of (sentence, theme, kind) of classifier proposals:

        - *standing*: in a sentence with negation or condition words, the
          proposal's probability falls by more than ``READ_THROUGH_MARGIN`` when
          those words are taken out (the classifier read them as part of the
          claim), or the classifier still proposes it when the words' clauses
          are taken out (the claim is made outside them);
        - *unrecommended*: a strength the classifier still proposes when the
          sentence's recommendation clauses are taken out ("attendance is up to
          97%, and the SW should tell the IRO"): the recommendation is about
          something else and does not turn it into the concern.

        Every re-worded sentence is scored in one call to the classifier.
        """
        queries: list[tuple[str, list[Proposal], str]] = []  # (test, proposals, re-worded text)
        for sent_start, props in by_sentence.items():
            model = [p for p in props if p.detector != "rules"]
            if not model:
                continue
            sent_end = props[0].sent_end
            inside = [t for t in triggers if t.start >= sent_start and t.end <= sent_end]
            doubting = [t for t in inside if t.category in DOUBTING]
            if doubting:
                words = [(t.start, t.end) for t in doubting]
                clauses = [self._clause(doc, t, sent_start, sent_end) for t in doubting]
                queries.append(("read", model, _text_without(doc, sent_start, sent_end, words)))
                queries.append(("outside", model, _text_without(doc, sent_start, sent_end, clauses)))
            recommending = [t for t in inside if t.category == "recommendation"]
            strengths = [p for p in model if p.kind == "strength"]
            if recommending and strengths:
                clauses = [self._clause(doc, t, sent_start, sent_end) for t in recommending]
                outside = _text_without(doc, sent_start, sent_end, clauses)
                queries.append(("unrecommended", strengths, outside))
        standing: set[tuple[int, str, str]] = set()
        unrecommended: set[tuple[int, str, str]] = set()
        if not queries:
            return standing, unrecommended
        reader = next((pipe for _, pipe in self.nlp.pipeline if isinstance(pipe, Rereader)), None)
        if reader is None:
            return standing, unrecommended
        scored = reader.reread([text for _, _, text in queries])
        for (test, props, _), after in zip(queries, scored, strict=True):
            for p in props:
                label, key = f"{p.theme}:{p.kind}", (p.sent_start, p.theme, p.kind)
                if test == "read" and after[label] < p.confidence - READ_THROUGH_MARGIN:
                    standing.add(key)
                elif test == "outside" and reader.proposes(label, after[label]):
                    standing.add(key)
                elif test == "unrecommended" and reader.proposes(label, after[label]):
                    unrecommended.add(key)
        return standing, unrecommended

    def _clause(self, doc: Doc, trig: Trigger, sent_start: int, sent_end: int) -> tuple[int, int]:
        """The tokens a trigger governs for a whole-sentence proposal: the trigger and
        the rest of its clause in its direction, up to a terminator or a comma."""
        stops = self.clause_stops
        if trig.direction == "forward":
            end = trig.end
            while end < sent_end and doc[end].norm_ not in stops:
                end += 1
            return trig.start, end
        start = trig.start
        while start > sent_start and doc[start - 1].norm_ not in stops:
            start -= 1
        return start, trig.end


@runtime_checkable
class Rereader(Protocol):
    """A pipeline component that can score re-worded sentences (the classifier)."""

    def reread(self, sentences: list[str]) -> list[dict[str, float]]: ...

    def proposes(self, label: str, probability: float) -> bool: ...


def _text_without(doc: Doc, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """The text of tokens ``start``..``end`` less those inside any of ``spans``."""
    return "".join(
        doc[i].text_with_ws for i in range(start, end) if not any(a <= i < b for a, b in spans)
    )


def _contrast_in(contrasts: list[tuple[int, int, int]], start: int, end: int) -> tuple[int, int, int] | None:
    """The contrast whose negator lies in the token span [start, end), if any."""
    return next((c for c in contrasts if start <= c[0] < end), None)


def _drop_subsumed(props: list[Proposal]) -> list[Proposal]:
    """Drop a rule cue lying strictly inside a longer rule cue of the same theme: the
    longer match has read more of the sentence ("no placement" inside "no placement
    moves in")."""
    rules = [p for p in props if p.detector == "rules" and p.kind != "absence"]
    return [
        p for p in props
        if p.detector != "rules" or p.kind == "absence" or not any(
            o.theme == p.theme and o.start <= p.start and p.end <= o.end and (o.end - o.start) > (p.end - p.start)
            for o in rules
        )
    ]


def _literal_norms(patterns: list[list[dict[str, object]]]) -> set[str]:
    words: set[str] = set()
    for seq in patterns:
        for spec in seq:
            norm = spec.get("NORM")
            if isinstance(norm, str):
                words.add(norm)
            elif isinstance(norm, dict):
                words.update(norm["IN"])  # type: ignore[arg-type]
    return words


@Language.factory("caselens_assertion", default_config={"rules_path": None, "codebook_path": None})
def make_assertion(nlp: Language, name: str, rules_path: str | None, codebook_path: str | None) -> Assertion:
    return Assertion(nlp, rules_path or DEFAULT_RULES, get_codebook(codebook_path))
