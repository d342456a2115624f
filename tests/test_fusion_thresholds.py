"""Choosing the bar for model-only labels on held-out documents (nlp/fusion.py)."""
from __future__ import annotations

import numpy as np
import pytest

from nlp.fusion import GRID, MIN_LABEL_SUPPORT, VETOES, DocumentScores, choose, predict, select
from nlp.taxonomy import LABELS

WIDTH = len(LABELS)


def _scores(truth: np.ndarray, rules: np.ndarray, model: np.ndarray, part: np.ndarray) -> DocumentScores:
    """``rules``: -1 where the rules did not fire, else the model's probability there."""
    return DocumentScores(truth.astype(bool), rules.astype(float), model.astype(float), part)


def _one_label(truth: list[int], rules: list[float], model: list[float], label: int = 0) -> DocumentScores:
    n = len(truth)
    T, R, M = np.zeros((n, WIDTH)), np.full((n, WIDTH), -1.0), np.zeros((n, WIDTH))
    T[:, label], R[:, label], M[:, label] = truth, rules, model
    return _scores(T, R, M, np.arange(n) % 2)


def test_a_document_takes_a_label_from_the_rules_or_a_model_score_at_the_bar() -> None:
    ds = _one_label([1, 1, 0, 0], [0.3, -1, -1, -1], [0.0, 0.6, 0.59, 0.2])
    bar = np.full(WIDTH, 0.6)
    assert predict(ds, bar)[:, 0].tolist() == [True, True, False, False]


def test_the_veto_drops_rule_labels_the_model_scored_below_it() -> None:
    ds = _one_label([1, 0, 0], [0.4, 0.004, 0.0], [0.0, 0.0, 0.0])
    bar = np.full(WIDTH, 0.5)
    assert predict(ds, bar, veto=0.0)[:, 0].tolist() == [True, True, True]
    assert predict(ds, bar, veto=0.01)[:, 0].tolist() == [True, False, False]


def test_per_label_bar_maximises_that_labels_f1_and_prefers_the_higher_bar_on_ties() -> None:
    # positives score 0.7-0.8, negatives up to 0.55: any bar in (0.55, 0.7] is perfect
    ds = _one_label([1, 1, 1, 1, 0, 0, 0, 0], [-1] * 8, [0.8, 0.75, 0.7, 0.7, 0.55, 0.4, 0.3, 0.2])
    chosen = choose("per_label", ds, np.full(WIDTH, 0.5))
    assert chosen[0] == pytest.approx(0.7)
    assert (chosen[1:] == 0.5).all()  # labels without positives keep their sentence bar


def test_the_model_is_switched_off_for_a_label_it_only_gets_wrong() -> None:
    ds = _one_label([1, 1, 1, 1, 0, 0], [1, 1, 1, 1, -1, -1], [0.0, 0.0, 0.0, 0.0, 0.9, 0.95])
    chosen = choose("per_label", ds, np.full(WIDTH, 0.5))
    assert chosen[0] == max(GRID) and chosen[0] > 1.0


def test_a_label_below_the_support_floor_keeps_its_sentence_bar() -> None:
    truth = [1] * (MIN_LABEL_SUPPORT - 1) + [0] * 5
    ds = _one_label(truth, [-1] * len(truth), [0.9] * len(truth))
    assert choose("per_label", ds, np.full(WIDTH, 0.35))[0] == 0.35


def test_shared_bar_is_one_value_for_every_label() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random((40, WIDTH)) < 0.2
    model = np.where(truth, rng.uniform(0.5, 1.0, truth.shape), rng.uniform(0.0, 0.6, truth.shape))
    ds = _scores(truth, np.full(truth.shape, -1.0), model, np.arange(40) % 2)
    chosen = choose("shared", ds, np.full(WIDTH, 0.2))
    assert len(set(chosen.tolist())) == 1 and 0.5 <= chosen[0] <= 0.6


def test_selection_scores_schemes_across_parts_and_beats_a_too_low_sentence_bar() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random((80, WIDTH)) < 0.15
    model = np.where(truth, rng.uniform(0.6, 1.0, truth.shape), rng.uniform(0.0, 0.55, truth.shape))
    ds = _scores(truth, np.full(truth.shape, -1.0), model, np.repeat([0, 1], 40))
    sentence = {label: 0.15 for label in LABELS}  # far too low: many false labels
    thresholds, veto, report = select(ds, sentence)
    crossed = report["cross_part_micro_f1"]
    assert report["scheme"] != "sentence"
    assert crossed[report["scheme"]]["0.0"] > crossed["sentence"]["0.0"]
    assert set(thresholds) == set(LABELS) and min(thresholds.values()) > 0.15
    assert veto == 0.0  # no rule labels at all: a veto cannot help, the smallest wins the tie
    assert report["documents"] == 80 and set(crossed["shared"]) == {str(v) for v in VETOES}


def test_selection_takes_a_veto_when_the_rules_fire_where_the_model_says_no() -> None:
    rng = np.random.default_rng(2)
    truth = rng.random((80, WIDTH)) < 0.15
    # rules find every true label (model agrees a little), and fire falsely where the model says ~0
    false_fire = (~truth) & (rng.random(truth.shape) < 0.1)
    rules = np.where(truth, rng.uniform(0.2, 1.0, truth.shape), np.where(false_fire, 0.003, -1.0))
    ds = _scores(truth, rules, np.zeros(truth.shape), np.repeat([0, 1], 40))
    _, veto, report = select(ds, {label: 0.5 for label in LABELS})
    assert veto > 0.0 and report["veto"] == veto
    assert predict(ds, np.full(WIDTH, 0.5), veto).sum() == truth.sum()


def test_unknown_scheme_is_an_error() -> None:
    ds = _one_label([1], [0], [0.5])
    with pytest.raises(ValueError, match="unknown scheme"):
        choose("magic", ds, np.full(WIDTH, 0.5))
