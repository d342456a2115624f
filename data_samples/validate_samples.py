"""Check the hand-written sample data against the taxonomy contract.

Two files are checked:

* ``sample_corpus.jsonl`` – whole recordings in the gold format, each label
  backed by evidence sentences copied from the text;
* ``tricky_sentences.jsonl`` – single sentences with the exact label set the
  assertion logic must produce, tagged with the labelling rule they exercise.

Besides the format, the corpus must be fit for analytics demos: every label in
enough documents, realistic case and team structure, and a rising trend of
``drift_delay:concern`` and ``worker_changes:concern`` in help and protection
from July 2026 that a one-sided Fisher exact test confirms.

Run ``python data_samples/validate_samples.py``; the exit status is 1 when any
check fails. Only ids, labels and counts are printed, never recording text.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scipy.stats import fisher_exact

from nlp.taxonomy import DOC_TYPES, GRADES, LABELS, SERVICE_AREAS, THEMES, split_label

HERE = Path(__file__).resolve().parent
CORPUS_PATH = HERE / "sample_corpus.jsonl"
TRICKY_PATH = HERE / "tricky_sentences.jsonl"

MIN_DOCS = 160
MIN_DOCS_PER_LABEL = 6
WORD_RANGE = (60, 250)
DOCS_PER_CASE = (3, 8)
TEAM_COUNT = (8, 12)
DATE_RANGE = (date(2024, 1, 1), date(2026, 10, 31))
CORPUS_FIELDS = ("id", "case_id", "doc_type", "service_area", "date", "team", "text", "labels", "evidence")

TREND_AREA = "help_and_protection"
TREND_LABELS = ("drift_delay:concern", "worker_changes:concern")
TREND_START = "2026-07"
#: significance level for "this label rises" (trend labels) and "this label moves" (all others)
TREND_ALPHA = 0.01

TRICKY_RULES = (
    "negation_flip",
    "negation_drop",
    "recommendation",
    "hypothetical",
    "hedge",
    "improvement",
    "family_fact",
    "multi",
    "boundary",
    "plain",
)
MIN_TRICKY = 130
MIN_PER_RULE = 12


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse a JSON Lines file; return the objects and one problem per bad line."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                problems.append(f"{path.name}:{number}: blank line")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{number}: not JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{path.name}:{number}: not a JSON object")
                continue
            rows.append(row)
    return rows, problems


def check_labels(where: str, labels: Any) -> list[str]:
    """A label list must be a duplicate-free list of taxonomy labels."""
    if not isinstance(labels, list):
        return [f"{where}: labels is not a list"]
    problems = [f"{where}: unknown label {label!r}" for label in labels if label not in LABELS]
    if len(set(labels)) != len(labels):
        problems.append(f"{where}: duplicate labels")
    return problems


def check_document(doc: dict[str, Any]) -> list[str]:
    """Field, metadata, length and evidence checks for one corpus document."""
    where = str(doc.get("id", "<no id>"))
    missing = [name for name in CORPUS_FIELDS if name not in doc]
    if missing:
        return [f"{where}: missing fields {missing}"]
    problems = check_labels(where, doc["labels"])
    if doc["doc_type"] not in DOC_TYPES:
        problems.append(f"{where}: doc_type {doc['doc_type']!r}")
    if doc["service_area"] not in SERVICE_AREAS:
        problems.append(f"{where}: service_area {doc['service_area']!r}")
    if "grade" in doc and (doc["doc_type"] != "audit_narrative" or doc["grade"] not in GRADES):
        problems.append(f"{where}: grade {doc['grade']!r} on a {doc['doc_type']}")
    try:
        day = date.fromisoformat(doc["date"])
        if not DATE_RANGE[0] <= day <= DATE_RANGE[1]:
            problems.append(f"{where}: date {doc['date']} outside {DATE_RANGE[0]}..{DATE_RANGE[1]}")
    except (TypeError, ValueError):
        problems.append(f"{where}: date {doc['date']!r} is not an ISO date")
    words = len(doc["text"].split())
    if not WORD_RANGE[0] <= words <= WORD_RANGE[1]:
        problems.append(f"{where}: {words} words, expected {WORD_RANGE[0]}-{WORD_RANGE[1]}")
    evidence = doc["evidence"]
    if not isinstance(evidence, dict) or set(evidence) != set(doc["labels"]):
        problems.append(f"{where}: evidence keys differ from labels")
        return problems
    for label, sentences in evidence.items():
        if not sentences:
            problems.append(f"{where}: {label} has no evidence sentence")
        for sentence in sentences:
            if sentence != sentence.strip() or sentence not in doc["text"]:
                problems.append(f"{where}: {label} evidence is not an exact sentence of the text")
    return problems


def check_structure(docs: Sequence[dict[str, Any]]) -> list[str]:
    """Corpus-wide checks: ids, cases, teams and doc-type coverage per service area."""
    problems: list[str] = []
    if len(docs) < MIN_DOCS:
        problems.append(f"{len(docs)} documents, expected at least {MIN_DOCS}")
    duplicated = [doc_id for doc_id, n in Counter(d.get("id") for d in docs).items() if n > 1]
    if duplicated:
        problems.append(f"duplicate ids: {duplicated}")
    per_case = Counter(d.get("case_id") for d in docs)
    problems += [
        f"case {case}: {n} documents, expected {DOCS_PER_CASE[0]}-{DOCS_PER_CASE[1]}"
        for case, n in per_case.items()
        if not DOCS_PER_CASE[0] <= n <= DOCS_PER_CASE[1]
    ]
    team_areas: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        team_areas[doc.get("team", "")].add(doc.get("service_area", ""))
    if not TEAM_COUNT[0] <= len(team_areas) <= TEAM_COUNT[1]:
        problems.append(f"{len(team_areas)} teams, expected {TEAM_COUNT[0]}-{TEAM_COUNT[1]}")
    problems += [f"team {team!r} spans {sorted(areas)}" for team, areas in team_areas.items() if len(areas) > 1]
    present = {(d.get("service_area"), d.get("doc_type")) for d in docs}
    problems += [
        f"no {doc_type} in {area}"
        for area in SERVICE_AREAS
        for doc_type in DOC_TYPES
        if (area, doc_type) not in present
    ]
    return problems


def label_document_counts(docs: Iterable[dict[str, Any]]) -> Counter[str]:
    """Number of documents carrying each label."""
    return Counter(label for doc in docs for label in set(doc.get("labels", [])))


def format_label_table(counts: Counter[str]) -> str:
    """One row per theme: documents with the concern and with the strength label."""
    rows = [f"{'theme':<22}{'concern':>9}{'strength':>10}"]
    for theme in THEMES:
        rows.append(f"{theme:<22}{counts[theme + ':concern']:>9}{counts[theme + ':strength']:>10}")
    return "\n".join(rows)


def check_label_counts(counts: Counter[str]) -> list[str]:
    """Every label must occur in at least ``MIN_DOCS_PER_LABEL`` documents."""
    return [
        f"{label}: {counts[label]} documents, expected at least {MIN_DOCS_PER_LABEL}"
        for label in LABELS
        if counts[label] < MIN_DOCS_PER_LABEL
    ]


@dataclass(frozen=True)
class PeriodSplit:
    """How often one label occurs in the trend service area before and after the trend start."""

    label: str
    before_hits: int
    before_docs: int
    after_hits: int
    after_docs: int

    @property
    def before_rate(self) -> float:
        return self.before_hits / self.before_docs if self.before_docs else 0.0

    @property
    def after_rate(self) -> float:
        return self.after_hits / self.after_docs if self.after_docs else 0.0

    def p_value(self, alternative: str) -> float:
        """Fisher exact test of the 2x2 table (after vs before, label vs no label)."""
        table = [
            [self.after_hits, self.after_docs - self.after_hits],
            [self.before_hits, self.before_docs - self.before_hits],
        ]
        return float(fisher_exact(table, alternative=alternative)[1])

    def row(self) -> str:
        return (
            f"{self.label:<26}{self.before_hits:>3}/{self.before_docs:<3} ({self.before_rate:4.0%})"
            f"{self.after_hits:>6}/{self.after_docs:<3} ({self.after_rate:4.0%})"
            f"   p(rise)={self.p_value('greater'):.2g}"
        )


def split_by_period(docs: Sequence[dict[str, Any]], label: str) -> PeriodSplit:
    """Count ``label`` in trend-area documents dated before and from ``TREND_START``."""
    area = [d for d in docs if d.get("service_area") == TREND_AREA]
    before = [d for d in area if d["date"][:7] < TREND_START]
    after = [d for d in area if d["date"][:7] >= TREND_START]
    return PeriodSplit(
        label=label,
        before_hits=sum(label in d["labels"] for d in before),
        before_docs=len(before),
        after_hits=sum(label in d["labels"] for d in after),
        after_docs=len(after),
    )


def check_trend(docs: Sequence[dict[str, Any]]) -> tuple[list[str], str]:
    """The trend labels must rise significantly; no other label may change significantly."""
    problems: list[str] = []
    lines = [f"{TREND_AREA}: before {TREND_START} vs from {TREND_START}"]
    for label in TREND_LABELS:
        split = split_by_period(docs, label)
        lines.append(split.row())
        if split.p_value("greater") >= TREND_ALPHA:
            problems.append(f"trend: {label} does not rise significantly from {TREND_START}")
    for label in LABELS:
        if label in TREND_LABELS:
            continue
        p_value = split_by_period(docs, label).p_value("two-sided")
        if p_value < TREND_ALPHA:
            problems.append(f"trend: {label} changes significantly (p={p_value:.2g}) but should be stable")
    return problems, "\n".join(lines)


def check_tricky(rows: Sequence[dict[str, Any]]) -> tuple[list[str], Counter[str]]:
    """Format, rule counts and theme coverage of the tricky-sentence table."""
    problems: list[str] = []
    for number, row in enumerate(rows, 1):
        where = f"tricky #{number}"
        if set(row) != {"text", "labels", "rule"}:
            problems.append(f"{where}: fields {sorted(row)}")
            continue
        if row["rule"] not in TRICKY_RULES:
            problems.append(f"{where}: unknown rule {row['rule']!r}")
        if not isinstance(row["text"], str) or not row["text"].strip():
            problems.append(f"{where}: empty text")
        problems += check_labels(where, row["labels"])
    per_rule = Counter(str(row.get("rule")) for row in rows)
    if len(rows) < MIN_TRICKY:
        problems.append(f"{len(rows)} tricky sentences, expected at least {MIN_TRICKY}")
    problems += [
        f"rule {rule}: {per_rule[rule]} sentences, expected at least {MIN_PER_RULE}"
        for rule in TRICKY_RULES
        if per_rule[rule] < MIN_PER_RULE
    ]
    texts = Counter(str(row.get("text", "")).strip().lower() for row in rows)
    if any(n > 1 for n in texts.values()):
        problems.append("tricky sentences contain duplicates")
    covered = {split_label(label)[0] for row in rows for label in row.get("labels", []) if label in LABELS}
    problems += [f"no tricky sentence for theme {theme}" for theme in THEMES if theme not in covered]
    return problems, per_rule


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_PATH)
    parser.add_argument("--tricky", type=Path, default=TRICKY_PATH)
    args = parser.parse_args(argv)

    docs, problems = read_jsonl(args.corpus)
    for doc in docs:
        problems += check_document(doc)
    problems += check_structure(docs)
    counts = label_document_counts(docs)
    problems += check_label_counts(counts)
    trend_problems, trend_report = check_trend(docs)
    problems += trend_problems

    tricky, tricky_parse_problems = read_jsonl(args.tricky)
    tricky_problems, per_rule = check_tricky(tricky)
    problems += tricky_parse_problems + tricky_problems

    grades = Counter(d["grade"] for d in docs if "grade" in d)
    print(f"corpus: {len(docs)} documents, {len({d.get('case_id') for d in docs})} cases, "
          f"{len({d.get('team') for d in docs})} teams")
    print(f"documents per label (minimum {MIN_DOCS_PER_LABEL}):")
    print(format_label_table(counts))
    print("audit grades: " + ", ".join(f"{g}={grades[g]}" for g in GRADES))
    print(trend_report)
    print(f"tricky sentences: {len(tricky)} – " + ", ".join(f"{r}={per_rule[r]}" for r in TRICKY_RULES))
    for problem in problems:
        print(f"FAIL {problem}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
