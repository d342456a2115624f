"""Turn hand-written batch files into gold-format training lines for group A.

A batch file is plain text. A header line ``@ DOC_TYPE SERVICE_AREA`` sets the
metadata for the lines below it; every other non-blank line is
``CODES | text`` where CODES are short label codes (``dd-`` = drift_delay
concern, ``sv+`` = supervision strength) separated by spaces, or ``-`` for a
hard negative. Lines starting with ``#`` are comments.

The sentences are written by hand; this script only assigns ids, case ids,
dates and team names (deterministically, from a seed) and validates the result.

    python group_a_meta.py append BATCH.txt   # append to group_a.jsonl
    python group_a_meta.py check              # validate and print label counts
"""
from __future__ import annotations

import json
import random
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from nlp.taxonomy import DOC_TYPES, LABELS, SERVICE_AREAS

OUT = Path(__file__).resolve().parent.parent / "train" / "group_a.jsonl"
ID_PREFIX = "ga-"

CODES: dict[str, str] = {
    "dd": "drift_delay",
    "sa": "start_again",
    "ch": "chronology",
    "sv": "supervision",
    "cp": "care_planning",
    "aq": "assessment_quality",
    "oo": "over_optimism",
    "rec": "recording",
    "voc": "voice_of_child",
    "imp": "impact_focus",
    "pl": "placement_stability",
    "ls": "life_story",
    "th": "thresholds",
    "ma": "multi_agency",
    "chal": "challenge",
    "div": "diversity",
    "pm": "practice_model",
    "wc": "worker_changes",
}
POLARITY = {"-": "concern", "+": "strength"}

TEAMS: dict[str, tuple[str, ...]] = {
    "early_help": (
        "Early Help Hub North", "Family Support Team East", "Early Help Locality 3",
        "Families First (Westside)", "Early Help Team B", "Family Help Hub South",
        "Targeted Youth and Family Team",
    ),
    "help_and_protection": (
        "Assessment Team 2", "Child Protection Team 4", "MASH and Duty",
        "Safeguarding Team Riverside", "Children in Need Team 1", "Assessment Team North",
        "Family Safeguarding Pod C", "Court and Proceedings Team", "Help and Protection East",
    ),
    "children_in_care": (
        "Children in Care Team 3", "Permanence Team", "LAC Team West",
        "Children Looked After Team 1", "Fostering and Permanence Hub", "IRO Service",
        "Children in Care Team South",
    ),
    "care_leavers": (
        "Leaving Care Team", "Care Leavers Service (18+)", "16+ Team",
        "Pathway Team North", "Care Experienced Adults Team",
    ),
}
DATE_START = date(2022, 1, 4)
DATE_SPAN_DAYS = (date(2026, 6, 30) - DATE_START).days


def parse_codes(codes: str) -> list[str]:
    """Expand ``dd- sv+`` into sorted full labels; ``-`` alone means no label."""
    codes = codes.strip()
    if codes == "-":
        return []
    labels = set()
    for code in codes.split():
        theme, sign = CODES.get(code[:-1]), POLARITY.get(code[-1])
        if theme is None or sign is None:
            raise ValueError(f"unknown label code {code!r}")
        labels.add(f"{theme}:{sign}")
    return sorted(labels)


def parse_batch(text: str) -> list[tuple[str, str, str, list[str]]]:
    """Return (doc_type, service_area, text, labels) for every entry in a batch."""
    entries = []
    doc_type = service_area = ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            doc_type, service_area = line[1:].split()
            if doc_type not in DOC_TYPES or service_area not in SERVICE_AREAS:
                raise ValueError(f"line {n}: bad header {line!r}")
            continue
        codes, sep, body = line.partition("|")
        if not sep or not body.strip() or not doc_type:
            raise ValueError(f"line {n}: expected 'CODES | text' after a header")
        entries.append((doc_type, service_area, body.strip(), parse_codes(codes)))
    return entries


def make_record(number: int, doc_type: str, service_area: str, text: str, labels: list[str]) -> dict:
    """Build one gold record; metadata is drawn from a generator seeded by the id."""
    rng = random.Random(f"{ID_PREFIX}{number}")
    day = DATE_START + timedelta(days=rng.randrange(DATE_SPAN_DAYS))
    return {
        "id": f"{ID_PREFIX}{number:04d}",
        "case_id": f"C-{rng.randrange(1000, 10000)}",
        "doc_type": doc_type,
        "service_area": service_area,
        "date": day.isoformat(),
        "team": rng.choice(TEAMS[service_area]),
        "text": text,
        "labels": labels,
    }


def load(path: Path = OUT) -> list[dict]:
    """Read the existing training file (empty list when it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append(batch: Path) -> int:
    """Append a batch to the training file; refuse texts already present."""
    existing = load()
    seen = {r["text"] for r in existing}
    start = len(existing) + 1
    records = []
    for doc_type, area, text, labels in parse_batch(batch.read_text(encoding="utf-8")):
        if text in seen:
            raise ValueError(f"duplicate text in {batch.name}: {text[:40]!r}")
        seen.add(text)
        records.append(make_record(start + len(records), doc_type, area, text, labels))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)


def check(path: Path = OUT) -> Counter:
    """Validate every line and return the label counts (key ``[]`` for negatives)."""
    records = load(path)
    ids = [r["id"] for r in records]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate ids")
    counts: Counter = Counter()
    for r in records:
        if r["doc_type"] not in DOC_TYPES or r["service_area"] not in SERVICE_AREAS:
            raise ValueError(f"{r['id']}: bad metadata")
        date.fromisoformat(r["date"])
        bad = [label for label in r["labels"] if label not in LABELS]
        if bad:
            raise ValueError(f"{r['id']}: unknown labels {bad}")
        counts.update(r["labels"] or ["[]"])
    return counts


def main(argv: list[str]) -> None:
    if argv[:1] == ["append"] and len(argv) == 2:
        print(f"appended {append(Path(argv[1]))}")
    elif argv == ["check"]:
        counts = check()
        print(f"{len(load())} records")
        for label in [*LABELS, "[]"]:
            print(f"{label:34s} {counts.get(label, 0)}")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
