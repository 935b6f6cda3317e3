"""What every page shares: the session's API client, the cached catalogue, and how an API failure is shown."""

from __future__ import annotations

import time

import streamlit as st

from kb.config import get_settings
from kb.models import PassageContext, ServiceInfo
from ui.client import ApiClient, ApiError

CLIENT_KEY = "api_client"
CATALOGUE_TTL_S = 120.0


def api() -> ApiClient:
    """The session's client for KB_API_URL (a test may put its own in st.session_state["api_client"])."""
    client = st.session_state.get(CLIENT_KEY)
    if client is None:
        settings = get_settings()
        # When the API wants keys (KB_API_KEYS), the UI, started with the same settings, presents the first one.
        api_key = next((key.strip() for key in settings.api_keys.split(",") if key.strip()), None)
        client = ApiClient(settings.api_url, api_key=api_key)
        st.session_state[CLIENT_KEY] = client
    return client


def catalogue() -> list[ServiceInfo]:
    """The services of /services, fetched at most every two minutes per session; raises ApiError."""
    cached = st.session_state.get("_catalogue")
    if cached and time.monotonic() - cached[0] < CATALOGUE_TTL_S:
        return cached[1]
    client = api()
    # The first call of a page: when the API is slow, the reader sees what the page waits for, not a blank page.
    with st.spinner(f"Contacting the notes-kb API at {client.base_url}…", show_time=True):
        services = client.services()
    st.session_state["_catalogue"] = (time.monotonic(), services)
    return services


def service_names() -> dict[str, str]:
    """Service id -> short name, for labels; empty when the catalogue cannot be read."""
    try:
        return {s.id: s.name for s in catalogue()}
    except ApiError:
        return {}


def passage_context(passage_id: str, context: int) -> PassageContext:
    """A passage with its surrounding lines, fetched once per session; raises ApiError."""
    cache: dict[tuple[str, int], PassageContext] = st.session_state.setdefault("_contexts", {})
    key = (passage_id, context)
    if key not in cache:
        cache[key] = api().passage(passage_id, context=context)
    return cache[key]


def show_error(exc: ApiError, what: str = "") -> None:
    """An API failure as one plain message with the URL that was tried; never a stack trace."""
    lead = f"{what}: " if what else ""
    body = f"{lead}{exc.message}\n\nTried `{exc.url}`" + (f" (HTTP {exc.status})" if exc.status else "")
    if exc.suggestions:
        body += "\n\nDid you mean: " + ", ".join(f"`{s}`" for s in exc.suggestions) + "?"
    st.error(body, icon=":material/cloud_off:" if exc.status is None else ":material/error:")


def api_down_stop(exc: ApiError) -> None:
    """Show why the page cannot load, offer a retry, and stop the page there."""
    show_error(exc)
    st.button("Try again", icon=":material/refresh:")
    st.stop()
