"""KnowledgeBase over a small index built with the hashing embedder: validation, browsing, reloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.build import build_index
from kb.config import Settings
from kb.core import KnowledgeBase
from kb.errors import BadQuery, IndexCorrupt, IndexNotBuilt, NotFound, UnknownService
from kb.query import clean_query
from kb.testing import HashingEmbedder

NOTES = {
    "messaging.md": "## SQS:\n\nSQS keeps messages 4 days by default\n\nmax 14 days retention\n\n## SNS:\n\nSNS - one message to many receivers, fan out\n",
    "compute.txt": "Compute notes\n\nAWS Lambda\n\n  • Max execution time is 15 minutes\n  • Memory from 128 MB to 10 GB\n",
}


@pytest.fixture
def small_kb(tmp_path: Path) -> KnowledgeBase:
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    build_index(notes, index, HashingEmbedder())
    return KnowledgeBase(Settings(index_dir=index, notes_dir=notes, describe_boost=0.0), embedder=HashingEmbedder())


def test_search_returns_exact_line_citations(small_kb):
    result = small_kb.search("sqs retention days", k=3)
    assert result.results
    top = result.results[0]
    assert top.file == "messaging.md"
    lines = NOTES["messaging.md"].splitlines()
    assert top.text == "\n".join(lines[top.start_line - 1 : top.end_line])
    assert "sqs" in top.service


@pytest.mark.parametrize("query", ["", "   ", "\u200b\u200b", "\x00"])
def test_empty_queries_are_refused(small_kb, query):
    with pytest.raises(BadQuery, match="empty"):
        small_kb.search(query)


def test_long_queries_and_bad_k_are_refused(small_kb):
    with pytest.raises(BadQuery, match="1000"):
        small_kb.search("x" * 1001)
    for k in (0, 51, -3):
        with pytest.raises(BadQuery, match="between 1 and 50"):
            small_kb.search("sqs", k=k)
    with pytest.raises(BadQuery, match="mode"):
        small_kb.search("sqs", mode="magic")  # type: ignore[arg-type]


def test_clean_query_strips_invisible_characters():
    assert clean_query("  how\u200b long\tsqs\x00 ", 100) == "how long sqs"
    assert clean_query("مرحبا SQS 🚀", 100) == "مرحبا SQS 🚀"


def test_service_filter_resolves_aliases_and_rejects_unknown(small_kb):
    hits = small_kb.search("messages", service="Simple Queue Service").results
    assert hits and all("sqs" in h.service for h in hits)
    with pytest.raises(UnknownService) as info:
        small_kb.search("messages", service="Simple Qeueu Service")
    assert "sqs" in info.value.details["suggestions"]


def test_services_and_passages(small_kb):
    ids = {s.id: s.chunk_count for s in small_kb.services()}
    assert ids.get("sqs", 0) >= 1 and ids.get("lambda", 0) >= 1
    info, chunks = small_kb.service_passages("sqs")
    assert info.id == "sqs" and chunks == sorted(chunks, key=lambda c: (c.file, c.start_line))
    context = small_kb.passage(chunks[0].id, context=2)
    assert context.passage.id == chunks[0].id
    assert context.before_start_line >= 1
    with pytest.raises(NotFound):
        small_kb.passage("../../etc/passwd")
    with pytest.raises(BadQuery):
        small_kb.passage(chunks[0].id, context=-1)


def test_ask_quotes_verbatim_or_abstains(small_kb):
    answer = small_kb.ask("how many days does sqs keep messages")
    assert not answer.abstained
    lines = NOTES["messaging.md"].splitlines()
    for citation in answer.citations:
        cited = "\n".join(lines[citation.start_line - 1 : citation.end_line])
        assert citation.quote in cited
        assert f"[{citation.n}]" in answer.answer
    declined = small_kb.ask("How do I schedule a contact with AWS Ground Station?")
    assert declined.abstained and declined.citations == []


def test_reload_picks_up_a_new_build_and_survives_a_broken_one(small_kb, tmp_path):
    old = small_kb.manifest.build_id
    assert small_kb.reload_if_changed() is False
    (tmp_path / "notes" / "extra.md").write_text("## Kinesis:\n\nshards and 7 days retention\n", encoding="utf-8")
    build_index(tmp_path / "notes", tmp_path / "index", HashingEmbedder())
    assert small_kb.reload_if_changed() is True
    assert small_kb.manifest.build_id != old
    assert "extra.md" in small_kb.manifest.files
    (tmp_path / "index" / "manifest.json").write_text("garbage", encoding="utf-8")
    assert small_kb.reload_if_changed() is False
    assert small_kb.search("kinesis shards").results  # the loaded index keeps serving


def test_missing_index_and_other_model_are_clear_errors(tmp_path, small_kb):
    with pytest.raises(IndexNotBuilt, match="kb ingest"):
        KnowledgeBase(Settings(index_dir=tmp_path / "nothing"), embedder=HashingEmbedder())
    with pytest.raises(IndexCorrupt, match="model"):
        KnowledgeBase(small_kb.settings, embedder=HashingEmbedder(dimension=32, name="other-model"))


def test_lone_surrogates_are_dropped_from_queries():
    assert clean_query("sqs \ud800retention", 100) == "sqs retention"


def test_a_line_map_pointing_past_the_chunks_is_corrupt(small_kb):
    import json

    from kb.index import LINES_FILE, build_dir, load_index

    directory = build_dir(small_kb.index_dir, small_kb.manifest.build_id)
    lines = json.loads((directory / LINES_FILE).read_text())
    lines["chunk"][0] = 10_000
    (directory / LINES_FILE).write_text(json.dumps(lines))
    with pytest.raises(IndexCorrupt, match="line map"):
        load_index(small_kb.index_dir)


def test_a_list_of_links_ranks_below_a_passage_that_says_the_same_words(tmp_path: Path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "sqs.md").write_text(
        "## SQS links\n\n- [SQS retention period](https://a)\n- [SQS retention FAQ](https://b)\n\n"
        "## SQS retention\n\nSQS retention period: 4 days by default, FAQ answer\n\n"
        "## SNS\n\nSNS fans one message out to many receivers\n\n## Lambda\n\nLambda runs code for up to 15 minutes\n",
        encoding="utf-8",
    )
    build_index(notes, tmp_path / "index", HashingEmbedder())
    settings = Settings(index_dir=tmp_path / "index", notes_dir=notes, describe_boost=0.0)
    ranked = lambda penalty: [  # noqa: E731
        hit.heading_path[-1]
        for hit in KnowledgeBase(settings.model_copy(update={"link_list_penalty": penalty}), embedder=HashingEmbedder())
        .search("SQS retention period FAQ", k=2)
        .results
    ]
    assert ranked(0.0)[0] == "SQS links"  # it matches the words best...
    assert ranked(0.1) == ["SQS retention", "SQS links"]  # ...but points elsewhere; it is still found
