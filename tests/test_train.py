"""Training the theme classifier: data, calibration, thresholds, determinism, card."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp.char_ngrams import CharNgramTfidf, word_ngrams
from nlp.errors import InputError
from nlp.linear_heads import base_targets, fit_sigmoid
from nlp.model_metrics import choose_thresholds, scores
from nlp.static_embeddings import StaticEmbedder, wordpiece
from nlp.taxonomy import LABELS
from nlp.train import (
    CANDIDATES,
    CV_CHECK_CANDIDATE,
    CV_CHECK_FOLDS,
    CV_MICRO_F1_FLOOR,
    cross_validate,
    default_data_paths,
    train,
)
from nlp.training_data import Example, data_hash, is_heldout, load_examples, read_jsonl

FIXTURE = Path(__file__).parent / "fixtures" / "train" / "examples.jsonl"
HELDOUT_DOCS = Path(__file__).parent / "fixtures" / "train" / "heldout_documents.jsonl"
FAST = tuple(c for c in CANDIDATES if c.name in ("words+logreg", "tfidf+logreg"))


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


# --- training data -------------------------------------------------------------------


def test_unknown_label_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", [
        {"text": "Fine.", "labels": []},
        {"text": "Chronology missing.", "labels": ["chronology:worry"]},
    ])
    with pytest.raises(InputError, match=r"bad\.jsonl:2.*chronology:worry"):
        read_jsonl(path)


def test_duplicate_texts_merge_their_labels(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", [{"text": "No chronology on file.", "labels": ["chronology:concern"]}])
    b = _write(tmp_path / "b.jsonl", [
        {"text": "no  chronology on file.", "labels": ["recording:concern"]},
        {"text": "Next visit Tuesday.", "labels": []},
    ])
    examples = load_examples([b, a])
    assert len(examples) == 2
    merged = next(ex for ex in examples if "chronology" in ex.text.lower())
    assert merged.labels == {"chronology:concern", "recording:concern"}


def test_document_evidence_gives_positive_and_negative_sentences(tmp_path: Path) -> None:
    text = ("Home visit.\nMum said the heating is fixed.\n"
            "T was seen alone and her wishes shaped the plan.\nNext visit 25/01.")
    path = _write(tmp_path / "docs.jsonl", [{
        "text": text, "labels": ["voice_of_child:strength"],
        "evidence": {"voice_of_child:strength": ["T was seen alone and her wishes shaped the plan."]},
    }])
    by_text = {ex.text: ex.labels for ex in read_jsonl(path)}
    assert by_text["T was seen alone and her wishes shaped the plan."] == {"voice_of_child:strength"}
    assert by_text["Mum said the heating is fixed."] == frozenset()
    assert by_text["Next visit 25/01."] == frozenset()
    assert len(by_text) == 4


def test_heldout_split_depends_on_the_text_only() -> None:
    texts = [f"Sentence number {i} about the plan." for i in range(400)]
    first = [is_heldout(t) for t in texts]
    assert first == [is_heldout(t.upper()) for t in texts]  # case-insensitive key
    assert 0.12 < sum(first) / len(first) < 0.28


def test_data_hash_ignores_order_but_not_labels() -> None:
    a = Example("No chronology.", frozenset({"chronology:concern"}), "x:1")
    b = Example("Next visit.", frozenset(), "x:2")
    assert data_hash([a, b]) == data_hash([b, a])
    relabelled = Example("No chronology.", frozenset({"chronology:strength"}), "x:1")
    assert data_hash([a, b]) != data_hash([relabelled, b])


# --- featurisers ---------------------------------------------------------------------


def test_wordpiece_is_greedy_longest_match() -> None:
    index = {"chron": 0, "##ology": 1, "##o": 2, "##logy": 3, "plan": 4}
    assert wordpiece("chronology", index) == (0, 1)
    assert wordpiece("plan", index) == (4,)
    assert wordpiece("planx", index) == ()  # an unknown piece makes the word unknown


def test_static_embedder_mean_pools_and_normalises() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float16)
    emb = StaticEmbedder(vectors, ("late", "plan", "##s")).fit([])
    out = emb.transform(["Late plan", "plans", "zzz"])
    np.testing.assert_allclose(out[0], [2 ** -0.5, 2 ** -0.5], rtol=1e-3)
    np.testing.assert_allclose(out[1], np.array([3.0, 5.0]) / 34 ** 0.5, rtol=1e-3)  # plan + ##s
    assert not out[2].any()  # nothing known: a zero vector, not NaN


def test_char_ngrams_match_scikit_learn_char_wb() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyser = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()
    assert sorted(word_ngrams("drift", 3, 5)) == sorted(analyser("drift"))
    texts = ["Drift and delay in the plan.", "The plan drifted.", "No drift."]
    X = CharNgramTfidf(min_df=1).fit(texts).transform(texts)
    assert X.shape[0] == 3
    np.testing.assert_allclose(np.asarray(X.multiply(X).sum(axis=1)).ravel(), 1.0, rtol=1e-5)


# --- calibration and thresholds ------------------------------------------------------


def test_platt_sigmoid_increases_with_score_and_fits_the_base_rate() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.3).astype(int)
    s = rng.normal(size=2000) + 2.0 * y
    w, offset = fit_sigmoid(s[:, None], y, np.ones_like(s))
    p = 1 / (1 + np.exp(-(w[0] * s + offset)))
    assert w[0] > 0
    assert abs(p.mean() - y.mean()) < 0.02


def test_stacked_targets_add_theme_and_polarity_heads() -> None:
    labels = ["chronology:concern", "chronology:strength", "drift_delay:concern"]
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    flat = base_targets(Y, labels, stacked=False)
    assert flat.Y.shape == (4, 3) and flat.joint == [[], [], []]
    stacked = base_targets(Y, labels, stacked=True)
    assert stacked.Y[:, :3].tolist() == Y.tolist()  # label heads come first
    chronology, concern = stacked.joint[0]
    strength = stacked.joint[1][1]
    assert stacked.joint[1][0] == chronology  # both polarities share the theme head
    assert stacked.Y[:, chronology].tolist() == [1, 1, 0, 0]
    assert stacked.Y[:, concern].tolist() == [1, 0, 1, 0]
    assert stacked.Y[:, strength].tolist() == [0, 1, 0, 0]
    assert stacked.rows[:, concern].tolist() == [True, True, True, False]  # labelled rows only


def test_thresholds_maximise_heldout_f1_and_keep_default_for_rare_labels() -> None:
    labels = LABELS[:2]
    proba = np.array([[0.9, 0.9], [0.7, 0.1], [0.6, 0.1], [0.4, 0.1], [0.3, 0.1],
                      [0.65, 0.1], [0.62, 0.1], [0.2, 0.1]])
    Y = np.array([[1, 1], [1, 0], [1, 0], [0, 0], [0, 0], [1, 0], [1, 0], [0, 0]])
    chosen = choose_thresholds(proba, Y, labels)
    assert 0.4 < chosen[labels[0]] <= 0.6  # every positive kept, both negatives cut
    assert chosen[labels[1]] == 0.5  # one held-out positive: too few to tune
    perfect = scores(Y[:, :1], proba[:, :1] >= chosen[labels[0]], labels[:1])
    assert perfect["micro"]["f1"] == 1.0


# --- the training run ----------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("model")
    return train([FIXTURE], out, candidates=FAST, cv_folds=0, embeddings_dir=out,
                 heldout_documents=[HELDOUT_DOCS])


def test_card_records_data_metrics_versions_and_hash(trained) -> None:  # type: ignore[no-untyped-def]
    card = json.loads(trained.card_path.read_text())
    assert card["sha256"] == trained.sha256
    assert card["training_data"]["hash"] == data_hash(load_examples([FIXTURE]))
    assert card["training_data"]["label_counts"]["chronology:concern"] == 7
    assert set(card["thresholds"]) == set(LABELS)
    per_label = card["heldout_metrics"]["at_thresholds"]["per_label"]
    assert set(per_label) == set(LABELS) and {"precision", "recall", "f1", "support"} <= set(
        per_label["chronology:concern"])
    assert {"scikit-learn", "spacy"} <= set(card["versions"])
    assert [row["name"] for row in card["selection"]["candidates"]] == [c.name for c in FAST]
    assert card["model"] in {c.name for c in FAST}


def test_training_twice_gives_the_same_artefact_even_in_another_process(
    trained, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    again = train([FIXTURE], tmp_path / "again", candidates=FAST, cv_folds=0,
                  embeddings_dir=tmp_path, heldout_documents=[HELDOUT_DOCS])
    assert again.sha256 == trained.sha256
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # different set/dict hashing
    run = subprocess.run(
        [sys.executable, "-c", "from api.cli import app; app()", "train", "--data", str(FIXTURE),
         "--out", str(tmp_path / "cli"), "--candidates", ",".join(c.name for c in FAST),
         "--cv-folds", "0", "--heldout-docs", str(HELDOUT_DOCS)],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parent.parent, check=False,
    )
    assert run.returncode == 0, run.stderr
    card = json.loads((tmp_path / "cli" / "model_card.json").read_text())
    assert card["sha256"] == trained.sha256


def test_different_seed_or_data_changes_the_hash(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = FIXTURE.read_text().splitlines()[:-3]
    smaller = tmp_path / "smaller.jsonl"
    smaller.write_text("\n".join(lines) + "\n")
    other = train([smaller], tmp_path / "o", candidates=FAST[:1], cv_folds=0, embeddings_dir=tmp_path,
                  heldout_documents=[])
    assert other.sha256 != trained.sha256
    assert other.card["training_data"]["hash"] != trained.card["training_data"]["hash"]


def test_trained_model_separates_the_fixture_themes(trained) -> None:  # type: ignore[no-untyped-def]
    import joblib

    clf = joblib.load(trained.artefact)
    proba = clf.predict_proba(["There is still no chronology on the file.",
                               "The child was not seen alone at the visit."])
    assert proba.shape == (2, len(LABELS))
    assert LABELS[int(proba[0].argmax())] == "chronology:concern"
    assert LABELS[int(proba[1].argmax())] == "voice_of_child:concern"


def test_train_command_on_a_small_subset_of_the_project_data(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, [
        "train", "--out", str(tmp_path), "--limit", "300", "--candidates", "words+logreg",
        "--cv-folds", "0",
    ])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "model_card.json").read_text())
    assert card["training_data"]["examples"] == 300
    assert "held-out micro-F1" in result.output


def test_train_command_rejects_an_unknown_candidate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path), "--candidates", "bert"])
    assert result.exit_code != 0
    assert "unknown candidate" in result.output
    assert not (tmp_path / "model_card.json").exists()


def test_cross_validated_f1_on_project_data_is_above_the_recorded_floor() -> None:
    paths = default_data_paths()
    if not paths:
        pytest.skip("no training data in data_samples/")
    candidate = next(c for c in CANDIDATES if c.name == CV_CHECK_CANDIDATE)
    result = cross_validate(load_examples(paths), candidate, folds=CV_CHECK_FOLDS, n_jobs=2)
    assert result["micro"]["f1"] >= CV_MICRO_F1_FLOOR, result


def test_weak_labels_are_tried_and_recorded_in_the_card(tmp_path: Path) -> None:
    noisy = [Example(f"Filler sentence {i} about the weather.", frozenset({"chronology:concern"}),
                     f"weak:{i}", weight=0.5) for i in range(30)]

    def source(labelled):  # type: ignore[no-untyped-def]
        assert labelled and all(ex.weight == 1.0 for ex in labelled)
        return noisy, dict.fromkeys(LABELS, 0.7)

    result = train([FIXTURE], tmp_path, candidates=FAST[:1], cv_folds=0, heldout_documents=[],
                   embeddings_dir=tmp_path, weak_examples=source)
    weak = json.loads(result.card_path.read_text())["weak_supervision"]
    assert weak["tried"] is True and weak["sentences"] == 30
    assert weak["kept"] is False  # mislabelled filler cannot help on the held-out split
    assert weak["heldout_micro_f1_with"] <= weak["heldout_micro_f1_without"]
    assert result.card["training_data"]["hash"] == data_hash(load_examples([FIXTURE]))


def test_block_scoring_equals_scoring_the_stacked_features(trained) -> None:  # type: ignore[no-untyped-def]
    import joblib

    clf = joblib.load(trained.artefact)
    texts = ["No chronology on file.", "Next visit Tuesday.", "Supervision is reflective."]
    stacked = clf.heads.proba(clf.featuriser.transform(texts))
    np.testing.assert_allclose(clf.predict_proba(texts), stacked, rtol=1e-5, atol=1e-7)


def test_joint_weights_put_the_log_of_theme_times_polarity_into_the_log_odds() -> None:
    from scipy.special import expit

    from nlp.sentence_classifier import LinearHeads

    # base heads: 0 = the label, 1 = its theme, 2 = its polarity
    heads = LinearHeads(
        coef=np.eye(3, dtype=np.float32), intercept=np.zeros(3), base_slope=np.ones(3),
        base_offset=np.zeros(3), mix=np.zeros((3, 1)), joint=np.array([[0.0], [1.0], [1.0]]),
        offset=np.zeros(1),
    )
    X = np.array([[0.0, 3.0, -2.0], [0.0, 3.0, 2.0], [0.0, -2.0, 3.0]])
    both = expit(X[:, 1]) * expit(X[:, 2])
    np.testing.assert_allclose(heads.proba(X)[:, 0], both / (1 + both))  # sigmoid(log(both))
    assert heads.proba(X)[0, 0] < 0.15  # on theme, wrong polarity: unlikely
    assert heads.proba(X)[2, 0] < 0.15  # right polarity, another theme: unlikely


def test_fused_thresholds_are_chosen_on_heldout_documents_and_shipped(trained) -> None:  # type: ignore[no-untyped-def]
    import joblib

    from nlp.fusion import SCHEMES
    from nlp.model_store import clear_cache, load_classifier

    card = trained.card
    fusion = card["fusion"]
    assert fusion["tried"] and fusion["files"] == [HELDOUT_DOCS.name] and fusion["documents"] == 8
    assert fusion["scheme"] in SCHEMES and set(fusion["cross_part_micro_f1"]) == set(SCHEMES)
    assert set(card["sentence_thresholds"]) == set(card["thresholds"]) == set(LABELS)
    assert joblib.load(trained.artefact).thresholds == card["thresholds"]
    assert set(fusion["heldout_documents"]) == {"rules", "model", "all"}
    assert 0.0 <= fusion["heldout_documents"]["all"]["micro_f1"] <= 1.0
    clear_cache()
    try:
        assert load_classifier(trained.artefact.parent).thresholds == card["thresholds"]
    finally:
        clear_cache()


def test_heldout_documents_that_were_trained_on_are_refused(tmp_path: Path) -> None:
    first = json.loads(FIXTURE.read_text().splitlines()[0])
    leaked = _write(tmp_path / "leaked.jsonl", [first])
    with pytest.raises(InputError, match="also appear in the training data"):
        train([FIXTURE], tmp_path / "m", candidates=FAST[:1], cv_folds=0, embeddings_dir=tmp_path,
              heldout_documents=[leaked])


def test_calibrate_reproduces_the_trained_choice_and_follows_new_heldout_documents(
    trained, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    import shutil

    from nlp.model_store import clear_cache, load_classifier
    from nlp.train import calibrate

    folder = tmp_path / "model"
    shutil.copytree(trained.artefact.parent, folder)
    again = calibrate(folder, [HELDOUT_DOCS], data_paths=[FIXTURE])
    assert again.sha256 == trained.sha256  # same codebook, same recordings: the same artefact
    fewer = _write(tmp_path / "fewer.jsonl", [json.loads(x) for x in HELDOUT_DOCS.read_text().splitlines()[:4]])
    other = calibrate(folder, [fewer], data_paths=[FIXTURE])
    assert other.card["fusion"]["documents"] == 4 and other.card["fusion"]["files"] == ["fewer.jsonl"]
    assert other.card["fusion"]["codebook_hash"] == trained.card["fusion"]["codebook_hash"]
    clear_cache()
    try:
        assert load_classifier(folder).sha256 == other.sha256  # the card matches the new artefact
    finally:
        clear_cache()


def test_calibrate_without_a_trained_model_says_to_train(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, ["calibrate", "--out", str(tmp_path),
                                      "--heldout-docs", str(HELDOUT_DOCS)])
    assert result.exit_code == 1 and "caselens train" in result.output
