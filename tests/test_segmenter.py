"""Sentence boundaries for case recordings and PDF text."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from spacy.language import Language

from nlp.components.segmenter import sentence_starts
from nlp.language import blank_english

CORPUS = Path("/work/shared/corpus/ofsted_ilacs/reports")


@pytest.fixture(scope="module")
def segmenter() -> Language:
    nlp = blank_english()
    nlp.add_pipe("caselens_segmenter")
    return nlp


@pytest.fixture(scope="module")
def sentences(segmenter: Language):
    """``sentences(text)``: the sentences of ``text``, stripped, without blank ones."""

    def run(text: str) -> list[str]:
        return [s.text.strip() for s in segmenter(text).sents if s.text.strip()]

    return run


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Actions agreed:\n- Chronology to be updated by the allocated worker\n"
            "* Child to be seen alone at the next visit\n\u2022 Core group to meet in two weeks",
            [
                "Actions agreed:",
                "- Chronology to be updated by the allocated worker",
                "* Child to be seen alone at the next visit",
                "\u2022 Core group to meet in two weeks",
            ],
            id="bullets",
        ),
        pytest.param(
            "Next steps\n1. Update the chronology with the 2023 referrals\n2) Book the core group\n"
            "a) Ask school for attendance figures\n(iv) Review the safety plan with Nan",
            [
                "Next steps",
                "1. Update the chronology with the 2023 referrals",
                "2) Book the core group",
                "a) Ask school for attendance figures",
                "(iv) Review the safety plan with Nan",
            ],
            id="numbered-items",
        ),
        pytest.param(
            "Background\nThe family moved to the area in 2021.\nReason for referral\n"
            "School raised concerns about attendance and hunger.",
            [
                "Background",
                "The family moved to the area in 2021.",
                "Reason for referral",
                "School raised concerns about attendance and hunger.",
            ],
            id="headings",
        ),
        pytest.param(
            "Case summary at transfer from the Early Help team to Assessment\n"
            "The family moved to the area in 2021 and were first known to the service when the "
            "school raised concerns about attendance.",
            [
                "Case summary at transfer from the Early Help team to Assessment",
                "The family moved to the area in 2021 and were first known to the service when the "
                "school raised concerns about attendance.",
            ],
            id="long-heading-above-a-paragraph-line",
        ),
        pytest.param(
            "Leo was seen alone in his bedroom\n\nHe showed the worker his new football kit",
            ["Leo was seen alone in his bedroom", "He showed the worker his new football kit"],
            id="blank-line",
        ),
        pytest.param(
            "Mum said she is feeling better\nDad was not at home\nThe dog was shut in the garden",
            [
                "Mum said she is feeling better",
                "Dad was not at home",
                "The dog was shut in the garden",
            ],
            id="deliberate-line-breaks",
        ),
        pytest.param(
            "Home visit completed.\nMum was tired but engaged.",
            ["Home visit completed.", "Mum was tired but engaged."],
            id="full-stop-at-line-end",
        ),
        pytest.param(
            "Visit completed. Was Mum at home? No! She was at work.",
            ["Visit completed.", "Was Mum at home?", "No!", "She was at work."],
            id="sentence-punctuation",
        ),
    ],
)
def test_structure_ends_sentences(sentences, text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Okafor from the GP surgery attended the meeting. She shared the health plan.",
            ["Dr. Okafor from the GP surgery attended the meeting.", "She shared the health plan."],
        ),
        (
            "The worker tested the parents' account, i.e. that the bruise came from a fall. School agreed.",
            [
                "The worker tested the parents' account, i.e. that the bruise came from a fall.",
                "School agreed.",
            ],
        ),
        (
            "Partners were invited, e.g. Health and the school nurse. Both attended.",
            ["Partners were invited, e.g. Health and the school nurse.", "Both attended."],
        ),
        ("Mr. Hale attended. Mrs. Hale did not.", ["Mr. Hale attended.", "Mrs. Hale did not."]),
        (
            "Approx. 3 weeks ago Zara moved placement. She is settled now.",
            ["Approx. 3 weeks ago Zara moved placement.", "She is settled now."],
        ),
    ],
)
def test_abbreviations_do_not_end_sentences(sentences, text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # the next line starts in lower case
        (
            "The social worker visited the family home on Tuesday afternoon and spoke with\n"
            "the child about her wishes and feelings about contact with her father."
        ),
        # the line stops on a word that cannot end a sentence
        (
            "The assessment was thorough and it considered the family's long history of\n"
            "Neglect referrals from the school and the health visitor."
        ),
        # a long line that stops without punctuation, carried on by a capitalised name
        (
            "The worker spoke to the designated safeguarding lead and then to the child's\n"
            "Mum about the incident at school on Monday."
        ),
        # a short line ending in a comma
        "Present were Mum,\nDad and the family support worker.",
    ],
)
def test_hard_wrapped_line_is_joined(sentences, text: str) -> None:
    assert sentences(text) == [text]


REPORT_LINES = [
    "The allocated worker has visited the child every four weeks and each visit is recorded",
    "on the file within two working days, with a clear purpose and the child's own words.",
    "The child is settled at her primary school and the designated teacher reports that her",
    "attendance has improved since the start of the spring term.",
    "Her foster carers describe her as more confident with other children in the family.",
    "The care plan sets out how contact with her brother will be supported over the summer",
    "holidays and who will take the children to the family centre.",
    "The independent reviewing officer has met the child before each review and her",
    "views are written into the review minutes in her own words.",
    "Supervision records show that the team manager has discussed the case monthly.",
    "The most recent supervision considered whether the current level of contact with",
    "her father remains safe and gave a clear direction to update the risk assessment.",
    "The health assessment is up to date and the dental check was completed in April.",
    "A referral to the child and adolescent mental health service was accepted in May.",
    "The worker has started life story work with the child using photographs from",
    "her early years that her grandmother brought to the last family network meeting.",
    "The plan for permanence is clear and the plan is for long-term fostering with",
    "the current carers, which the child has said she wants.",
    "The virtual school has agreed extra tuition in mathematics this term.",
    "The next looked after review is booked for the end of September.",
]
HEADER = "Northshire children's services case audit 2024   Page {} of 3"


def test_repeated_page_headers_are_split_off(sentences) -> None:
    # the headers fall mid-sentence, as they do in text extracted from a PDF
    lines = (
        [HEADER.format(1)]
        + REPORT_LINES[:6]
        + [HEADER.format(2)]
        + REPORT_LINES[6:14]
        + [HEADER.format(3)]
        + REPORT_LINES[14:]
    )
    found = sentences("\n".join(lines))
    headers = [s for s in found if "case audit 2024" in s]
    assert headers == [HEADER.format(n) for n in (1, 2, 3)]
    # the wrapped lines between headers are still joined into their sentences
    assert REPORT_LINES[0] + "\n" + REPORT_LINES[1] in found
    assert REPORT_LINES[14] + "\n" + REPORT_LINES[15] in found


def test_sentence_starts_are_character_offsets() -> None:
    text = "No chronology. Seen alone.\n- Plan reviewed"
    assert sentence_starts(text) == [0, 15, 27]


def test_empty_and_blank_texts_segment_without_error(segmenter: Language) -> None:
    assert list(segmenter("").sents) == []
    assert len(list(segmenter(" \n\n ").sents)) == 1


@pytest.mark.skipif(not CORPUS.is_dir(), reason="Ofsted report corpus not available")
def test_real_reports_segment_into_sensible_sentences(segmenter: Language) -> None:
    reports = sorted(CORPUS.glob("*.txt"))[::68]
    assert reports
    for report in reports:
        lengths = [len(s.text.split()) for s in segmenter(report.read_text(encoding="utf-8")).sents]
        lengths = [n for n in lengths if n]
        assert len(lengths) > 50, report.name
        assert 8 <= statistics.median(lengths) <= 60, report.name
        assert sum(n > 120 for n in lengths) / len(lengths) < 0.02, report.name
