"""Build the group B training file from hand-written compact source lines.

Each source line is ``<doc> <area> | <labels> | <text>``:

- ``<doc>``: cn, cs, sr, an or pr (case note, case summary, supervision record,
  audit narrative, plan review);
- ``<area>``: eh, hp, cic or cl (early help, help and protection, children in
  care, care leavers);
- ``<labels>``: space-separated ``code:c`` / ``code:s`` (theme short codes in
  ``common.THEME_CODES``), or ``-`` for a hard negative;
- ``<text>``: the sentence or short passage, written by hand.

The sentences are authored; this script only assigns ids and invented but
plausible metadata (case id, date, team) deterministically from the line's id,
so re-running ``append`` on the same sources gives the same records.

Usage::

    python group_b_meta.py append SOURCE.txt [...]   # append to the JSONL file
    python group_b_meta.py check                     # validate and print counts
"""
from __future__ import annotations

import sys
from datetime import date

from common import TRAIN_DIR, Entry, GroupSpec, code_label, main, parse_compact

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
SPEC = GroupSpec(
    id_prefix="gb-",
    out=TRAIN_DIR / "group_b.jsonl",
    teams=TEAMS,
    first_day=date(2022, 1, 4),
    end_day=date(2026, 5, 29),
    own_themes=("over_optimism", "recording", "voice_of_child", "impact_focus",
                "placement_stability", "life_story"),
    min_positives=85,
    min_negatives=350,
)


def parse_labels(field: str) -> list[str]:
    """Expand ``oo:c voc:s`` into sorted full label ids; ``-`` means no labels."""
    field = field.strip()
    if field == "-":
        return []
    labels: list[str] = []
    for token in field.split():
        code, _, pol = token.partition(":")
        label = code_label(code, POLARITY_CODES.get(pol, pol))
        if label in labels:
            raise ValueError(f"duplicate label {label}")
        labels.append(label)
    return sorted(labels)


def parse_batch(text: str) -> list[Entry]:
    """Parse a source file of compact lines."""
    return parse_compact(text, parse_labels)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], SPEC, parse_batch, __doc__))
