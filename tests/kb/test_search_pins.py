"""Search results on every dev question, pinned (ids and order), so a refactor of ranking changes nothing.

The pins in tests/kb/data/dev_search_pins.json were written from the code before the ranking moved out of
KnowledgeBase into kb.retrieval.Retriever. A change that is meant to move rankings rewrites them on purpose:
    python -m tests.kb.test_search_pins  (builds a fresh index of the shipped notes, like the session fixture)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.errors import KBError
from kb.evaluation import load_questions
from tests.conftest import EVAL_DIR

pytestmark = pytest.mark.slow

PINS = Path(__file__).parent / "data" / "dev_search_pins.json"
K = 10


def search_ids(knowledge_base, question: dict) -> dict[str, list[str]]:
    """The top-K ids of one question in each mode, and filtered to its first service when the catalogue knows it."""
    text = question["question"]
    found = {mode: [h.id for h in knowledge_base.search(text, k=K, mode=mode).results] for mode in ("hybrid", "dense", "bm25")}
    services = question.get("services") or []
    if services:
        try:
            found["service"] = [h.id for h in knowledge_base.search(text, k=K, service=services[0]).results]
        except KBError:
            found["service"] = []
    return found


def all_pins(knowledge_base) -> dict[str, dict[str, list[str]]]:
    return {q["id"]: search_ids(knowledge_base, q) for q in load_questions(EVAL_DIR / "dev.jsonl")}


def test_every_dev_question_ranks_exactly_as_pinned(real_kb):
    if not (EVAL_DIR / "dev.jsonl").exists():
        pytest.skip("../shared/eval/dev.jsonl is not beside this checkout")
    pinned = json.loads(PINS.read_text(encoding="utf-8"))
    found = all_pins(real_kb)
    assert found.keys() == pinned.keys()
    changed = {qid: (pinned[qid], found[qid]) for qid in pinned if found[qid] != pinned[qid]}
    assert not changed, f"{len(changed)} questions rank differently, first: {next(iter(changed.items()))}"


if __name__ == "__main__":
    import tempfile

    from ingest.build import build_index
    from kb.config import Settings
    from kb.core import KnowledgeBase
    from kb.embedder import get_embedder
    from tests.conftest import SHIPPED_NOTES

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(index_dir=Path(folder) / "index")
        build_index(SHIPPED_NOTES, settings.index_dir, get_embedder(settings), max_tokens=settings.chunk_max_tokens)
        PINS.write_text(json.dumps(all_pins(KnowledgeBase(settings)), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {PINS}")
