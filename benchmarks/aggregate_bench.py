"""Time the aggregate routes over a store of synthetic tags (default 1 000 000).

    python benchmarks/aggregate_bench.py                       # SQLite file in a temp dir
    python benchmarks/aggregate_bench.py --database-url postgresql+psycopg://…

Fills an empty database with documents (five tags each on average, over 24
months, four service areas and twelve teams), then calls each route through
the real app (with a TestClient, so HTTP parsing and JSON encoding count) and
prints the time of the very first call, which builds the store's label index,
and the median wall time of ``--repeat`` calls of each route after one warm-up.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text

from api.app import create_app
from api.security import Role, create_key
from api.settings import ServiceSettings
from api.storage.models import Analysis, Document, Tag
from nlp.taxonomy import LABELS, SERVICE_AREAS

ROUTES: tuple[tuple[str, dict[str, object]], ...] = (
    ("/v1/aggregates/prevalence", {}),
    ("/v1/aggregates/prevalence", {"by": ["month", "service_area"]}),
    ("/v1/aggregates/prevalence", {"by": "team", "service_area": "children_in_care"}),
    ("/v1/aggregates/trends", {"freq": "month", "by": "service_area"}),
    ("/v1/aggregates/trends", {"freq": "quarter", "label": "drift_delay:concern"}),
    ("/v1/aggregates/cooccurrence", {}),
    ("/v1/aggregates/emerging", {}),
    ("/v1/aggregates/evidence", {"label": "chronology:concern", "period": "2024-06"}),
)


def chunks(n_docs: int, tags_per_doc: float, size: int, seed: int) -> Iterator[tuple[list, list]]:
    """Rows of ``documents``/``analyses`` and ``tags`` in chunks of ``size`` documents."""
    rng = np.random.default_rng(seed)
    for first in range(0, n_docs, size):
        ids = np.arange(first, min(first + size, n_docs))
        counts = rng.poisson(tags_per_doc, len(ids))
        docs = [{"id": f"D{i:07d}", "case_id": f"C{i // 4:06d}",
                 "date": dt.date(2023 + (i % 24) // 12, 1 + i % 12, 1 + i % 28),
                 "service_area": SERVICE_AREAS[i % 4], "team": f"Team {i % 12}",
                 "doc_type": "case_note", "version": 1, "current_analysis_id": int(i) + 1}
                for i in ids]
        labels = rng.integers(0, len(LABELS), counts.sum())
        owners = np.repeat(ids, counts)
        tags = [{"analysis_id": int(d) + 1, "document_id": f"D{d:07d}", "label": LABELS[k],
                 "theme": LABELS[k].split(":")[0], "polarity": LABELS[k].split(":")[1],
                 "confidence": 0.8, "detectors": ["rules"], "evidence": "An evidence sentence.",
                 "start": 0, "end": 21, "cue": "", "cue_start": 0, "cue_end": 0, "assertion": []}
                for d, k in zip(owners, labels, strict=True)]
        yield docs, tags


def fill(engine: Engine, n_docs: int, tags_per_doc: float, seed: int = 0) -> int:
    """Insert the synthetic store; returns the number of tags written."""
    written = 0
    with engine.begin() as connection:
        for docs, tags in chunks(n_docs, tags_per_doc, 20_000, seed):
            connection.execute(insert(Document), docs)
            connection.execute(insert(Analysis), [
                {"id": d["current_analysis_id"], "document_id": d["id"], "version": 1, "text": "",
                 "content_hash": "", "meta": {}, "labels": []} for d in docs])
            connection.execute(insert(Tag), tags)
            written += len(tags)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return written


def timings(client: TestClient, headers: dict[str, str], repeat: int) -> list[tuple[str, float]]:
    """The first call (which builds the store's label index), then each route's median."""
    start = time.perf_counter()
    assert client.get(ROUTES[0][0], headers=headers).status_code == 200
    out = [(f"{ROUTES[0][0]} (first call after a change: builds the index)",
            time.perf_counter() - start)]
    for path, params in ROUTES:
        assert client.get(path, params=params, headers=headers).status_code == 200, path
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path, params=params, headers=headers)
            runs.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
        query = "&".join(f"{k}={v}" for k, v in params.items())
        out.append((f"{path}?{query}" if query else path, statistics.median(runs)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--tags", type=int, default=1_000_000, help="approximate tag count")
    parser.add_argument("--tags-per-doc", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app(ServiceSettings(database_url=url))
        engine = app.state.engine
        start = time.perf_counter()
        n_docs = int(args.tags / args.tags_per_doc)
        written = fill(engine, n_docs, args.tags_per_doc)
        print(f"{engine.dialect.name}: {n_docs:,} documents, {written:,} tags stored in "
              f"{time.perf_counter() - start:.0f} s")
        with app.state.sessions() as session:
            headers = {"X-API-Key": create_key(session, Role.qa_lead, "bench").token}
        client = TestClient(app)
        for route, seconds in timings(client, headers, args.repeat):
            print(f"{seconds:8.3f} s  {route}")
        engine.dispose()


if __name__ == "__main__":
    main()
