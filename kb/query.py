"""What a query may be: the text a user typed, cleaned of what would only confuse the ranking, or refused."""

from __future__ import annotations

import unicodedata

from kb.errors import BadQuery


def clean_query(query: str, max_chars: int) -> str:
    """The query with control and zero-width characters removed; BadQuery when empty or too long."""
    if not isinstance(query, str):
        raise BadQuery("The query must be text.")
    if len(query) > max_chars:
        raise BadQuery(f"The query is {len(query)} characters long; the limit is {max_chars}.")
    cleaned = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in query
        if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"} or ch in "\t\n\r"
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise BadQuery("The query is empty: type a question or some keywords.")
    return cleaned
