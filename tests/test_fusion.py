"""Fusion of model proposals with the rules: the same assertion step decides both."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from spacy.language import Language

from nlp.components.classifier import ClassifierProposer
from nlp.pipeline import Analyser
from nlp.taxonomy import LABELS


class StubClassifier:
    """Says every sentence is ``multi_agency:concern`` and ``drift_delay:concern``."""

    labels = LABELS
    thresholds = {label: 0.5 for label in LABELS}
    sha256 = "stub"

    def predict_proba(self, sentences: Sequence[str]) -> np.ndarray:
        probs = np.zeros((len(sentences), len(LABELS)))
        probs[:, LABELS.index("multi_agency:concern")] = 0.95
        probs[:, LABELS.index("drift_delay:concern")] = 0.9
        return probs


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
