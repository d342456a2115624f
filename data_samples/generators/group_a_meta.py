"""Turn hand-written batch files into gold-format training lines for group A.

A batch file is plain text. A header line ``@ DOC_TYPE SERVICE_AREA`` sets the
metadata for the lines below it; every other non-blank line is
``CODES | text`` where CODES are short label codes (``dd-`` = drift_delay
concern, ``sv+`` = supervision strength) separated by spaces, or ``-`` for a
hard negative. Lines starting with ``#`` are comments.

The sentences are written by hand; this script only assigns ids, case ids,
dates and team names (deterministically, from a seed) and validates the result.

    python group_a_meta.py append BATCH.txt [...]   # append to group_a.jsonl
    python group_a_meta.py check                    # validate and print label counts
"""
from __future__ import annotations

import sys
from datetime import date

from common import TRAIN_DIR, Entry, GroupSpec, main, signed_label, source_lines, theme_codes

from nlp.taxonomy import DOC_TYPES, SERVICE_AREAS

# Group A's theme codes predate the shared table and differ from it (ch, sv, pl, th, chal).
CODES = theme_codes({
    "dd": "drift_delay", "sa": "start_again", "ch": "chronology", "sv": "supervision",
    "cp": "care_planning", "aq": "assessment_quality", "oo": "over_optimism",
    "rec": "recording", "voc": "voice_of_child", "imp": "impact_focus",
    "pl": "placement_stability", "ls": "life_story", "th": "thresholds",
    "ma": "multi_agency", "chal": "challenge", "div": "diversity", "pm": "practice_model",
    "wc": "worker_changes",
})
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
SPEC = GroupSpec(
    id_prefix="ga-",
    out=TRAIN_DIR / "group_a.jsonl",
    teams=TEAMS,
    first_day=date(2022, 1, 4),
    end_day=date(2026, 6, 30),
)


def parse_codes(codes: str) -> list[str]:
    """Expand ``dd- sv+`` into sorted full labels; ``-`` alone means no label."""
    codes = codes.strip()
    if codes == "-":
        return []
    return sorted({signed_label(code, CODES) for code in codes.split()})


def parse_batch(text: str) -> list[Entry]:
    """Return an entry for every ``CODES | text`` line, with metadata from the last header."""
    entries = []
    doc_type = service_area = ""
    for n, line in source_lines(text):
        if line.startswith("@"):
            header = line[1:].split()
            if len(header) != 2 or header[0] not in DOC_TYPES or header[1] not in SERVICE_AREAS:
                raise ValueError(f"line {n}: bad header {line!r}")
            doc_type, service_area = header
            continue
        codes, sep, body = line.partition("|")
        if not sep or not body.strip() or not doc_type:
            raise ValueError(f"line {n}: expected 'CODES | text' after a header")
        entries.append(Entry(doc_type, service_area, body.strip(), parse_codes(codes)))
    return entries


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], SPEC, parse_batch, __doc__))
