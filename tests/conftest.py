"""Shared fixtures of the analysis-core tests: one blank English pipeline and one
rule-only analyser per session (building a pipeline costs seconds)."""

from __future__ import annotations

import pytest
from spacy.language import Language

from nlp.language import blank_english, literal_norms
from nlp.patterns import Normaliser
from nlp.pipeline import Analyser, get_analyser


@pytest.fixture(scope="session")
def blank_nlp() -> Language:
    """``spacy.blank("en")`` with caselens' stem NORM, as the codebook is compiled with."""
    return blank_english()


@pytest.fixture(scope="session")
def norms(blank_nlp: Language) -> Normaliser:
    """The literal-word normaliser the codebook and the context rules are compiled with."""
    return literal_norms(blank_nlp)


@pytest.fixture(scope="session")
def rules_analyser() -> Analyser:
    """The rule-only analyser: behaviour that must not depend on a trained model."""
    return get_analyser("rules")
