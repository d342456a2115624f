"""The identifier guard: text that still holds identifiers is refused or redacted.

Detection and redaction belong to ``nlp.identifiers``; this module decides
what the service does with a finding. Findings name the kind and character
span, never the identifier itself.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.errors import ApiError
from nlp.identifiers import find_identifiers
from nlp.identifiers import redact as redact_text


class IdentifiersFound(ValueError):
    """Text holds identifiers and the caller did not ask for redaction."""

    def __init__(self, findings: list[dict[str, Any]]) -> None:
        self.findings = findings
        kinds = sorted({f["kind"] for f in findings})
        super().__init__(f"text holds identifiers: {', '.join(kinds)}")

    def describe(self) -> str:
        """Kinds and positions, e.g. ``nhs_number at 10-20, postcode at 41-49``."""
        return ", ".join(f"{f['kind']} at {f['start']}-{f['end']}" for f in self.findings)


def guard_text(text: str, *, redact: bool) -> str:
    """``text`` unchanged when clean, redacted when asked, else raise ``IdentifiersFound``."""
    findings = find_identifiers(text)
    if not findings:
        return text
    if redact:
        return redact_text(text, findings)
    raise IdentifiersFound(
        [{"kind": f.kind, "start": f.start, "end": f.end} for f in findings]
    )


def guard_record(record: dict[str, Any], *, redact: bool) -> dict[str, Any]:
    """A batch record with its text guarded (``IdentifiersFound`` when refused)."""
    return {**record, "text": guard_text(record["text"], redact=redact)}


def guard_fields(
    texts: Sequence[tuple[str, str]], *, redact: bool, max_chars: int
) -> list[str]:
    """Gate for the texts of a request: size first, then identifiers.

    A text over ``max_chars`` is refused (422 naming the field and the limit).
    Identifiers are refused with one 422 naming every finding in every field,
    or redacted when ``redact`` is set.
    """
    too_long = [
        {"field": field, "chars": len(text), "limit": max_chars}
        for field, text in texts
        if len(text) > max_chars
    ]
    if too_long:
        raise ApiError(422, f"text over the limit of {max_chars} characters", details=too_long)
    cleaned: list[str] = []
    details: list[dict[str, Any]] = []
    for field, text in texts:
        try:
            cleaned.append(guard_text(text, redact=redact))
        except IdentifiersFound as exc:
            details.extend({"field": field, **finding} for finding in exc.findings)
    if details:
        raise ApiError(
            422,
            'the text holds identifiers; remove them or send "redact": true',
            code="identifiers_found",
            details=details,
        )
    return cleaned
