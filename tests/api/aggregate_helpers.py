"""Seed data of the aggregate route and dashboard tests: a store with a planted rise."""
from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from api.storage.documents import store_analysis

LABELS = ("chronology:concern", "drift_delay:concern", "supervision:strength",
          "voice_of_child:strength", "recording:concern")
RISING = "recording:concern"
AREAS = ("early_help", "help_and_protection", "children_in_care", None)
UNCOVERED = ("The dental check has not been booked for this child {i}.",
             "Transport to school has not been arranged again for child {i}.")


def results(seed: int = 5, n: int = 240) -> list[dict[str, Any]]:
    """Ten months of documents; recording:concern rises in the last three."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        month = i % 10
        meta = {"id": f"D{i:03d}", "case_id": None if i % 17 == 0 else f"C{i % 60}",
                "date": None if i % 41 == 0 else f"2024-{month + 1:02d}-{1 + i % 27:02d}",
                "service_area": AREAS[i % 4], "team": ("North", "South", None)[i % 3],
                "doc_type": ("case_note", "audit_narrative")[i % 2],
                "grade": ("good", "requires_improvement", "inadequate", "outstanding")[i % 4]
                if i % 2 else None}
        text, tags = "", []
        for label in LABELS:
            rate = 0.7 if label == RISING and month >= 7 else 0.2
            if rng.random() < rate:
                theme, polarity = label.split(":")
                sentence = f"Sentence about {theme.replace('_', ' ')} number {i}."
                tags.append({"label": label, "theme": theme, "polarity": polarity,
                             "evidence": sentence, "start": len(text),
                             "end": len(text) + len(sentence),
                             "confidence": round(float(rng.uniform(0.5, 1)), 3)})
                text += sentence + " "
        text += UNCOVERED[i % 2].format(i=i) if i % 3 == 0 else "The visit took place at home."
        out.append({"meta": meta, "text": text, "labels": sorted({t["label"] for t in tags}),
                    "tags": tags})
    return out


def store_results(sessions: sessionmaker[Session], data: list[dict[str, Any]]) -> None:
    """Store each result under its metadata, as ``POST /v1/documents`` would."""
    with sessions() as session:
        for r in data:
            store_analysis(session, r["text"], {k: v for k, v in r["meta"].items() if v}, r)
        session.commit()
