"""Cold `kb ask` and `kb search` from the shell, with no server: each run is a new process, as a person's is.

usage: python bench/cli_bench.py [--index DIR] [--runs N]

Prints, for each command, the median, the fastest and the slowest wall time over N runs (5 questions in turn), and
the goal of issue 13 (<= 1.5 s cold on the shipped notes). Run it on an idle machine: two cores shared with a test
suite double these figures.

Each command is timed in two states, in turn: as an installed package runs (Python writes its compiled bytecode once
and reuses it; kept in a temporary folder here, so the checkout stays clean) and with PYTHONDONTWRITEBYTECODE set, as
some containers and developer shells have it, where every run compiles kb/'s 20,000 lines again (about 0.1 s more).
The goal is judged on the first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.config import get_settings  # noqa: E402

QUESTIONS = [
    "How long does SQS keep messages?",
    "What is the maximum size of an S3 object?",
    "Does Kinesis Data Firehose support replay?",
    "How many read replicas can Aurora have?",
    "What is the difference between a security group and a NACL?",
]
GOAL_S = 1.5


def reference_loop_s() -> float:
    """Seconds a fixed pure-Python loop takes: these shared machines' speed varies by a quarter within an hour, so
    cold times are comparable only beside it."""
    started = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - started


def timed(command: str, question: str, index: Path, bytecode: dict[str, str]) -> float:
    kb_script = Path(sys.executable).with_name("kb")
    argv = [str(kb_script)] if kb_script.exists() else [sys.executable, "-m", "kb.cli"]
    started = time.perf_counter()
    done = subprocess.run(
        [*argv, command, question, "--index", str(index)],
        capture_output=True,
        text=True,
        # Nothing listens on port 9, so the command takes its local path.
        env={**_without_bytecode_settings(os.environ), **bytecode, "KB_API_URL": "http://127.0.0.1:9"},
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"`kb {command} {question!r}` failed (exit {done.returncode}):\n{done.stderr}")
    return seconds


def _without_bytecode_settings(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    index = args.index or get_settings().index_dir
    print(f"machine reference: a 5M-step Python loop takes {reference_loop_s():.2f} s")
    with tempfile.TemporaryDirectory(prefix="kb-pycache-") as cache:
        states = {"bytecode reused": {"PYTHONPYCACHEPREFIX": cache}, "no bytecode": {"PYTHONDONTWRITEBYTECODE": "1"}}
        # The first run writes the bytecode (and, after a build, fills the OS page cache): not timed.
        timed("search", QUESTIONS[0], index, states["bytecode reused"])
        for command in ("ask", "search"):
            times: dict[str, list[float]] = {state: [] for state in states}
            # The two states take turns, so a busy minute on a shared machine falls on both.
            for i in range(args.runs):
                for state, bytecode in states.items():
                    times[state].append(timed(command, QUESTIONS[i % len(QUESTIONS)], index, bytecode))
            for state, runs in times.items():
                median = statistics.median(runs)
                verdict = ""
                if state == "bytecode reused":
                    verdict = f" (goal <= {GOAL_S} s: {'met' if median <= GOAL_S else 'NOT met'})"
                print(
                    f"cold `kb {command}`, no server, {state}, {args.runs} runs: median {median:.2f} s, "
                    f"fastest {min(runs):.2f} s, slowest {max(runs):.2f} s{verdict}"
                )


if __name__ == "__main__":
    main()
