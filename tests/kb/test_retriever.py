"""kb.retrieval.Retriever over a three-chunk build made with the hashing embedder: the pipeline without a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.build import build_index
from kb.catalogue import get_catalogue
from kb.config import Settings
from kb.core import KnowledgeBase
from kb.index import LoadedBuild, load_index
from kb.retrieval import Retriever, ServiceDescriptions, Weights
from kb.testing import HashingEmbedder

# One note, three sections: one chunk each (SQS, SNS, Lambda).
NOTE = (
    "## SQS:\n\nSQS keeps messages 4 days by default, max 14 days retention\n\n"
    "## SNS:\n\nSNS sends one message to many receivers, fan out\n\n"
    "## Lambda:\n\nLambda max execution time is 15 minutes\n"
)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "messaging.md").write_text(NOTE, encoding="utf-8")
    build_index(notes, tmp_path / "index", HashingEmbedder())
    return tmp_path / "index"


@pytest.fixture
def build(index_dir: Path) -> LoadedBuild:
    loaded = LoadedBuild.of(load_index(index_dir))
    assert len(loaded.index.chunks) == 3
    return loaded


def _retriever(build: LoadedBuild, describe: bool = False, **settings: float) -> Retriever:
    embedder = HashingEmbedder()
    return Retriever(
        build,
        lambda text: embedder.encode([text]),
        get_catalogue(),
        Weights.of(Settings(**settings)),
        ServiceDescriptions(embedder.encode) if describe else None,
    )


def _services(build: LoadedBuild, ranked: list[tuple[int, float]]) -> list[list[str]]:
    return [build.chunk(i).service for i, _ in ranked]


def test_each_mode_ranks_the_chunk_that_says_it_first(build):
    retriever = _retriever(build)
    for mode in ("hybrid", "dense", "bm25"):
        ranking = retriever.rank("how many days retention for messages", 3, mode=mode)
        assert "sqs" in _services(build, ranking.ranked)[0], mode
        assert len(ranking.ranked) == 3
        scores = [score for _, score in ranking.ranked]
        assert scores == sorted(scores, reverse=True)


def test_k_caps_the_ranking_and_a_service_filter_keeps_only_its_chunks(build):
    retriever = _retriever(build)
    assert len(retriever.rank("max", 1).ranked) == 1
    filtered = retriever.rank("how many days retention for messages", 3, allowed={"lambda"}).ranked
    assert _services(build, filtered) == [["lambda"]]


def test_a_named_service_lifts_its_chunk(build):
    plain = _retriever(build, service_boost=0.0).rank("max minutes", 3).ranked
    boosted = _retriever(build, service_boost=0.5).rank("SNS max minutes", 3).ranked
    assert "lambda" in _services(build, plain)[0]
    assert "sns" in _services(build, boosted)[0]


def test_without_descriptions_there_is_no_service_guess_and_no_focus(build):
    retriever = _retriever(build, describe=False)
    signals = retriever.signals("fully managed message queue")
    assert signals.guess is None and signals.described == {}
    assert retriever.focus("fully managed message queue", signals) is None
    described = _retriever(build, describe=True).signals("fully managed message queue")
    assert described.guess is not None and described.guess.service in get_catalogue().services


def test_scores_demote_link_lists_by_the_penalty(build):
    retriever = _retriever(build, link_list_penalty=0.5)
    signals = retriever.signals("messages")
    build.link_lists = np.array([True, False, False])
    lowered = retriever.scores(signals, None)
    build.link_lists = np.zeros(3, dtype=bool)
    assert lowered[0] == pytest.approx(retriever.scores(signals, None)[0] - 0.5)


def test_knowledge_base_search_is_the_retrievers_ranking(index_dir, build):
    knowledge_base = KnowledgeBase(Settings(index_dir=index_dir), embedder=HashingEmbedder())
    for query in ("sqs retention", "fan out to many receivers", "lambda minutes"):
        ranked = knowledge_base.retriever().rank(query, 3).ranked
        hits = knowledge_base.search(query, k=3).results
        assert [h.id for h in hits] == [build.chunk(i).id for i, _ in ranked]
