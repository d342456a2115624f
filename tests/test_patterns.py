"""The cue language: each construct matches what it says, malformed cues are refused."""

from __future__ import annotations

import pytest
from spacy.language import Language
from spacy.matcher import Matcher

from nlp.patterns import MAX_EXPANSIONS, Normaliser, PatternSyntaxError, compile_pattern


@pytest.fixture(scope="module")
def matches(blank_nlp: Language, norms: Normaliser):
    """``matches(pattern, text)``: the distinct texts the compiled cue matches in ``text``."""

    def run(pattern: str, text: str) -> set[str]:
        matcher = Matcher(blank_nlp.vocab)
        matcher.add("cue", compile_pattern(pattern, norms))
        doc = blank_nlp(text)
        return {doc[start:end].text for _, start, end in matcher(doc)}

    return run


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        # words match on their inflectional stem, in any case
        ("delay", "Delays, delayed and delaying", {"Delays", "delayed", "delaying"}),
        ("plan", "the plans were planned", {"plans", "planned"}),
        ("chronology", "CHRONOLOGY", {"CHRONOLOGY"}),
        ("placement moves", "two placement moves", {"placement moves"}),
        # derivations are kept apart: "timely" is not "time"
        ("timely", "in good time", set()),
        # inflections that would collide with another word are kept apart
        ("not", "case notes; it was noted; not", {"not"}),
        ("notes", "case notes; it was noted; not", {"notes", "noted"}),
        ("last", "it lasted; the last visit", {"last"}),
        ("lasted", "it lasted; the last visit", {"lasted"}),
        ("recording", "records; recording; recorded", {"records", "recording"}),
        ("recorded", "records; recording; recorded", {"recorded"}),
        # cue words are tokenised like the text
        ("task-focused", "supervision is task-focused", {"task-focused"}),
        ("didn't attend", "Mum didn't attend", {"didn't attend"}),
        # a|b: one word of several
        (
            "seen|visited alone",
            "seen alone; visited alone; met alone",
            {"seen alone", "visited alone"},
        ),
        # (x y / z): a group of phrases
        (
            "chronology (out of date / not current)",
            "chronology out of date; chronology not current; chronology current",
            {"chronology out of date", "chronology not current"},
        ),
        # (...)?: an optional group
        (
            "plan (not updated / not reviewed)? since",
            "plan since; plan not reviewed since; plan not checked since",
            {"plan since", "plan not reviewed since"},
        ),
        # word?: an optional word
        ("contingency plan?", "a contingency plan", {"contingency", "contingency plan"}),
        ("contingency plan?", "a contingency arrangement", {"contingency"}),
        # <num>: a number in digits or words
        (
            "<num> placement moves",
            "3 placement moves; three placement moves; several placement moves",
            {"3 placement moves", "three placement moves"},
        ),
        ("seen <num>? times", "seen times; seen four times", {"seen times", "seen four times"}),
    ],
)
def test_construct_matches(matches, pattern: str, text: str, expected: set[str]) -> None:
    assert matches(pattern, text) == expected


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("plan reviewed", True),
        ("plan has not been reviewed", True),
        ("plan one two three four reviewed", True),
        ("plan one two three four five reviewed", False),
    ],
)
def test_gap_spans_up_to_four_words(matches, text: str, matched: bool) -> None:
    assert (text in matches("plan ... reviewed", text)) is matched


def test_single_word_alternatives_of_a_group_fold_into_one_token_spec(norms: Normaliser) -> None:
    (late,), (overdue,), (review,) = norms("late"), norms("overdue"), norms("review")
    assert compile_pattern("(late / overdue) review", norms) == [
        [{"NORM": {"IN": sorted([late, overdue])}}, {"NORM": review}]
    ]


def test_alternatives_with_the_same_stems_compile_once(norms: Normaliser) -> None:
    assert len(compile_pattern("(plan review / plans reviews)", norms)) == 1


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty pattern"),
        ("   ", "empty pattern"),
        ("(out of date / not current", r"'\(' without '\)'"),
        ("out of date)", r"'\)' without '\('"),
        ("chronology (out of date / )", "empty alternative in a group"),
        ("chronology ( / not current)", "empty alternative in a group"),
        ("chronology ()", "empty alternative in a group"),
        ("seen||visited alone", "empty alternative"),
        ("seen| alone", "empty alternative"),
        ("late / overdue", "'/' outside a group"),
        ("... chronology", r"'\.\.\.' must stand between words"),
        ("chronology ...", r"'\.\.\.' must stand between words"),
        ("chronology?", "nothing but gaps or optional words"),
        ("chronology? plan?", "nothing but gaps or optional words"),
        ("(chronology / plan)?", "nothing but gaps or optional words"),
        ("<num>?", "nothing but gaps or optional words"),
        (" ".join(["(plan a / plan b)"] * 11), f"more than {MAX_EXPANSIONS} alternatives"),
    ],
)
def test_malformed_pattern_raises(norms: Normaliser, pattern: str, message: str) -> None:
    with pytest.raises(PatternSyntaxError, match=message):
        compile_pattern(pattern, norms)


def test_non_string_pattern_raises(norms: Normaliser) -> None:
    with pytest.raises(PatternSyntaxError, match="must be a string"):
        compile_pattern(["chronology"], norms)  # type: ignore[arg-type]
