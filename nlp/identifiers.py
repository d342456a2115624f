"""Identifier guard: finds personal identifiers left in "anonymised" text.

Each kind is a compiled pattern, narrowed where it helps precision by a
checksum (NHS number Modulus 11), an official format (NI number, postcode,
phone number prefixes and lengths) or a context word (a date is a date of
birth only when introduced as one; a name only after a title or "named" /
"called"). Overlapping findings are resolved so each character belongs to at
most one finding: overlapping candidates merge into one, so redaction never
leaves part of an identifier visible. Nothing here logs text.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

KINDS: tuple[str, ...] = (
    "nhs_number",
    "ni_number",
    "postcode",
    "phone",
    "email",
    "date_of_birth",
    "person_name",
)


@dataclass(frozen=True)
class IdentifierFinding:
    """One identifier: ``text[start:end]`` is of kind ``kind`` (one of ``KINDS``)."""

    kind: str
    start: int
    end: int


# --------------------------------------------------------------------------- NHS number

_NHS = re.compile(r"(?<![0-9])([0-9]{3})([ -]?)([0-9]{3})\2([0-9]{4})(?![0-9])")
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_check_digit_valid(digits: str) -> bool:
    """True when the tenth digit is the Modulus 11 check digit of the first nine."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits, _NHS_WEIGHTS))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _nhs_numbers(text: str) -> Iterator[tuple[int, int]]:
    for match in _NHS.finditer(text):
        digits = match.group(1) + match.group(3) + match.group(4)
        # a run of one digit (0000000000, 1111111111) is a placeholder, not a number
        if len(set(digits)) > 1 and nhs_check_digit_valid(digits):
            yield match.span()


# --------------------------------------------------------------------------- NI number

# HMRC format: first letter not D F I Q U V; second not D F I O Q U V;
# BG GB KN NK NT TN ZZ never issued; six digits; suffix A-D.
_NI = re.compile(
    r"(?<![A-Za-z])(?!BG|GB|KN|NK|NT|TN|ZZ)"
    r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?: ?[0-9]{2}){3} ?[A-D](?![A-Za-z])"
)


def _ni_numbers(text: str) -> Iterator[tuple[int, int]]:
    return (match.span() for match in _NI.finditer(text))


# --------------------------------------------------------------------------- postcode

# Royal Mail format: outward A9 A99 AA9 AA99 A9A AA9A, with the letters each
# position may hold; inward 9AA without C I K M O V. Upper case, as written.
_POSTCODE = re.compile(
    r"(?<![A-Za-z])"
    r"(?:GIR ?0AA|"
    r"(?:[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2}))"
    r"(?![A-Za-z])"
)


def _postcodes(text: str) -> Iterator[tuple[int, int]]:
    return (match.span() for match in _POSTCODE.finditer(text))


# --------------------------------------------------------------------------- phone

# 0 or +44 (optionally "+44 (0)"), then a UK number starting 1, 2, 3 or 7;
# spaces, hyphens and brackets around the area code are allowed. The digit
# count is checked afterwards against the length rules of each range.
_PHONE = re.compile(
    r"(?<![0-9+])"
    r"(?:\+44[ -]?(?:\(0\)[ -]?)?|\(?0)"
    r"[1-37](?:[ -]?\)?[ -]?[0-9]){8,9}"
    r"(?![0-9])"
)
_NON_DIGITS = re.compile(r"[^0-9]")


def _phone_numbers(text: str) -> Iterator[tuple[int, int]]:
    for match in _PHONE.finditer(text):
        digits = _NON_DIGITS.sub("", match.group())
        if match.group().startswith("+"):  # +44 (0)20… and +44 20… are both 020…
            digits = "0" + digits[2:].removeprefix("0")
        if len(digits) == 11 or (len(digits) == 10 and digits.startswith("01")):
            yield match.span()


# --------------------------------------------------------------------------- e-mail

# The look-behind starts a match only at the beginning of a run of address
# characters, which keeps the scan linear on long runs without an "@".
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![A-Za-z-])"
)


def _emails(text: str) -> Iterator[tuple[int, int]]:
    return (match.span() for match in _EMAIL.finditer(text))


# --------------------------------------------------------------------------- date of birth

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE = (
    rf"(?:{_DAY}[/.-]{_DAY}[/.-](?:[0-9]{{4}}|[0-9]{{2}})"
    rf"|[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}"
    rf"|{_DAY}{_ORDINAL}(?:\s+of)?\s+{_MONTH},?\s+[0-9]{{4}}"
    rf"|{_MONTH}\s+{_DAY}{_ORDINAL},?\s+[0-9]{{4}})"
)
_DOB = re.compile(
    r"(?<![^\W\d_])(?:date\s+of\s+birth|birth\s*date|d\.?\s?o\.?\s?b\b\.?|born)"
    r"\s*(?:[:–-]\s*|(?:is|was|on)\s+)?(?:the\s+)?"
    rf"(?P<date>{_DATE})(?![0-9])",
    re.IGNORECASE,
)


def _dates_of_birth(text: str) -> Iterator[tuple[int, int]]:
    return (match.span("date") for match in _DOB.finditer(text))


# --------------------------------------------------------------------------- person name

_TOKEN = r"[^\W\d_]+(?:['’-][^\W\d_]+)*"
# Titles are matched alone; the name tokens are captured in a look-ahead so a
# rejected candidate ("Mr and Mrs Jones") does not swallow the next title.
_TITLED = re.compile(
    rf"(?<![^\W\d_])(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof)\b\.?[ \t]+(?=({_TOKEN})(?:[ \t]+({_TOKEN}))?)"
)
_INTRODUCED = re.compile(rf"(?<![^\W\d_])(?:named|called)[ \t]+(?=({_TOKEN})[ \t]+({_TOKEN}))")
#: capitalised words that follow a title or "called" without being a name
_NOT_NAMES = frozenset((
    "Team", "Teams", "Around", "Family", "Families", "Child", "Children", "Children's", "Young",
    "People", "Person", "Service", "Services", "Social", "Care", "Early", "Help", "Council",
    "School", "College", "Nursery", "Hospital", "Centre", "Center", "Police", "Court", "Panel",
    "Meeting", "Conference", "Plan", "Group", "Unit", "Board", "Health", "Trust", "Safeguarding",
    "Hub", "Front", "Door", "Leaving", "Signs", "Safety", "Worker", "Manager", "Mum", "Mam", "Dad",
    "Mother", "Father", "Nan", "Nana", "Grandma", "Grandad", "Grandmother", "Grandfather", "Aunt",
    "Uncle", "Brother", "Sister", "Foster", "Carer", "Carers", "The", "This", "That", "They",
    "She", "He", "Her", "His", "Their", "And", "Or", "But", "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May",
    "June", "July", "August", "September", "October", "November", "December", "Unknown", "Mr",
    "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof",
))


def _name_like(token: str | None) -> bool:
    """A capitalised word with lower case in it (so not "A", "SW", "IRO" or the
    pseudonymised initial of "Mr C's")."""
    if token is not None and token[-2:] in ("'s", "’s"):
        token = token[:-2]
    return (
        token is not None
        and len(token) > 1
        and token[0].isupper()
        and not token.isupper()
        and token not in _NOT_NAMES
    )


def _person_names(text: str) -> Iterator[tuple[int, int]]:
    for match in _TITLED.finditer(text):
        if _name_like(match.group(1)):
            last = 2 if _name_like(match.group(2)) else 1
            yield match.start(), match.end(last)
    for match in _INTRODUCED.finditer(text):
        if _name_like(match.group(1)) and _name_like(match.group(2)):
            yield match.start(1), match.end(2)


# --------------------------------------------------------------------------- public API

#: recognisers in order of precedence when two findings of equal length overlap
_RECOGNISERS: tuple[tuple[str, Callable[[str], Iterable[tuple[int, int]]]], ...] = (
    ("email", _emails),
    ("nhs_number", _nhs_numbers),
    ("ni_number", _ni_numbers),
    ("phone", _phone_numbers),
    ("postcode", _postcodes),
    ("date_of_birth", _dates_of_birth),
    ("person_name", _person_names),
)
_PRECEDENCE = {kind: rank for rank, (kind, _) in enumerate(_RECOGNISERS)}


def find_identifiers(text: str) -> list[IdentifierFinding]:
    """All identifiers in ``text``, sorted by start; overlapping candidates are merged."""
    found = [
        IdentifierFinding(kind, start, end)
        for kind, recognise in _RECOGNISERS
        for start, end in recognise(text)
    ]
    return _without_overlaps(found)


def redact(text: str, findings: Iterable[IdentifierFinding] | None = None) -> str:
    """``text`` with each finding replaced by ``[KIND]``, e.g. ``[NHS_NUMBER]``.

    ``findings`` defaults to ``find_identifiers(text)``; given ones are
    sorted and their overlaps merged the same way first.
    """
    chosen = find_identifiers(text) if findings is None else _without_overlaps(findings)
    parts: list[str] = []
    position = 0
    for finding in chosen:
        parts.append(text[position:finding.start])
        parts.append(f"[{finding.kind.upper()}]")
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def _without_overlaps(findings: Iterable[IdentifierFinding]) -> list[IdentifierFinding]:
    """Merge overlapping findings into one span, named after its strongest member.

    Merging, rather than dropping the weaker finding, keeps every character of
    every candidate covered. The strongest member is the longest, then the
    earliest in ``_RECOGNISERS``.
    """
    clusters: list[list[IdentifierFinding]] = []
    cluster_end = 0
    for finding in sorted((f for f in findings if f.end > f.start), key=lambda f: f.start):
        if clusters and finding.start < cluster_end:
            clusters[-1].append(finding)
            cluster_end = max(cluster_end, finding.end)
        else:
            clusters.append([finding])
            cluster_end = finding.end
    return [
        IdentifierFinding(max(cluster, key=_strength).kind, cluster[0].start,
                          max(f.end for f in cluster))
        for cluster in clusters
    ]


def _strength(finding: IdentifierFinding) -> tuple[int, int]:
    return finding.end - finding.start, -_PRECEDENCE.get(finding.kind, len(_PRECEDENCE))
