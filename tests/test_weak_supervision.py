"""Weak labels from the rules: sentence extraction and the label model."""
from __future__ import annotations

from pathlib import Path

from nlp.training_data import Example
from nlp.weak_supervision import MIN_PRECISION, corpus_sentences, report_sentences, weak_examples

REPORT = """Inspection of children's services

Page 3

Managers do not ensure that chronologies are kept up to date, and many
children's records contain no chronology at all.
Supervision is regular and reflective, and managers record clear reasons
for their decisions on children's files.
Short heading
The local authority has 120 children in care.
"""


def test_report_sentences_join_wrapped_lines_and_drop_furniture() -> None:
    sentences = report_sentences(REPORT)
    assert "Managers do not ensure that chronologies are kept up to date, and many " \
           "children's records contain no chronology at all." in sentences
    assert not any("Page 3" in s or s == "Short heading" for s in sentences)


def test_corpus_sentences_are_distinct_and_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text(REPORT)
    (tmp_path / "a.txt").write_text(REPORT)
    first = corpus_sentences(tmp_path)
    assert first == corpus_sentences(tmp_path)
    assert len(first) == len(set(first)) == len(report_sentences(REPORT))


def test_weak_examples_keep_only_trusted_rule_votes_with_down_weight() -> None:
    labelled = [
        Example("There is no chronology on the file.", frozenset({"chronology:concern"}), "t:1"),
        Example("The chronology is missing.", frozenset({"chronology:concern"}), "t:2"),
        Example("No chronology has been written.", frozenset({"chronology:concern"}), "t:3"),
        Example("Next visit on Tuesday.", frozenset(), "t:4"),
    ]
    unlabelled = [
        "Many children's records contain no chronology at all.",
        "The family moved house in the spring.",
    ]
    weak, precision = weak_examples(unlabelled, labelled, down_weight=0.5)
    assert precision["chronology:concern"] == (3 + 1) / (3 + 2)  # three right votes, smoothed
    assert precision["supervision:strength"] == 0.5  # no votes: the prior, below the bar
    assert 0.5 < MIN_PRECISION
    assert [(ex.text, set(ex.labels), ex.weight) for ex in weak] == [
        (unlabelled[0], {"chronology:concern"}, 0.4)  # 0.5 down-weight x 0.8 precision
    ]
