"""Figures with units stated in the notes (retention, sizes, layers, percentages, counts, periods), with the role
each plays."""

from __future__ import annotations

import re
from functools import cache
from collections.abc import Iterable
from dataclasses import dataclass

from kb.catalogue import get_catalogue
from kb.evidence.text import STOP_WORDS, crude_stem

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
# What states no figure yet answers "how many / how long / how large": a limit the notes say there is not.
BOUNDLESS = re.compile(
    r"\bunlimited\b|\bno (?:limit|maximum|max|cap)\b|\bindefinite|\bforever\b|\binfinite|\bany number\b|\bno upper\b"
    r"|\bas (?:many|much)(?: \w+){0,2} as (?:(?:you|we) (?:want|like|need)|desired|needed|required)\b",
    re.IGNORECASE,
)
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
    of: str = ""  # for a count, the stems of what it counts ("read replica"); "" when the text does not say
    per: str = ""  # for a count, the stem of what it is counted per ("region" in "5 VPCs per region")


@cache
def _figure_pattern(dimension: str) -> re.Pattern[str]:
    if dimension == "layer":
        return re.compile(r"\b(?:osi\s+)?(?:layer|level)\s*([1-7])\b|\bL([3-7])\b", re.IGNORECASE)
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


# A number that stands as one ("5 IPs", "$3000", "/24", "99.9%"), not a digit inside a word ("S3", "gp2").
STANDALONE_NUMBER = re.compile(r"(?<!\w)\d")


def states_a_number(text: str) -> bool:
    """Whether a text holds a number of any kind, the number of a name ("Route 53") not counted."""
    return STANDALONE_NUMBER.search(get_catalogue().without_numbered_names(text)) is not None


def extract_figures(text: str, dimensions: Iterable[str]) -> list[Figure]:
    """Figures of the given dimensions in a note's text, with their roles; a range "1 to 365 days" gives a min and a max.
    The number of a name is none ("Route 53 supports ..." counts nothing)."""
    text = get_catalogue().without_numbered_names(text)
    figures: list[Figure] = []
    for dimension in dimensions:
        if dimension == "count":
            figures.extend(_counts(text))
            continue
        if dimension == "period":
            figures.extend(_periods(text))
            continue
        if dimension == "duration":
            figures.extend(_instants(text))
        pattern = _figure_pattern(dimension)
        for match in pattern.finditer(text):
            written = match.group(0).strip()
            if dimension == "layer":
                number = match.group(1) or match.group(2)
                figures.append(Figure("layer", "value", float(number), written))
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
            options = _OPTIONS_BEFORE.search(text[max(0, match.start() - 24) : match.start()])
            if options is not None and role == "value":
                # "1 or 3 years": each number is one of the choices, in the unit written after the last
                said = f"{options.group(0)}{written}"
                figures += [Figure(dimension, "option", float(n.replace(",", "")) * scale, said) for n in re.findall(_NUMBER, options.group(0))]
                figures.append(Figure(dimension, "option", low, said))
                continue
            before = text[max(0, match.start() - 12) : match.start()].lower()
            if re.search(r"\bfrom\s*$", before):
                role = "min"
            elif re.search(r"\bto\s*$", before) and re.search(rf"{_NUMBER}\s?\w*\s+to\s*$", text[max(0, match.start() - 30) : match.start()]):
                role = "max"
            figures.append(Figure(dimension, role, low, written))
    return _pair_ranges(text, figures)


_TIME_UNIT = r"(?:ms|milli ?seconds?|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?)"
# How often something happens or in what steps it is counted: "every 5 mins", "in increment of 100ms",
# "1ms billing granularity", "billed by the second", "pay per second", "in real time" (a period of zero).
_PERIODS = [
    re.compile(rf"\bevery\s*{_NUMBER}\s?({_TIME_UNIT})\b", re.IGNORECASE),
    re.compile(rf"\bincrements? of\s*{_NUMBER}\s?({_TIME_UNIT})\b", re.IGNORECASE),
    re.compile(rf"(?<![\w.]){_NUMBER}\s?-?\s?({_TIME_UNIT})\s+(?:billing\s+)?(?:increments?|granularity)\b", re.IGNORECASE),
]
_PER_UNIT = [
    re.compile(rf"\b(?:billed|charged|metered|pay|paid|priced)\s+(?:per|by(?: the)?|each|every)\s+({_TIME_UNIT})\b", re.IGNORECASE),
    re.compile(rf"\bper[- ]({_TIME_UNIT})\s+(?:billing|pricing)\b", re.IGNORECASE),
]
_REAL_TIME = re.compile(r"(?<!near )(?<!near-)\breal[- ]time\b", re.IGNORECASE)


def _time_unit(unit: str) -> float | None:
    unit = unit.lower().replace(" ", "")
    return _UNITS["duration"].get(unit) or _UNITS["duration"].get(unit.rstrip("s") if len(unit) > 3 else unit)


def _periods(text: str) -> list[Figure]:
    """How often a text says something happens, or the step it is counted in, in hours."""
    out = []
    for pattern in _PERIODS:
        for match in pattern.finditer(text):
            scale = _time_unit(match.group(2))
            if scale is not None:
                out.append(Figure("period", "value", float(match.group(1).replace(",", "")) * scale, match.group(0)))
    for pattern in _PER_UNIT:
        for match in pattern.finditer(text):
            scale = _time_unit(match.group(1))
            if scale is not None:
                out.append(Figure("period", "value", scale, match.group(0)))
    out += [Figure("period", "value", 0.0, match.group(0)) for match in _REAL_TIME.finditer(text)]
    return out


_INSTANT = re.compile(r"(?<!not )\binstantaneous(?:ly)?\b", re.IGNORECASE)
# Under a second is as good as instantaneous: "instantaneous" and "~200 ms" say the same.
INSTANT_HOURS = 1 / 3600


# "1 or 3 ", "1, 3 or 5 " right before a figure: the numbers it is offered among.
_OPTIONS_BEFORE = re.compile(rf"(?<![\w.$]){_NUMBER}(?:\s*,\s*{_NUMBER})*\s+or\s+$", re.IGNORECASE)


def _instants(text: str) -> list[Figure]:
    """"Failover is instantaneous": a duration of zero."""
    return [Figure("duration", "value", 0.0, match.group(0)) for match in _INSTANT.finditer(text)]


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


# A count is a number followed by what it counts ("15 read replicas", "20 IPs per ENI"), or a bare limit after a
# noun ("read-only copies (max 15)", "subnets: up to 200"). Numbers that name rather than count are no counts.
_COUNT_NUMBER = re.compile(rf"(?<![\w.,$/:#-]){_NUMBER}(?![\w.%:/×-]|,\d|\s?[x×]\b)")
# A count written in words ("two static IP addresses"). "One" is left out: it is as often a pronoun ("one of").
_NUMBER_WORDS = {word: float(value) for value, word in enumerate(
    "two three four five six seven eight nine ten eleven twelve".split(), start=2)}
_COUNT_WORD = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
# A number after these names something ("port 443", "error 503", "HTTP 200"), it counts nothing.
_NAMING = re.compile(
    r"\b(?:layer|level|version|v|gen|generation|type|step|port|tier|class|phase|option|rule|error|code|status|http|and|or|to|from)\s*$",
    re.IGNORECASE,
)
_BARE_LIMIT = re.compile(r"(?:\bmax(?:imum)?\.?|\bup ?to|\bat most|\blimit(?:ed)?|\bcannot exceed)\s*(?:of\s+|to\s+|is\s+|:\s*)?$", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d")
_WORD = re.compile(r"[A-Za-z][\w@]*(?:-[A-Za-z]\w*)*")
# Rates are no counts of what follows them either ("100 Gbps", "10 Mbps").
_OTHER_UNITS = frozenset(u for units in _UNITS.values() for u in units) | {
    "percent", "cents", "dollars", "usd", "x", "times", "bps", "kbps", "mbps", "gbps", "tbps"}
# Words that end what a count counts: verbs and links of a sentence, not part of the noun.
_COUNT_STOPS = STOP_WORDS | frozenset(
    "at by from into than be can will may must is are was were has have out up as so if but not all each every "
    "this that these those it they we you one more less fewer many several some only possible total additional "
    "other our their while whereas because since which who where across between over under within without "
    "after before via through".split()
)
_MAX_COUNTED_WORDS = 3


def count_stem(word: str) -> str:
    """A counted noun, crudely stemmed and without its plural ("replicas", "replica" -> "replica"; "IPs" -> "ip")."""
    stem = crude_stem(word.lower())
    return stem[:-1] if len(stem) >= 3 and stem.endswith("s") and not stem.endswith("ss") else stem


def _noun_after(text: str, end: int) -> tuple[list[str], str, int]:
    """The words a number counts (up to three, to the first link word), the word it is counted per, and where the
    counted words end."""
    words: list[str] = []
    per = ""
    position = end
    while True:
        match = re.match(r"[ \t]+(" + _WORD.pattern + ")", text[position:])
        if not match:
            break
        word = match.group(1).lower()
        if word == "per" and words:
            scope, _, _ = _noun_after(text, position + match.end())
            per = count_stem(scope[-1].split("-")[-1]) if scope else ""  # "per secondary region" is per region
            break
        if word in _COUNT_STOPS or len(words) == _MAX_COUNTED_WORDS:
            break
        words.append(word)
        position += match.end()
    return words, per, position


def _noun_before(text: str, start: int) -> list[str]:
    """The words just before a bare limit's cue, in its clause: "read-only copies (max 15)" -> [read-only, copies]."""
    window = re.split(r"[.;:,]\s", text[max(0, start - 60) : start])[-1]
    window = window.split("(")[0] if "(" in window else _BARE_LIMIT.split(window)[0]
    words = [w.lower() for w in _WORD.findall(window)]
    tail: list[str] = []
    for word in reversed(words):
        if word in _COUNT_STOPS or len(tail) == _MAX_COUNTED_WORDS:
            break
        tail.insert(0, word)
    return tail


def _counts(text: str) -> list[Figure]:
    """The counts a text states, each with its role and what it counts."""
    out: list[Figure] = []
    for match in _COUNT_NUMBER.finditer(text):
        before = text[max(0, match.start() - 24) : match.start()]
        if (_NAMING.search(before) and not _BARE_LIMIT.search(before)) or _YEAR.fullmatch(match.group(1)):
            continue
        out.extend(_count_at(text, match, float(match.group(1).replace(",", ""))))
    for match in _COUNT_WORD.finditer(text):
        out.extend(_count_at(text, match, _NUMBER_WORDS[match.group(1).lower()]))  # "two AZs", "up to seven"
    return out


def _count_at(text: str, match: re.Match[str], value: float) -> list[Figure]:
    """The count a number (in digits or in words) states, if it is one: what it counts, its role and what it is
    counted per."""
    words, per, end = _noun_after(text, match.end())
    start = match.start()
    if words and words[0] in _OTHER_UNITS:
        return []  # a duration, size or percentage, read as such by its own dimension
    if not words:
        before = text[max(0, match.start() - 24) : match.start()]
        cue = _BARE_LIMIT.search(before)
        if cue is None:
            return []  # a bare number with no cue is a name or a step, not a limit
        start = max(0, match.start() - 24) + cue.start()
        words = _noun_before(text, start)
    return [Figure("count", _role_before(text, match.start()), value, text[start:end].strip(), _counted(words), per)]


def counted_after(text: str, end: int) -> tuple[str, int]:
    """The stems of what the words after a position name ("only one| EC2 instance at a time" -> "ec2 instance"), and
    where those words end."""
    words, _, stop = _noun_after(text, end)
    return _counted(words), stop


def _counted(words: list[str]) -> str:
    """The stems of what a count counts."""
    return " ".join(count_stem(part) for w in words for part in w.split("-") if part not in _COUNT_STOPS)
