"""Build the group B training file from hand-written compact source lines.

Each source line is ``<doc> <area> | <labels> | <text>``:

- ``<doc>``: cn, cs, sr, an or pr (case note, case summary, supervision record,
  audit narrative, plan review);
- ``<area>``: eh, hp, cic or cl (early help, help and protection, children in
  care, care leavers);
- ``<labels>``: space-separated ``code:c`` / ``code:s`` (theme short codes in
  ``THEME_CODES``), or ``-`` for a hard negative;
- ``<text>``: the sentence or short passage, written by hand.

The sentences are authored; this script only assigns ids and invented but
plausible metadata (case id, date, team) deterministically from the line's id,
so re-running ``append`` on the same sources gives the same records.

Usage::

    python group_b_meta.py append SOURCE.txt [...]   # append to the JSONL file
    python group_b_meta.py check                     # validate and print counts
"""
from __future__ import annotations

import json
import random
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from nlp.taxonomy import DOC_TYPES, LABELS, SERVICE_AREAS

OUT_PATH = Path(__file__).resolve().parents[1] / "train" / "group_b.jsonl"
ID_PREFIX = "gb-"
OWN_THEMES: tuple[str, ...] = (
    "over_optimism",
    "recording",
    "voice_of_child",
    "impact_focus",
    "placement_stability",
    "life_story",
)
MIN_POSITIVES = 85
MIN_NEGATIVES = 350

DOC_CODES: dict[str, str] = {
    "cn": "case_note",
    "cs": "case_summary",
    "sr": "supervision_record",
    "an": "audit_narrative",
    "pr": "plan_review",
}
AREA_CODES: dict[str, str] = {
    "eh": "early_help",
    "hp": "help_and_protection",
    "cic": "children_in_care",
    "cl": "care_leavers",
}
THEME_CODES: dict[str, str] = {
    "dd": "drift_delay",
    "sa": "start_again",
    "chr": "chronology",
    "sup": "supervision",
    "cp": "care_planning",
    "aq": "assessment_quality",
    "oo": "over_optimism",
    "rec": "recording",
    "voc": "voice_of_child",
    "imp": "impact_focus",
    "ps": "placement_stability",
    "ls": "life_story",
    "thr": "thresholds",
    "ma": "multi_agency",
    "ch": "challenge",
    "div": "diversity",
    "pm": "practice_model",
    "wc": "worker_changes",
}
POLARITY_CODES: dict[str, str] = {"c": "concern", "s": "strength"}

# Invented team names, per service area, so metadata looks like a real export.
TEAMS: dict[str, tuple[str, ...]] = {
    "early_help": (
        "Early Help Hub North", "Family Support Team (West)", "Early Help Locality 3",
        "Brookside Family Hub", "Targeted Youth Support", "Early Help Team 1",
        "Millgate Family Support", "Parenting and Family Hub East",
    ),
    "help_and_protection": (
        "Assessment Team 2", "Assessment Team 4", "CIN/CP Team South",
        "Safeguarding Team 1", "Riverside Child Protection Team", "Front Door Assessment",
        "Family Safeguarding Team B", "Long-term CP Team (Central)", "Court and PLO Team",
        "Hillcrest Safeguarding Unit",
    ),
    "children_in_care": (
        "Children in Care Team 1", "Children in Care Team 3", "Permanence Team",
        "Looked After Children (North)", "Fostering and Permanence", "CiC Team Eastfield",
        "Disabled Children's Team", "Adolescent Support Team", "IRO Service",
    ),
    "care_leavers": (
        "Leaving Care Team", "Care Leavers Service (East)", "16+ Team",
        "Pathway Team 2", "Moving On Team", "UASC and Care Leavers Team",
    ),
}
FIRST_DAY = date(2022, 1, 4)
DAY_SPAN = (date(2026, 5, 29) - FIRST_DAY).days


def parse_labels(field: str) -> list[str]:
    """Expand ``oo:c voc:s`` into full label ids; ``-`` means no labels."""
    field = field.strip()
    if field == "-":
        return []
    labels = []
    for token in field.split():
        code, _, pol = token.partition(":")
        label = f"{THEME_CODES[code]}:{POLARITY_CODES[pol]}"
        if label in labels:
            raise ValueError(f"duplicate label {label}")
        labels.append(label)
    return sorted(labels)


def parse_line(line: str) -> tuple[str, str, list[str], str]:
    """Split one compact source line into doc_type, service_area, labels and text."""
    head, labels, text = (part.strip() for part in line.split("|", 2))
    doc, area = head.split()
    if not text:
        raise ValueError("empty text")
    return DOC_CODES[doc], AREA_CODES[area], parse_labels(labels), text


def make_record(number: int, doc_type: str, area: str, labels: list[str], text: str) -> dict:
    """Build one gold-format record with metadata seeded by its sequence number."""
    rng = random.Random(f"{ID_PREFIX}{number}")
    day = FIRST_DAY + timedelta(days=rng.randrange(DAY_SPAN))
    return {
        "id": f"{ID_PREFIX}{number:04d}",
        "case_id": f"C-{rng.randrange(1000, 10000)}",
        "doc_type": doc_type,
        "service_area": area,
        "date": day.isoformat(),
        "team": rng.choice(TEAMS[area]),
        "text": text,
        "labels": labels,
    }


def read_records(path: Path = OUT_PATH) -> list[dict]:
    """Read the JSONL file (empty list when it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append(sources: list[Path], path: Path = OUT_PATH) -> int:
    """Append every non-blank, non-comment source line as a record; return how many."""
    existing = read_records(path)
    seen_texts = {r["text"] for r in existing}
    number = len(existing)
    new = []
    for source in sources:
        for raw in source.read_text(encoding="utf-8").splitlines():
            if not raw.strip() or raw.startswith("#"):
                continue
            doc_type, area, labels, text = parse_line(raw)
            if text in seen_texts:
                raise ValueError(f"{source}: duplicate text already in the file")
            seen_texts.add(text)
            number += 1
            new.append(make_record(number, doc_type, area, labels, text))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for record in new:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(new)


def check(path: Path = OUT_PATH) -> bool:
    """Validate the file and print per-label counts; return True when it meets the minimums."""
    records = read_records(path)
    problems = []
    ids = Counter(r["id"] for r in records)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    texts = Counter(r["text"] for r in records)
    problems += [f"duplicate text in {n} records" for n in texts.values() if n > 1]
    for r in records:
        if r["doc_type"] not in DOC_TYPES or r["service_area"] not in SERVICE_AREAS:
            problems.append(f"{r['id']}: bad metadata")
        problems += [f"{r['id']}: bad label {lab}" for lab in r["labels"] if lab not in LABELS]
    counts = Counter(lab for r in records for lab in r["labels"])
    negatives = sum(1 for r in records if not r["labels"])
    print(f"{'label':34} count")
    for label in LABELS:
        own = label.split(":")[0] in OWN_THEMES
        flag = " *" if own and counts[label] < MIN_POSITIVES else ""
        print(f"{label:34} {counts[label]:5d}{flag}")
        if flag:
            problems.append(f"{label} below {MIN_POSITIVES}")
    print(f"{'negatives []':34} {negatives:5d}")
    print(f"{'records':34} {len(records):5d}")
    multi = sum(1 for r in records if len(r["text"].split(". ")) > 1)
    print(f"{'multi-sentence (approx.)':34} {multi:5d}")
    print(f"{'doc_type':34} {dict(Counter(r['doc_type'] for r in records))}")
    if negatives < MIN_NEGATIVES:
        problems.append(f"negatives below {MIN_NEGATIVES}")
    for problem in problems:
        print("PROBLEM:", problem)
    return not problems


def main(argv: list[str]) -> int:
    """Command-line entry: ``append SOURCE...`` or ``check``."""
    if argv[:1] == ["append"] and len(argv) > 1:
        print(f"appended {append([Path(a) for a in argv[1:]])} records")
        return 0
    if argv == ["check"]:
        return 0 if check() else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
