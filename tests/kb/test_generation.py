"""The optional LLM answer path, against a real local HTTP server speaking OpenAI's chat-completions protocol.

Passages are real chunks of the shipped notes (chunked as the index build does, with the hashing embedder's
token counter, so no model is loaded); every kept citation is checked against the file's real lines.
"""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from kb.answer import NOT_COVERED
from kb.config import Settings
from kb.generation import completions_url, generate_answer, parse_reply
from kb.models import Answer, Citation, Hit
from tests.conftest import SHIPPED_NOTES, shipped_text
from tests.fake_llm import FakeLLM

SQS_FILE = "aws-developer-notes.md"  # "## SQS, SNS, Kinesis:" section, lines 1253-1275
LAMBDA_FILE = "aws-developer-course.txt"  # "AWS Lambda Limits to Know - per region", lines 1534-1546


@pytest.fixture(scope="module")
def chunks():
    from ingest.build import chunk_notes
    from ingest.notes import note_paths, read_note
    from kb.testing import HashingEmbedder

    records, _, _ = chunk_notes([read_note(p) for p in note_paths(SHIPPED_NOTES)], HashingEmbedder(), 200)
    return [record.chunk for record in records]


def hit_at(chunks, file: str, line: int) -> Hit:
    chunk = next(c for c in chunks if c.file == file and c.start_line <= line <= c.end_line)
    return Hit(**chunk.model_dump(), score=1.0)


def line_of(file: str, text: str) -> int:
    """The 1-based number of the only line of a shipped note that contains text."""
    numbers = [n for n, line in enumerate(shipped_text(file).split("\n"), 1) if text in line]
    assert len(numbers) == 1, (file, text, numbers)
    return numbers[0]


@pytest.fixture(scope="module")
def hits(chunks) -> list[Hit]:
    sqs = hit_at(chunks, SQS_FILE, line_of(SQS_FILE, "4 days message retention"))
    lam = hit_at(chunks, LAMBDA_FILE, line_of(LAMBDA_FILE, "Maximum execution time: 900 seconds (15 minutes)"))
    assert sqs.heading_path == ["SQS, SNS, Kinesis"] and "AWS Lambda" in lam.heading_path
    return [sqs, lam]


@pytest.fixture
def extractive(hits) -> Answer:
    line = line_of(SQS_FILE, "4 days message retention")
    quote = "4 days message retention"
    citation = Citation(n=1, id=hits[0].id, file=SQS_FILE, start_line=line, end_line=line, quote=quote)
    return Answer(
        question="How long does SQS keep messages?",
        answer="4 days message retention [1]",
        abstained=False,
        citations=[citation],
        passages=hits,
    )


def settings_for(llm: FakeLLM, **overrides) -> Settings:
    return Settings(**{"llm_url": llm.url, "llm_timeout_s": 5.0, **overrides})


def assert_quotes_verbatim(answer: Answer) -> None:
    for citation in answer.citations:
        lines = shipped_text(citation.file).split("\n")
        cited = "\n".join(lines[citation.start_line - 1 : citation.end_line])
        assert citation.quote.strip() and citation.quote in cited, citation
        passage = next(p for p in answer.passages if p.id == citation.id)
        assert passage.start_line <= citation.start_line <= citation.end_line <= passage.end_line


def test_supported_sentences_are_kept_with_line_level_citations(llm, hits, extractive):
    llm.answer(
        "SQS has 4 days message retention [1]. "
        "The maximum execution time of a Lambda function is 900 seconds (15 minutes) [2]."
    )
    answer = generate_answer(extractive.question, hits, extractive, settings_for(llm))
    assert answer.answer == (
        "SQS has 4 days message retention [1]. "
        "The maximum execution time of a Lambda function is 900 seconds (15 minutes) [2]."
    )
    assert not answer.abstained and answer.passages == hits
    first, second = answer.citations
    assert (first.n, first.id, first.file) == (1, hits[0].id, SQS_FILE)
    assert first.start_line == first.end_line == line_of(SQS_FILE, "4 days message retention")
    assert first.quote == "4 days message retention"
    assert (second.n, second.id, second.file) == (2, hits[1].id, LAMBDA_FILE)
    assert second.start_line == second.end_line == line_of(LAMBDA_FILE, "Maximum execution time: 900 seconds")
    assert second.quote == "Maximum execution time: 900 seconds (15 minutes)"
    assert_quotes_verbatim(answer)


def test_the_request_is_an_openai_chat_completion_with_numbered_lines(llm, hits, extractive):
    llm.answer("SQS has 4 days message retention [1].")
    generate_answer(extractive.question, hits, extractive, settings_for(llm, llm_model="tiny-test-model"))
    (request,) = llm.requests
    assert request["path"] == "/v1/chat/completions"
    body = request["json"]
    assert body["model"] == "tiny-test-model" and body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system" and "[2]" in system["content"] and "only" in system["content"]
    assert user["role"] == "user" and user["content"].endswith("Question: How long does SQS keep messages?")
    retention = line_of(SQS_FILE, "4 days message retention")
    assert f"[1] {SQS_FILE} (SQS, SNS, Kinesis)" in user["content"]
    assert f"\nL{retention}: 4 days message retention\n" in user["content"]
    assert f"[2] {LAMBDA_FILE}" in user["content"]
    assert "\nL1: " not in user["content"] and "Authorization" not in request["headers"]


def test_markers_are_renumbered_in_order_and_a_span_of_adjacent_lines_is_one_citation(llm, hits, extractive):
    llm.answer(
        "Lambda function deployment size is 50 MB compressed and 250 MB uncompressed [2]. "
        "SQS has 4 days message retention [1]. "
        "Each SQS message can be up to 256kb [1]."
    )
    answer = generate_answer(extractive.question, hits, extractive, settings_for(llm))
    assert answer.answer == (
        "Lambda function deployment size is 50 MB compressed and 250 MB uncompressed [1]. "
        "SQS has 4 days message retention [2]. Each SQS message can be up to 256kb [3]."
    )
    span, retention, size = answer.citations
    assert [c.n for c in answer.citations] == [1, 2, 3]
    assert span.file == LAMBDA_FILE and span.end_line == span.start_line + 1
    assert span.start_line == line_of(LAMBDA_FILE, "Lambda function deployment size (compressed .zip): 50 MB")
    assert "50 MB\n" in span.quote and span.quote.endswith("(code + dependencies): 250 MB")
    assert retention.file == size.file == SQS_FILE
    assert size.quote == "256kb per message" and size.start_line == line_of(SQS_FILE, "256kb per message")
    assert_quotes_verbatim(answer)


@pytest.mark.parametrize(
    "unsupported",
    [
        "SQS keeps messages for 14 days [1].",  # a figure the cited passage does not hold
        "SQS encrypts every message with KMS by default [1].",  # key words not in the cited lines
        "Lambda memory goes up to 3008 MB [5].",  # a passage that was not sent
        "Lambda memory allocation goes up to 3008 MB.",  # no marker at all
        "Lambda concurrency executions can not be increased [2].",  # negation flipped
        "SQS has 4 days message retention [2].",  # true, but not what the cited passage says
    ],
)
def test_an_unsupported_sentence_is_dropped(llm, hits, extractive, unsupported):
    llm.answer(f"SQS has 4 days message retention [1]. {unsupported}")
    answer = generate_answer(extractive.question, hits, extractive, settings_for(llm))
    assert answer.answer == "SQS has 4 days message retention [1]."
    assert [(c.n, c.quote) for c in answer.citations] == [(1, "4 days message retention")]
    assert_quotes_verbatim(answer)


def test_when_every_sentence_is_dropped_the_extractive_answer_is_returned(llm, hits, extractive, caplog):
    llm.answer("SQS keeps messages for 14 days [1]. Lambda runs for 30 minutes [2]. Ask your architect.")
    with caplog.at_level(logging.WARNING, logger="kb.generation"):
        answer = generate_answer(extractive.question, hits, extractive, settings_for(llm))
    assert answer == extractive
    assert "citation check" in caplog.text


def test_a_not_covered_reply_falls_back_to_the_extractive_answer(llm, hits, extractive):
    llm.answer("NOT COVERED")
    assert generate_answer(extractive.question, hits, extractive, settings_for(llm)) == extractive


@pytest.mark.parametrize(
    "status, body",
    [
        (500, b'{"error": {"message": "boom"}}'),
        (401, b'{"error": {"message": "bad key"}}'),
        (200, b"this is not json"),
        (200, b'{"object": "chat.completion", "choices": []}'),
        (200, b'{"choices": [{"message": {"role": "assistant", "content": null}}]}'),
    ],
)
def test_a_bad_response_falls_back_to_the_extractive_answer(llm, hits, extractive, caplog, status, body):
    llm.raw(status, body)
    with caplog.at_level(logging.WARNING, logger="kb.generation"):
        answer = generate_answer(extractive.question, hits, extractive, settings_for(llm))
    assert answer == extractive
    assert len(llm.requests) == 1 and "keeping the extractive answer" in caplog.text


def test_a_slow_server_times_out_to_the_extractive_answer(llm, hits, extractive, caplog):
    llm.raw(200, b"{}", delay_s=10)
    with caplog.at_level(logging.WARNING, logger="kb.generation"):
        answer = generate_answer(extractive.question, hits, extractive, settings_for(llm, llm_timeout_s=0.3))
    assert answer == extractive
    assert "Timeout" in caplog.text


def test_a_server_that_is_down_falls_back_to_the_extractive_answer(hits, extractive, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(llm_url=f"http://127.0.0.1:{port}/v1", llm_timeout_s=2.0)
    with caplog.at_level(logging.WARNING, logger="kb.generation"):
        answer = generate_answer(extractive.question, hits, extractive, settings)
    assert answer == extractive
    assert "ConnectError" in caplog.text


def test_an_abstained_answer_is_returned_without_asking_the_model(llm, hits):
    abstained = Answer(question="What is AWS Quantum Ledger?", answer=NOT_COVERED, abstained=True, passages=hits)
    llm.answer("SQS has 4 days message retention [1].")
    assert generate_answer(abstained.question, hits, abstained, settings_for(llm)) is abstained
    assert llm.requests == []


def test_without_an_llm_url_nothing_is_asked(llm, hits, extractive):
    assert generate_answer(extractive.question, hits, extractive, Settings()) is extractive
    assert llm.requests == []


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/chat/completions"])
def test_llm_url_with_or_without_v1(llm, hits, extractive, suffix):
    base = llm.url.removesuffix("/v1")
    llm.answer("SQS has 4 days message retention [1].")
    answer = generate_answer(extractive.question, hits, extractive, settings_for(llm, llm_url=base + suffix))
    assert answer.answer == "SQS has 4 days message retention [1]."
    assert [r["path"] for r in llm.requests] == ["/v1/chat/completions"]


def test_completions_url_keeps_another_version_segment():
    base = "https://example.test/openai/v1beta"
    assert completions_url(base + "/") == base + "/chat/completions"


def test_the_api_key_is_sent_as_a_bearer_token(llm, hits, extractive):
    llm.answer("SQS has 4 days message retention [1].")
    generate_answer(extractive.question, hits, extractive, settings_for(llm, llm_api_key="sk-test-123"))
    assert llm.requests[0]["headers"]["Authorization"] == "Bearer sk-test-123"


def test_a_given_client_is_used(llm, hits, extractive):
    llm.answer("SQS has 4 days message retention [1].")
    with httpx.Client(headers={"X-From-Caller": "yes"}) as client:
        answer = generate_answer(extractive.question, hits, extractive, settings_for(llm), client=client)
    assert answer.answer == "SQS has 4 days message retention [1]."
    assert llm.requests[0]["headers"]["X-From-Caller"] == "yes"


def test_parse_reply_reads_the_usual_marker_styles():
    reply = (
        "- SQS keeps 4 days. [1] Lambda (L1538) runs 900 seconds [2][1]!\n\n"
        "2. Both apply [1, 2]. An ALB works at L7 [Passage 3].\nSources: none"
    )
    parsed = [(s.text, s.markers) for s in parse_reply(reply)]
    assert parsed == [
        ("SQS keeps 4 days.", [1]),
        ("Lambda runs 900 seconds!", [2, 1]),
        ("Both apply.", [1, 2]),
        ("An ALB works at L7.", [3]),
        ("Sources: none", []),
    ]
