"""Errors that caselens reports to its users (never a traceback)."""
from __future__ import annotations


class CaselensError(Exception):
    """Base class of the errors users see as a clear message."""


class InputError(CaselensError, ValueError):
    """Input that caselens refuses: empty, too long, wrongly encoded, malformed.

    ``where`` names the place (a file and line, a field, a row) when known.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class CodebookError(CaselensError):
    """The codebook YAML is invalid; the message names the theme and field."""


class ModelError(CaselensError):
    """A trained artefact is missing, tampered with or incompatible."""
