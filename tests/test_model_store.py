"""Loading the classifier artefact: verified, once per process, clear errors."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nlp import model_store
from nlp.errors import ModelError
from nlp.sentence_classifier import SentenceClassifier
from nlp.settings import get_core_settings
from nlp.taxonomy import LABELS

SHIPPED = model_store.package_model_dir()
needs_shipped = pytest.mark.skipif(
    not (SHIPPED / model_store.ARTEFACT_FILE).exists(), reason="no artefact shipped in models/"
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    model_store.clear_cache()
    yield
    model_store.clear_cache()


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the test fixture, in its own folder."""
    from nlp.train import CANDIDATES, train

    out = tmp_path_factory.mktemp("small_model")
    fixture = Path(__file__).parent / "fixtures" / "train" / "examples.jsonl"
    words = tuple(c for c in CANDIDATES if c.name == "words+logreg")
    train([fixture], out, candidates=words, cv_folds=0, embeddings_dir=out)
    return out


@pytest.fixture
def copy_of(small_model: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(small_model, folder)
    return folder


@needs_shipped
def test_shipped_artefact_loads_and_matches_its_card() -> None:
    clf = model_store.load_classifier(SHIPPED)
    card = model_store.read_card(SHIPPED)
    assert isinstance(clf, SentenceClassifier)
    assert clf.labels == LABELS
    assert clf.sha256 == card["sha256"]
    assert set(clf.thresholds) == set(LABELS)
    assert all(0.0 < t < 1.0 for t in clf.thresholds.values())


@needs_shipped
def test_the_embedding_table_must_be_the_one_trained_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small model on the shipped table (whatever the shipped model uses) refuses a changed table."""
    from nlp.static_embeddings import VECTORS_FILE
    from nlp.train import CANDIDATES, train

    fixture = Path(__file__).parent / "fixtures" / "train" / "examples.jsonl"
    dense = tuple(c for c in CANDIDATES if c.name == "embeddings+logreg")
    folder = tmp_path / "model"
    train([fixture], folder, candidates=dense, cv_folds=0, embeddings_dir=SHIPPED, heldout_documents=[])
    monkeypatch.setattr(model_store, "package_model_dir", lambda: tmp_path / "elsewhere")
    table = np.load(SHIPPED / VECTORS_FILE)
    np.save(folder / VECTORS_FILE, table)
    model_store.clear_cache()
    assert model_store.load_classifier(folder).static_embedder() is not None
    model_store.clear_cache()
    table[0, 0] += 1
    np.save(folder / VECTORS_FILE, table)
    with pytest.raises(ModelError, match="embedding table.*caselens train"):
        model_store.load_classifier(folder)


@needs_shipped
def test_shipped_model_recognises_plain_statements_of_each_kind() -> None:
    clf = model_store.load_classifier(SHIPPED)
    sentences = {
        "There is no chronology on the file.": "chronology:concern",
        "The child was not seen alone at any visit.": "voice_of_child:concern",
        "Supervision is regular, reflective and analyses risk.": "supervision:strength",
    }
    proba = clf.predict_proba(list(sentences))
    assert proba.shape == (3, len(LABELS))
    assert ((proba >= 0) & (proba <= 1)).all()
    for row, expected in zip(proba, sentences.values()):
        assert LABELS[int(row.argmax())] == expected
    assert clf.predict_proba([]).shape == (0, len(LABELS))


def test_loaded_once_per_process_and_folder(copy_of: Path) -> None:
    first = model_store.load_classifier(copy_of)
    (copy_of / model_store.ARTEFACT_FILE).write_bytes(b"replaced after loading")
    assert model_store.load_classifier(copy_of) is first
    model_store.clear_cache()
    with pytest.raises(ModelError):
        model_store.load_classifier(copy_of)


def test_tampered_artefact_is_refused_before_unpickling(copy_of: Path) -> None:
    path = copy_of / model_store.ARTEFACT_FILE
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    path.write_bytes(bytes(payload))
    with pytest.raises(ModelError, match="does not match its model card.*caselens train"):
        model_store.load_classifier(copy_of)


def test_a_pickle_that_would_run_code_is_never_loaded(copy_of: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (marker.write_text, ("pwned",))

    import pickle

    (copy_of / model_store.ARTEFACT_FILE).write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelError, match="caselens train"):
        model_store.load_classifier(copy_of)
    assert not marker.exists()


@pytest.mark.parametrize("missing", [model_store.ARTEFACT_FILE, model_store.CARD_FILE])
def test_missing_file_in_an_admin_folder_says_to_train(copy_of: Path, missing: str) -> None:
    (copy_of / missing).unlink()
    with pytest.raises(ModelError, match=r"missing.*caselens train"):
        model_store.load_classifier(copy_of)


def test_incompatible_scikit_learn_version_says_to_train(copy_of: Path) -> None:
    card_path = copy_of / model_store.CARD_FILE
    card = json.loads(card_path.read_text())
    card["versions"]["scikit-learn"] = "0.24.2"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"scikit-learn 0\.24\.2.*caselens train"):
        model_store.load_classifier(copy_of)


def test_nothing_shipped_gives_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(model_store, "package_model_dir", lambda: tmp_path)
    monkeypatch.delenv("CASELENS_MODEL_DIR", raising=False)
    get_core_settings.cache_clear()
    try:
        assert model_store.load_classifier() is None
    finally:
        get_core_settings.cache_clear()


def test_admin_setting_chooses_the_folder(monkeypatch: pytest.MonkeyPatch, copy_of: Path) -> None:
    monkeypatch.setenv("CASELENS_MODEL_DIR", str(copy_of))
    get_core_settings.cache_clear()
    try:
        clf = model_store.load_classifier()
    finally:
        get_core_settings.cache_clear()
    assert clf is not None
    assert clf.sha256 == model_store.read_card(copy_of)["sha256"]


@pytest.mark.parametrize("shipped", [
    pytest.param(True, marks=needs_shipped, id="shipped"), pytest.param(False, id="small"),
])
def test_prediction_needs_no_torch(shipped: bool, copy_of: Path) -> None:
    folder = SHIPPED if shipped else copy_of
    code = (
        "import sys\n"
        "from nlp import model_store\n"
        f"clf = model_store.load_classifier({str(folder)!r})\n"
        "p = clf.predict_proba(['No chronology on file.'])\n"
        "heavy = sorted(m for m in ('torch', 'model2vec', 'transformers') if m in sys.modules)\n"
        "print(p.shape, heavy)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"(1, {len(LABELS)}) []"


def test_probabilities_rank_the_fixture_labels(copy_of: Path) -> None:
    clf = model_store.load_classifier(copy_of)
    proba = clf.predict_proba(["Supervision is regular and reflective.", "Next visit Tuesday."])
    j = LABELS.index("supervision:strength")
    assert proba[0, j] > proba[1, j]
    assert np.all(np.isfinite(proba))
