"""Abstention figures: share of off-topic questions the answerer declines, and of dev questions it wrongly declines.

Usage: python bench/abstain_bench.py [--index DIR]
Off-topic questions are bench/data/offtopic.jsonl (general questions, and AWS products the notes never mention).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kb.config import PROJECT_ROOT, Settings
from kb.core import KnowledgeBase
from kb.evaluation import load_questions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default=None)
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(**({"index_dir": Path(args.index)} if args.index else {})))
    dev = load_questions(PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl")
    off = load_questions(PROJECT_ROOT / "bench" / "data" / "offtopic.jsonl")
    false_abstains = [q for q in dev if kb.ask(q["question"]).abstained]
    kept_off = [q for q in off if not kb.ask(q["question"]).abstained]
    print(f"threshold (KB_ABSTAIN_BELOW): {kb.settings.abstain_below}")
    print(f"off-topic abstain rate: {1 - len(kept_off) / len(off):.3f} ({len(off) - len(kept_off)}/{len(off)})")
    print(f"false abstains on dev:  {len(false_abstains) / len(dev):.3f} ({len(false_abstains)}/{len(dev)})")
    for q in kept_off:
        print("  answered off-topic:", q["question"])
    for q in false_abstains:
        print("  declined dev:", q["question"])


if __name__ == "__main__":
    main()
