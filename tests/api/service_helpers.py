"""Helpers shared by the service tests."""
from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

#: a short case note the rules tag for sure: a missing chronology is a concern
CHRONOLOGY_GAP = "There is no chronology on file for this child."


def wait_for_batch(
    client: TestClient, batch_id: str, headers: dict[str, str], timeout: float = 120
) -> dict[str, Any]:
    """Poll a batch until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/batches/{batch_id}", headers=headers).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not finish in {timeout} s")
