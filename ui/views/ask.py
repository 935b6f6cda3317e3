"""Ask: a question in, an answer with [n] markers out, and under it the cited lines of the notes."""

from __future__ import annotations

import streamlit as st

from kb.models import Answer, Chunk, ComparisonTable
from ui import render
from ui.client import ApiError
from ui.state import api, api_down_stop, catalogue, passage_context, show_error

RECENT_MAX = 8
CONTEXT_LINES = 6
TABLE_LEAD_LINES = 20  # the most /passages gives: how far above a passage its table's header is looked for
EXAMPLES = [
    "How long are messages kept in SQS?",
    "What is the difference between SNS and SQS?",
    "When should I use DynamoDB global tables?",
]


ALL_SERVICES = ""  # the selectbox's "All services": a real option, never None, which Streamlit shows as "Choose an option"


def reuse(question: str, service: str | None) -> None:
    """Put a past or example question back in the box and ask it on this rerun."""
    st.session_state["ask_question"] = question
    st.session_state["ask_service"] = service or ALL_SERVICES
    st.session_state["ask_pending"] = True


def url_question() -> tuple[str, str]:
    """The question and service in the page's URL (`?q=...&service=...`); empty strings when absent."""
    return (st.query_params.get("q") or "").strip(), (st.query_params.get("service") or "").strip()


def show_in_url(question: str, service: str) -> None:
    """Make the URL the link to this answer: a reload or a shared link asks it again."""
    st.query_params["q"] = question
    if service:
        st.query_params["service"] = service
    else:
        st.query_params.pop("service", None)
    st.session_state["ask_url"] = (question, service)


def remember(question: str, service: str | None) -> None:
    recent: list[tuple[str, str | None]] = st.session_state.setdefault("ask_recent", [])
    entry = (question, service)
    if entry in recent:
        recent.remove(entry)
    recent.insert(0, entry)
    del recent[RECENT_MAX:]


def passage_card(passage: Chunk, answer: Answer | None, key: str) -> None:
    """A passage: where it is, its heading path, its lines (cited ones highlighted), and its surroundings on demand."""
    marks = render.citation_marks(answer, passage.id) if answer else {}
    lead: list[str] = []
    if render.starts_in_table(passage):
        # The passage begins inside a table: its header row is above it in the note. Without it a row reads as
        # bare figures ("io2 | SSD | 256,000"); one more call, cached, and only for such passages.
        try:
            lead = passage_context(passage.id, TABLE_LEAD_LINES).before
        except ApiError:
            lead = []
    with st.container(border=True):
        st.html(render.passage_head_html(passage, answer) + render.passage_html(passage, marks, lead))
        # Lazy: the call to /passages only runs once the reader opens the expander.
        surrounding = st.expander("show surrounding lines", key=f"ctx-{key}-{passage.id}", on_change="rerun")
        if surrounding.open:
            try:
                context = passage_context(passage.id, CONTEXT_LINES)
            except ApiError as exc:
                with surrounding:
                    show_error(exc, "Could not load the surrounding lines")
            else:
                with surrounding:
                    st.html(render.context_html(context, marks))


def show_comparison(table: ComparisonTable) -> None:
    """A difference answer's table, compact, with a way to open the same services on the Compare page."""
    st.markdown("##### Side by side")
    st.html(render.comparison_html(table, {}))
    ids = [service_id_for(name) for name in table.services]
    if None not in ids and st.button("Open in Compare", key="ask_open_compare", icon=":material/compare_arrows:"):
        st.session_state["compare_services"] = ids
        st.switch_page("views/compare.py")


def service_id_for(name: str) -> str | None:
    """The id of the service the notes know by this name or alias."""
    key = name.strip().lower()
    return next((s.id for s in services if key in {s.id, s.name.lower(), *(a.lower() for a in s.aliases)}), None)


def show_answer(answer: Answer, service_name: str | None) -> None:
    scope = f" (only passages about {service_name})" if service_name else ""
    if answer.abstained:
        st.html(render.abstention_html(answer, scope))
        for passage in answer.passages:
            passage_card(passage, None, "near")
        return

    st.html(render.answer_html(answer) + render.footnotes_html(answer))
    if answer.comparison is not None:
        show_comparison(answer.comparison)
    cited, others = render.cited_passages(answer)
    if cited:
        st.markdown(f"##### Cited passages{scope}")
        for passage in cited:
            passage_card(passage, answer, "cited")
    if others and st.toggle(f"Show {len(others)} more passages that matched", key="ask_show_others"):
        for passage in others:
            passage_card(passage, None, "other")


st.title("Ask your notes")
st.caption("Ask in your own words. Every answer cites the exact lines of your notes it stands on.")

try:
    services = [s for s in catalogue() if s.chunk_count > 0]
except ApiError as exc:
    api_down_stop(exc)
names = {s.id: s.name for s in services}
options: list[str] = [ALL_SERVICES, *sorted(names, key=lambda i: names[i].lower())]
# A URL that is not the one this session last showed (a reload, a shared link, Back): ask its question.
linked = url_question()
if linked[0] and st.session_state.get("ask_url") != linked:
    reuse(linked[0], linked[1])
    st.session_state["ask_url"] = linked
if st.session_state.get("ask_service") not in options:
    st.session_state["ask_service"] = ALL_SERVICES

with st.form("ask_form", border=False, enter_to_submit=True):
    question_col, service_col, button_col = st.columns([7, 2.4, 1], vertical_alignment="bottom")
    question_col.text_input("Question", key="ask_question", placeholder="e.g. How long are messages kept in SQS?")
    service_col.selectbox(
        "Only about",
        options,
        key="ask_service",
        format_func=lambda i: "All services" if i == ALL_SERVICES else names[i],
    )
    submitted = button_col.form_submit_button("Ask", type="primary", key="ask_submit", width="stretch")

pending = st.session_state.pop("ask_pending", False)
if submitted or pending:
    question = (st.session_state.get("ask_question") or "").strip()
    service = st.session_state.get("ask_service") or None
    st.session_state.pop("ask_result", None)
    if not question:
        st.warning("Type a question first.")
    else:
        try:
            with st.spinner("Searching your notes…"):
                st.session_state["ask_result"] = (api().ask(question, service=service), service)
        except ApiError as exc:
            show_error(exc, "Could not get an answer")
        else:
            remember(question, service)
            show_in_url(question, service or ALL_SERVICES)

recent = st.session_state.get("ask_recent", [])
with st.sidebar:
    st.markdown("**Recent questions**")
    if not recent:
        st.caption("Your questions of this session will appear here.")
    for i, (past, past_service) in enumerate(recent):
        label = past + (f"  ·  {names.get(past_service, past_service)}" if past_service else "")
        st.button(
            render.markdown_escape(label), key=f"recent-{i}", on_click=reuse, args=(past, past_service),
            type="tertiary", icon=":material/history:",
        )

result = st.session_state.get("ask_result")
if result:
    answer, service = result
    show_answer(answer, names.get(service) if service else None)
elif not (submitted or pending):
    st.markdown("##### Try")
    with st.container(horizontal=True):
        for i, example in enumerate(EXAMPLES):
            st.button(example, key=f"example-{i}", on_click=reuse, args=(example, None), icon=":material/lightbulb:")
