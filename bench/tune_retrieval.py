"""Grid over retrieval weights on a question set, reusing one set of signals per question.

Usage: python bench/tune_retrieval.py [QUESTIONS.jsonl] [--index DIR]
Prints recall@1/5/10 and MRR@10 for each weight setting (best first). Signals are computed with the exact code
the product uses (KnowledgeBase.signals + kb.retrieval.combine), so a setting's figures are what `kb eval` gives.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from kb.config import PROJECT_ROOT, Settings
from kb.core import KnowledgeBase
from kb.evaluation import Scores, first_relevant_rank, load_questions
from kb.retrieval import Weights, combine, diversify, fuse_rrf


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?", default=str(PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    parser.add_argument("--index", default=None)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    settings = Settings(**({"index_dir": Path(args.index)} if args.index else {}), describe_boost=1.0)
    kb = KnowledgeBase(settings)
    state = kb._state
    questions = load_questions(Path(args.questions))
    vectors = kb.embedder.encode([q["question"] for q in questions])
    signals = [kb.signals(q["question"], state, v.reshape(1, -1)) for q, v in zip(questions, vectors)]
    chunks = [c.chunk.model_dump() for c in state.index.chunks]
    grid = {
        "dense_weight": [0.8, 0.85, 0.9, 0.95, 1.0],
        "line_weight": [0.6, 0.7, 0.85, 1.0],
        "service_boost": [0.0, 0.05, 0.1],
        "describe_boost": [0.0, 0.05, 0.1],
        "describe_floor": [0.45, 0.55],
    }
    rows = []
    for values in itertools.product(*grid.values()):
        weights = Weights(**dict(zip(grid, values)))
        scores = Scores()
        for question, signal in zip(questions, signals):
            s = combine(signal, state.chunk_services, weights)
            order = [int(i) for i in np.argsort(-s, kind="stable")[:60]]
            top = [chunks[i] for i in diversify(order, state.word_sets, 10)]
            scores.add(first_relevant_rank(top, question))
        rows.append((scores.summary(), dict(zip(grid, values))))
    rows.sort(key=lambda r: (-r[0]["mrr@10"], -r[0]["recall@5"]))
    for summary, values in rows[: args.top]:
        print(summary, values)
    # The alternative the issue asks about: reciprocal-rank fusion of the dense (with lines) and BM25 rankings.
    for k in (10, 60):
        scores = Scores()
        for question, signal in zip(questions, signals):
            dense = combine(signal, state.chunk_services, kb.weights(), "dense")
            rankings = [np.argsort(-dense)[:200].tolist(), np.argsort(-signal.lexical)[:200].tolist()]
            fused = fuse_rrf(rankings, len(chunks), k=k)
            order = [int(i) for i in np.argsort(-fused, kind="stable")[:60]]
            scores.add(first_relevant_rank([chunks[i] for i in diversify(order, state.word_sets, 10)], question))
        print(f"RRF k={k}:", scores.summary())


if __name__ == "__main__":
    main()
