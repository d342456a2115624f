"""Safe, once-per-process loading of the trained sentence classifier.

The artefact is a pickle, and unpickling runs code, so it is read only from
the package's ``models/`` folder or from ``CoreSettings.model_dir`` (an admin
setting), and only after the SHA-256 of its bytes matches the model card
written beside it. A missing, tampered or incompatible artefact gives a
``ModelError`` that tells the user to run ``caselens train``.
"""
from __future__ import annotations

import hashlib
import io
import json
import pickle
import threading
import warnings
import zlib
from pathlib import Path

import joblib
import sklearn
from joblib.numpy_pickle import NumpyPickler
from sklearn.exceptions import InconsistentVersionWarning

from nlp.errors import ModelError
from nlp.sentence_classifier import SentenceClassifier
from nlp.settings import get_core_settings
from nlp.static_embeddings import VECTORS_FILE, read_table
from nlp.taxonomy import LABELS

ARTEFACT_FILE = "theme_classifier.joblib"
CARD_FILE = "model_card.json"
_RETRAIN = "Run `caselens train` to rebuild it."

_lock = threading.Lock()
_loaded: dict[Path, SentenceClassifier | None] = {}


class _CanonicalPickler(NumpyPickler):
    """joblib's pickler, writing every string in full.

    A plain pickle writes a string it has met before *as the same object* as a
    back-reference, so equal models could give different bytes depending on
    which strings the process happened to share (after loading another model,
    say). Writing each string out makes the bytes depend on the values only,
    so a training run gives the same SHA-256 in any process.
    """

    dispatch = NumpyPickler.dispatch.copy()

    def save_str(self, obj: str) -> None:
        self.memoize = lambda _: None  # type: ignore[method-assign]
        try:
            pickle._Pickler.save_str(self, obj)  # type: ignore[attr-defined]
        finally:
            del self.memoize

    dispatch[str] = save_str


def dump_artefact(classifier: SentenceClassifier, path: Path) -> None:
    """Write ``classifier`` as joblib writes it with ``compress=3`` (zlib), in bytes that
    depend on its values only; ``joblib.load`` reads it back."""
    buffer = io.BytesIO()
    _CanonicalPickler(buffer).dump(classifier)
    path.write_bytes(zlib.compress(buffer.getvalue(), 3))


def package_model_dir() -> Path:
    """The ``models/`` package folder that ships with caselens."""
    import models

    return Path(models.__file__).resolve().parent


def resolve_model_dir(model_dir: str | Path | None = None) -> Path:
    """Where the artefact is read from.

    ``model_dir`` is the admin setting ``CoreSettings.model_dir`` as the caller
    holds it; when None, the setting from the environment, else the package's
    ``models/``.
    """
    configured = model_dir if model_dir is not None else get_core_settings().model_dir
    return Path(configured).resolve() if configured is not None else package_model_dir()


def read_card(folder: Path) -> dict[str, object]:
    """The model card in ``folder``; ``ModelError`` when missing or unreadable."""
    path = folder / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"the model card {path} is missing. {_RETRAIN}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"the model card {path} cannot be read ({exc}). {_RETRAIN}") from None
    if not isinstance(card, dict) or not isinstance(card.get("sha256"), str):
        raise ModelError(f"the model card {path} has no artefact SHA-256. {_RETRAIN}")
    return card


def _check_versions(card: dict[str, object], folder: Path) -> None:
    versions = card.get("versions")
    trained = versions.get("scikit-learn") if isinstance(versions, dict) else None
    if not isinstance(trained, str) or trained.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        raise ModelError(
            f"the classifier in {folder} was trained with scikit-learn {trained}, "
            f"but {sklearn.__version__} is installed. {_RETRAIN}"
        )


def _load_verified(folder: Path) -> SentenceClassifier:
    card = read_card(folder)
    _check_versions(card, folder)
    path = folder / ARTEFACT_FILE
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"the classifier artefact {path} is missing. {_RETRAIN}") from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != card["sha256"]:
        raise ModelError(
            f"the classifier artefact {path} does not match its model card "
            f"(SHA-256 {digest[:12]}…, card says {str(card['sha256'])[:12]}…); "
            f"it was changed after training and will not be loaded. {_RETRAIN}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            clf = joblib.load(io.BytesIO(payload))  # the verified bytes, not the file again
    except Exception as exc:  # noqa: BLE001 - an incompatible pickle fails in many ways
        raise ModelError(f"the classifier artefact {path} cannot be loaded ({exc}). {_RETRAIN}") from None
    if not isinstance(clf, SentenceClassifier) or tuple(clf.labels) != LABELS:
        raise ModelError(f"the artefact {path} is not a caselens theme classifier. {_RETRAIN}")
    _attach_embeddings(clf, folder)
    clf.sha256 = digest
    return clf


def _attach_embeddings(clf: SentenceClassifier, folder: Path) -> None:
    """Give a model that uses static embeddings its table, checked against its hash."""
    embedder = clf.static_embedder()
    if embedder is None or embedder.attached:
        return
    for place in dict.fromkeys((folder, package_model_dir())):
        if (place / VECTORS_FILE).is_file():
            try:
                embedder.attach(read_table(place))
                return
            except (OSError, ValueError):
                continue
    raise ModelError(
        f"the embedding table {VECTORS_FILE} this classifier was trained with is missing "
        f"or changed (looked in {folder}). {_RETRAIN}"
    )


def load_classifier(model_dir: str | Path | None = None) -> SentenceClassifier | None:
    """The trained classifier, loaded and verified once per process and folder.

    Returns ``None`` only when the package ships no artefact at all (neither
    the artefact nor its card in the package's ``models/``); every other
    problem raises ``ModelError``.
    """
    folder = resolve_model_dir(model_dir)
    with _lock:
        if folder in _loaded:
            return _loaded[folder]
        nothing_shipped = (
            folder == package_model_dir()
            and not (folder / ARTEFACT_FILE).exists()
            and not (folder / CARD_FILE).exists()
        )
        clf = None if nothing_shipped else _load_verified(folder)
        _loaded[folder] = clf
        return clf


def clear_cache() -> None:
    """Forget loaded classifiers (after ``caselens train`` replaces the artefact)."""
    with _lock:
        _loaded.clear()
