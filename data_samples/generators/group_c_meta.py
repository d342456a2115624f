"""Turn hand-written group C training lines into gold JSONL, and check the result.

Each source line is ``DOC SA | CODES | text`` where DOC and SA are short codes
for ``doc_type`` and ``service_area`` and CODES is a comma-separated list of
short label codes (``ma-`` = ``multi_agency:concern``, ``ma+`` = strength);
an empty CODES field means a hard negative. The sentences are written by hand;
this script only expands the codes and assigns ids, case ids, dates and teams
deterministically from the text, so re-running it gives the same file.

    python group_c_meta.py append batch.txt   # append a batch to group_c.jsonl
    python group_c_meta.py check              # validate and print label counts
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from nlp.taxonomy import DOC_TYPES, LABELS, SERVICE_AREAS

OUT = Path(__file__).resolve().parent.parent / "train" / "group_c.jsonl"
OWN_THEMES = ("thresholds", "multi_agency", "challenge", "diversity", "practice_model", "worker_changes")
MIN_POSITIVES, MIN_NEGATIVES = 85, 350
SENTENCE_END = re.compile(r"[.!?]\s+(?=\S)")

DOC_CODES = {"cn": "case_note", "cs": "case_summary", "sr": "supervision_record",
             "an": "audit_narrative", "pr": "plan_review"}
AREA_CODES = {"eh": "early_help", "hp": "help_and_protection", "cic": "children_in_care",
              "cl": "care_leavers"}
THEME_CODES = {
    "dd": "drift_delay", "sa": "start_again", "chr": "chronology", "sup": "supervision",
    "cp": "care_planning", "aq": "assessment_quality", "oo": "over_optimism",
    "rec": "recording", "voc": "voice_of_child", "imp": "impact_focus",
    "ps": "placement_stability", "ls": "life_story", "thr": "thresholds",
    "ma": "multi_agency", "ch": "challenge", "div": "diversity", "pm": "practice_model",
    "wc": "worker_changes",
}
TEAMS = {
    "early_help": ["Family Help North", "Early Help Hub East", "Riverside Family Support",
                   "Targeted Youth Support", "Early Help Locality 3", "Family Partnership Team"],
    "help_and_protection": ["Assessment Team 2", "Child Protection Team B", "MASH Duty Team",
                            "Safeguarding West", "Children in Need Team 4", "Court and PLO Team",
                            "Contextual Safeguarding Team", "Initial Response Team"],
    "children_in_care": ["Children in Care Team 1", "Permanence Team South", "IRO Service",
                         "Fostering Support Team", "Corporate Parenting Team 3",
                         "Disabled Children's Team"],
    "care_leavers": ["Leaving Care Team", "Pathways 16+ Service", "Care Leavers North",
                     "Staying Close Team", "UASC and Care Leavers Team"],
}
LABEL_BY_CODE = {f"{c}{s}": f"{t}:{p}" for c, t in THEME_CODES.items()
                 for s, p in (("-", "concern"), ("+", "strength"))}


def parse_line(line: str) -> tuple[str, str, list[str], str]:
    """Split one source line into doc_type, service_area, labels and text."""
    head, codes, text = (part.strip() for part in line.split("|", 2))
    doc_code, area_code = head.split()
    labels = sorted({LABEL_BY_CODE[c.strip()] for c in codes.split(",") if c.strip()})
    return DOC_CODES[doc_code], AREA_CODES[area_code], labels, text


def metadata(text: str, service_area: str) -> dict[str, str]:
    """Deterministic pseudonymous case id, date and team seeded from the text."""
    rng = random.Random(hashlib.sha256(text.encode()).hexdigest())
    day = date(2022, 1, 3) + timedelta(days=rng.randrange(0, 365 * 5 - 10))
    return {"case_id": f"C-{rng.randrange(1000, 10000)}", "date": day.isoformat(),
            "team": rng.choice(TEAMS[service_area])}


def load() -> list[dict]:
    """Read the existing output file (empty list if absent)."""
    if not OUT.exists():
        return []
    return [json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines() if line.strip()]


def append(batch: Path) -> int:
    """Append every line of ``batch`` to the output file; return how many were added."""
    rows = load()
    seen = {r["text"] for r in rows}
    added = []
    for raw in batch.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        doc_type, area, labels, text = parse_line(raw)
        if text in seen:
            raise ValueError(f"duplicate text in batch line: {raw[:60]}")
        seen.add(text)
        meta = metadata(text, area)
        added.append({"id": f"gc-{len(rows) + len(added) + 1:04d}", "case_id": meta["case_id"],
                      "doc_type": doc_type, "service_area": area, "date": meta["date"],
                      "team": meta["team"], "text": text, "labels": labels})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a", encoding="utf-8") as fh:
        for row in added:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(added)


def check() -> bool:
    """Validate the output file and print per-label counts; True when all minimums are met."""
    rows = load()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    counts: Counter[str] = Counter()
    negatives = passages = 0
    for r in rows:
        assert r["doc_type"] in DOC_TYPES and r["service_area"] in SERVICE_AREAS, r["id"]
        assert "2022-01-01" <= r["date"] <= "2026-12-31", r["id"]
        assert all(label in LABELS for label in r["labels"]), r["id"]
        counts.update(r["labels"])
        negatives += not r["labels"]
        passages += len(SENTENCE_END.findall(r["text"].strip())) > 0
    ok = negatives >= MIN_NEGATIVES
    for theme in OWN_THEMES:
        for pol in ("concern", "strength"):
            n = counts[f"{theme}:{pol}"]
            ok &= n >= MIN_POSITIVES
            print(f"{theme + ':' + pol:32s} {n:5d}{'' if n >= MIN_POSITIVES else '  < min'}")
    others = {k: v for k, v in counts.items() if k.split(":")[0] not in OWN_THEMES}
    print(f"other labels: {dict(sorted(others.items()))}")
    print(f"rows {len(rows)}  negatives {negatives}  multi-sentence {passages}")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "append":
        print(f"added {append(Path(sys.argv[2]))}")
    else:
        sys.exit(0 if check() else 1)
