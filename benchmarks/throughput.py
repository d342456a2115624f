"""Throughput of the analysis path beside bare spaCy tokenisation of the same texts.

Prints documents/s and words/s (median of several runs) for ``analyse_many``
and for ``spacy.blank("en")`` tokenisation, their ratio, and the resident
memory while streaming many documents (it should stay flat).  Timings on
shared machines are noisy: read the ratio, not the absolute figures.

    python benchmarks/throughput.py --detectors rules --min-words 1000000
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from pathlib import Path

import spacy

from nlp.pipeline import Analyser
from nlp.records import read_gold

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "ofsted_ilacs" / "reports"


def load_texts(corpus: Path, min_words: int, max_chars: int) -> tuple[list[str], str]:
    """Real reports when the corpus is present, else the project's own samples, repeated."""
    if corpus.is_dir():
        source = f"{corpus} (real reports)"
        pool = [p.read_text(encoding="utf-8", errors="replace")[:max_chars] for p in sorted(corpus.glob("*.txt"))]
    else:
        source = "data_samples (corpus not present)"
        pool = [r["text"] for r in read_gold(REPO / "data_samples" / "sample_corpus.jsonl")]
    texts: list[str] = []
    words = 0
    for text in itertools.cycle(pool):
        texts.append(text)
        words += len(text.split())
        if words >= min_words:
            break
    return texts, source


def rss_mib() -> float:
    """Resident memory of this process now, in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--min-words", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--detectors", default="rules", choices=("rules", "model", "all"))
    parser.add_argument("--stream-docs", type=int, default=100_000, help="documents for the memory check (0: skip)")
    args = parser.parse_args()

    analyser = Analyser(args.detectors)
    texts, source = load_texts(args.corpus, args.min_words, analyser.settings.max_text_chars)
    n_words = sum(len(t.split()) for t in texts)
    print(f"texts: {len(texts)} documents, {n_words:,} words from {source}")

    tokenizer = spacy.blank("en")
    bare = timed(lambda: sum(1 for _ in tokenizer.pipe(texts)), args.runs)
    full = timed(lambda: sum(1 for _ in analyser.analyse_many({"text": t} for t in texts)), args.runs)
    print(f"median of {args.runs} runs")
    print(f"  bare tokenisation : {len(texts) / bare:10.1f} docs/s {n_words / bare:12,.0f} words/s")
    print(f"  caselens ({args.detectors:5s})  : {len(texts) / full:10.1f} docs/s {n_words / full:12,.0f} words/s")
    print(f"  ratio caselens / bare tokenisation: {bare / full:.3f}")

    if args.stream_docs:
        short = [t[:400] for t in texts[:200]]
        stream = ({"text": short[i % len(short)]} for i in range(args.stream_docs))
        checkpoints: list[tuple[int, float]] = []
        for n, _ in enumerate(analyser.analyse_many(stream), start=1):
            if n % (args.stream_docs // 10) == 0:
                checkpoints.append((n, rss_mib()))
        print(f"memory while streaming {args.stream_docs:,} documents (resident MiB):")
        print("  " + "  ".join(f"{n // 1000}k:{m:.0f}" for n, m in checkpoints))
        growth = checkpoints[-1][1] - checkpoints[0][1]
        print(f"  growth from first to last checkpoint: {growth:+.1f} MiB")


if __name__ == "__main__":
    main()
