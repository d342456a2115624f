"""The label contract: theme ids, polarities and metadata values.

These ids are fixed by the taxonomy; everything caselens emits uses them.
"""
from __future__ import annotations

THEMES: tuple[str, ...] = (
    "drift_delay",
    "start_again",
    "chronology",
    "supervision",
    "care_planning",
    "assessment_quality",
    "over_optimism",
    "recording",
    "voice_of_child",
    "impact_focus",
    "placement_stability",
    "life_story",
    "thresholds",
    "multi_agency",
    "challenge",
    "diversity",
    "practice_model",
    "worker_changes",
)
POLARITIES: tuple[str, ...] = ("concern", "strength")
LABELS: tuple[str, ...] = tuple(f"{t}:{p}" for t in THEMES for p in POLARITIES)

DOC_TYPES: tuple[str, ...] = (
    "case_note",
    "case_summary",
    "supervision_record",
    "audit_narrative",
    "plan_review",
)
SERVICE_AREAS: tuple[str, ...] = (
    "early_help",
    "help_and_protection",
    "children_in_care",
    "care_leavers",
)
GRADES: tuple[str, ...] = ("outstanding", "good", "requires_improvement", "inadequate")

#: metadata fields whose values are restricted, with the allowed values
CONTROLLED_META: dict[str, tuple[str, ...]] = {
    "doc_type": DOC_TYPES,
    "service_area": SERVICE_AREAS,
    "grade": GRADES,
}
META_FIELDS: tuple[str, ...] = ("id", "case_id", "doc_type", "service_area", "date", "team", "grade")


def split_label(label: str) -> tuple[str, str]:
    """Split ``THEME:POLARITY``; raise ValueError for anything outside the contract."""
    theme, sep, polarity = label.partition(":")
    if not sep or polarity not in POLARITIES or not theme:
        raise ValueError(f"label {label!r} is not THEME:concern or THEME:strength")
    return theme, polarity
