"""Load benchmark of the caselens service; prints figures, asserts nothing.

1. HTTP: starts ``caselens serve`` on loopback with a fresh SQLite database,
   then 16 concurrent clients send a fixed number of requests,
   ``POST /v1/analyse`` (a 200-word document) interleaved with ``GET /health``
   in the same run; prints requests/s, p50 and p99 latency per route, and the
   CPU time the server's processes spent per analyse request (with its health
   request), which a busy machine disturbs less than the rates. With
   ``--runs N`` the whole measurement (a fresh server each time) is repeated
   and the median of each figure over the runs is printed as well;
   ``--detectors`` sets ``CASELENS_DETECTORS`` for the server.
2. Batch: writes a CSV of synthetic case notes (100,000 rows by default) and
   runs ``caselens batch`` on it; prints documents/s.

    python benchmarks/api_load.py [--requests 2000] [--clients 16] [--workers 2]
                                  [--runs 1] [--detectors rules|model|all]
                                  [--batch-rows 100000] [--skip-http] [--skip-batch]
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CASELENS = str(Path(sys.executable).with_name("caselens"))

# Synthetic recording sentences (written for this benchmark).
SENTENCES = [
    "The social worker visited the family home on Tuesday and spoke with both parents.",
    "There is no chronology on file and the history of referrals has not been analysed.",
    "Supervision took place this month but the record is a list of tasks without reflection.",
    "The child was seen alone at school and said she feels safe with her grandmother.",
    "The plan does not say what will happen if the parents do not engage with the work.",
    "Health visitor information was shared promptly and informed the strategy discussion.",
    "The assessment has not been updated since the mother's new partner moved in.",
    "Direct work with words and pictures helped the younger child understand the plan.",
    "The case has been open for fourteen months without a review of the core group.",
    "The independent reviewing officer challenged the delay in the permanence plan.",
    "Mother reported that things are better at home and this was accepted without checking.",
    "The team manager recorded a clear rationale for stepping the case down to early help.",
]


def document(words: int, seed: int) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        out.append(rng.choice(SENTENCES))
    return " ".join(out)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process and its children so far (Linux ``/proc``; None elsewhere)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0
        for proc in [str(pid), *children]:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    except (OSError, IndexError, ValueError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_clients(
    base: str, key: str, text: str, total: int, clients: int
) -> dict[str, list[float]]:
    """``total`` requests, alternating analyse and health, shared by ``clients`` workers."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait("analyse" if i % 2 == 0 else "health")
    latencies: dict[str, list[float]] = {"analyse": [], "health": []}
    failures: dict[str, int] = {"analyse": 0, "health": 0}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while not queue.empty():
                kind = queue.get_nowait()
                start = time.perf_counter()
                if kind == "analyse":
                    response = await http.post("/v1/analyse", json={"text": text},
                                               headers={"X-API-Key": key})
                else:
                    response = await http.get("/health")
                elapsed = time.perf_counter() - start
                if response.status_code == 200:
                    latencies[kind].append(elapsed)
                else:
                    failures[kind] += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    if any(failures.values()):
        print(f"  failed requests: {failures}")
    return latencies


def http_benchmark(args: argparse.Namespace, workdir: Path) -> dict[str, tuple[float, float, float]]:
    """One measurement; returns (requests/s, p50 ms, p99 ms) per route."""
    database = workdir / "bench.sqlite"
    database.unlink(missing_ok=True)
    env = {**os.environ, "CASELENS_DATABASE_URL": f"sqlite:///{database}"}
    if args.detectors:
        env["CASELENS_DETECTORS"] = args.detectors
    key = subprocess.run([CASELENS, "keys", "create", "--role", "auditor"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [CASELENS, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    text = document(200, seed=1)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the service did not start")
            time.sleep(0.2)
        # warm every worker's pipeline before measuring
        asyncio.run(run_clients(base, key, text, 8 * args.workers, args.clients))
        cpu_before = server_cpu_seconds(server.pid)
        started = time.perf_counter()
        latencies = asyncio.run(run_clients(base, key, text, args.requests, args.clients))
        wall = time.perf_counter() - started
        cpu_after = server_cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"HTTP: {args.requests} requests, {args.clients} clients, {args.workers} workers, "
          f"{len(text.split())}-word document, {wall:.1f} s")
    figures: dict[str, tuple[float, float, float]] = {}
    for kind, values in latencies.items():
        if not values:
            continue
        figures[kind] = (len(values) / wall, 1000 * statistics.median(values),
                         1000 * percentile(values, 0.99))
        print(f"  {kind:8s} n={len(values):5d}  {figures[kind][0]:7.1f} req/s  "
              f"p50 {figures[kind][1]:7.1f} ms  p99 {figures[kind][2]:7.1f} ms")
    if cpu_before is not None and cpu_after is not None and latencies["analyse"]:
        per_request = 1000 * (cpu_after - cpu_before) / len(latencies["analyse"])
        print(f"  server CPU {per_request:.1f} ms per analyse request (with its health request)")
    return figures


def print_medians(runs: list[dict[str, tuple[float, float, float]]]) -> None:
    print(f"HTTP, median of {len(runs)} runs:")
    for kind in runs[0]:
        rate, p50, p99 = (statistics.median(run[kind][i] for run in runs if kind in run)
                          for i in range(3))
        print(f"  {kind:8s} {rate:7.1f} req/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")


def batch_benchmark(args: argparse.Namespace, workdir: Path) -> None:
    source = workdir / "batch.csv"
    areas = ["early_help", "help_and_protection", "children_in_care", "care_leavers"]
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "case_id", "date", "service_area", "team", "doc_type", "text"])
        for i in range(args.batch_rows):
            writer.writerow([f"b{i}", f"C{i % 5000}", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                             areas[i % 4], f"Team {i % 9}", "case_note",
                             document(args.batch_words, seed=i)])
    out = workdir / "batch_out.jsonl"
    started = time.perf_counter()
    subprocess.run([CASELENS, "batch", str(source), "--out", str(out), "--no-progress",
                    "--processes", str(args.batch_processes)], check=True)
    wall = time.perf_counter() - started
    print(f"Batch: {args.batch_rows} rows of ~{args.batch_words} words, "
          f"{args.batch_processes} processes: {wall:.1f} s, {args.batch_rows / wall:.1f} documents/s "
          "(including start-up)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="repeat the HTTP measurement")
    parser.add_argument("--detectors", default="", help="CASELENS_DETECTORS for the server")
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--batch-words", type=int, default=60)
    parser.add_argument("--batch-processes", type=int, default=2)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="caselens-bench-") as tmp:
        if not args.skip_http:
            runs = [http_benchmark(args, Path(tmp)) for _ in range(max(1, args.runs))]
            if len(runs) > 1:
                print_medians(runs)
        if not args.skip_batch:
            batch_benchmark(args, Path(tmp))


if __name__ == "__main__":
    main()
