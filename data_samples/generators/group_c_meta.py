"""Turn hand-written group C training lines into gold JSONL, and check the result.

Each source line is ``DOC SA | CODES | text`` where DOC and SA are short codes
for ``doc_type`` and ``service_area`` and CODES is a comma-separated list of
short label codes (``ma-`` = ``multi_agency:concern``, ``ma+`` = strength);
an empty CODES field means a hard negative. The sentences are written by hand;
this script only expands the codes and assigns ids, case ids, dates and teams
deterministically from the text, so re-running it gives the same file.

    python group_c_meta.py append batch.txt [...]   # append a batch to group_c.jsonl
    python group_c_meta.py check                    # validate and print label counts
"""
from __future__ import annotations

import sys
from datetime import date, timedelta

from common import TRAIN_DIR, Entry, GroupSpec, main, parse_compact, signed_label

TEAMS: dict[str, tuple[str, ...]] = {
    "early_help": ("Family Help North", "Early Help Hub East", "Riverside Family Support",
                   "Targeted Youth Support", "Early Help Locality 3", "Family Partnership Team"),
    "help_and_protection": ("Assessment Team 2", "Child Protection Team B", "MASH Duty Team",
                            "Safeguarding West", "Children in Need Team 4", "Court and PLO Team",
                            "Contextual Safeguarding Team", "Initial Response Team"),
    "children_in_care": ("Children in Care Team 1", "Permanence Team South", "IRO Service",
                         "Fostering Support Team", "Corporate Parenting Team 3",
                         "Disabled Children's Team"),
    "care_leavers": ("Leaving Care Team", "Pathways 16+ Service", "Care Leavers North",
                     "Staying Close Team", "UASC and Care Leavers Team"),
}
SPEC = GroupSpec(
    id_prefix="gc-",
    out=TRAIN_DIR / "group_c.jsonl",
    teams=TEAMS,
    first_day=date(2022, 1, 3),
    end_day=date(2022, 1, 3) + timedelta(days=365 * 5 - 10),
    seed_from_text=True,
    own_themes=("thresholds", "multi_agency", "challenge", "diversity", "practice_model",
                "worker_changes"),
    min_positives=85,
    min_negatives=350,
)


def parse_labels(field: str) -> list[str]:
    """Expand ``ma-, div+`` into sorted full labels; an empty field means no labels."""
    return sorted({signed_label(code.strip()) for code in field.split(",") if code.strip()})


def parse_batch(text: str) -> list[Entry]:
    """Parse a batch file of compact lines."""
    return parse_compact(text, parse_labels)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], SPEC, parse_batch, __doc__))
