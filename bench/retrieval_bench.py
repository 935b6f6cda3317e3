"""Retrieval figures on the dev set: recall@1/5/10 and MRR@10 per mode, and in-process latency of search and ask.

Usage: python bench/retrieval_bench.py [QUESTIONS.jsonl] [--index DIR]
Latency over real HTTP is bench/load.py's job; this measures the library itself against a bare query encode.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from kb.config import PROJECT_ROOT, Settings
from kb.core import KnowledgeBase
from kb.evaluation import evaluate, load_questions


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda share: ordered[min(len(ordered) - 1, int(share * len(ordered)))]  # noqa: E731
    return f"p50 {statistics.median(ordered):6.1f} ms  p95 {pick(0.95):6.1f} ms  p99 {pick(0.99):6.1f} ms"


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?", default=str(PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    parser.add_argument("--index", default=None)
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(**({"index_dir": Path(args.index)} if args.index else {})))
    kb.warm_up()
    questions = load_questions(Path(args.questions))
    print(f"{len(questions)} questions, index {kb.manifest.build_id} ({kb.manifest.chunk_count} chunks)")
    for mode in ("hybrid", "dense", "bm25"):
        report = evaluate(questions, lambda q: [h.model_dump() for h in kb.search(q, k=10, mode=mode).results])
        o = report.overall
        print(f"{mode:7} r@1 {o['recall@1']:.3f}  r@5 {o['recall@5']:.3f}  r@10 {o['recall@10']:.3f}  MRR@10 {o['mrr@10']:.3f}")
    texts = [q["question"] for q in questions]
    encode = timed(lambda q: kb.embedder.encode([q]), texts)
    search = timed(lambda q: kb.search(q, k=10), texts)
    ask = timed(lambda q: kb.ask(q), texts)
    print(f"bare query encode  {percentiles(encode)}")
    print(f"search (k=10)      {percentiles(search)}  ({statistics.median(search) / statistics.median(encode):.2f} x encode)")
    print(f"ask                {percentiles(ask)}  ({statistics.median(ask) / statistics.median(encode):.2f} x encode)")


if __name__ == "__main__":
    main()
