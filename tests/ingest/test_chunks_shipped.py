"""Every chunk of every shipped note: exact citations, full coverage, sizes the model can read, service tags."""

from __future__ import annotations

import pytest

from ingest.build import chunk_notes
from ingest.chunker import ChunkRecord
from ingest.lines import is_content
from ingest.notes import NoteFile, read_note
from ingest.readers import reader_for
from tests.conftest import SHIPPED_FILES, SHIPPED_NOTES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder():
    from kb.config import Settings
    from kb.embedder import get_embedder

    return get_embedder(Settings())


@pytest.fixture(scope="module")
def shipped(embedder) -> dict[str, tuple[NoteFile, list[ChunkRecord]]]:
    out = {}
    for name in SHIPPED_FILES:
        note = read_note(SHIPPED_NOTES / name)
        assert isinstance(note, NoteFile), note
        records, _, _ = chunk_notes([note], embedder, 200)
        out[name] = (note, records)
    return out


def test_shipped_notes_are_byte_identical_to_shared():
    shared = SHIPPED_NOTES.parent.parent.parent / "shared" / "notes"
    if not shared.is_dir():
        pytest.skip("../shared/notes is not beside this checkout")
    for name in SHIPPED_FILES:
        assert (SHIPPED_NOTES / name).read_bytes() == (shared / name).read_bytes(), name


@pytest.mark.parametrize("name", SHIPPED_FILES)
def test_chunk_text_is_exactly_its_lines(shipped, name):
    note, records = shipped[name]
    lines = note.text.splitlines()
    assert records, f"{name} produced no chunks"
    for record in records:
        c = record.chunk
        assert 1 <= c.start_line <= c.end_line <= len(lines), (name, c.start_line, c.end_line)
        if c.start_char is None:
            assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line]), (name, c.start_line, c.end_line)
        else:  # a slice of a line too long to embed whole
            assert c.start_line == c.end_line and c.text == lines[c.start_line - 1][c.start_char : c.end_char], (name, c.start_line)
        assert c.file == name


@pytest.mark.parametrize("name", SHIPPED_FILES)
def test_slices_of_a_long_line_cover_all_its_words_in_order(shipped, name):
    note, records = shipped[name]
    lines = note.text.splitlines()
    sliced: dict[int, list] = {}
    for record in records:
        if record.chunk.start_char is not None:
            sliced.setdefault(record.chunk.start_line, []).append(record.chunk)
    for number, chunks in sliced.items():
        chunks.sort(key=lambda c: c.start_char)
        assert len(chunks) > 1
        assert " ".join(c.text for c in chunks).split() == lines[number - 1].split(), (name, number)


@pytest.mark.parametrize("name", SHIPPED_FILES)
def test_every_content_line_is_in_a_chunk(shipped, name, figures):
    note, records = shipped[name]
    lines = note.text.splitlines()
    sections = reader_for(note.path, note.text).sections(note.text)
    headings = {s.heading_line for s in sections if s.heading_line}
    covered = set()
    for record in records:
        covered.update(range(record.chunk.start_line, record.chunk.end_line + 1))
    content = [n for n, line in enumerate(lines, 1) if is_content(line)]
    missing = [n for n in content if n not in covered and n not in headings]
    share = 1 - len(missing) / len(content)
    figures[f"content lines in a chunk, {name}"] = f"{share:.2%} of {len(content)}"
    assert not missing, f"{name}: lines not in any chunk: {missing[:20]}"


@pytest.mark.parametrize("name", SHIPPED_FILES)
def test_chunks_do_not_overlap_and_ids_are_unique(shipped, name):
    _, records = shipped[name]
    spans = sorted(
        ((r.chunk.start_line, r.chunk.start_char or 0), (r.chunk.end_line, r.chunk.end_char or 10**9)) for r in records
    )
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start > end
    ids = [r.chunk.id for r in records]
    assert len(ids) == len(set(ids))


def test_embedded_text_fits_the_model(shipped, embedder, figures):
    over = []
    total = 0
    for name, (_, records) in shipped.items():
        for record in records:
            total += 1
            single_line = record.chunk.start_line == record.chunk.end_line or len(record.lines) <= 1
            if embedder.count_tokens(record.embed_text) > 256 and not single_line:
                over.append((name, record.chunk.start_line, record.chunk.end_line))
    figures["multi-line chunks over 256 word pieces"] = f"{len(over)} of {total}"
    assert not over, over[:10]


# aws-advanced-topics.md names SQS once, in passing (46: "Publish message to SNS, SQS" under Step Functions).
@pytest.mark.parametrize("name", [n for n in SHIPPED_FILES if n != "aws-advanced-topics.md"])
def test_sqs_content_is_tagged_sqs(shipped, name):
    _, records = shipped[name]
    tagged = [r.chunk for r in records if "sqs" in r.chunk.service]
    assert tagged, f"no chunk of {name} is tagged sqs"
    assert any("sqs" in c.text.lower() for c in tagged)


def test_multi_service_heading_tags_all_its_services(shipped):
    _, records = shipped["aws-developer-notes.md"]
    chunk = next(r.chunk for r in records if r.chunk.start_line <= 1261 <= r.chunk.end_line)
    assert {"sqs", "sns", "kinesis"} <= set(chunk.service)


def test_saa_sqs_toggle_is_tagged_sqs(shipped):
    _, records = shipped["aws-saa-notes.txt"]
    chunk = next(r.chunk for r in records if r.chunk.start_line <= 2344 <= r.chunk.end_line)
    assert "sqs" in chunk.service
    assert "Decoupling Applications" in chunk.heading_path


def test_nested_bullet_lines_are_embedded_under_their_parent(shipped):
    # "Can invoke a Lambda function" (42) is one of the things "Invoke one AWS service" (41) covers.
    _, records = shipped["aws-advanced-topics.md"]
    unit = next(u for r in records for u in r.lines if u.line == 42)
    assert "Invoke one AWS service: " in unit.embed_text
    assert unit.embed_text.endswith("Can invoke a Lambda function")
