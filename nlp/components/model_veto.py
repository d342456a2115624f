"""The model's veto over the rules: a rules-only label the classifier all but rules out is dropped.

A cue can fire in a context that is not about its theme ("the new worker
started the assessment" holds a worker-change cue). When the classifier gives
the label a probability below the artefact's ``veto`` in that very sentence,
the rules-only decision is removed. The veto is chosen on held-out recordings
by ``caselens train`` (``nlp/fusion.py``); 0 keeps every rule decision.
"""
from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.extensions import declare_extensions


class ModelVeto:
    """Drops rules-only decisions whose label the classifier scored below ``veto``."""

    def __init__(self, labels: tuple[str, ...], veto: float) -> None:
        declare_extensions()
        self.column = {label: j for j, label in enumerate(labels)}
        self.veto = veto

    def __call__(self, doc: Doc) -> Doc:
        probabilities = doc._.sentence_proba
        if self.veto <= 0.0 or not probabilities or not doc._.decisions:
            return doc
        doc._.decisions = [
            d for d in doc._.decisions
            if d.detectors != ("rules",)
            or d.sent_start not in probabilities
            or probabilities[d.sent_start][self.column[f"{d.theme}:{d.polarity}"]] >= self.veto
        ]
        return doc


@Language.factory("caselens_model_veto", default_config={"model_dir": None})
def make_model_veto(nlp: Language, name: str, model_dir: str | None) -> ModelVeto:
    from nlp.model_store import load_classifier

    classifier = load_classifier(model_dir)
    if classifier is None:
        return ModelVeto((), 0.0)
    return ModelVeto(tuple(classifier.labels), classifier.veto)
