"""The kind of fact a question asks for (a year, a port, a price, a count, a size, a duration, a limit), and whether
any sentence an answer could quote states one.

A question about a subject the notes cover can still ask for a fact they never give: "What year did AWS launch
EC2?" finds EC2's passages, and the best of them states no year. Quoting it answers another question. When none
of the sentences an answer picks from states a fact of the kind asked, the notes do not hold the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kb.evidence.figures import BOUNDLESS, extract_figures

# Counts the evidence layer does not read as figures, being no exact number (it reads "two" to "twelve"). "One" is
# left out: "if one region fails" counts no regions.
_ROUGH_COUNTS = r"\b(?:couple|dozens?|hundreds?|thousands?|millions?)\b"


@dataclass(frozen=True)
class _Kind:
    name: str  # as the reply says it: "no year"
    asked: re.Pattern[str]
    stated_in: Callable[[str], bool]


def _written(form: str) -> Callable[[str], bool]:
    """A kind stated in a written form of its own: a year, a port number, an amount of money."""
    pattern = re.compile(form, re.IGNORECASE)
    return lambda text: pattern.search(text) is not None


# What a "no limit" is of, when the words after it say: "no limit how many messages" bounds a count, "unlimited storage"
# a size. It then states no limit of the other kind.
_BOUND_OF = {
    "count": re.compile(r"^\W*(?:\w+\W+){0,3}?(?:how many|number of)\b", re.IGNORECASE),
    "size": re.compile(r"^\W*(?:\w+\W+){0,3}?(?:size|storage|space|capacity|data|length|[kmgtp]i?b)\b", re.IGNORECASE),
}


def _no_limit_of(dimension: str, text: str) -> bool:
    """Whether the text says there is no limit, and not of another kind than `dimension`."""
    for match in BOUNDLESS.finditer(text):
        after = text[match.end() : match.end() + 40]
        if not any(kind != dimension and bound.search(after) for kind, bound in _BOUND_OF.items()):
            return True
    return False


def _measured(dimension: str, also: str = "") -> Callable[[str], bool]:
    """A kind stated by a figure the evidence layer reads (a count, a size, a duration), or by saying there is no limit."""
    other = re.compile(also, re.IGNORECASE) if also else None

    def stated_in(text: str) -> bool:
        if _no_limit_of(dimension, text) or (other is not None and other.search(text)):
            return True
        return bool(extract_figures(text, [dimension]))

    return stated_in


_I = re.IGNORECASE
# "How many days" asks a duration, not a count.
_TIME_UNITS = r"(?:days|hours|minutes|seconds|weeks|months|years)"
_STATES_COUNT = _measured("count", _ROUGH_COUNTS)
_STATES_SIZE = _measured("size", r"\b\d+\s?(?:characters|chars)\b")
_STATES_DURATION = _measured("duration")
_KINDS: tuple[_Kind, ...] = (
    _Kind("year", re.compile(r"\b(?:what|which|in what) year\b|\bwhen (?:did|was|were)\b", _I), _written(r"\b(?:19|20)\d\d\b")),
    _Kind("port number", re.compile(r"\b(?:what|which) (?:\w+ )?port\b|\bport number\b|\bdefault port\b|\blistens? on\b", _I),
          _written(r"\b\d{2,5}\b")),
    # "How much does Fargate charge", "how much am I charged", "the hourly port charge": a price, in the words of a bill.
    _Kind("price", re.compile(
        r"\bprice\b|\bhow much (?:does|do|did|will|would|is|are|am)\b[^?]*\b(?:cost|charge[ds]?|pay|billed)\b"
        r"|\b(?:cost|charge) per\b|\bhourly (?:\w+ )?(?:rate|cost|charge|fee)\b", _I),
          _written(r"\$\s?\d|\b\d+(?:\.\d+)?\s?(?:usd|dollars?|cents?)\b")),
    # "How many days" asks a duration, which the duration kind reads; "(a number) like how many users" is an example.
    _Kind("count", re.compile(
        rf"(?<!like )(?<!such as )\bhow many\b(?! {_TIME_UNITS}\b)|\b(?:max(?:imum)?|default|total) number of\b",
        _I), _STATES_COUNT),
    _Kind("size", re.compile(
        r"\b(?:max(?:imum)?|largest|biggest) (?:\w+ ){0,2}(?:size|length|capacity)\b|\bhow (?:large|big)\b", _I),
          _STATES_SIZE),
    # "the longest expiration", "the maximum duration", "how many days": a duration named by what lasts.
    _Kind("duration", re.compile(
        rf"\bhow long\b|\bhow many {_TIME_UNITS}\b"
        r"|\b(?:longest|shortest|max(?:imum)?|min(?:imum)?) (?:\w+ ){0,2}(?:duration|expiration|expiry|lifetime|retention"
        r"|timeout|ttl|period|interval)\b", _I), _STATES_DURATION),
    # A limit of no named kind ("the limit on hosted zones", "a size limit"): a count, a size or a duration states it.
    # "sending limit", "rate limit", "API call quota": a limit named by what it limits.
    _Kind("limit", re.compile(
        r"\b(?:limit|cap|quota)s? (?:on|for|of)\b|\b(?:default|hard|soft|size|time|rate|request|call|api|\w+ing) (?:limit|quota)s?\b", _I),
          lambda text: _STATES_COUNT(text) or _STATES_SIZE(text) or _STATES_DURATION(text)),
)

# How many of the best-scored sentences an answer picks from are read: the answer quotes from the first few, and a
# figure a little further down still shows the notes hold the fact (measured on the dev questions: at 5, two
# answerable questions had their figure only lower down).
SHORTLIST = 8


def unstated_kind(question: str, quotes: Iterable[str]) -> str | None:
    """The kind of fact the question asks for ("year") when none of the quotes states one; None when the question
    asks for no such kind, or a quote states one."""
    asked = [kind for kind in _KINDS if kind.asked.search(question)]
    if not asked:
        return None
    quotes = list(quotes)
    if any(kind.stated_in(quote) for kind in asked for quote in quotes):
        return None
    return asked[0].name
