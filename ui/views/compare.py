"""Compare: 2-6 services side by side, one row per aspect, every cell cited to the lines it comes from."""

from __future__ import annotations

import streamlit as st

from kb.models import ComparisonTable, ServiceInfo
from ui import render
from ui.client import ApiError
from ui.state import api_down_stop, api, catalogue, passage_context, show_error

MIN_SERVICES, MAX_SERVICES = 2, 6
CONTEXT_LINES = 3
# The example the issue asks for; matched by id first, then by name, so a renamed catalogue entry still fits.
EXAMPLE = [("sqs", "SQS"), ("sns", "SNS"), ("kinesis-data-streams", "Kinesis Data Streams")]


def example_selection(services: list[ServiceInfo]) -> list[str]:
    """SQS, SNS and Kinesis Data Streams as the catalogue names them; those it lacks are left out."""
    chosen: list[str] = []
    for service_id, name in EXAMPLE:
        found = next((s for s in services if s.id == service_id), None)
        found = found or next((s for s in services if s.name.lower() == name.lower()), None)
        found = found or next((s for s in services if name.lower() in (a.lower() for a in s.aliases)), None)
        if found is None and service_id == "kinesis-data-streams":
            found = next((s for s in services if s.id == "kinesis" or s.name.lower() == "kinesis"), None)
        if found is not None and found.id not in chosen:
            chosen.append(found.id)
    return chosen


def slug(table: ComparisonTable, names: dict[str, str]) -> str:
    return "-vs-".join(names.get(s, s) for s in table.services).lower().replace(" ", "-")


def show_table(table: ComparisonTable, names: dict[str, str], requested_aspects: list[str] | None) -> None:
    """The table, what it lacks, its downloads and its sources; `requested_aspects`: those asked for (None: defaults)."""
    st.html(render.comparison_html(table, names))
    missing = sum(c.status == "not_in_notes" for c in table.cells)
    conflicts = sum(c.status == "conflict" for c in table.cells)
    notes = []
    if missing:
        notes.append(f"{missing} cell{'s' if missing != 1 else ''} not in your notes")
    if conflicts:
        notes.append(f"⚠ {conflicts} where your notes disagree with each other")
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.caption(" · ".join(notes) if notes else "Every cell is backed by your notes.")
    with right.container(horizontal=True, horizontal_alignment="right"):
        name = slug(table, names)
        # The files are fetched from GET /compare/export on click (not on every rerun: each is a compare on the
        # server), so they are exactly what the API and `kb compare --format` give.
        client = api()
        st.download_button(
            "Markdown", lambda: client.export(table.services, requested_aspects, "md"), file_name=f"{name}.md",
            mime="text/markdown", icon=":material/download:", on_click="ignore", key="compare_md",
        )
        st.download_button(
            "CSV", lambda: client.export(table.services, requested_aspects, "csv"), file_name=f"{name}.csv", mime="text/csv",
            icon=":material/download:", on_click="ignore", key="compare_csv",
        )

    sources = render.sources(table)
    if not sources:
        return
    st.markdown("##### Sources")
    with st.container(key="kb-sources"):
        for n, citation in sources:
            with st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False):
                # The button first, so the buttons line up however long the quote is.
                lines = st.popover(
                    "lines", key=f"src-{n}-{citation.id or 'none'}", on_change="rerun", type="tertiary",
                    icon=":material/notes:", disabled=not citation.id,
                    help=None if citation.id else "This source names no passage to open",
                )
                st.html(render.source_line_html(n, citation), width="stretch")
            if citation.id and lines.open:
                marks = {line: [n] for line in range(citation.start_line, citation.end_line + 1)}
                with lines:
                    try:
                        context = passage_context(citation.id, CONTEXT_LINES)
                    except ApiError as exc:
                        show_error(exc, "Could not load the lines")
                    else:
                        st.html(render.passage_head_html(context.passage) + render.context_html(context, marks))


st.title("Compare services")
try:
    services = catalogue()
except ApiError as exc:
    api_down_stop(exc)
names = {s.id: s.name for s in services}
offered = sorted((s.id for s in services if s.chunk_count > 0), key=lambda i: names[i].lower())
if "compare_services" not in st.session_state:
    st.session_state["compare_services"] = [i for i in example_selection(services) if i in offered]
known_aspects: list[str] = st.session_state.get("compare_known_aspects", [])

with st.form("compare_form", border=False):
    services_col, aspects_col, button_col = st.columns([5, 5, 1.2], vertical_alignment="bottom")
    services_col.multiselect(
        f"Services ({MIN_SERVICES}–{MAX_SERVICES})", offered, key="compare_services", max_selections=MAX_SERVICES,
        format_func=lambda i: names.get(i, i), placeholder="Pick services to compare",
        # No "Select N matches" row: Enter then takes the highlighted row, the best match for what was typed.
        select_all=False,
    )
    aspects_col.multiselect(
        "Aspects (optional)", known_aspects, key="compare_aspects", accept_new_options=True,
        placeholder="Empty: the default aspects. Type to add your own",
    )
    submitted = button_col.form_submit_button("Compare", type="primary", key="compare_submit", width="stretch")

if submitted:
    chosen = st.session_state.get("compare_services", [])
    aspects = [a.strip() for a in st.session_state.get("compare_aspects", []) if a.strip()]
    st.session_state.pop("compare_result", None)
    if not MIN_SERVICES <= len(chosen) <= MAX_SERVICES:
        st.warning(f"Pick between {MIN_SERVICES} and {MAX_SERVICES} services.")
    else:
        try:
            with st.spinner(f"Comparing {', '.join(names.get(i, i) for i in chosen)} in your notes…"):
                table = api().compare(chosen, aspects or None)
        except ApiError as exc:
            show_error(exc, "Could not compare")
        else:
            st.session_state["compare_result"] = table
            st.session_state["compare_result_aspects"] = aspects or None
            st.session_state["compare_known_aspects"] = list(dict.fromkeys([*known_aspects, *table.aspects]))

result: ComparisonTable | None = st.session_state.get("compare_result")
if result is not None:
    show_table(result, names, st.session_state.get("compare_result_aspects"))
elif not submitted:
    st.caption(
        "Pick two to six services and press Compare. Each cell quotes your notes and cites its lines; "
        "“not in notes” means none of your notes says it."
    )
