"""Core settings, read from ``CASELENS_…`` environment variables."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CODEBOOK = PACKAGE_DIR / "codebook.yaml"


class CoreSettings(BaseSettings):
    """Settings of the analysis core (no web, no database)."""

    model_config = SettingsConfigDict(env_prefix="CASELENS_", extra="ignore")

    max_text_chars: int = Field(200_000, ge=1, description="longest text analysed, in characters")
    codebook_path: Path = Field(DEFAULT_CODEBOOK, description="codebook YAML to load")
    model_dir: Path | None = Field(
        None, description="folder holding theme_classifier.joblib and model_card.json "
        "(default: the package's models/)"
    )
    detectors: str = Field(
        "all", description="which detectors run: rules, model or all (model only when trained)"
    )


@lru_cache(maxsize=1)
def get_core_settings() -> CoreSettings:
    return CoreSettings()
