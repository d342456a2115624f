"""Analyse chunks of records in worker processes, yielding results in input order.

Workers are started with ``spawn`` (safe beside the server's threads); each
loads the pipeline once and analyses whole chunks through ``nlp.analyse_many``.
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import nlp

#: one chunk's outcome per record: ``{"analysis": {...}}`` or ``{"error": "message"}``
Outcome = dict[str, Any]


def analyse_chunk(records: list[dict[str, Any]]) -> list[Outcome]:
    """Analyse ``records``; a record that cannot be analysed gets its error message."""
    outcomes: list[Outcome] = []
    for result in nlp.analyse_many(records, errors="collect"):
        if isinstance(result, nlp.RecordError):
            outcomes.append({"error": result.message})
        else:
            outcomes.append({"analysis": result.to_dict()})
    return outcomes


def analyse_chunks(
    chunks: Iterable[list[dict[str, Any]]], processes: int
) -> Iterator[list[Outcome]]:
    """Outcomes of each chunk, in order; ``processes`` > 1 uses that many worker processes.

    At most two chunks per process are in flight, so memory stays bounded
    however long the input is.
    """
    if processes <= 1:
        yield from map(analyse_chunk, chunks)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=context)
    pending: deque[Future[list[Outcome]]] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(analyse_chunk, chunk))
            if len(pending) >= 2 * processes:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # also when the consumer stops early: drop what has not started
        pool.shutdown(wait=True, cancel_futures=True)
