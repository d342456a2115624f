"""Model detector: the trained sentence classifier proposes themes per sentence.

Its proposals go through the same assertion component as the rules' ones.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

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

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        docs = iter(docs)
        while batch := list(islice(docs, batch_size)):
            spans = [(i, s.start, s.end) for i, d in enumerate(batch) for s in d.sents if s.text.strip()]
            if spans:
                texts = [batch[i][a:b].text for i, a, b in spans]
                probs = self.classifier.predict_proba(texts)
                for (i, start, end), row in zip(spans, probs):
                    found = [
                        Proposal(theme, polarity, start, end, start, end, "model", float(p))
                        for (theme, polarity), p, t in zip(self.labels, row, self.thresholds)
                        if p >= t
                    ]
                    if found:
                        doc = batch[i]
                        doc._.proposals = (doc._.proposals or []) + found
            yield from batch


@Language.factory("caselens_classifier", default_config={"model_dir": None})
def make_classifier(nlp: Language, name: str, model_dir: str | None) -> ClassifierProposer:
    from nlp.model_store import load_classifier

    classifier = load_classifier(model_dir)
    if classifier is None:
        raise ModelError("no trained classifier is installed; run `caselens train` first")
    return ClassifierProposer(classifier)
