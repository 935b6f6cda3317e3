"""Figures with units stated in the notes (retention, sizes, layers, percentages, counts), with the role each plays."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


_UNITS: dict[str, dict[str, float]] = {
    "duration": {
        "ms": 1 / 3_600_000, "millisecond": 1 / 3_600_000, "milliseconds": 1 / 3_600_000,
        "second": 1 / 3600, "seconds": 1 / 3600, "sec": 1 / 3600, "secs": 1 / 3600, "s": 1 / 3600,
        "minute": 1 / 60, "minutes": 1 / 60, "min": 1 / 60, "mins": 1 / 60,
        "hour": 1, "hours": 1, "hr": 1, "hrs": 1, "h": 1,
        "day": 24, "days": 24, "week": 168, "weeks": 168, "month": 720, "months": 720, "year": 8760, "years": 8760,
    },
    "size": {
        "b": 1, "byte": 1, "bytes": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2,
        "gb": 1024**3, "gib": 1024**3, "tb": 1024**4, "tib": 1024**4, "pb": 1024**5,
    },
    "percent": {"%": 1},
}
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_ROLE_CUES = [
    ("default", re.compile(r"\bdefault\b|\bby default\b|\bstandard\b", re.IGNORECASE)),
    ("max", re.compile(r"\bmax(?:imum)?\b|\bup ?to\b|\bat most\b|\bincreased? (?:up )?to\b|\bextend(?:ed)? to\b|\blimit(?:ed)? (?:of|to)\b|\bupto\b", re.IGNORECASE)),
    ("min", re.compile(r"\bmin(?:imum)?\b|\bat least\b", re.IGNORECASE)),
]


@dataclass(frozen=True)
class Figure:
    """A quantity stated in a note: its dimension, the role it plays (default, max, min or a plain value), its value."""

    dimension: str
    role: str  # default | max | min | value
    value: float  # in the dimension's base unit (hours, bytes, percent, layer number, count)
    text: str  # as written, with its cue ("maximum of 14 days")


def _figure_pattern(dimension: str) -> re.Pattern[str]:
    if dimension == "layer":
        return re.compile(r"\b(?:osi\s+)?(?:layer|level)\s*([1-7])\b|\bL([3-7])\b", re.IGNORECASE)
    if dimension == "count":
        return re.compile(rf"\b{_NUMBER}\s+(?:read\s+)?(replicas?|copies|nodes|azs?|availability zones)\b", re.IGNORECASE)
    units = sorted(_UNITS[dimension], key=len, reverse=True)
    unit = "|".join(re.escape(u) for u in units)
    if dimension == "percent":
        return re.compile(rf"{_NUMBER}\s?(%)", re.IGNORECASE)
    # "1 to 365 days", "1- to 35-day", "24 hours", "256kb", "4 days"
    return re.compile(
        rf"(?<![\w.$]){_NUMBER}\s?-?\s?(?:(?:to|-|–)\s?{_NUMBER}\s?-?\s?)?({unit})\b(?!\s*/\s*s)", re.IGNORECASE
    )


def _role_before(text: str, start: int) -> str:
    """The cue closest before a figure within its clause: default, max, min, or plain value."""
    window_start = max(0, start - 48)
    window = text[window_start:start]
    cut = max(window.rfind(". "), window.rfind("; "), window.rfind("("))
    if cut >= 0:
        window = window[cut + 1 :]
    best, best_at = "value", -1
    for role, cue in _ROLE_CUES:
        for match in cue.finditer(window):
            if match.start() > best_at:
                best, best_at = role, match.start()
    return best


def figures_near(text: str, dimensions: Iterable[str], keywords: re.Pattern[str], reach: int = 60) -> list[Figure]:
    """The figures of a text that stand within `reach` characters of one of the aspect's words, in the same sentence
    ("Default retention ... 4 days" counts for retention; "expedited (1-5 minutes)" in a line about Glacier does not)."""
    spans = [m.span() for m in keywords.finditer(text)]
    if not spans:
        return []
    out = []
    for figure in extract_figures(text, dimensions):
        at = text.find(figure.text)
        if at < 0:
            continue
        for start, end in spans:
            between = text[min(end, at) : max(start, at + len(figure.text))]
            if (start, end) == (at, at + len(figure.text)):
                continue  # the figure itself is no cue for itself
            if abs(at - start) <= reach + len(figure.text) and not re.search(r"[.;]\s|\)\s*,", between):
                out.append(figure)
                break
    return out


def extract_figures(text: str, dimensions: Iterable[str]) -> list[Figure]:
    """Figures of the given dimensions in a note's text, with their roles; a range "1 to 365 days" gives a min and a max."""
    figures: list[Figure] = []
    for dimension in dimensions:
        pattern = _figure_pattern(dimension)
        for match in pattern.finditer(text):
            written = match.group(0).strip()
            if dimension == "layer":
                number = match.group(1) or match.group(2)
                figures.append(Figure("layer", "value", float(number), written))
                continue
            if dimension == "count":
                figures.append(Figure("count", _role_before(text, match.start()), float(match.group(1).replace(",", "")), written))
                continue
            if dimension == "percent":
                value = float(match.group(1).replace(",", ""))
                figures.append(Figure("percent", _role_before(text, match.start()), value, written))
                continue
            first, second, unit = match.group(1), match.group(2), match.group(3).lower()
            scale = _UNITS[dimension].get(unit)
            if scale is None:
                continue
            role = _role_before(text, match.start())
            if re.search(r"\bevery\s*$", text[max(0, match.start() - 8) : match.start()], re.IGNORECASE):
                role = "every"  # a frequency ("backed up every 5 mins") is no retention, size or limit
            low = float(first.replace(",", "")) * scale
            if second is not None:
                high = float(second.replace(",", "")) * scale
                figures.append(Figure(dimension, "min", low, written))
                figures.append(Figure(dimension, "max", high, written))
                continue
            before = text[max(0, match.start() - 12) : match.start()].lower()
            if re.search(r"\bfrom\s*$", before):
                role = "min"
            elif re.search(r"\bto\s*$", before) and re.search(rf"{_NUMBER}\s?\w*\s+to\s*$", text[max(0, match.start() - 30) : match.start()]):
                role = "max"
            figures.append(Figure(dimension, role, low, written))
    return _pair_ranges(text, figures)


def _pair_ranges(text: str, figures: list[Figure]) -> list[Figure]:
    """"128 MB – 3008 MB", "128MB to 3TB": two plain figures joined by a dash or "to" are a minimum and a maximum."""
    out = list(figures)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if a.dimension != b.dimension or a.role not in ("value", "min") or b.role not in ("value", "max"):
            continue
        start, end = text.find(a.text), text.find(b.text)
        if start < 0 or end < 0:
            continue
        between = text[start + len(a.text) : end]
        if re.fullmatch(r"\s*(?:-|–|—|to)\s*", between):
            out[i] = Figure(a.dimension, "min", a.value, a.text)
            out[i + 1] = Figure(b.dimension, "max", b.value, b.text)
    return out
