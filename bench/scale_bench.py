"""Scale-out figures: search latency, ingest time and peak memory of each store backend at growing sizes, and
requests/s of 1 and 2 `kb serve` replicas on one index.

usage: python bench/scale_bench.py stores [--sizes 1361,100000] [--backends faiss,milvus] [--queries 100]
       python bench/scale_bench.py replicas [--index DIR] [--seconds 20] [--clients 16]

`stores` runs each (backend, size) in a process of its own, so its peak memory (ru_maxrss) is that run's alone.
A run writes one build's stores as kb/store's writer does, `size` chunks: one vector store of `size` unit vectors
(384 dimensions, random: a store's speed does not depend on what the vectors mean) and the lexical store of `size`
texts made of words drawn from the shipped notes, then times what one search asks of the stores: the best 200
vectors for a query vector, the same within one service's rows (a scalar filter, 1 row in 20), and BM25 scores of
every chunk for a 4-word query. The shipped notes are 1,361 chunks; a real build also has ~6 line vectors a chunk,
in a second store of the same kind. Milvus is Milvus Lite (KB_MILVUS_URI unset: a file in a temporary folder).

`replicas` starts `kb serve` over a copy of an index (default KB_INDEX_DIR), drives it with `--clients` closed-loop
clients on /search for `--seconds`, then does the same with two replicas on the same folder, the clients split
between them (as behind a load balancer). Both runs share this machine's cores: on 2 cores two replicas cannot
answer more than one, and the figure says how much the second one costs or gains there, not on two machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.config import PROJECT_ROOT, Settings, get_settings  # noqa: E402

DIMENSION = 384
TOP = 200
SERVICE_SHARE = 20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def note_words() -> list[str]:
    """The words of the shipped notes, in order (their frequencies are the notes' own)."""
    text = " ".join(path.read_text(encoding="utf-8", errors="replace") for path in sorted((PROJECT_ROOT / "data" / "notes").iterdir()))
    return re.findall(r"[A-Za-z][A-Za-z0-9-]+", text)


def synthetic(size: int, queries: int, seed: int = 1) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """`size` unit vectors and texts of 40-120 note words; `queries` query vectors and 4-word query texts."""
    rng = np.random.default_rng(seed)
    words = np.array(note_words())
    vectors = rng.normal(size=(size, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    lengths = rng.integers(40, 120, size=size)
    starts = rng.integers(0, len(words) - 120, size=size)
    texts = [" ".join(words[s : s + n]) for s, n in zip(starts, lengths)]
    query_vectors = rng.normal(size=(queries, DIMENSION)).astype(np.float32)
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
    query_texts = [" ".join(rng.choice(words, 4)) for _ in range(queries)]
    return vectors, texts, query_vectors, query_texts


def one_run(backend_name: str, size: int, queries: int) -> dict:
    """Write and search one build's stores with one backend; the figures as a dict (printed as JSON)."""
    from kb.store import backend as backend_of

    vectors, texts, query_vectors, query_texts = synthetic(size, queries)
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as work:
        index_dir = Path(work) / "index"
        build = index_dir / "builds" / "bench"
        build.mkdir(parents=True)
        settings = Settings(index_dir=index_dir, backend=backend_name)
        stores = backend_of(settings)
        started = time.perf_counter()
        stores.vector_store.write(build, "chunks", vectors)
        stores.lexical_store.write(build, texts)
        ingest_s = time.perf_counter() - started
        vector_store = stores.vector_store.open(build, "chunks", size, DIMENSION)
        lexical_store = stores.lexical_store.open(build, size)
        opened_s = time.perf_counter() - started - ingest_s
        allowed = np.arange(0, size, SERVICE_SHARE)
        timings: dict[str, list[float]] = {"dense": [], "filtered": [], "bm25": []}
        for vector, text in zip(query_vectors, query_texts):
            for name, call in (
                ("dense", lambda: vector_store.search(vector[None, :], TOP)),
                ("filtered", lambda: vector_store.search(vector[None, :], TOP, allowed_rows=allowed)),
                ("bm25", lambda: lexical_store.scores(text)),
            ):
                started = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - started)
        if backend_name == "milvus":
            from kb.store.milvus_store import close_clients

            close_clients()
    return {
        "backend": backend_name,
        "size": size,
        "ingest_s": round(ingest_s, 1),
        "open_s": round(opened_s, 1),
        **{f"{name}_p50_ms": round(percentile(values, 0.5), 1) for name, values in timings.items()},
        **{f"{name}_p99_ms": round(percentile(values, 0.99), 1) for name, values in timings.items()},
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def stores_command(sizes: list[int], backends: list[str], queries: int) -> None:
    print(f"{'backend':<8}{'chunks':>9}{'ingest s':>10}{'open s':>8}{'dense p50/p99 ms':>19}{'filter p50/p99':>17}"
          f"{'bm25 p50/p99':>15}{'peak MB':>9}")
    for size in sizes:
        for backend_name in backends:
            done = subprocess.run(
                [sys.executable, __file__, "one", "--backend", backend_name, "--size", str(size), "--queries", str(queries)],
                capture_output=True, text=True,
            )
            if done.returncode != 0:
                print(f"{backend_name:<8}{size:>9}  failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{r['backend']:<8}{r['size']:>9}{r['ingest_s']:>10}{r['open_s']:>8}"
                f"{r['dense_p50_ms']:>11}/{r['dense_p99_ms']:<7}{r['filtered_p50_ms']:>9}/{r['filtered_p99_ms']:<7}"
                f"{r['bm25_p50_ms']:>7}/{r['bm25_p99_ms']:<7}{r['peak_mb']:>9}",
                flush=True,
            )


def replicas_command(index: Path, seconds: float, clients: int) -> None:
    from contextlib import ExitStack

    from load import Phase, drive, questions, rss_mb  # bench/load.py

    from kb.testing import free_port, running, serve_command, server_env, wait_http

    pool = questions()
    with tempfile.TemporaryDirectory(prefix="scale-replicas-") as work:
        index_dir = Path(work) / "index"
        shutil.copytree(index, index_dir, ignore=shutil.ignore_patterns(".lock"))
        print(f"{'replicas':<10}{'clients':>8}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}{'RSS MB each':>14}")
        for count in (1, 2):
            ports = [free_port() for _ in range(count)]
            with ExitStack() as stack:
                processes = [
                    stack.enter_context(running(serve_command(index_dir, port), Path(work) / f"serve-{port}.log", server_env()))
                    for port in ports
                ]
                urls = [f"http://127.0.0.1:{port}" for port in ports]
                for url, process, port in zip(urls, processes, ports):
                    wait_http(f"{url}/health", 240, process, Path(work) / f"serve-{port}.log")
                phases = [Phase(f"{count} replicas", clients // count) for _ in urls]
                deadline = time.monotonic() + seconds

                async def all_replicas() -> None:
                    await asyncio.gather(*(
                        drive(url, phase, ["/search"], lambda: time.monotonic() >= deadline, pool) for url, phase in zip(urls, phases)
                    ))

                asyncio.run(all_replicas())
                latencies = [latency for phase in phases for latency in phase.latencies]
                elapsed = max(phase.seconds for phase in phases)
                errors = sum(phase.errors for phase in phases)
                memory = "/".join(f"{rss_mb(p.pid) or 0:.0f}" for p in processes)
                print(f"{count:<10}{clients:>8}{len(latencies) / elapsed:>8.1f}{percentile(latencies, 0.5):>8.0f}"
                      f"{percentile(latencies, 0.99):>8.0f}{errors:>8}{memory:>14}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    stores = commands.add_parser("stores")
    stores.add_argument("--sizes", default="1361,100000")
    stores.add_argument("--backends", default="faiss,milvus")
    stores.add_argument("--queries", type=int, default=100)
    one = commands.add_parser("one")
    one.add_argument("--backend", required=True)
    one.add_argument("--size", type=int, required=True)
    one.add_argument("--queries", type=int, default=100)
    replicas = commands.add_parser("replicas")
    replicas.add_argument("--index", type=Path, default=None)
    replicas.add_argument("--seconds", type=float, default=20.0)
    replicas.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if args.command == "stores":
        stores_command([int(s) for s in args.sizes.split(",")], args.backends.split(","), args.queries)
    elif args.command == "one":
        print(json.dumps(one_run(args.backend, args.size, args.queries)))
    else:
        replicas_command(args.index or get_settings().index_dir, args.seconds, args.clients)


if __name__ == "__main__":
    main()
