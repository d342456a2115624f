"""Service settings, read from ``CASELENS_…`` environment variables.

``ServiceSettings`` extends the core's settings with what the HTTP service,
its storage and its batch jobs need. ``get_settings()`` is the one place the
service reads them.
"""
from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator

from nlp.settings import CoreSettings
from nlp.taxonomy import THEMES

#: Default audit weight of each concern theme in pre-screening. Themes that most
#: often signal a child left at risk (drift, an unseen child, over-optimism,
#: threshold errors, cumulative harm) weigh double; the rest weigh one.
DEFAULT_PRESCREEN_WEIGHTS: dict[str, float] = {
    theme: 2.0
    if theme in {"drift_delay", "voice_of_child", "over_optimism", "thresholds", "start_again"}
    else 1.0
    for theme in THEMES
}


class ServiceSettings(CoreSettings):
    """Settings of the HTTP service, storage and batch jobs."""

    database_url: str = Field(
        "sqlite:///caselens.sqlite",
        description="SQLAlchemy URL; a SQLite file by default, postgresql+psycopg://… for PostgreSQL",
    )
    host: str = Field("127.0.0.1", description="address `caselens serve` binds to")
    port: int = Field(8000, ge=1, le=65535, description="port `caselens serve` listens on")
    workers: int = Field(
        2, ge=1, description="uvicorn worker processes; one per core (the service host has "
        "two), since each process analyses on one core at a time"
    )
    analysis_threads: int = Field(
        1, ge=1, description="threads per worker process that run analyses; the analysis "
        "holds Python's GIL, so more threads per process add switching, not throughput"
    )
    key_cache_seconds: float = Field(
        5.0, ge=0, le=60, description="how long a worker trusts a key it verified without "
        "asking the database again (0: every request); a key revoked with `caselens keys "
        "revoke` or by another worker stops working within this time"
    )
    access_log_flush_seconds: float = Field(
        0.2, ge=0, le=5, description="access-log rows are queued and written in one "
        "transaction at this interval (0: each at once); the queue is written before this "
        "worker reads the log and when the service stops"
    )
    worker_healthcheck_seconds: int = Field(
        60, ge=1, description="with several workers, how long a busy or starting worker may "
        "take to answer uvicorn's health check before it is restarted"
    )
    max_body_bytes: int = Field(
        2_000_000, ge=1, description="largest JSON request body, in bytes (413 above)"
    )
    max_upload_bytes: int = Field(
        200_000_000, ge=1, description="largest batch upload, in bytes (413 above)"
    )
    max_documents_per_request: int = Field(
        500, ge=1, description="most documents in one POST /v1/documents"
    )
    max_batch_rows: int = Field(1_000_000, ge=1, description="most rows in one batch upload")
    batch_processes: int = Field(2, ge=1, description="worker processes analysing a batch")
    batch_chunk_size: int = Field(
        200, ge=1, description="rows sent to a batch worker process at a time"
    )
    batch_stale_seconds: float = Field(
        60, ge=1, description="a batch whose server has not renewed its heartbeat for this "
        "long is resumed by another service process (renewed every third of it)"
    )
    prescreen_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_PRESCREEN_WEIGHTS),
        description="JSON object theme → weight of its concern in pre-screening; "
        "themes left out keep their default",
    )
    prescreen_repeat_bonus: float = Field(
        0.25, ge=0, description="extra weight per further document showing the same concern"
    )

    @field_validator("prescreen_weights")
    @classmethod
    def _known_themes(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(THEMES))
        if unknown:
            raise ValueError(
                f"unknown themes {unknown}; allowed: {', '.join(THEMES)}"
            )
        if any(w < 0 for w in weights.values()):
            raise ValueError("prescreen weights must not be negative")
        return {**DEFAULT_PRESCREEN_WEIGHTS, **weights}


@lru_cache(maxsize=1)
def get_settings() -> ServiceSettings:
    """The service's settings, read once from the environment."""
    return ServiceSettings()
