"""KB_BACKEND=milvus end to end on Milvus Lite: builds, rebuilds, swaps and failures through ingest and the facade,
and the dev questions scored as with FAISS."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from pydantic import SecretStr
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from ingest.build import build_index  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.core import KnowledgeBase  # noqa: E402
from kb.evaluation import evaluate, load_questions  # noqa: E402
from kb.index import FetchedRows  # noqa: E402
from kb.store import backend  # noqa: E402
from kb.store.milvus_store import close_clients  # noqa: E402
from kb.testing import HashingEmbedder  # noqa: E402
from tests.api.conftest import write_notes  # noqa: E402
from tests.conftest import EVAL_DIR, SHIPPED_NOTES  # noqa: E402

QUERIES = ["sqs message retention", "how big can an object in S3 be", "lambda timeout", "visibility timeout"]
KINESIS_NOTE = "# Streaming\n\n## Amazon Kinesis\n\nKinesis keeps records for 24 hours by default.\n"


@pytest.fixture
def milvus_settings(tmp_path: Path):
    """Settings of an index folder on the Milvus backend (a Milvus Lite file of its own), and notes to build it from."""
    notes_dir = write_notes(tmp_path / "notes")
    yield Settings(notes_dir=notes_dir, index_dir=tmp_path / "index", backend="milvus", milvus_uri=str(tmp_path / "milvus.db"))
    close_clients()


def build(settings: Settings, embedder=None):
    return build_index(settings.notes_dir, settings.index_dir, embedder or HashingEmbedder(), backend=backend(settings))


def collections(settings: Settings) -> list[str]:
    """The collections of builds (each build's three stores; not the files and serving collections they share)."""
    from kb.store.milvus_store import MilvusPlace

    place = MilvusPlace.of(settings)
    shared = {place.named("files"), place.named("serving")}
    return sorted(set(place.index_client(settings.index_dir).list_collections()) - shared)


def ranked_ids(knowledge_base: KnowledgeBase, query: str, service: str | None = None) -> list[str]:
    return [hit.id for hit in knowledge_base.search(query, k=5, service=service).results]


def test_a_milvus_build_answers_as_a_faiss_build_of_the_same_notes(milvus_settings: Settings, tmp_path: Path) -> None:
    faiss_settings = milvus_settings.model_copy(update={"backend": "faiss", "index_dir": tmp_path / "faiss-index"})
    build(milvus_settings)
    build(faiss_settings)
    on_milvus = KnowledgeBase(milvus_settings, embedder=HashingEmbedder())
    on_faiss = KnowledgeBase(faiss_settings, embedder=HashingEmbedder())
    for query in QUERIES:
        assert ranked_ids(on_milvus, query) == ranked_ids(on_faiss, query), query
        assert ranked_ids(on_milvus, query, service="sqs") == ranked_ids(on_faiss, query, service="sqs"), query
    build_id = on_milvus.manifest.build_id
    assert collections(milvus_settings) == sorted(
        f"notes_kb_{build_id.replace('-', '_')}_{store}" for store in ("bm25", "chunks", "lines")
    )
    # Only the build folder's text files: the vectors and the BM25 index are in Milvus.
    folder = milvus_settings.index_dir / "builds" / build_id
    assert not list(folder.glob("*.faiss")) and not (folder / "bm25").exists()


def test_a_rebuild_reuses_vectors_swaps_builds_and_drops_collections_two_builds_old(
    milvus_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    first = build(milvus_settings)
    knowledge_base = KnowledgeBase(milvus_settings, embedder=HashingEmbedder())
    (milvus_settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    with caplog.at_level(logging.WARNING):
        second = build(milvus_settings)
    # A server's log stays clean through a rebuild (its tests fail on any ERROR or traceback in it).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    # The embedding cache reads the previous build's vectors back from Milvus: only the new note is embedded.
    assert 0 < second.reembedded <= 3 and second.reused == first.reembedded
    assert knowledge_base.reload_if_changed()
    assert knowledge_base.search("kinesis records 24 hours", k=1).results[0].file == "kinesis.md"
    third = build(milvus_settings)
    names = collections(milvus_settings)
    assert not any(first.build_id.replace("-", "_") in name for name in names)  # dropped with its folder
    for report in (second, third):  # the serving build and the one before it stay
        assert sum(report.build_id.replace("-", "_") in name for name in names) == 3


def fail_a_rebuild(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild (a note added) that fails after writing its vector collections, before the swap: the disk is full."""
    from kb.store.milvus_store import MilvusLexicalStores

    def full(self, directory: Path, texts: list[str]) -> None:
        raise OSError(28, "No space left on device")

    (settings.notes_dir / "kinesis.md").write_text(KINESIS_NOTE)
    with monkeypatch.context() as patch:
        patch.setattr(MilvusLexicalStores, "write", full)
        with pytest.raises(OSError, match="No space"):
            build(settings)


def test_a_failed_rebuild_leaves_the_old_collections_serving(milvus_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build(milvus_settings)
    knowledge_base = KnowledgeBase(milvus_settings, embedder=HashingEmbedder())
    before = ranked_ids(knowledge_base, "sqs message retention")

    fail_a_rebuild(milvus_settings, monkeypatch)
    assert len(collections(milvus_settings)) == 5  # the serving build's 3, the failed build's 2 vector stores
    assert knowledge_base.reload_if_changed() is False
    assert knowledge_base.manifest.build_id == first.build_id
    reopened = KnowledgeBase(milvus_settings, embedder=HashingEmbedder())
    assert ranked_ids(reopened, "sqs message retention") == before
    # The next build clears what the failed one left.
    second = build(milvus_settings)
    assert len(collections(milvus_settings)) == 6  # the previous build's 3 and its own 3
    assert KnowledgeBase(milvus_settings, embedder=HashingEmbedder()).manifest.build_id == second.build_id


class VectorsOf:
    """An embedder that answers with the vectors a FAISS build already holds (by the hash of the text embedded),
    and asks the real model only for texts it has not seen: a Milvus build of the shipped notes without
    embedding them all again."""

    def __init__(self, knowledge_base: KnowledgeBase) -> None:
        from ingest.chunker import content_hash

        self._hash = content_hash
        self._model = knowledge_base.embedder
        self.name, self.dimension = self._model.name, self._model.dimension
        self.max_tokens = getattr(self._model, "max_tokens", 256)
        index = knowledge_base.build.index
        self._known = dict(zip((c.embed_hash for c in index.chunks), knowledge_base.build.chunk_matrix))
        self._known.update(zip(index.line_hashes, knowledge_base.build.line_matrix))

    def encode(self, texts: list[str]) -> np.ndarray:
        known = [self._known.get(self._hash(text)) for text in texts]
        missing = [text for text, vector in zip(texts, known) if vector is None]
        fresh = iter(self._model.encode(missing)) if missing else iter(())
        return np.stack([vector if vector is not None else next(fresh) for vector in known]).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return self._model.count_tokens(text)


@pytest.mark.slow
def test_the_dev_questions_score_on_milvus_as_on_faiss(real_kb: KnowledgeBase, tmp_path: Path, figures: dict[str, str]) -> None:
    settings = Settings(index_dir=tmp_path / "index", backend="milvus", milvus_uri=str(tmp_path / "milvus.db"))
    try:
        build_index(SHIPPED_NOTES, settings.index_dir, VectorsOf(real_kb), max_tokens=settings.chunk_max_tokens, backend=backend(settings))
        on_milvus = KnowledgeBase(settings, embedder=real_kb.embedder)
        # The vectors stay in Milvus: the Retriever asks it for the best chunks instead of multiplying a matrix.
        assert isinstance(on_milvus.build.chunk_matrix, FetchedRows) and isinstance(on_milvus.build.line_matrix, FetchedRows)
        questions = load_questions(EVAL_DIR / "dev.jsonl")
        ranked: dict[str, list[list[str]]] = {"faiss": [], "milvus": []}
        took: dict[str, list[float]] = {"faiss": [], "milvus": []}

        def search(name: str, knowledge_base: KnowledgeBase, question: str) -> list[dict]:
            started = time.perf_counter()
            hits = knowledge_base.search(question, k=10).results
            took[name].append(time.perf_counter() - started)
            ranked[name].append([h.id for h in hits])
            return [h.model_dump() for h in hits]

        scored = {
            name: evaluate(questions, lambda q, n=name, kb=knowledge_base: search(n, kb, q)).overall
            for name, knowledge_base in (("faiss", real_kb), ("milvus", on_milvus))
        }
        fetched = on_milvus.build.chunk_matrix.fetched
    finally:
        close_clients()
    for metric in ("recall@5", "mrr@10"):
        assert abs(scored["milvus"][metric] - scored["faiss"][metric]) <= 0.02, (metric, scored)
    assert fetched == 0  # no chunk vector was read into the server to rank
    same = sum(a == b for a, b in zip(ranked["faiss"], ranked["milvus"]))
    p50 = {name: 1000 * float(np.median(times)) for name, times in took.items()}
    figures["dev questions, FAISS vs Milvus Lite"] = (
        f"recall@5 {scored['faiss']['recall@5']:.3f} vs {scored['milvus']['recall@5']:.3f}, "
        f"MRR@10 {scored['faiss']['mrr@10']:.3f} vs {scored['milvus']['mrr@10']:.3f}; "
        f"the same top 10 for {same} of {len(questions)}; search p50 {p50['faiss']:.0f} vs {p50['milvus']:.0f} ms"
    )


def test_health_names_the_backend_and_its_uri_without_credentials(milvus_settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    build(milvus_settings)
    settings = milvus_settings.model_copy(update={"milvus_token": SecretStr("root:Milvus")})
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, embedder=HashingEmbedder()))
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["backend"] == "milvus" and body["backend_uri"] == str(milvus_settings.index_dir.parent / "milvus.db")
        assert "root:Milvus" not in health.text
        assert client.get("/search", params={"q": "sqs retention"}).json()["results"]
    faiss_app = create_app(Settings(index_dir=milvus_settings.index_dir.parent / "nothing-here"))
    with TestClient(faiss_app) as client:
        body = client.get("/health").json()
        assert body["status"] == "no_index" and body["backend"] == "faiss" and body["backend_uri"] is None
