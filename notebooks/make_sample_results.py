"""Write ``data/batch_results_sample.jsonl``: a small, synthetic batch results file.

Fourteen months of invented recordings across the four service areas, in the
row shape ``caselens batch`` writes (metadata, ``status``, labels and tags).
Every label occurs at a steady rate except ``chronology:concern``, which
rises in the last three months, so the notebook has one emerging theme to
find.  Run again with the same seed to get the same file.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nlp.taxonomy import GRADES, SERVICE_AREAS, THEMES

OUT = Path(__file__).resolve().parent / "data" / "batch_results_sample.jsonl"
RISING = "chronology:concern"
TEAMS = ("North", "South", "East", "West")
SENTENCES = {
    "concern": "The record shows a gap in {theme} that the plan does not address.",
    "strength": "The record shows good practice in {theme} that is helping the child.",
}


def documents(seed: int = 7, per_month: int = 30, months: int = 14) -> list[dict]:
    rng = np.random.default_rng(seed)
    starts = pd.date_range("2024-01-01", periods=months, freq="MS")
    base = dict(zip((f"{t}:{p}" for t in THEMES for p in ("concern", "strength")),
                    rng.uniform(0.04, 0.25, 2 * len(THEMES)), strict=True))
    results = []
    for m, start in enumerate(starts):
        for _ in range(per_month):
            n = len(results)
            meta = {"id": f"S{n:05d}", "case_id": f"C-{rng.integers(1000, 1400)}",
                    "date": (start + pd.Timedelta(days=int(rng.integers(0, 28))))
                    .date().isoformat(),
                    "service_area": SERVICE_AREAS[int(rng.integers(len(SERVICE_AREAS)))],
                    "team": TEAMS[int(rng.integers(len(TEAMS)))],
                    "doc_type": "audit_narrative",
                    "grade": GRADES[int(rng.choice(4, p=[0.1, 0.45, 0.35, 0.1]))]}
            tags, offset = [], 0
            for label, rate in base.items():
                if label == RISING and m >= months - 3:
                    rate = 0.45
                if rng.random() < rate:
                    theme, polarity = label.split(":")
                    text = SENTENCES[polarity].format(theme=theme.replace("_", " "))
                    tags.append({"label": label, "theme": theme, "polarity": polarity,
                                 "evidence": text, "start": offset, "end": offset + len(text),
                                 "confidence": round(float(rng.uniform(0.6, 0.95)), 2),
                                 "detectors": ["rules"]})
                    offset += len(text) + 1
            results.append({"row": n + 1, "status": "ok", **meta,
                            "labels": sorted({t["label"] for t in tags}), "tags": tags})
    return results


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for result in documents():
            handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
