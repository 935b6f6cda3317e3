"""Browse: the service catalogue by category, and a service's passages from every note, in line order."""

from __future__ import annotations

from collections import defaultdict

import streamlit as st

from kb.models import ServiceInfo
from ui import render
from ui.render import category_title
from ui.client import ApiError
from ui.state import api, api_down_stop, catalogue, show_error

COLUMNS = 3
SEARCH_K = 8
NOTE_WINDOW = 300  # lines shown around a cited line; the whole note is a toggle away


def open_service(widget_key: str) -> None:
    chosen = st.session_state.get(widget_key)
    if chosen:
        st.query_params["service"] = chosen
        st.session_state[widget_key] = None


def go_to(service_id: str) -> None:
    st.query_params["service"] = service_id


def close_service() -> None:
    st.query_params.pop("service", None)


def matches(service: ServiceInfo, query: str) -> bool:
    words = query.lower().split()
    haystack = " ".join([service.id, service.name, service.full_name, service.category, *service.aliases]).lower()
    return all(word in haystack for word in words)


def show_catalogue() -> None:
    st.title("Browse")
    query = st.text_input(
        "Search", key="browse_query", placeholder="Filter services, or search the notes (e.g. visibility timeout)",
        icon=":material/search:", label_visibility="collapsed",
    ).strip()
    try:
        services = catalogue()
    except ApiError as exc:
        api_down_stop(exc)
    include_empty = st.toggle("Include services the notes never mention", key="browse_empty")
    shown = [s for s in services if (include_empty or s.chunk_count > 0) and (not query or matches(s, query))]

    if query:
        services_col, passages_col = st.columns([2, 3], gap="large")
        with services_col:
            st.markdown(f"##### Services ({len(shown)})")
            if shown:
                st.pills(
                    "Services", sorted(s.id for s in shown), key="browse_pick-search",
                    format_func=lambda i: _label(services, i), on_change=open_service, args=("browse_pick-search",),
                    label_visibility="collapsed", wrap=True,
                )
            else:
                st.caption("No service by that name.")
        with passages_col:
            st.markdown("##### Passages")
            try:
                with st.spinner("Searching…"):
                    hits = api().search(query, k=SEARCH_K).results
            except ApiError as exc:
                show_error(exc, "Could not search the notes")
            else:
                if not hits:
                    st.caption("Nothing in the notes matches.")
                st.html("".join(f'<div class="kb-block">{render.passage_head_html(h)}{render.passage_html(h)}</div>' for h in hits))
        return

    groups: dict[str, list[ServiceInfo]] = defaultdict(list)
    for service in shown:
        groups[service.category].append(service)
    st.caption(
        f"{len(shown)} services in {len(groups)} categories; the number is how many passages of your notes are about each. "
        "Pick one to read everything your notes say about it."
    )
    columns = st.columns(COLUMNS, gap="large")
    heights = [0] * COLUMNS
    for category in sorted(groups, key=lambda c: (-len(groups[c]), c)):
        members = sorted(groups[category], key=lambda s: s.name.lower())
        target = heights.index(min(heights))  # fill the shortest column
        heights[target] += len(members) + 3
        with columns[target]:
            key = f"browse_pick-{category}"
            st.pills(
                f"**{category_title(category)}** · {len(members)}", [s.id for s in members], key=key,
                format_func=lambda i: _label(services, i), on_change=open_service, args=(key,), wrap=True,
            )


def _label(services: list[ServiceInfo], service_id: str) -> str:
    service = next((s for s in services if s.id == service_id), None)
    return f"{service.name} · {service.chunk_count}" if service else service_id


def show_service(service_id: str) -> None:
    st.button("All services", icon=":material/arrow_back:", type="tertiary", on_click=close_service)
    try:
        with st.spinner("Loading the passages…"):
            detail = api().service(service_id)
    except ApiError as exc:
        show_error(exc, f"Could not open the service {service_id!r}")
        for suggestion in exc.suggestions:
            st.button(suggestion, key=f"suggest-{suggestion}", on_click=go_to, args=(suggestion,))
        return
    service = detail.service
    st.title(service.name)
    count = sum(len(f.passages) for f in detail.files)
    st.caption(
        f"{service.full_name} · {category_title(service.category)} · {count} passages in {len(detail.files)} "
        f"note file{'s' if len(detail.files) != 1 else ''}"
    )
    if service.aliases:
        st.caption("Found in the notes as: " + ", ".join(service.aliases[:12]))
    if not detail.files:
        st.info("Your notes do not mention this service.")
        return
    files = [(f.file, f.passages) for f in detail.files]
    with st.sidebar:
        # The sidebar scrolls on its own, so the outline stays at hand however far down the passages go.
        st.markdown(f"**Outline of {render.markdown_escape(service.name)}**")
        st.html(render.outline_html(files))
    for file, passages in files:
        st.markdown(f"##### {render.markdown_escape(file)}")
        st.html(render.service_file_html(file, passages))


def close_note() -> None:
    st.query_params.pop("note", None)
    st.query_params.pop("line", None)


def show_note(file: str, line: int | None) -> None:
    """A note file with line numbers, `line` highlighted and scrolled to: where a citation's file:line opens."""
    st.button("All services", icon=":material/arrow_back:", type="tertiary", on_click=close_note)
    try:
        with st.spinner(f"Loading {file}…"):
            note = api().note(file)
    except ApiError as exc:
        show_error(exc, f"Could not open the note {file!r}")
        return
    total = len(note.lines)
    target = min(max(line or 1, 1), max(total, 1))
    st.title(file)
    st.caption(f"{total} lines" + (f" · line {target} highlighted" if line else ""))
    whole = st.toggle(f"Show the whole note ({total} lines)", key="note_whole", value=total <= NOTE_WINDOW * 2)
    first = 1 if whole else max(1, target - NOTE_WINDOW // 2)
    last = total if whole else min(total, target + NOTE_WINDOW)
    if first > 1:
        st.caption(f"Lines 1–{first - 1} are above: show the whole note to read them.")
    body = render.lines_html(
        note.lines[first - 1 : last], first, {target: []} if line else {}, lead=note.lines[max(0, first - 21) : first - 1], line_ids=True
    )
    # st.html runs this script in the page itself: the highlighted line comes into view, as a #fragment would in a
    # static page (Streamlit draws the page after the browser has looked for the fragment).
    scroll = (
        f"<script>setTimeout(() => document.getElementById('kb-L{target}')?.scrollIntoView({{block: 'center'}}), 100)</script>"
        if line
        else ""
    )
    st.html(f'<div class="kb-passage kb-note">{body}</div>{scroll}', unsafe_allow_javascript=True)
    if last < total:
        st.caption(f"Lines {last + 1}–{total} are below: show the whole note to read them.")


def requested_line() -> int | None:
    try:
        return int(st.query_params.get("line", ""))
    except ValueError:
        return None


selected = st.query_params.get("service")
note_file = st.query_params.get("note")
if note_file:
    show_note(note_file, requested_line())
elif selected:
    show_service(selected)
else:
    show_catalogue()
