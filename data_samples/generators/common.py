"""Shared machinery for the group generators (``group_*_meta.py``).

Each group script owns its batch format (a parser from batch text to
``Entry`` values) and a ``GroupSpec`` (id prefix, output file, team names,
date range, its own themes and minimums). This module does the rest: it
assigns ids, case ids, dates and teams deterministically, appends records to
the group's JSONL file, validates the file and prints the label counts.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from nlp.taxonomy import DOC_TYPES, LABELS, POLARITIES, SERVICE_AREAS, THEMES

TRAIN_DIR = Path(__file__).resolve().parent.parent / "train"
RECORD_FIELDS: tuple[str, ...] = (
    "id", "case_id", "doc_type", "service_area", "date", "team", "text", "labels",
)
#: every record date must fall inside this range (inclusive)
DATE_MIN, DATE_MAX = date(2022, 1, 1), date(2026, 12, 31)
#: a sentence end followed by more text: marks a multi-sentence passage
SENTENCE_END = re.compile(r"[.!?]\s+(?=\S)")


def _covering(table: dict[str, str], allowed: Sequence[str], name: str) -> dict[str, str]:
    """Return ``table`` after checking its values are exactly the ``allowed`` ids."""
    if sorted(table.values()) != sorted(allowed):
        raise ValueError(f"{name} does not match nlp.taxonomy")
    return table


# Short codes used by the compact batch formats (groups B and C; A has its own theme codes).
DOC_CODES = _covering(
    {"cn": "case_note", "cs": "case_summary", "sr": "supervision_record",
     "an": "audit_narrative", "pr": "plan_review"},
    DOC_TYPES, "DOC_CODES",
)
AREA_CODES = _covering(
    {"eh": "early_help", "hp": "help_and_protection", "cic": "children_in_care",
     "cl": "care_leavers"},
    SERVICE_AREAS, "AREA_CODES",
)
THEME_CODES = _covering(
    {"dd": "drift_delay", "sa": "start_again", "chr": "chronology", "sup": "supervision",
     "cp": "care_planning", "aq": "assessment_quality", "oo": "over_optimism",
     "rec": "recording", "voc": "voice_of_child", "imp": "impact_focus",
     "ps": "placement_stability", "ls": "life_story", "thr": "thresholds",
     "ma": "multi_agency", "ch": "challenge", "div": "diversity", "pm": "practice_model",
     "wc": "worker_changes"},
    THEMES, "THEME_CODES",
)
#: polarity suffixes of signed codes such as ``ma-`` / ``ma+``
SIGNS = _covering({"-": "concern", "+": "strength"}, POLARITIES, "SIGNS")


def theme_codes(table: dict[str, str]) -> dict[str, str]:
    """Check a group's own theme-code table against the taxonomy and return it."""
    return _covering(table, THEMES, "theme codes")


class Entry(NamedTuple):
    """One parsed batch line, before metadata is assigned."""

    doc_type: str
    service_area: str
    text: str
    labels: list[str]


@dataclass(frozen=True)
class GroupSpec:
    """What differs between groups once a batch has been parsed.

    Dates are drawn from ``first_day`` up to (not including) ``end_day``. The
    metadata generator is seeded by the record id (``ga-17``) or, with
    ``seed_from_text``, by a SHA-256 of the text.
    """

    id_prefix: str
    out: Path
    teams: Mapping[str, Sequence[str]]
    first_day: date
    end_day: date
    seed_from_text: bool = False
    own_themes: tuple[str, ...] = ()
    min_positives: int = 0
    min_negatives: int = 0

    def __post_init__(self) -> None:
        if sorted(self.teams) != sorted(SERVICE_AREAS):
            raise ValueError(f"{self.id_prefix}: teams must cover every service area")
        if not set(self.own_themes) <= set(THEMES):
            raise ValueError(f"{self.id_prefix}: unknown own themes")
        if not DATE_MIN <= self.first_day < self.end_day <= DATE_MAX + timedelta(days=1):
            raise ValueError(f"{self.id_prefix}: date range outside {DATE_MIN}..{DATE_MAX}")


# --- parsing helpers -------------------------------------------------------

def source_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, stripped line)`` for each non-blank, non-``#`` line."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def code_label(theme_code: str, polarity: str, codes: Mapping[str, str] = THEME_CODES) -> str:
    """Return ``THEME:POLARITY`` for a theme short code; ValueError when unknown."""
    theme = codes.get(theme_code)
    if theme is None or polarity not in POLARITIES:
        raise ValueError(f"unknown label code {theme_code!r} / {polarity!r}")
    return f"{theme}:{polarity}"


def signed_label(token: str, codes: Mapping[str, str] = THEME_CODES) -> str:
    """Expand a signed code such as ``ma-`` or ``ma+`` into a full label."""
    polarity = SIGNS.get(token[-1:])
    if polarity is None:
        raise ValueError(f"unknown label code {token!r}")
    return code_label(token[:-1], polarity, codes)


def parse_compact(text: str, parse_labels: Callable[[str], list[str]]) -> list[Entry]:
    """Parse ``DOC AREA | LABELS | text`` lines; ``parse_labels`` reads the middle field."""
    entries = []
    for number, line in source_lines(text):
        try:
            head, labels, body = (part.strip() for part in line.split("|", 2))
            doc, area = head.split()
            if doc not in DOC_CODES or area not in AREA_CODES:
                raise ValueError(f"unknown doc/area code in {head!r}")
            if not body:
                raise ValueError("empty text")
            entries.append(Entry(DOC_CODES[doc], AREA_CODES[area], body, parse_labels(labels)))
        except ValueError as err:
            raise ValueError(f"line {number}: {err}") from err
    return entries


# --- records and the JSONL file --------------------------------------------

def make_record(number: int, entry: Entry, spec: GroupSpec) -> dict:
    """Build one gold record; case id, date and team come from a seeded generator."""
    seed = (hashlib.sha256(entry.text.encode()).hexdigest() if spec.seed_from_text
            else f"{spec.id_prefix}{number}")
    rng = random.Random(seed)
    day = spec.first_day + timedelta(days=rng.randrange((spec.end_day - spec.first_day).days))
    return {
        "id": f"{spec.id_prefix}{number:04d}",
        "case_id": f"C-{rng.randrange(1000, 10000)}",
        "doc_type": entry.doc_type,
        "service_area": entry.service_area,
        "date": day.isoformat(),
        "team": rng.choice(spec.teams[entry.service_area]),
        "text": entry.text,
        "labels": entry.labels,
    }


def load(path: Path) -> list[dict]:
    """Read a JSONL file (empty list when it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append(sources: Sequence[Path], parse: Callable[[str], list[Entry]], spec: GroupSpec) -> int:
    """Append every entry of the source batches to ``spec.out``; return how many.

    Texts already in the file (or earlier in the batch) are refused, and
    nothing is written unless every source parses.
    """
    existing = load(spec.out)
    seen = {r["text"] for r in existing}
    records: list[dict] = []
    for source in sources:
        for entry in parse(source.read_text(encoding="utf-8")):
            if entry.text in seen:
                raise ValueError(f"duplicate text in {source.name}: {entry.text[:40]!r}")
            seen.add(entry.text)
            records.append(make_record(len(existing) + len(records) + 1, entry, spec))
    spec.out.parent.mkdir(parents=True, exist_ok=True)
    with spec.out.open("a", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)


# --- checking --------------------------------------------------------------

def validate(records: Sequence[dict]) -> list[str]:
    """Return the problems with the records' ids, texts, metadata, dates and labels."""
    problems = [f"duplicate id {i}" for i, n in Counter(r.get("id") for r in records).items() if n > 1]
    problems += [f"duplicate text in {n} records" for n in
                 Counter(r.get("text") for r in records).values() if n > 1]
    for r in records:
        rid = r.get("id", "?")
        if set(r) != set(RECORD_FIELDS):
            problems.append(f"{rid}: fields {sorted(r)}")
            continue
        if r["doc_type"] not in DOC_TYPES or r["service_area"] not in SERVICE_AREAS:
            problems.append(f"{rid}: bad metadata")
        try:
            if not DATE_MIN <= date.fromisoformat(r["date"]) <= DATE_MAX:
                problems.append(f"{rid}: date {r['date']} out of range")
        except (TypeError, ValueError):
            problems.append(f"{rid}: bad date {r['date']!r}")
        problems += [f"{rid}: bad label {label}" for label in r["labels"] if label not in LABELS]
    return problems


def check(spec: GroupSpec) -> bool:
    """Validate ``spec.out``, print label counts and problems; True when there are none."""
    records = load(spec.out)
    problems = validate(records)
    counts = Counter(label for r in records for label in r.get("labels", ()))
    negatives = sum(1 for r in records if not r.get("labels"))
    print(f"{'label':34} count")
    for label in LABELS:
        low = label.split(":")[0] in spec.own_themes and counts[label] < spec.min_positives
        print(f"{label:34} {counts[label]:5d}{' *' if low else ''}")
        if low:
            problems.append(f"{label} below {spec.min_positives}")
    if negatives < spec.min_negatives:
        problems.append(f"negatives below {spec.min_negatives}")
    multi = sum(1 for r in records if SENTENCE_END.search(str(r.get("text", "")).strip()))
    print(f"{'negatives []':34} {negatives:5d}")
    print(f"{'records':34} {len(records):5d}")
    print(f"{'multi-sentence':34} {multi:5d}")
    print(f"{'doc_type':34} {dict(Counter(r.get('doc_type') for r in records))}")
    for problem in problems:
        print("PROBLEM:", problem)
    return not problems


def main(argv: Sequence[str], spec: GroupSpec, parse: Callable[[str], list[Entry]], usage: str) -> int:
    """Command line shared by the group scripts: ``append FILE...`` or ``check``."""
    if argv[:1] == ["append"] and len(argv) > 1:
        print(f"appended {append([Path(a) for a in argv[1:]], parse, spec)} records")
        return 0
    if list(argv) == ["check"]:
        return 0 if check(spec) else 1
    print(usage)
    return 2
