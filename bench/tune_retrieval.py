"""Grid over retrieval weights on a question set, reusing one set of signals per question.

Usage: python bench/tune_retrieval.py [QUESTIONS.jsonl] [--index DIR]
Prints recall@1/5/10 and MRR@10 for each weight setting (best first). Each setting ranks with the product's own
Retriever (kb.retrieval: scores -> focus -> demote -> top candidates -> diversify), over signals computed once per
question, so a setting's figures are what `kb eval` gives with those weights.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from kb.config import PROJECT_ROOT, Settings
from kb.core import KnowledgeBase
from kb.evaluation import Scores, first_relevant_rank, load_questions
from kb.retrieval import Retriever, Weights, combine, fuse_rrf


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?", default=str(PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    parser.add_argument("--index", default=None)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    # Both boosts on, so every question's service guess is computed; each setting below decides whether to use it.
    settings = Settings(**({"index_dir": Path(args.index)} if args.index else {}), describe_boost=1.0, focus_boost=1.0)
    kb = KnowledgeBase(settings)
    probe = kb.retriever()
    questions = load_questions(Path(args.questions))
    signals = [probe.signals(q["question"]) for q in questions]
    # The focused query of every question, whether or not a setting below finds its service guess sure enough.
    focused = [probe.focused(q["question"], s.guess) if s.guess else None for q, s in zip(questions, signals)]
    chunks = [c.chunk.model_dump() for c in probe.build.index.chunks]
    grid = {
        "dense_weight": [0.8, 0.85, 0.9],
        "line_weight": [0.5, 0.6, 0.7],
        "service_boost": [0.0, 0.05],
        "describe_boost": [0.0, 0.05],
        "focus_floor": [0.45, 0.5, 0.55],
        "focus_margin": [0.0, 0.03, 0.06],
        "focus_boost": [0.0, 0.1, 0.2, 0.3],
        "focus_mix": [0.5, 0.75],
    }
    rows = []
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values))
        weights = Weights.of(settings.model_copy(update=setting))
        retriever = Retriever(probe.build, kb.encode_query, probe.catalogue, weights, probe.descriptions)
        scores = Scores()
        for question, signal, focus in zip(questions, signals, focused):
            ranked = retriever.top(retriever.scores(signal, focus.signals if focus else None), 10)
            scores.add(first_relevant_rank([chunks[i] for i, _ in ranked], question))
        rows.append((scores.summary(), setting))
    rows.sort(key=lambda r: (-r[0]["mrr@10"], -r[0]["recall@5"]))
    for summary, values in rows[: args.top]:
        print(summary, values)
    # The alternative the issue asks about: reciprocal-rank fusion of the dense (with lines) and BM25 rankings.
    plain = kb.retriever()
    for k in (10, 60):
        scores = Scores()
        for question, signal in zip(questions, signals):
            dense = combine(signal, plain.build.chunk_services, plain.weights, "dense")
            rankings = [np.argsort(-dense)[:200].tolist(), np.argsort(-signal.lexical)[:200].tolist()]
            fused = fuse_rrf(rankings, len(chunks), k=k)
            scores.add(first_relevant_rank([chunks[i] for i, _ in plain.top(fused, 10)], question))
        print(f"RRF k={k}:", scores.summary())


if __name__ == "__main__":
    main()
