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
from kb.retrieval import Weights, apply_focus, combine, demote, diversify, focus_query, fuse_rrf


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?", default=str(PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    parser.add_argument("--index", default=None)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    settings = Settings(**({"index_dir": Path(args.index)} if args.index else {}), describe_boost=1.0, focus_boost=1.0)
    kb = KnowledgeBase(settings)
    state = kb.build
    questions = load_questions(Path(args.questions))
    vectors = kb.embedder.encode([q["question"] for q in questions])
    signals = [kb.signals(q["question"], state, v.reshape(1, -1)) for q, v in zip(questions, vectors)]
    # The focused query of every question, whether or not a setting below finds its service guess sure enough.
    focused_texts = [focus_query(q["question"], s.guess.vocabulary) for q, s in zip(questions, signals)]
    focused_vectors = kb.embedder.encode(focused_texts)
    focused = [kb.signals(t, state, v.reshape(1, -1)) for t, v in zip(focused_texts, focused_vectors)]
    chunks = [c.chunk.model_dump() for c in state.index.chunks]
    base_grid = {
        "dense_weight": [0.8, 0.85, 0.9],
        "line_weight": [0.5, 0.6, 0.7],
        "service_boost": [0.0, 0.05],
        "describe_boost": [0.0, 0.05],
    }
    focus_grid = {
        "focus_floor": [0.45, 0.5, 0.55],
        "focus_margin": [0.0, 0.03, 0.06],
        "focus_boost": [0.0, 0.1, 0.2, 0.3],
        "focus_mix": [0.5, 0.75],
    }
    rows = []
    for base in itertools.product(*base_grid.values()):
        # Combined scores depend on the base weights only; the focus step is then cheap to vary.
        base_weights = Weights.of(settings.model_copy(update=dict(zip(base_grid, base))))
        plain = [combine(s, state.chunk_services, base_weights) for s in signals]
        refocused = [combine(f, state.chunk_services, base_weights) for f in focused]
        for values in itertools.product(*focus_grid.values()):
            setting = {**dict(zip(base_grid, base)), **dict(zip(focus_grid, values))}
            weights = Weights.of(settings.model_copy(update=setting))
            scores = Scores()
            for question, signal, s, f in zip(questions, signals, plain, refocused):
                if signal.guess is not None and signal.guess.confident(weights):
                    s = apply_focus(s, f, state.chunk_services.mask(signal.guess.kin), weights)
                s = demote(s, state.link_lists, kb.settings.link_list_penalty)
                order = [int(i) for i in np.argsort(-s, kind="stable")[:60]]
                top = [chunks[i] for i in diversify(order, state.word_sets, 10)]
                scores.add(first_relevant_rank(top, question))
            rows.append((scores.summary(), setting))
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
