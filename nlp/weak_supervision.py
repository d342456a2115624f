"""Weak labels: the codebook rules applied to unlabelled text.

Labelling functions: the rule detector's decision for each label (a vote for
the label, or an abstention) after the assertion component, so negated and
hypothetical mentions are not voted for.

Label model: with one labelling function per label there are no overlaps or
conflicts for a Snorkel-style generative model to learn from, and we do have
labelled data, so each function's accuracy is *measured* rather than
estimated: its smoothed precision on the labelled training split. A weak
example carries the labels whose function is precise enough, with a sample
weight of that precision times a down-weight, so one noisy sentence counts
for less than a hand-labelled one.

Unlabelled text: inspection reports (plain text extracted from PDFs) read in
place; nothing from them is written into the project.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from nlp.analysis import Analysis
from nlp.taxonomy import LABELS
from nlp.training_data import Example, sentence_spans, text_key

#: a labelling function must reach this smoothed precision to be used
MIN_PRECISION = 0.6
MIN_WORDS, MAX_WORDS = 6, 60


def report_sentences(text: str) -> list[str]:
    """Prose sentences of a report, hard-wrapped lines joined.

    Keeps sentences of ``MIN_WORDS``..``MAX_WORDS`` words that end with a full
    stop, which leaves out headings, tables and page furniture.
    """
    out: list[str] = []
    for start, end in sentence_spans(text):
        sentence = " ".join(text[start:end].split())
        if MIN_WORDS <= len(sentence.split()) <= MAX_WORDS and sentence.endswith((".", "!", "?")):
            out.append(sentence)
    return out


def corpus_sentences(folder: Path, max_reports: int | None = None) -> list[str]:
    """Distinct sentences of the ``*.txt`` reports in ``folder`` (every k-th report
    when ``max_reports`` is set), in a stable order."""
    reports = sorted(folder.glob("*.txt"))
    if max_reports is not None and max_reports < len(reports):
        step = len(reports) / max_reports
        reports = [reports[int(i * step)] for i in range(max_reports)]
    seen: set[str] = set()
    out: list[str] = []
    for path in reports:
        for sentence in report_sentences(path.read_text(encoding="utf-8", errors="replace")):
            key = text_key(sentence)
            if key not in seen:
                seen.add(key)
                out.append(sentence)
    return out


def rule_labels(texts: Sequence[str]) -> list[frozenset[str]]:
    """The labels the rule detector (with assertion) gives each text."""
    from nlp.pipeline import get_analyser

    analyser = get_analyser("rules")
    results: Iterable[Analysis] = analyser.analyse_many(({"text": t} for t in texts), errors="collect")
    return [frozenset(r.labels) if isinstance(r, Analysis) else frozenset() for r in results]


def rule_precision(labelled: Sequence[Example]) -> dict[str, float]:
    """Smoothed precision ``(tp + 1) / (votes + 2)`` of each label's rules on ``labelled``."""
    votes = dict.fromkeys(LABELS, 0)
    hits = dict.fromkeys(LABELS, 0)
    for ex, predicted in zip(labelled, rule_labels([ex.text for ex in labelled])):
        for label in predicted:
            votes[label] += 1
            hits[label] += label in ex.labels
    return {label: (hits[label] + 1) / (votes[label] + 2) for label in LABELS}


def weak_examples(
    sentences: Sequence[str], labelled: Sequence[Example], down_weight: float = 0.5
) -> tuple[list[Example], dict[str, float]]:
    """Weakly labelled examples for ``sentences`` and the label model's precisions.

    Only sentences with at least one trusted vote are returned: an abstaining
    rule says nothing about a sentence, so untagged text is not made a negative.
    """
    precision = rule_precision(labelled)
    trusted = {label for label, p in precision.items() if p >= MIN_PRECISION}
    known = {text_key(ex.text) for ex in labelled}
    out: list[Example] = []
    for number, (text, voted) in enumerate(zip(sentences, rule_labels(sentences))):
        labels = voted & trusted
        if labels and text_key(text) not in known:
            weight = down_weight * min(precision[label] for label in labels)
            out.append(Example(text, frozenset(labels), f"weak:{number}", weight=round(weight, 4)))
    return out, precision
