"""caselens text analytics core: text in, practice-theme tags with evidence out.

``analyse`` and ``analyse_many`` are the only way text becomes tags; the CLI,
the API, batch jobs and notebooks all call them.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from nlp.analysis import Analysis, RecordError, Tag
from nlp.errors import CaselensError, CodebookError, InputError, ModelError

try:
    __version__ = version("caselens")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+src"


def analyse(text: str, **meta: object) -> Analysis:
    """Analyse one document; ``meta`` are its metadata (doc_type, date, …)."""
    from nlp.pipeline import get_analyser

    return get_analyser().analyse(text, **meta)


def analyse_many(records, **kwargs):  # type: ignore[no-untyped-def]
    """Stream analyses for an iterable of records; see ``Analyser.analyse_many``."""
    from nlp.pipeline import get_analyser

    return get_analyser().analyse_many(records, **kwargs)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, as the pipeline segments them."""
    from nlp.pipeline import split_sentences as _split

    return _split(text)


__all__ = [
    "Analysis",
    "Tag",
    "RecordError",
    "CaselensError",
    "CodebookError",
    "InputError",
    "ModelError",
    "analyse",
    "analyse_many",
    "split_sentences",
    "__version__",
]
