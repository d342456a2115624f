"""Helpers shared by the service tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(database_url: str, port: int, **env: str) -> subprocess.Popen:
    """Run ``caselens serve`` in its own process group; return once /health answers."""
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("caselens")), "serve", "--port", str(port)],
        env={**os.environ, "CASELENS_DATABASE_URL": database_url, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 300  # generous: start-up loads the pipeline
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise AssertionError(f"the service exited with {server.returncode}")
    server.kill()
    raise AssertionError("the service did not start")
