"""How often an extractive answer cites the line that answers the question.

Usage: python bench/answer_bench.py [QUESTIONS.jsonl ...] [--index DIR]
For each question set (default: ../shared/eval/dev.jsonl and bench/data/heldout*.jsonl) prints the share of
questions whose first citation is on gold (its line overlaps the gold span or an `also` span, or its quote holds
every answer phrase: the rule of ../shared/eval/README.md applied to the cited line), whose citations include one
on gold, whose answer text holds every answer phrase, and the abstain rate and mean sentence count.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kb.config import PROJECT_ROOT, Settings
from kb.core import KnowledgeBase
from kb.evaluation import is_relevant, load_questions

DEFAULT_SETS = [
    PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl",
    PROJECT_ROOT / "bench" / "data" / "heldout.jsonl",
    PROJECT_ROOT / "bench" / "data" / "heldout2.jsonl",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="*", default=[str(p) for p in DEFAULT_SETS])
    parser.add_argument("--index", default=None)
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(**({"index_dir": Path(args.index)} if args.index else {})))
    for path in args.questions:
        questions = load_questions(Path(path))
        first = anywhere = phrases = abstained = sentences = 0
        for question in questions:
            answer = kb.ask(question["question"])
            cited = [
                is_relevant({"file": c.file, "start_line": c.start_line, "end_line": c.end_line, "text": c.quote}, question)
                for c in answer.citations
            ]
            first += bool(cited and cited[0])
            anywhere += any(cited)
            phrases += all(p.lower() in answer.answer.lower() for p in question["answer_phrases"])
            abstained += answer.abstained
            sentences += len(answer.citations)
        n = max(1, len(questions))
        print(
            f"{Path(path).name:16} n={len(questions):3}  first citation on gold {first / n:.3f}  "
            f"any citation on gold {anywhere / n:.3f}  all answer phrases {phrases / n:.3f}  "
            f"abstained {abstained / n:.3f}  sentences/answer {sentences / n:.2f}"
        )


if __name__ == "__main__":
    main()
