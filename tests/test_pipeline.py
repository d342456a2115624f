"""``analyse`` / ``analyse_many``: evidence offsets into the original text, input
checks, streaming, and properties that hold for any text."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import nlp
from nlp.analysis import Analysis, RecordError, Tag
from nlp.codebook import get_codebook
from nlp.errors import InputError
from nlp.pipeline import Analyser, normalise
from nlp.settings import CoreSettings

PLANTED = "There is no chronology."


def only_tag(analysis: Analysis, label: str) -> Tag:
    tags = [t for t in analysis.tags if t.label == label]
    assert len(tags) == 1, analysis.labels
    return tags[0]


@pytest.mark.parametrize(
    ("text", "label", "evidence", "cue"),
    [
        pytest.param(
            "Mum\u2019s \u201caccount\u201d was accepted without challenge.",
            "over_optimism:concern",
            "Mum\u2019s \u201caccount\u201d was accepted without challenge.",
            "accepted without challenge",
            id="curly-quotes",
        ),
        pytest.param(
            "Visit\u00a0completed.\u00a0There is no chronology on\u00a0file.",
            "chronology:concern",
            "There is no chronology on\u00a0file.",
            "no chronology",
            id="nbsp",
        ),
        pytest.param(
            "The \ufb01le was read in full, \ufb02agged and \ufb03led. " + PLANTED,
            "chronology:concern",
            PLANTED,
            "no chronology",
            id="ligatures-before",
        ),
        pytest.param(
            "The \ufb01le was read. Supervision is re\ufb02ective.",
            "supervision:strength",
            "Supervision is re\ufb02ective.",
            "Supervision is re\ufb02ective",
            id="ligature-in-cue",
        ),
        pytest.param(
            "Visit notes\r\n" + PLANTED + "\r\nThe child was seen alone.\r\n",
            "voice_of_child:strength",
            "The child was seen alone.",
            "seen alone",
            id="crlf",
        ),
        pytest.param(
            "\U0001f600 Visit done.\n" + PLANTED + "\n\U0001f44d\U0001f3fd",
            "chronology:concern",
            PLANTED,
            "no chronology",
            id="emoji-around",
        ),
        pytest.param(
            "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 noted.\n\nThe child was seen alone \U0001f600 in the park.",
            "voice_of_child:strength",
            "The child was seen alone \U0001f600 in the park.",
            "seen alone",
            id="emoji-inside",
        ),
        pytest.param(
            "Re\u0301sume\u0301 noted. " + PLANTED + " The \ufb01le was \ufb01ne.",
            "chronology:concern",
            PLANTED,
            "no chronology",
            id="composed-accent-and-ligature",
        ),
    ],
)
def test_offsets_point_at_evidence_and_cue_in_the_original(
    rules_analyser: Analyser, text: str, label: str, evidence: str, cue: str
) -> None:
    tag = only_tag(rules_analyser.analyse(text), label)
    assert (tag.evidence, text[tag.start : tag.end]) == (evidence, evidence)
    assert (tag.cue, text[tag.cue_start : tag.cue_end]) == (cue, cue)


def test_normalise_maps_each_character_back_to_the_original() -> None:
    text = "\ufb01le \u201cok\u201d"
    normal, offsets = normalise(text)
    assert normal == 'file "ok"'
    assert offsets == [0, 0, 1, 2, 3, 4, 5, 6, 7]
    assert normalise("plain ascii") == ("plain ascii", None)
    assert normalise("caf\u00e9\u00a0ok") == ("caf\u00e9 ok", None)


def test_a_cue_does_not_match_across_sentences(rules_analyser: Analyser) -> None:
    assert rules_analyser.analyse("Mum read the plan, stuck in traffic.").labels == [
        "drift_delay:concern"
    ]
    assert (
        rules_analyser.analyse("Mum read the plan. Stuck in traffic, the worker was late.").labels
        == []
    )


def test_analysis_to_dict_is_json_with_provenance(rules_analyser: Analyser) -> None:
    analysis = rules_analyser.analyse(
        "There is no chronology. The child was seen alone.",
        doc_type="case_note",
        service_area="children_in_care",
        date="2024-03-05",
        case_id="C-7",
        team="North",
    )
    data = json.loads(json.dumps(analysis.to_dict()))
    assert data == analysis.to_dict()
    assert data["pipeline_version"] == nlp.__version__
    assert data["codebook_hash"] == get_codebook().hash
    assert data["model_hash"] is None
    assert data["labels"] == ["chronology:concern", "voice_of_child:strength"]
    assert data["meta"] == {
        "case_id": "C-7",
        "doc_type": "case_note",
        "service_area": "children_in_care",
        "date": "2024-03-05",
        "team": "North",
    }
    first = data["tags"][0]
    assert first["label"] == "chronology:concern" and first["detectors"] == ["rules"]
    assert (first["start"], first["end"], first["cue_start"], first["cue_end"]) == (0, 23, 9, 22)


@pytest.mark.parametrize(
    ("text", "meta", "where"),
    [
        ("", {}, "text"),
        ("  \n\t\u00a0 ", {}, "text"),
        (42, {}, "text"),
        (None, {}, "text"),
        (b"There is no chronology.", {}, "text"),
        (PLANTED, {"doc_type": "email"}, "doc_type"),
        (PLANTED, {"service_area": "youth_justice"}, "service_area"),
        (PLANTED, {"grade": "excellent"}, "grade"),
        (PLANTED, {"date": "2024-02-30"}, "date"),
        (PLANTED, {"date": "05/03/2024"}, "date"),
    ],
)
def test_unusable_input_raises_input_error(
    rules_analyser: Analyser, text: Any, meta: dict[str, Any], where: str
) -> None:
    with pytest.raises(InputError) as caught:
        rules_analyser.analyse(text, **meta)
    assert caught.value.where == where


@pytest.fixture(scope="module")
def limited_analyser() -> Analyser:
    """An analyser whose settings come from ``CASELENS_MAX_TEXT_CHARS`` = len(PLANTED)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASELENS_MAX_TEXT_CHARS", str(len(PLANTED)))
        limited = CoreSettings()
    return Analyser("rules", limited)


def test_text_longer_than_the_configured_limit_is_refused(limited_analyser: Analyser) -> None:
    assert limited_analyser.analyse(PLANTED).labels == ["chronology:concern"]
    with pytest.raises(InputError, match="CASELENS_MAX_TEXT_CHARS") as caught:
        limited_analyser.analyse(PLANTED + " ")
    assert caught.value.where == "text"


# ------------------------------------------------------------------ analyse_many

TEXTS = [
    PLANTED,
    "The child was seen alone.",
    "Mum was at home.",
    "Supervision is regular and reflective.",
    "Kai has had four social workers in a year.",
]


def test_analyse_many_keeps_order_and_agrees_with_analyse(rules_analyser: Analyser) -> None:
    records = [{"id": f"r{i}", "text": TEXTS[i % len(TEXTS)]} for i in range(11)]
    results = list(rules_analyser.analyse_many(records, batch_size=3))
    assert [r.meta["id"] for r in results] == [f"r{i}" for i in range(11)]
    for record, result in zip(records, results):
        assert result.tags == rules_analyser.analyse(record["text"]).tags


def test_analyse_many_streams_one_batch_at_a_time(rules_analyser: Analyser) -> None:
    pulled: list[int] = []

    def records() -> Iterator[dict[str, str]]:
        for i in range(100):
            pulled.append(i)
            yield {"id": str(i), "text": TEXTS[i % len(TEXTS)]}

    stream = rules_analyser.analyse_many(records(), batch_size=4)
    assert pulled == []
    first = next(stream)
    assert isinstance(first, Analysis) and first.meta["id"] == "0"
    assert len(pulled) == 4
    rest = [next(stream) for _ in range(4)]
    assert [r.meta["id"] for r in rest] == ["1", "2", "3", "4"]
    assert len(pulled) == 8


def test_analyse_many_collects_record_errors_in_place(rules_analyser: Analyser) -> None:
    records: list[Any] = [
        {"id": "a", "text": PLANTED},
        {"id": "b", "text": "   "},
        {"id": "c", "text": "The child was seen alone.", "date": "2024-01-31"},
        {"id": "d", "text": PLANTED, "doc_type": "letter"},
        "not a record",
        {"id": 6, "title": "no text"},
        {"id": "g", "text": "Mum was at home."},
    ]
    results = list(rules_analyser.analyse_many(records, batch_size=3, errors="collect"))
    assert [type(r).__name__ for r in results] == [
        "Analysis",
        "RecordError",
        "Analysis",
        "RecordError",
        "RecordError",
        "RecordError",
        "Analysis",
    ]
    errors = [r for r in results if isinstance(r, RecordError)]
    assert [(e.index, e.record_id) for e in errors] == [(1, "b"), (3, "d"), (4, None), (5, "6")]
    assert "empty" in errors[0].message and "doc_type" in errors[1].message
    assert results[0].labels == ["chronology:concern"] and results[2].meta["date"] == "2024-01-31"
    assert results[6].meta["id"] == "g"


def test_analyse_many_raises_on_the_first_bad_record_by_default(rules_analyser: Analyser) -> None:
    stream = rules_analyser.analyse_many([{"text": PLANTED}, {"text": ""}], batch_size=1)
    assert next(stream).labels == ["chronology:concern"]
    with pytest.raises(InputError):
        next(stream)
    with pytest.raises(ValueError, match="errors must be"):
        list(rules_analyser.analyse_many([{"text": PLANTED}], errors="skip"))


# ------------------------------------------------------------------ properties

FRAGMENTS = [
    PLANTED,
    "seen alone",
    "no drift",
    "should ",
    "not ",
    "if ",
    "supervision is regular",
    " but ",
    "\r\n",
    "\n\n",
    "\u00a0",
    "\ufb01",
    "\ufb02",
    "\u2019",
    "\u201c",
    "\u201d",
    "\U0001f600",
    "- ",
    "Dr. ",
    ". ",
]
case_text = st.lists(st.one_of(st.text(max_size=15), st.sampled_from(FRAGMENTS)), max_size=14).map(
    "".join
)


def _check_tags(text: str, analysis: Analysis) -> None:
    for tag in analysis.tags:
        assert 0 <= tag.start < tag.end <= len(text)
        assert text[tag.start : tag.end] == tag.evidence
        assert 0 <= tag.cue_start < tag.cue_end <= len(text)
        assert tag.start <= tag.cue_start and tag.cue_end <= tag.end
        assert text[tag.cue_start : tag.cue_end] == tag.cue


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(), case_text))
def test_any_text_analyses_or_raises_input_error(rules_analyser: Analyser, text: str) -> None:
    try:
        analysis = rules_analyser.analyse(text)
    except InputError:
        assert not text.strip()
        return
    _check_tags(text, analysis)


def _composes_nothing(text: str) -> bool:
    """True when NFKC changes characters only one at a time (no accent composition)."""
    return unicodedata.normalize("NFKC", text) == "".join(
        unicodedata.normalize("NFKC", c) for c in text
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=case_text, after=case_text)
def test_planted_sentence_is_found_at_its_place(
    rules_analyser: Analyser, before: str, after: str
) -> None:
    text = f"{before}.\n\n{PLANTED}\n\n{after}"
    assume(_composes_nothing(text))  # see the composed-accent-and-ligature offsets case above
    analysis = rules_analyser.analyse(text)
    _check_tags(text, analysis)
    where = len(before) + 3
    planted = [t for t in analysis.tags if t.start == where and t.label == "chronology:concern"]
    assert [(t.evidence, t.cue) for t in planted] == [(PLANTED, "no chronology")]


def test_split_sentences_gives_trimmed_spans_into_the_original_text() -> None:
    text = "Visit to home\n\u201cChild seen alone.\u201d  She is \ufb01ne.\n- Chronology updated"
    spans = nlp.split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "Visit to home",
        "\u201cChild seen alone.\u201d",
        "She is \ufb01ne.",
        "- Chronology updated",
    ]
