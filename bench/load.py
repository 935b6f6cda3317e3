"""Load on the HTTP API: requests/s and p50/p99 at 1, 8 and 32 clients for /search and /ask, errors under a
reindex, and the server's resident memory over the whole run.

usage: python bench/load.py [--seconds 60] [--index DIR] [--clients 1,8,32] [--reindex-clients 16]

It copies the index (default KB_INDEX_DIR or data/index; built into a temporary directory from the shipped notes
when there is none, which takes minutes) and the notes into a temporary directory, starts `kb serve` over the copy
on a free loopback port with the real model, and drives it with closed-loop clients (each sends its next request
when the last one is answered) over keep-alive HTTP connections. `--seconds` is the length of the whole run: 3/4
of it is split evenly between the endpoint x clients phases, the last 1/4 (at least until the rebuild is served)
runs /search and /ask together while `POST /admin/reindex` rebuilds from the notes, one line of which was edited
so that the rebuild re-embeds something. Memory is the server's VmRSS from /proc, sampled every 0.25 s. `cpu ms`
is the server's CPU time per answer (from /proc): on a machine shared with other work it tells a change that made a
request cheaper from a run that merely had the cores to itself.

Goal: zero errors everywhere, p99 <= 300 ms at 32 clients, memory flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kb.config import get_settings
from kb.testing import LOAD_QUESTIONS, free_port, kb_command, running, serve_command, server_env, wait_http

PROJECT = Path(__file__).resolve().parent.parent

EDITED_NOTE = "aws-developer-notes.md"
EDIT = "\nSQS long polling waits up to 20 seconds for a message to arrive (added by bench/load.py).\n"


def questions() -> list[str]:
    """The built-in questions, and the shared evaluation set's when it is there (more variety, same notes)."""
    dev = PROJECT.parent / "shared" / "eval" / "dev.jsonl"
    extra = []
    if dev.is_file():
        extra = [json.loads(line)["question"] for line in dev.read_text().splitlines() if line.strip()]
    return LOAD_QUESTIONS + extra


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class MemorySampler(threading.Thread):
    """The server's resident memory every `interval` seconds, with the time of each sample."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            value = rss_mb(self.pid)
            if value is not None:
                self.samples.append((time.monotonic(), value))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


@dataclass
class Phase:
    name: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu_s: float | None = None

    @property
    def errors(self) -> int:
        return len(self.failures) + sum(n for status, n in self.statuses.items() if status != 200)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        rps = len(self.latencies) / self.seconds if self.seconds else 0.0
        cpu = self.server_cpu_s * 1000 / len(self.latencies) if self.server_cpu_s is not None and self.latencies else None
        return (
            f"{self.name:<16}{self.clients:>8}{rps:>10.1f}{self.percentile(0.50):>10.0f}{self.percentile(0.99):>10.0f}"
            f"{self.percentile(1.0):>10.0f}{len(self.latencies):>10}{self.errors:>8}"
            + (f"{cpu:>10.1f}" if cpu is not None else f"{'-':>10}")
        )


def request_for(endpoint: str, question: str) -> tuple[str, str, dict]:
    if endpoint == "/search":
        return "GET", "/search", {"params": {"q": question, "k": 10}}
    return "POST", "/ask", {"json": {"question": question}}


async def drive(base_url: str, phase: Phase, endpoints: list[str], until: Callable[[], bool], pool: list[str]) -> None:
    """`phase.clients` closed-loop clients until `until()` is true; every answer's status and time are counted."""
    limits = httpx.Limits(max_connections=phase.clients, max_keepalive_connections=phase.clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:

        async def one_client(number: int) -> None:
            n = number
            while not until():
                method, path, kwargs = request_for(endpoints[n % len(endpoints)], pool[n % len(pool)])
                n += phase.clients
                started = time.perf_counter()
                try:
                    response = await client.request(method, path, **kwargs)
                except httpx.HTTPError as exc:
                    phase.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                phase.latencies.append(time.perf_counter() - started)
                phase.statuses[response.status_code] = phase.statuses.get(response.status_code, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(one_client(i) for i in range(phase.clients)))
        phase.seconds = time.monotonic() - started


def run_phase(
    base_url: str, phase: Phase, endpoints: list[str], seconds: float, pool: list[str], pid: int | None = None
) -> Phase:
    deadline = time.monotonic() + seconds
    before = cpu_seconds(pid) if pid else None
    asyncio.run(drive(base_url, phase, endpoints, lambda: time.monotonic() >= deadline, pool))
    after = cpu_seconds(pid) if pid else None
    if before is not None and after is not None:
        phase.server_cpu_s = after - before
    return phase


def reindex_phase(
    base_url: str, admin_key: str, clients: int, seconds: float, pool: list[str], pid: int | None = None
) -> tuple[Phase, dict]:
    """/search and /ask together while a rebuild runs; goes on until the rebuild is served and `seconds` passed."""
    phase = Phase("both + reindex", clients)
    headers = {"X-API-Key": admin_key}
    state: dict = {}
    started = time.monotonic()

    def rebuild() -> None:
        time.sleep(min(2.0, seconds / 4))
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            job = client.post("/admin/reindex")
            state["post_status"] = job.status_code
            job_id = job.json().get("job_id")
            while time.monotonic() - started < 600:
                status = client.get("/admin/reindex").json()
                last = status.get("last")
                if status.get("running") is None and last and last.get("job_id") == job_id:
                    state["job"], state["serving"] = last, status.get("serving_build_id")
                    return
                time.sleep(0.25)
            state["job"] = {"state": "timed out", "error": "the rebuild did not finish in 600 s"}

    worker = threading.Thread(target=rebuild, daemon=True)
    worker.start()
    deadline = started + seconds
    before = cpu_seconds(pid) if pid else None
    asyncio.run(drive(base_url, phase, ["/search", "/ask"], lambda: time.monotonic() >= deadline and "job" in state, pool))
    after = cpu_seconds(pid) if pid else None
    if before is not None and after is not None:
        phase.server_cpu_s = after - before  # the rebuild's CPU too
    worker.join(5)
    return phase, state


def prepare(index: Path, work: Path) -> tuple[Path, Path]:
    """Copies of the index and the notes to work on, one note edited so that a rebuild has something to embed."""
    notes = work / "notes"
    shutil.copytree(get_settings().notes_dir, notes)
    copy = work / "index"
    if index.joinpath("manifest.json").is_file():
        shutil.copytree(index, copy, ignore=shutil.ignore_patterns(".lock"))
    else:
        print(f"no index at {index}: building one from the shipped notes (this takes minutes)", flush=True)
        subprocess.run([*kb_command(), "ingest", "--notes", str(notes), "--index", str(copy)], check=True)
    with (notes / EDITED_NOTE).open("a", encoding="utf-8") as note:
        note.write(EDIT)
    return notes, copy


def memory_report(samples: list[tuple[float, float]], marks: dict[str, float]) -> list[str]:
    if not samples:
        return ["memory: no samples (is /proc mounted?)"]
    values = [v for _, v in samples]
    tenth = max(1, len(values) // 10)
    first, last = sum(values[:tenth]) / tenth, sum(values[-tenth:]) / tenth
    out = [
        f"server RSS over {samples[-1][0] - samples[0][0]:.0f} s ({len(values)} samples): start {values[0]:.0f} MB, "
        f"peak {max(values):.0f} MB, end {values[-1]:.0f} MB; mean of first 10% {first:.0f} MB, of last 10% {last:.0f} MB "
        f"(drift {last - first:+.0f} MB)"
    ]
    for name, when in marks.items():
        before = [v for t, v in samples if t <= when]
        if before:
            out.append(f"  RSS at the end of {name}: {before[-1]:.0f} MB")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the whole run (default 60)")
    parser.add_argument("--index", type=Path, default=None, help="index to copy (default KB_INDEX_DIR or data/index)")
    parser.add_argument("--clients", default="1,8,32", help="client counts for the /search and /ask phases")
    parser.add_argument("--reindex-clients", type=int, default=16, help="clients during the reindex phase")
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]
    pool = questions()
    admin_key = secrets.token_urlsafe(24)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kb-load-") as tmp:
        work = Path(tmp)
        notes, index = prepare(args.index or get_settings().index_dir, work)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = server_env(KB_NOTES_DIR=str(notes), KB_ADMIN_KEYS=admin_key)
        with running(serve_command(index, port), work / "server.log", env) as process:
            try:
                wait_http(f"{base_url}/health", 300, process, work / "server.log")
            except RuntimeError as exc:
                raise SystemExit(f"kb serve did not come up: {exc}") from None
            sampler = MemorySampler(process.pid)
            try:
                for path in ("/search", "/ask"):  # a few answers before timing: lazy state, connection set-up
                    run_phase(base_url, Phase("warm-up", 2), [path], 1.0, pool)
                sampler.start()
                phases: list[Phase] = []
                marks: dict[str, float] = {}
                phase_seconds = args.seconds * 0.75 / (2 * len(client_counts))
                for endpoint in ("/search", "/ask"):
                    for clients in client_counts:
                        phase = Phase(endpoint, clients)
                        phases.append(run_phase(base_url, phase, [endpoint], phase_seconds, pool, process.pid))
                        marks[f"{endpoint} x {clients}"] = time.monotonic()
                under_reindex, rebuild = reindex_phase(
                    base_url, admin_key, args.reindex_clients, args.seconds * 0.25, pool, process.pid
                )
                marks["reindex phase"] = time.monotonic()
                phases.append(under_reindex)
                health = httpx.get(f"{base_url}/health", timeout=10).json()
            finally:
                sampler.stop()
        server_log = (work / "server.log").read_text(errors="replace")

    print(f"\nkb serve on loopback, model {health.get('model', {}).get('name')}, {health.get('chunks')} chunks, "
          f"{os.cpu_count()} CPUs; KB_MODEL_CONCURRENCY={get_settings().model_concurrency}, "
          f"KB_TORCH_THREADS={get_settings().torch_threads or 'server default'}")
    # Other processes on the machine take CPU from the server and the clients alike: say how busy it was.
    print(f"load average (1 min) before the run {load_before[0]:.1f}, after it {os.getloadavg()[0]:.1f}")
    print(
        f"{'endpoint':<16}{'clients':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'requests':>10}"
        f"{'errors':>8}{'cpu ms':>10}"
    )
    for phase in phases:
        print(phase.line())
    job = rebuild.get("job", {})
    result = job.get("result") or {}
    print(
        f"reindex: POST {rebuild.get('post_status')}, {job.get('state')} in {job.get('seconds')} s, re-embedded "
        f"{result.get('reembedded')} of {result.get('lines', 0) + result.get('chunks', 0)} texts; serving "
        f"{rebuild.get('serving')} (was a new build: {rebuild.get('serving') == result.get('build_id')}); "
        f"errors during it: {under_reindex.errors}" + (f"; error: {job.get('error')}" if job.get("error") else "")
    )
    for line in memory_report(sampler.samples, marks):
        print(line)
    failures = [f for phase in phases for f in phase.failures]
    total_errors = sum(phase.errors for phase in phases)
    print(f"errors in all phases: {total_errors}" + (f" (first: {failures[0]})" if failures else ""))
    if "Traceback" in server_log:
        print("the server log holds a traceback:\n" + server_log[server_log.index("Traceback"):][:3000])


if __name__ == "__main__":
    main()
