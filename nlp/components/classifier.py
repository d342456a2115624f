"""Model detector: the trained sentence classifier proposes themes per sentence.

Its proposals go through the same assertion component as the rules' ones.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.extensions import Proposal, declare_extensions
from nlp.errors import ModelError
from nlp.settings import CoreSettings
from nlp.taxonomy import split_label


def load_for_pipeline(settings: CoreSettings, required: bool) -> Any:
    """The shipped classifier, or None when none is shipped and it is optional."""
    from nlp.model_store import load_classifier

    classifier = load_classifier(settings.model_dir)
    if classifier is None and required:
        raise ModelError("no trained classifier is installed; run `caselens train` first")
    return classifier


class ClassifierProposer:
    """Adds a proposal for every label whose probability reaches its threshold."""

    def __init__(self, classifier: Any) -> None:
        declare_extensions()
        self.classifier = classifier
        self.labels = [split_label(label) for label in classifier.labels]
        self.thresholds = [classifier.thresholds.get(label, 0.5) for label in classifier.labels]

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def reread(self, sentences: list[str]) -> list[dict[str, float]]:
        """Label probabilities of each sentence: the assertion step asks them of
        sentences with their negation and condition words taken out."""
        if not sentences:
            return []
        probs = self.classifier.predict_proba(sentences).tolist()
        return [dict(zip(self.classifier.labels, row, strict=True)) for row in probs]

    def proposes(self, label: str, probability: float) -> bool:
        """Whether ``probability`` reaches the bar at which this component proposes ``label``."""
        return probability >= self.thresholds[self.classifier.labels.index(label)]

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        docs = iter(docs)
        while batch := list(islice(docs, batch_size)):
            spans = [(i, s.start, s.end, s.text) for i, d in enumerate(batch) for s in d.sents]
            spans = [span for span in spans if span[3].strip()]
            if spans:
                probs = self.classifier.predict_proba([text for *_, text in spans])
                cut = np.asarray(self.thresholds, dtype=np.float64)  # callers may change them
                found: dict[int, list[Proposal]] = {}
                # np.nonzero is row-major: sentence by sentence, labels in column order
                for r, j in zip(*(a.tolist() for a in np.nonzero(probs >= cut))):
                    _, start, end, _ = spans[r]
                    theme, polarity = self.labels[j]
                    found.setdefault(r, []).append(
                        Proposal(theme, polarity, start, end, start, end, "model", float(probs[r, j]))
                    )
                for r, proposals in found.items():
                    doc = batch[spans[r][0]]
                    doc._.proposals = (doc._.proposals or []) + proposals
                for r, (i, start, _, _) in enumerate(spans):  # for the model's veto over the rules
                    doc = batch[i]
                    if doc._.sentence_proba is None:
                        doc._.sentence_proba = {}
                    doc._.sentence_proba[start] = probs[r]
            yield from batch


@Language.factory("caselens_classifier", default_config={"model_dir": None})
def make_classifier(nlp: Language, name: str, model_dir: str | None) -> ClassifierProposer:
    from nlp.model_store import load_classifier

    classifier = load_classifier(model_dir)
    if classifier is None:
        raise ModelError("no trained classifier is installed; run `caselens train` first")
    return ClassifierProposer(classifier)
