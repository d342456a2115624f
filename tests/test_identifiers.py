"""Identifier guard: true and false positives per kind, overlaps, redaction."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.identifiers import (
    KINDS,
    IdentifierFinding,
    find_identifiers,
    nhs_check_digit_valid,
    redact,
)


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start:f.end]) for f in find_identifiers(text)]


# (text, kind, the exact identifier text that must be found)
TRUE_POSITIVES = [
    # NHS numbers with a valid Modulus 11 check digit, compact, spaced and hyphenated
    ("NHS no. 9434765919 on file", "nhs_number", "9434765919"),
    ("NHS number 943 476 5919.", "nhs_number", "943 476 5919"),
    ("nhs 943-476-5919", "nhs_number", "943-476-5919"),
    ("ref 4010232137 noted", "nhs_number", "4010232137"),
    ("NHS 2000000010", "nhs_number", "2000000010"),  # remainder 0 → check digit 0
    # NI numbers
    ("NI number AB123456C", "ni_number", "AB123456C"),
    ("NINO: JG 10 37 23 D.", "ni_number", "JG 10 37 23 D"),
    ("ni ZA123456A", "ni_number", "ZA123456A"),
    # postcodes, every outward shape
    ("lives at SW1A 2AA now", "postcode", "SW1A 2AA"),
    ("moved to M1 1AE", "postcode", "M1 1AE"),
    ("address B33 8TH.", "postcode", "B33 8TH"),
    ("CR2 6XH", "postcode", "CR2 6XH"),
    ("at DN55 1PT,", "postcode", "DN55 1PT"),
    ("(W1A 0AX)", "postcode", "W1A 0AX"),
    ("EC1A1BB", "postcode", "EC1A1BB"),
    # phones
    ("mobile 07700 900123", "phone", "07700 900123"),
    ("mob: 07700900123.", "phone", "07700900123"),
    ("call +44 7700 900123 today", "phone", "+44 7700 900123"),
    ("tel (020) 7946 0958", "phone", "(020) 7946 0958"),
    ("tel +44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
    ("landline 0113 496 0000", "phone", "0113 496 0000"),
    ("on 01632 960123", "phone", "01632 960123"),
    ("ring 016977 2345", "phone", "016977 2345"),
    ("0300-123-4567", "phone", "0300-123-4567"),
    # e-mail
    ("email jo.bloggs+home@example.co.uk.", "email", "jo.bloggs+home@example.co.uk"),
    ("<sam.o-neil_2@mail.example.org>", "email", "sam.o-neil_2@mail.example.org"),
    # dates of birth, introduced as such
    ("DOB 03/04/2015", "date_of_birth", "03/04/2015"),
    ("date of birth: 3 April 2015", "date_of_birth", "3 April 2015"),
    ("born on 3rd April 2015", "date_of_birth", "3rd April 2015"),
    ("d.o.b. 2015-04-03", "date_of_birth", "2015-04-03"),
    ("D.O.B: 3.4.15", "date_of_birth", "3.4.15"),
    ("Date of Birth is April 3rd, 2015", "date_of_birth", "April 3rd, 2015"),
    ("born on the 3rd of Sept 2015", "date_of_birth", "3rd of Sept 2015"),
    ("birthdate - 03-04-2015", "date_of_birth", "03-04-2015"),
    # names
    ("Spoke with Mrs Jones today", "person_name", "Mrs Jones"),
    ("seen by Dr. Patel", "person_name", "Dr. Patel"),
    ("Mr John Smith attended", "person_name", "Mr John Smith"),
    ("Ms O'Brien", "person_name", "Ms O'Brien"),
    ("Mr McDonald-Hughes rang", "person_name", "Mr McDonald-Hughes"),
    ("Mrs Ødegaard", "person_name", "Mrs Ødegaard"),
    ("a boy called John Smith", "person_name", "John Smith"),
    ("her friend named Sarah O'Brien", "person_name", "Sarah O'Brien"),
]


@pytest.mark.parametrize(("text", "kind", "identifier"), TRUE_POSITIVES)
def test_true_positive(text: str, kind: str, identifier: str) -> None:
    assert found(text) == [(kind, identifier)]


FALSE_POSITIVES = [
    # NHS-like numbers that are not NHS numbers
    "case reference 943476591",  # nine digits
    "9434765918",  # ten digits failing Modulus 11
    "943 476 5910",
    "4010232138",
    "1000000011",  # remainder 1 gives check digit 10: never issued
    "0000000000 placeholder",
    "94347659190",  # eleven digits
    "943 4765 919",  # not 3-3-4
    # NI numbers outside the HMRC format
    "QQ123456C",  # Q not allowed first
    "GB123456A",  # unallocated prefix
    "AO123456A",  # O not allowed second
    "AB123456E",  # suffix beyond D
    "AB12345C",  # five digits
    "ab123456c",  # lower case is not matched
    # postcode look-alikes
    "SW1A",  # outward only
    "Team 4A",
    "QA1 1AA",  # Q cannot start a postcode
    "SW1A 2CI",  # C and I never end a postcode
    "m1 5th",  # lower case
    # phones
    "007700 900123",
    "0800 123 4567",  # freephone, not a personal line
    "07700 90012",  # too short
    "020 7946 09",
    "2015 2016 2017",
    # e-mail
    "meet @ 10am",
    "user@localhost",
    # dates that are not birth dates
    "visited on 3 April 2025",
    "Child A was seen on 03/04/2015 at school",
    "born in a hospital",
    # people's roles and anonymised placeholders
    "Mum and Dad attended with Child A",
    "SW visited; the IRO chaired",
    "Mr",
    "Mr and Mrs attended",
    "Mr X said he would attend",
    "Mrs A and Mr B",
    "Dr MASH",
    "referred to the Leaving Care Team",
    "a meeting called Team Around the Family",
    "Mum called Social Care on Monday",
    "called Children's Services",
    "named worker",
    "Signs of Safety mapping",
]


@pytest.mark.parametrize("text", FALSE_POSITIVES)
def test_false_positive(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("9434765919", True),  # 299 % 11 = 2 → check 9
        ("4010232137", True),  # check digit from remainder 4 → 7
        ("9434765918", False),
        ("4010232138", False),
        ("2000000010", True),  # 22 % 11 = 0 → check 0
        ("943476591", False),
        ("94347659a9", False),
    ],
)
def test_nhs_modulus_11(digits: str, valid: bool) -> None:
    assert nhs_check_digit_valid(digits) is valid


@pytest.mark.parametrize("last", "0123456789")
def test_remainder_one_is_never_valid(last: str) -> None:
    # 1*10 + 1*2 = 12, remainder 1: the check digit would be 10
    assert not nhs_check_digit_valid("100000001" + last)


def test_findings_are_sorted_and_carry_offsets() -> None:
    text = "Mrs Jones (DOB 03/04/2015) lives at SW1A 2AA, 07700 900123, NHS 943 476 5919."
    findings = find_identifiers(text)
    assert [f.kind for f in findings] == [
        "person_name", "date_of_birth", "postcode", "phone", "nhs_number",
    ]
    assert findings == sorted(findings, key=lambda f: f.start)
    assert all(isinstance(f, IdentifierFinding) and f.kind in KINDS for f in findings)


def test_overlapping_candidates_resolve_to_one_finding() -> None:
    # a valid NHS number spaced 3-3-4 that starts 01 is also a 10-digit landline shape
    assert found("number 012 345 6789 given") == [("nhs_number", "012 345 6789")]


def test_mr_and_mrs_does_not_swallow_the_name() -> None:
    assert found("Mr and Mrs Jones attended") == [("person_name", "Mrs Jones")]


def test_redact_replaces_each_identifier_with_its_kind() -> None:
    text = "Mrs Jones, DOB 03/04/2015, email a.b@example.com, NI AB123456C."
    assert redact(text) == (
        "[PERSON_NAME], DOB [DATE_OF_BIRTH], email [EMAIL], NI [NI_NUMBER]."
    )


@pytest.mark.parametrize(("text", "_kind", "_identifier"), TRUE_POSITIVES)
def test_redaction_round_trip(text: str, _kind: str, _identifier: str) -> None:
    redacted = redact(text)
    assert find_identifiers(redacted) == []
    finding = find_identifiers(text)[0]
    assert redacted == text[:finding.start] + f"[{finding.kind.upper()}]" + text[finding.end:]


@pytest.mark.parametrize("text", FALSE_POSITIVES)
def test_redact_leaves_clean_text_unchanged(text: str) -> None:
    assert redact(text) == text


def test_redact_merges_given_overlapping_findings() -> None:
    text = "abcdefg"
    findings = [
        IdentifierFinding("email", 3, 6),
        IdentifierFinding("phone", 0, 2),
        IdentifierFinding("postcode", 1, 3),  # same length as the phone, which ranks first
    ]
    assert redact(text, findings) == "[PHONE][EMAIL]g"


def test_overlap_keeps_every_character_covered() -> None:
    # the e-mail's local part starts inside the NHS number: neither part may survive
    text = "ref 943 476 5919x@example.org end"
    assert found(text) == [("email", "943 476 5919x@example.org")]
    assert redact(text) == "ref [EMAIL] end"


def test_long_text_finds_every_repeat() -> None:
    block = "Mrs Jones rang from 07700 900123 about SW1A 2AA. Visited on 3 April 2025. "
    findings = find_identifiers(block * 2000)
    assert len(findings) == 3 * 2000


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_spans_are_in_bounds_and_disjoint(text: str) -> None:
    findings = find_identifiers(text)
    previous_end = 0
    for finding in findings:
        assert finding.kind in KINDS
        assert previous_end <= finding.start < finding.end <= len(text)
        previous_end = finding.end


_IDENTIFIER_PIECES = st.sampled_from(
    ["Mrs Jones", "943 476 5919", "AB123456C", "SW1A 2AA", "07700 900123", "DOB 03/04/2015",
     "x@y.org", "called John Smith", " ", "\n", ", ", "0", "Mr ", "born ", "@", "-"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_IDENTIFIER_PIECES, st.text(max_size=5)), max_size=30).map(" ".join))
def test_redacting_dense_identifier_text_leaves_none(text: str) -> None:
    findings = find_identifiers(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))
    assert find_identifiers(redact(text, findings)) == []


@pytest.mark.parametrize("text", ["The plan includes Mr C's risk factors.", "Mrs B’s account was not checked."])
def test_title_with_a_pseudonymised_initial_is_not_a_name(text: str) -> None:
    assert find_identifiers(text) == []
