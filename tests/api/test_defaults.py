"""Every default lives in Settings: the library reads it there, and the API's schema and `kb --help` state it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kb.config import DEFAULTS, Settings
from kb.core import KnowledgeBase
from kb.errors import BadQuery
from kb.testing import HashingEmbedder

QUESTION = "How long does SQS keep messages?"


def knowledge_base(settings: Settings, **changes: object) -> KnowledgeBase:
    return KnowledgeBase(settings.model_copy(update=changes), embedder=HashingEmbedder())


def test_ask_without_k_draws_from_default_ask_k_passages(settings: Settings):
    one = knowledge_base(settings, default_ask_k=1).ask(QUESTION)
    four = knowledge_base(settings, default_ask_k=4).ask(QUESTION)
    assert len(one.passages) == 1 and len(four.passages) == 4
    assert four.passages == knowledge_base(settings).ask(QUESTION, k=4).passages


def test_passage_context_default_and_bound_come_from_settings(settings: Settings):
    kb = knowledge_base(settings, default_passage_context=1, max_passage_context=2)
    passage_id = kb.search("sqs retention", k=1).results[0].id
    context = kb.passage(passage_id)
    assert context.passage.start_line - context.before_start_line <= 1
    assert context.after_end_line - context.passage.end_line <= 1
    kb.passage(passage_id, context=2)
    with pytest.raises(BadQuery, match="between 0 and 2 lines, got 3"):
        kb.passage(passage_id, context=3)


def test_the_api_schema_states_the_settings_defaults(client: TestClient):
    schema = client.get("/openapi.json").json()
    ask = schema["components"]["schemas"]["AskRequest"]["properties"]
    assert ask["k"]["default"] == DEFAULTS.default_ask_k == 5
    assert f"({DEFAULTS.max_query_chars})" in ask["question"]["description"]
    (context,) = [p for p in schema["paths"]["/passages/{passage_id}"]["get"]["parameters"] if p["name"] == "context"]
    assert context["schema"]["maximum"] == DEFAULTS.max_passage_context == 20
    assert context["schema"]["default"] == DEFAULTS.default_passage_context == 3
    too_far = client.get("/passages/anything", params={"context": DEFAULTS.max_passage_context + 1})
    assert too_far.status_code == 422


def test_kb_help_states_the_settings_defaults():
    from kb.cli import app

    runner = CliRunner()
    assert f"[default: {DEFAULTS.default_ask_k}]" in runner.invoke(app, ["ask", "--help"], env={"COLUMNS": "200"}).output
    assert f"[default: {DEFAULTS.default_k}]" in runner.invoke(app, ["search", "--help"], env={"COLUMNS": "200"}).output
