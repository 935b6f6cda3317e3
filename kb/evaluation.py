"""Scoring retrieval on a question set exactly as ../shared/eval/README.md says."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

MAX_PASSAGE_CHARS = 2500  # longer results never count through the answer-phrase rule: a passage, not a page


def load_questions(path: Path) -> list[dict]:
    """The questions of a JSONL file (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_relevant(passage: dict, question: dict) -> bool:
    """Overlaps the gold span or an `also` span of the same file, or contains every answer phrase."""
    file_name = (passage.get("file") or "").split("/")[-1]
    try:
        start, end = int(passage["start_line"]), int(passage["end_line"])
    except (KeyError, TypeError, ValueError):
        start, end = -1, -2
    spans = [(question["file"], question["lines"])] + [(a["file"], a["lines"]) for a in question.get("also", [])]
    if any(file_name == gold_file and start <= lines[1] and end >= lines[0] for gold_file, lines in spans):
        return True
    text = (passage.get("text") or "").lower()
    return len(text) <= MAX_PASSAGE_CHARS and all(p.lower() in text for p in question["answer_phrases"])


def first_relevant_rank(results: list[dict], question: dict, k: int = 10) -> int | None:
    return next((i + 1 for i, p in enumerate(results[:k]) if is_relevant(p, question)), None)


@dataclass
class Scores:
    ranks: list[int | None] = field(default_factory=list)

    def add(self, rank: int | None) -> None:
        self.ranks.append(rank)

    def summary(self) -> dict[str, float]:
        n = max(1, len(self.ranks))
        hit = lambda k: sum(1 for r in self.ranks if r and r <= k) / n  # noqa: E731
        return {
            "n": len(self.ranks),
            "recall@1": round(hit(1), 3),
            "recall@5": round(hit(5), 3),
            "recall@10": round(hit(10), 3),
            "mrr@10": round(sum(1 / r for r in self.ranks if r and r <= 10) / n, 3),
        }


@dataclass
class EvalReport:
    overall: dict
    by_kind: dict[str, dict]
    by_file: dict[str, dict]
    misses: list[dict]


def evaluate(questions: Iterable[dict], search: Callable[[str], list[dict]]) -> EvalReport:
    """Ask every question through `search` (10 results as dicts) and score the rankings."""
    overall, by_kind, by_file = Scores(), defaultdict(Scores), defaultdict(Scores)
    misses: list[dict] = []
    for question in questions:
        results = search(question["question"])
        rank = first_relevant_rank(results, question)
        overall.add(rank)
        by_kind[question.get("kind", "?")].add(rank)
        by_file[question["file"]].add(rank)
        if not rank or rank > 5:
            misses.append(
                {
                    "id": question.get("id"),
                    "rank": rank,
                    "question": question["question"],
                    "gold": f"{question['file']}:{question['lines'][0]}-{question['lines'][1]}",
                    "top3": [f"{p['file']}:{p['start_line']}-{p['end_line']}" for p in results[:3]],
                }
            )
    return EvalReport(
        overall=overall.summary(),
        by_kind={k: v.summary() for k, v in sorted(by_kind.items())},
        by_file={k: v.summary() for k, v in sorted(by_file.items())},
        misses=misses,
    )
