"""The Streamlit pages in AppTest, against the fake API of conftest.py (the real client over canned JSON)."""

from __future__ import annotations

import json

import pytest

from kb.config import get_settings

PAGES = {"ask": "Ask your notes", "browse": "Browse", "compare": "Compare services", "index": "Index"}


def html_of(app) -> str:
    """Every st.html body of the page but the style sheet."""
    return "\n".join(element.value for element in app.html if not element.value.lstrip().startswith("<style>"))


def ask(app, question: str):
    app.text_input(key="ask_question").input(question)
    return app.button(key="ask_submit").click().run()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_error(open_app, page):
    app = open_app(page)
    assert not app.exception
    assert not app.error
    assert app.title[0].value == PAGES[page]


def test_a_question_shows_the_answer_with_markers_and_cited_lines(open_app, fake_api):
    app = ask(open_app(), "How long are messages kept in SQS?")
    assert not app.exception and not app.error
    page = html_of(app)
    assert "SQS keeps messages for 4 days by default" in page
    # The [1] marker links to the passage it cites; the footnote names file:line.
    assert 'href="#kb-p-3f9a2c1d0b7e4a11"' in page
    assert "aws-developer-notes.md:1261" in page and "aws-developer-notes.md:1263" in page
    # The cited lines are highlighted in the passage, the others are not.
    assert '<div class="kb-line kb-hit"><span class="kb-ln">1261</span>' in page
    assert '<div class="kb-line"><span class="kb-ln">1259</span>' in page
    assert "AWS Developer › SQS, SNS, Kinesis:" in page
    (request,) = fake_api.calls("POST", "/ask")
    assert json.loads(request.content) == {"question": "How long are messages kept in SQS?"}


def test_the_service_filter_is_sent_with_the_question(open_app, fake_api):
    app = open_app()
    app.selectbox(key="ask_service").select("sqs")
    ask(app, "What is a FIFO queue?")
    (request,) = fake_api.calls("POST", "/ask")
    assert json.loads(request.content) == {"question": "What is a FIFO queue?", "service": "sqs"}
    assert "only passages about SQS" in "\n".join(m.value for m in app.markdown)


def test_recent_questions_are_one_click_buttons(open_app, fake_api):
    app = ask(open_app(), "How long are messages kept in SQS?")
    ask(app, "What is the capital of France?")
    recent = [b for b in app.sidebar.button if b.key and b.key.startswith("recent-")]
    assert [b.label for b in recent] == ["What is the capital of France?", "How long are messages kept in SQS?"]
    recent[1].click().run()
    assert not app.exception
    assert len(fake_api.calls("POST", "/ask")) == 3
    assert app.text_input(key="ask_question").value == "How long are messages kept in SQS?"
    assert "SQS keeps messages for 4 days" in html_of(app)


def test_an_abstention_says_so_plainly_and_shows_the_nearest_passages(open_app):
    app = ask(open_app(), "What is the capital of France?")
    page = html_of(app)
    assert "Your notes do not seem to cover this" in page
    assert "kb-answer" not in page
    assert "aws-developer-notes.md:1289" in page and "SNS - one message to many receivers" in page


def test_an_empty_question_asks_for_one_without_calling_the_api(open_app, fake_api):
    app = ask(open_app(), "   ")
    assert "Type a question" in app.warning[0].value
    assert not fake_api.calls("POST", "/ask")


def test_surrounding_lines_are_fetched_only_when_opened(open_app, fake_api):
    app = ask(open_app(), "How long are messages kept in SQS?")
    assert not fake_api.calls("GET", "/passages/")
    assert [e.label for e in app.expander] == ["show surrounding lines"]
    app.session_state["ctx-cited-3f9a2c1d0b7e4a11"] = True
    app.run()
    (request,) = fake_api.calls("GET", "/passages/")
    assert request.url.path == "/passages/3f9a2c1d0b7e4a11"
    page = html_of(app)
    assert "kb-muted" in page and "delay queue - by default" in page


def test_compare_preselects_the_example_and_shows_a_table(open_app, fake_api):
    app = open_app("compare")
    assert app.multiselect(key="compare_services").value == ["sqs", "sns", "kinesis-data-streams"]
    app.button(key="compare_submit").click().run()
    assert not app.exception and not app.error
    (request,) = fake_api.calls("POST", "/compare")
    assert json.loads(request.content) == {"services": ["sqs", "sns", "kinesis-data-streams"]}
    table = next(e.value for e in app.html if "kb-compare" in e.value)
    assert table.count("<tr>") == 4  # header + one row per aspect
    assert "<th>SQS</th><th>SNS</th><th>Kinesis Data Streams</th>" in table
    assert "not in notes" in table
    assert "⚠ conflict" in table and "aws-saa-notes.txt:2210" in table
    assert "best-effort ordering &lt;b&gt;" in table
    sources = html_of(app)
    assert 'id="kb-src-1"' in sources and "aws-developer-notes.md:1257" in sources
    assert {b.label for b in app.get("download_button")} == {"Markdown", "CSV"}
    # The files come from GET /compare/export when a button is clicked: showing the table compares only once.
    assert not fake_api.calls("GET", "/compare/export")


def test_compare_sends_free_text_aspects(open_app, fake_api):
    app = open_app("compare")
    app.multiselect(key="compare_aspects").set_value(["Max message size"])
    app.button(key="compare_submit").click().run()
    (request,) = fake_api.calls("POST", "/compare")
    assert json.loads(request.content)["aspects"] == ["Max message size"]


def test_compare_wants_at_least_two_services(open_app, fake_api):
    app = open_app("compare")
    app.multiselect(key="compare_services").set_value(["sqs"])
    app.button(key="compare_submit").click().run()
    assert "between 2 and 6" in app.warning[0].value
    assert not fake_api.calls("POST", "/compare")


def test_browse_groups_services_by_category_with_counts(open_app):
    app = open_app("browse")
    groups = {p.label: p.options for p in app.get("button_group")}
    assert groups["**Messaging** · 2"] == ["SNS · 17", "SQS · 42"]
    assert "**Developer tools** · 1" not in groups  # Amplify has no passages: hidden until asked for


def test_browse_search_filters_services_and_searches_passages(open_app, fake_api):
    app = open_app("browse")
    app.text_input(key="browse_query").input("queue").run()
    assert [p.options for p in app.get("button_group")] == [["SQS · 42"]]
    assert fake_api.calls("GET", "/search")[0].url.params["q"] == "queue"
    assert "aws-developer-notes.md:1255-1265" in html_of(app)


def test_a_service_page_renders_note_text_safely(open_app):
    app = open_app("browse", service="sqs")
    assert not app.exception and not app.error
    assert app.title[0].value == "SQS"
    page = html_of(app)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<img" not in page and "[image]</span>" in page
    # Passages grouped by file, in line order, with file:lines; the outline links to them.
    assert page.index("aws-architect-notes.md:3-6") < page.index("aws-developer-notes.md:1255-1265")
    outline = "\n".join(e.value for e in app.sidebar.get("html"))
    assert 'href="#kb-p-0c0ffee0a1b2c3d4">Region</a>' in outline


def test_an_unknown_service_offers_suggestions(open_app):
    app = open_app("browse", service="sqss")
    assert "Unknown service" in app.error[0].value
    assert {b.label for b in app.button} >= {"sqs", "sns"}


def test_index_page_shows_what_health_says(open_app):
    app = open_app("index")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Note files"] == "3"
    assert metrics["Passages (chunks)"] == "1,234"
    assert metrics["Services mentioned"] == "4"
    assert metrics["Built (UTC)"] == "2025-01-01 12:00"
    assert "all-MiniLM-L6-v2" in app.caption[1].value
    assert "broken.md" in app.warning[0].value and "not UTF-8" in app.warning[0].value


def test_index_page_without_an_index_says_how_to_build_one(open_app, make_client):
    import httpx

    def no_index(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"status": "no_index", "detail": "No index at data/index.", "error": "IndexNotBuilt"})

    app = open_app("index", client=make_client(no_index))
    assert "no usable index" in app.warning[0].value and "kb ingest" in app.warning[0].value


@pytest.mark.parametrize("page", PAGES)
def test_an_api_that_is_down_gives_a_clear_error_with_the_url(open_app, closed_port_url, monkeypatch, page):
    monkeypatch.setenv("KB_API_URL", closed_port_url)
    get_settings.cache_clear()
    app = open_app(page, client=None)
    assert not app.exception
    (error,) = app.error
    assert "Cannot reach the notes-kb API" in error.value
    assert closed_port_url in error.value
    assert "Traceback" not in error.value


def test_a_history_click_keeps_only_about_on_all_services(open_app, fake_api):
    app = ask(open_app(), "How long are messages kept in SQS?")
    ask(app, "What is the capital of France?")
    assert app.selectbox(key="ask_service").value == ""
    next(b for b in app.sidebar.button if b.key == "recent-1").click().run()
    # The empty string is the "All services" option; None was shown by Streamlit as "Choose an option".
    only_about = app.selectbox(key="ask_service")
    assert only_about.value == "" and only_about.format_func(only_about.value) == "All services"
    assert json.loads(fake_api.calls("POST", "/ask")[-1].content) == {"question": "How long are messages kept in SQS?"}


def test_the_url_carries_the_question_and_a_fresh_session_asks_it(open_app, fake_api):
    app = ask(open_app(), "How long are messages kept in SQS?")
    assert app.query_params["q"] == "How long are messages kept in SQS?"
    fresh = open_app(q="What is a FIFO queue?", service="sqs")  # a reload, or a link someone shared
    assert not fresh.exception
    assert json.loads(fake_api.calls("POST", "/ask")[-1].content) == {"question": "What is a FIFO queue?", "service": "sqs"}
    assert fresh.text_input(key="ask_question").value == "What is a FIFO queue?"
    assert fresh.selectbox(key="ask_service").value == "sqs"
    assert "SQS keeps messages for 4 days" in html_of(fresh)
    fresh.run()  # a rerun of the same URL does not ask again
    assert len(fake_api.calls("POST", "/ask")) == 2
