"""Every figure of the evidence layer in one run, over real HTTP, scored by the shared scorers in ../shared/eval.

usage: python bench/evidence_bench.py [--index DIR] [--api URL]

Starts `kb serve` on the index (or uses --api), then prints, for the dev sets and this repository's blind sets
(bench/data: compare_heldout.json, compare_conflicts_blind.json, heldout*.jsonl, offtopic2.jsonl, offtopic3.jsonl,
figures*_blind.jsonl; written from the notes only, never tuned on) and the second dev sets (compare_dev2.json,
compare_conflicts_dev.json, offtopic_dev2.jsonl, figures*_dev.jsonl; written the same way, tuned on):
comparison tables (score_compare.py), difference questions (score_difference.py), answers (score_answers.py:
verbatim, cite_gold, lead_gold) and questions the notes do not answer (declined), and /search vs /ask p50 latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.config import PROJECT_ROOT, get_settings  # noqa: E402
from kb.testing import kb_serve  # noqa: E402

EVAL = PROJECT_ROOT.parent / "shared" / "eval"
DATA = PROJECT_ROOT / "bench" / "data"
NOTES = PROJECT_ROOT / "data" / "notes"


def scorer(name: str, *args: str) -> str:
    """The last line a shared scorer prints."""
    done = subprocess.run([sys.executable, str(EVAL / name), *args], capture_output=True, text=True, check=False)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[-1] if lines else f"{name} printed nothing (exit {done.returncode})"


def tables_it_accepts(gold: Path, api: str) -> tuple[Path, list[str]]:
    """The gold file without the tables whose services the API refuses (the shared scorer stops at the first
    refusal), and a line for each refused table: a name the catalogue does not know is a finding, not a crash."""
    data = json.loads(gold.read_text())
    kept, refused = [], []
    for table in data["tables"]:
        body = json.dumps({"services": table["services"], "aspects": table["aspects"]}).encode()
        request = urllib.request.Request(f"{api}/compare", data=body, headers={"content-type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=60).read()
            kept.append(table)
        except urllib.error.HTTPError as exc:
            refused.append(f"{table['id']}: {json.loads(exc.read() or b'{}').get('detail', exc.code)}")
    accepted = Path(tempfile.mkdtemp()) / gold.name
    accepted.write_text(json.dumps({**data, "tables": kept}))
    return accepted, refused


def p50_ms(call, questions: list[str]) -> float:
    times = []
    for question in questions:
        start = time.perf_counter()
        call(question)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--api", default="")
    args = parser.parse_args()
    index = args.index or get_settings().index_dir
    log = Path(tempfile.mkdtemp()) / "serve.log"
    server = nullcontext(args.api) if args.api else kb_serve(index, log_path=log)
    with server as api:
        notes = str(NOTES)
        sets = [("dev", EVAL / "compare_dev.json"), ("dev2", DATA / "compare_dev2.json"), ("blind", DATA / "compare_heldout.json"),
                ("conflicts dev", DATA / "compare_conflicts_dev.json"), ("conflicts blind", DATA / "compare_conflicts_blind.json")]
        for label, gold in sets:
            accepted, refused = tables_it_accepts(gold, api)
            for line in refused:
                print(f"tables {label:15} refused {line}")
            print(f"tables {label:15}", scorer("score_compare.py", str(accepted), notes, "--api", api))
            print(f"difference {label:11}", scorer("score_difference.py", str(accepted), notes, "--api", api))
        print("answers dev         ", scorer("score_answers.py", str(EVAL / "dev.jsonl"), notes, "--api", api, "--n", "0",
                                            "--offtopic", str(DATA / "offtopic.jsonl")))
        for name in ("heldout.jsonl", "heldout2.jsonl"):
            print(f"answers {name:15}", scorer("score_answers.py", str(DATA / name), notes, "--api", api, "--n", "0"))
        for name in ("offtopic_dev2.jsonl", "offtopic2.jsonl", "offtopic3.jsonl"):
            print(f"declined {name:19}", scorer("score_answers.py", str(EVAL / "dev.jsonl"), notes, "--api", api, "--n", "1",
                                               "--offtopic", str(DATA / name)))
        # Questions asking a figure (a count, size, duration, price, year, port, limit): answered from the line that
        # states it, and declined when the notes state none.
        for answerable, absent in (("figures_dev.jsonl", "figures_absent_dev.jsonl"), ("figures_blind.jsonl", "figures_absent_blind.jsonl")):
            print(f"figures {answerable:20}", scorer("score_answers.py", str(DATA / answerable), notes, "--api", api, "--n", "0",
                                                    "--offtopic", str(DATA / absent)))
        questions = [json.loads(line)["question"] for line in (EVAL / "dev.jsonl").open() if line.strip()]

        def search(q: str) -> None:
            urllib.request.urlopen(f"{api}/search?" + urllib.parse.urlencode({"q": q, "k": 10}), timeout=30).read()

        def ask(q: str) -> None:
            body = json.dumps({"question": q}).encode()
            request = urllib.request.Request(f"{api}/ask", data=body, headers={"content-type": "application/json"})
            urllib.request.urlopen(request, timeout=30).read()

        p50_ms(search, questions[:10]), p50_ms(ask, questions[:10])  # warm-up
        search_ms, ask_ms = p50_ms(search, questions), p50_ms(ask, questions)
        print(f"latency             /search p50 {search_ms:.1f} ms, /ask p50 {ask_ms:.1f} ms, ratio {ask_ms / search_ms:.2f}")


if __name__ == "__main__":
    main()
