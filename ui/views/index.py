"""Index: what the API's index holds, from GET /health (files, chunks per file, model, build, skipped files)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import streamlit as st

from ui.client import ApiError
from ui.render import category_title
from ui.state import api, api_down_stop, catalogue


PROBLEM_LABELS = {"skipped": "Skipped", "bad_lines": "Bad lines in", "warning": "Warning for", "notice": "Note on"}
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}


def when(built_at: str | None) -> tuple[str, str]:
    """The build time to the minute, and the label that says its time zone."""
    if not built_at:
        return "unknown", "Built"
    try:
        moment = datetime.fromisoformat(built_at.replace("Z", "+00:00"))
    except ValueError:
        return built_at, "Built"
    utc = moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
    return moment.strftime("%Y-%m-%d %H:%M"), "Built (UTC)" if utc else "Built"


st.title("Index")
st.caption(f"What the notes-kb API at `{api().base_url}` serves.")

try:
    with st.spinner("Asking the API…"):
        health = api().health()
except ApiError as exc:
    if exc.status == 503:
        st.warning(
            f"The API is up but has no usable index: {exc.message}\n\nBuild one with `kb ingest` (or `make index`).",
            icon=":material/database_off:",
        )
        st.stop()
    api_down_stop(exc)

try:
    services = [s for s in catalogue() if s.chunk_count > 0]
except ApiError:
    services = None

cols = st.columns([1, 1, 1, 1.6])
cols[0].metric("Note files", len(health.files))
cols[1].metric("Passages (chunks)", f"{health.chunks:,}" if health.chunks is not None else "?")
cols[2].metric("Services mentioned", len(services) if services is not None else "?")
built, built_label = when(health.built_at)
cols[3].metric(built_label, built)
if health.model:
    dimension = f", {health.model['dimension']} dimensions" if health.model.get("dimension") else ""
    st.caption(
        f"Embedding model `{health.model.get('name', '?')}`{dimension} · build `{health.build_id or '?'}` "
        f"· status {health.status}"
    )

files_col, services_col = st.columns([3, 2], gap="large")
with files_col:
    st.markdown("##### Files")
    st.dataframe(
        [
            {
                "file": name,
                "reader": info.reader or "",
                "encoding": ENCODING_NAMES.get(info.encoding or "", info.encoding or ""),
                "tags": " ".join(f"#{t}" for t in info.tags),
                "chunks": info.chunks or 0,
            }
            for name, info in sorted(health.files.items())
        ],
        hide_index=True,
        column_config={
            "file": st.column_config.TextColumn("Note file", width="large"),
            "reader": st.column_config.TextColumn("Read as"),
            "encoding": st.column_config.TextColumn("Encoding"),
            "tags": st.column_config.TextColumn("Tags"),
            "chunks": st.column_config.ProgressColumn(
                "Passages", format="%d", min_value=0, max_value=max([f.chunks or 0 for f in health.files.values()] or [1]) or 1
            ),
        },
    )
    st.markdown("##### Problems")
    if health.problems:
        for problem in health.problems:
            where = f" (line {problem.line})" if problem.line and problem.level != "bad_lines" else ""
            text = f"{PROBLEM_LABELS.get(problem.level, 'Problem in')} `{problem.file}`{where}: {problem.reason}"
            if problem.level == "notice":
                st.info(text, icon=":material/info:")
            else:
                st.warning(text, icon=":material/warning:")
    if not any(p.level in ("skipped", "bad_lines") for p in health.problems):
        st.success("Every note file was read in full.", icon=":material/check_circle:")
with services_col:
    st.markdown("##### Services by category")
    if services is None:
        st.caption("The service catalogue could not be read.")
    else:
        per_category = Counter(s.category or "other" for s in services)
        st.dataframe(
            [{"category": category_title(c), "services": n} for c, n in per_category.most_common()],
            hide_index=True,
            height="content",
            column_config={"category": "Category", "services": st.column_config.NumberColumn("Services")},
        )
