"""Plain-text helpers shared by the segments, aspects, membership conflicts and evidence: words, markup, stems."""

from __future__ import annotations

import re

_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# A word that denies what its sentence says ("not replicated", "we cant add", "doesn't support").
NEGATION = re.compile(r"\b(?:not|no|never|none|nothing|cannot|cant|neither|nor|without)\b|n['’]t\b", re.IGNORECASE)
STOP_WORDS = frozenset("the and for with how what when which does do are is its per of to in on a an or vs".split())


def clean(text: str) -> str:
    """The text without HTML tags, images, bold or code marks, its spaces collapsed."""
    text = _IMAGE.sub(" ", _HTML_TAG.sub(" ", text))
    text = text.replace("**", "").replace("__", "").replace("`", "")
    return " ".join(text.split())


def crude_stem(word: str) -> str:
    """The word without a common suffix ("encryption" -> "encrypt"), when at least four letters remain."""
    # Enough to match "encrypted"/"encryption" from "encrypt..." without a stemmer dependency in a pure helper.
    for suffix in ("ations", "ation", "ions", "ion", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word
