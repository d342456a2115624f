"""Candidate themes: uncovered concern-like sentences, clustered and named.

The planted group — sentences about children's health assessments, which no
theme of the taxonomy covers — must come back as one cluster named by its
terms, separate from a varied background of other concern-like sentences.
"""
from __future__ import annotations

import random
import re

import numpy as np
import pandas as pd

from nlp.unassigned import (
    candidate_themes,
    class_tfidf_terms,
    cluster_name,
    cluster_sentences,
    is_concern_like,
    uncovered_sentences,
)

SUBJECTS = ("The school", "The housing officer", "Transport to contact", "The youth worker",
            "Father", "The GP", "The family support worker", "The nursery", "The police",
            "Grandmother", "The probation officer", "The college tutor", "The foster carer",
            "The mentoring service", "The speech therapist")
PREDICATES = ("has not returned calls", "did not attend the meeting", "was late again",
              "has not provided the report", "is unclear about the arrangements",
              "should be contacted", "did not confirm the date", "has limited availability",
              "cannot attend until next month", "was not informed of the change",
              "has no record of the referral", "must confirm attendance",
              "failed to send the form", "needs to update the file")
ENDINGS = ("this week", "before the review", "despite reminders", "as agreed",
           "for the second time", "since March", "")
PLANTED = ("The initial health assessment for {c} is overdue.",
           "{c}'s review health assessment has not been completed.",
           "No dental check has been recorded for {c} this year.",
           "{c} has not had a health assessment since coming into care.",
           "The health assessment for {c} was delayed again.",
           "The looked after health assessment for {c} is late.",
           "{c} is overdue a dental check and a health assessment.")
NAMES = ("Amy", "Ben", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal")


def split(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[^.]+\.", text)]


def corpus(seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    background = sorted({f"{rng.choice(SUBJECTS)} {rng.choice(PREDICATES)} "
                         f"{rng.choice(ENDINGS)}".strip() + "." for _ in range(400)})
    background = rng.sample(background, 150)
    planted = [t.format(c=n) for t in PLANTED for n in rng.sample(NAMES, 3)]
    return background, planted


def test_concern_cues() -> None:
    assert is_concern_like("The chronology has not been updated.")
    assert is_concern_like("A referral should be made to the clinic.")
    assert is_concern_like("She isn't attending school.")
    assert not is_concern_like("The visit took place on Tuesday afternoon.")


def test_uncovered_sentences_skip_tagged_and_neutral_ones() -> None:
    text = "Plan on hold for months. Dentist appointment missed twice. Visit went well."
    tags = pd.DataFrame({"doc_id": ["d1"], "start": [0], "end": [24]})
    rows = uncovered_sentences({"d1": text, "d2": "No GP registration found."}, tags, split=split)
    assert rows["sentence"].tolist() == ["Dentist appointment missed twice.",
                                         "No GP registration found."]
    first = rows.iloc[0]
    assert text[first.start:first.end].strip() == first.sentence
    assert len(uncovered_sentences({"d1": text}, tags, split=split, concern_only=False)) == 2


def test_planted_group_is_recovered_as_one_cluster() -> None:
    background, planted = corpus()
    sentences = background + planted
    clusters = cluster_sentences(sentences, min_cluster_size=5)
    is_planted = np.array([False] * len(background) + [True] * len(planted))
    planted_ids, counts = np.unique(clusters[is_planted], return_counts=True)
    best = planted_ids[np.argmax(counts)]
    assert best >= 0
    members = clusters == best
    recall = (members & is_planted).sum() / is_planted.sum()
    precision = (members & is_planted).sum() / members.sum()
    assert recall >= 0.9 and precision >= 0.9, (recall, precision)
    assert "health" in " ".join(class_tfidf_terms(sentences, clusters)[int(best)][:3])


def test_candidate_themes_name_and_illustrate_the_planted_group() -> None:
    background, planted = corpus(seed=3)
    frame = pd.DataFrame({"doc_id": [f"d{i % 40}" for i in range(len(background) + len(planted))],
                          "start": 0, "end": 1, "sentence": background + planted})
    themes = candidate_themes(frame, min_cluster_size=5)
    health = [t for t in themes if "health" in t.terms[:3]]
    assert len(health) == 1
    theme = health[0]
    assert len(planted) * 0.9 <= theme.size <= len(planted) * 1.1
    assert 1 <= len(theme.examples) <= 3
    assert all(e["sentence"] in planted for e in theme.examples)
    assert theme.name.startswith("health assessment / ")


def test_repeated_sentences_count_towards_size_and_documents() -> None:
    background, planted = corpus(seed=4)
    texts = background + planted + planted  # each planted sentence recorded twice
    frame = pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(texts))], "start": 0, "end": 1,
                          "sentence": texts})
    theme = next(t for t in candidate_themes(frame) if "health" in t.terms[:3])
    assert theme.size == theme.documents >= 2 * 0.9 * len(planted)
    assert len({e["sentence"] for e in theme.examples}) == len(theme.examples)


def test_cluster_names_skip_words_of_chosen_phrases() -> None:
    assert cluster_name(["child protection", "protection", "child", "conferences", "chairs"]) == \
        "child protection / conferences / chairs"
    assert cluster_name(["looked", "looked children", "gap", "attainment"]) == \
        "looked children / gap / attainment"
    assert cluster_name(["missing", "education"], parts=3) == "missing / education"


def test_too_few_sentences_are_all_noise() -> None:
    assert cluster_sentences(["One gap.", "Another gap."], min_cluster_size=5).tolist() == [-1, -1]
    assert class_tfidf_terms(["a"], np.array([-1])) == {}
