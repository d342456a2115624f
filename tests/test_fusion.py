"""Fusion of model proposals with the rules: the same assertion step decides both."""
from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest
from spacy.language import Language

from nlp.components.classifier import ClassifierProposer
from nlp.pipeline import Analyser
from nlp.taxonomy import LABELS


class WordReader:
    """A stub classifier: ``score`` gives each sentence its label probabilities."""

    labels = LABELS
    thresholds: ClassVar[dict[str, float]] = dict.fromkeys(LABELS, 0.5)
    sha256 = "stub"

    def score(self, sentence: str) -> dict[str, float]:
        raise NotImplementedError

    def predict_proba(self, sentences: Sequence[str]) -> np.ndarray:
        probs = np.zeros((len(sentences), len(LABELS)))
        for i, sentence in enumerate(sentences):
            for label, p in self.score(sentence).items():
                probs[i, LABELS.index(label)] = p
        return probs


class StubClassifier(WordReader):
    """Says a sentence is ``multi_agency:concern`` and ``drift_delay:concern`` whenever it
    holds one of a few words, whatever else it says: a model that only likes words."""

    liked = ("family", "worries", "appointments", "drift", "agencies")

    def score(self, sentence: str) -> dict[str, float]:
        if any(word in sentence.lower() for word in self.liked):
            return {"multi_agency:concern": 0.95, "drift_delay:concern": 0.9}
        return {}


@Language.factory("stub_classifier")
def _make_stub(nlp: Language, name: str) -> ClassifierProposer:
    return ClassifierProposer(StubClassifier())


@pytest.fixture(scope="module")
def fused() -> Analyser:
    analyser = Analyser("rules")
    analyser.nlp.add_pipe("stub_classifier", before="caselens_assertion")
    return analyser


def labels_and_detectors(analyser: Analyser, text: str) -> dict[str, tuple[str, ...]]:
    return {t.label: t.detectors for t in analyser.analyse(text).tags}


def test_a_model_only_proposal_in_a_plain_sentence_is_kept_with_its_detector(fused: Analyser) -> None:
    found = labels_and_detectors(fused, "The family went to the park on Saturday.")
    assert found == {"multi_agency:concern": ("model",), "drift_delay:concern": ("model",)}


@pytest.mark.parametrize(
    "text",
    [
        "The school did not raise any worries this term.",
        "There were no missed appointments.",
        "If the family move, the school may need to be told.",
    ],
)
def test_a_negated_or_hypothetical_sentence_never_yields_a_model_only_concern(
    fused: Analyser, text: str
) -> None:
    assert labels_and_detectors(fused, text) == {}


class NegationReader(WordReader):
    """Reads "not" as part of an ``assessment_quality:concern`` claim: 0.9 with it, 0.2 without;
    ``multi_agency:concern`` it gives 0.6 to any sentence with "assessed" (it likes the word)."""

    def score(self, sentence: str) -> dict[str, float]:
        return {
            "assessment_quality:concern": 0.9 if " not " in sentence else 0.2,
            "multi_agency:concern": 0.6 if "assessed" in sentence else 0.0,
        }


@Language.factory("negation_reader")
def _make_negation_reader(nlp: Language, name: str) -> ClassifierProposer:
    return ClassifierProposer(NegationReader())


@pytest.mark.parametrize(
    "text", ["Ben has not been assessed since he moved in.", "If Ben has not been assessed, tell the IRO."]
)
def test_a_model_proposal_stands_in_a_doubting_sentence_only_when_it_read_the_trigger(text: str) -> None:
    analyser = Analyser("rules")
    analyser.nlp.add_pipe("negation_reader", before="caselens_assertion")
    found = labels_and_detectors(analyser, text)
    # without "not" (and "if") the concern falls to 0.2: the model read the negation as the claim
    assert found.get("assessment_quality:concern") == ("model",)
    # the other concern is as likely without the trigger words: the model only liked the sentence
    assert "multi_agency:concern" not in found


class AttendanceReader(WordReader):
    """Gives ``impact_focus:strength`` 0.9 to any sentence about attendance, negated or not."""

    def score(self, sentence: str) -> dict[str, float]:
        return {"impact_focus:strength": 0.9} if "attendance" in sentence.lower() else {}


@Language.factory("attendance_reader")
def _make_attendance_reader(nlp: Language, name: str) -> ClassifierProposer:
    return ClassifierProposer(AttendanceReader())


@pytest.mark.parametrize(
    "text, stands",
    [
        # the claim is made before the negated clause: without that clause it is still proposed
        ("Attendance is up to 95%, and he has not been excluded since May.", True),
        # the liked word is inside the negated clause: taken out with it, nothing is left
        ("He has not improved his attendance since May.", False),
        ("If attendance improves, the plan will step down.", False),
    ],
)
def test_a_model_proposal_stands_when_its_claim_lies_outside_the_negated_clause(
    text: str, stands: bool
) -> None:
    analyser = Analyser("rules")
    analyser.nlp.add_pipe("attendance_reader", before="caselens_assertion")
    found = labels_and_detectors(analyser, text)
    assert ("impact_focus:strength" in found) is stands


@pytest.mark.parametrize(
    "text, polarity",
    [
        # the recommendation's clause is about something else: the strength is kept
        ("Attendance is up to 97%, and the SW should share this with the IRO.", "strength"),
        # the claim is inside the recommendation's clause: it implies the gap (rule 3)
        ("The SW should look at attendance at every visit.", "concern"),
    ],
)
def test_a_recommendation_turns_a_model_strength_into_the_concern_only_when_it_governs_the_claim(
    text: str, polarity: str
) -> None:
    analyser = Analyser("rules")
    analyser.nlp.add_pipe("attendance_reader", before="caselens_assertion")
    found = {label for label in labels_and_detectors(analyser, text) if label.startswith("impact_focus:")}
    assert found == {f"impact_focus:{polarity}"}


def test_rules_decide_the_polarity_when_both_detectors_speak_to_a_theme(fused: Analyser) -> None:
    found = labels_and_detectors(fused, "There is no evidence of drift.")
    # the rules flip the negated cue to the strength; the model's concern for the theme is not kept
    assert "drift_delay:strength" in found
    assert "drift_delay:concern" not in found


def test_a_recommendation_turns_a_model_proposal_into_the_concern(fused: Analyser) -> None:
    found = labels_and_detectors(fused, "The partner agencies should meet before the review.")
    assert found["multi_agency:concern"] == ("model",)


@pytest.mark.parametrize("veto, kept", [(0.0, True), (0.05, False)])
def test_the_model_vetoes_a_rules_only_label_it_scores_below_the_veto(veto: float, kept: bool) -> None:
    from nlp.components.model_veto import ModelVeto

    analyser = Analyser("rules")
    analyser.nlp.add_pipe("stub_classifier", before="caselens_assertion")
    analyser.nlp.add_pipe("stub_veto", last=True, config={"veto": veto})
    assert isinstance(analyser.nlp.get_pipe("stub_veto"), ModelVeto)
    found = labels_and_detectors(analyser, "The chronology is out of date.")
    # the stub gives chronology:concern 0 in every sentence: vetoed unless the veto is 0
    assert found.get("chronology:concern") == (("rules",) if kept else None)
    # a label the model proposed too is never vetoed
    assert "rules" in labels_and_detectors(analyser, "Drift in the plan continues.")["drift_delay:concern"]


@Language.factory("stub_veto", default_config={"veto": 0.0})
def _make_stub_veto(nlp: Language, name: str, veto: float) -> object:
    from nlp.components.model_veto import ModelVeto

    return ModelVeto(tuple(LABELS), veto)
