"""Conflicts between files that state no figure: "only one instance" against "multiple instances", "on by default"
against "must be turned on". Notes copied from courses of different years disagree this way when AWS added a feature
(EBS Multi-Attach) or changed a default (S3 encryption)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb.catalogue import get_catalogue
from kb.evidence.conflicts import Conflict
from kb.evidence.figures import STANDALONE_NUMBER, counted_after, extract_figures

# "only one instance", "one instance at a time", "can't be shared across multiple instances"
_SINGLE = [
    re.compile(r"\bonly (?:one|1|a single)\b", re.IGNORECASE),
    re.compile(r"\b(?:one|a single)\b(?=(?: [\w-]+){1,3} at a time\b)", re.IGNORECASE),
    re.compile(r"\bcan(?:'|’)?n?o?t be shared (?:across|between|by|with)(?: multiple| many)?\b", re.IGNORECASE),
]
_MANY = re.compile(r"\b(?:multiple|many|several)\b", re.IGNORECASE)
# "enabled by default", "survive reboots by default"; a figure beside it is a default value, no default state
_DEFAULT_ON = re.compile(r"\bby default\b|\b(?:enabled|on|applied) automatically\b|\bautomatically (?:enabled|applied|on)\b", re.IGNORECASE)
_OPT_IN = re.compile(
    r"\b(?:must|needs? to|has to|have to)\s+(?:be\s+)?(?:turn(?:ed)? on|enabl\w*|request\w*|activat\w*|set\b)"
    r"|\bturning on\b|\b(?:disabled|off|not (?:enabled|on))\s+by default\b|\bopt[- ]in\b|\bnot (?:enabled|on) (?:by default|automatically)\b",
    re.IGNORECASE,
)


def _key(stem: str) -> str:
    """One key for a noun's crude stems ("instance", "instanc" from "instances")."""
    return stem[:-1] if stem.endswith("e") else stem


def _things(text: str, cues: list[re.Pattern[str]]) -> Iterator[tuple[str, str]]:
    """The nouns a cue stands before ("only one EBS instance" -> instance), with the words that say so."""
    for cue in cues:
        for match in cue.finditer(text):
            counted, stop = counted_after(text, match.end())
            if counted:
                yield _key(counted.split()[-1]), text[match.start() : stop]


def _first(pairs: Iterator[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, words in pairs:
        found.setdefault(key, words)
    return found


def _single(text: str) -> dict[str, str]:
    return _first(_things(text, _SINGLE))


def _many(text: str) -> dict[str, str]:
    many = _first(_things(text, [_MANY]))
    for figure in extract_figures(text, ["count"]):
        if figure.value > 1 and figure.of:
            many.setdefault(_key(figure.of.split()[-1]), figure.text)
    return many


def single_against_many(evidence: dict[str, list[str]]) -> Conflict | None:
    """One file says a thing goes with only one of something, another that it goes with several of them."""
    files = sorted(evidence)
    single = {(f, t): _single(t) for f in files for t in evidence[f]}
    # a line that limits to one names the many it rules out ("can't be shared across multiple instances")
    many = {(f, t): {} if single[(f, t)] else _many(t) for f in files for t in evidence[f]}
    for a in files:
        for text_a in evidence[a]:
            ones = single[(a, text_a)]
            if not ones:
                continue
            for b in (f for f in files if f != a):
                for text_b in evidence[b]:
                    several = many[(b, text_b)]
                    shared = sorted(set(ones) & set(several))
                    if shared:
                        thing = shared[0]
                        return Conflict(a, text_a, b, text_b, f"{a} says “{ones[thing]}”; {b} says “{several[thing]}”")
    return None


def _clause(text: str, match: re.Match[str]) -> str:
    """The clause of a text that holds a match ("Cache survive reboots by default")."""
    start = max(text.rfind(mark, 0, match.start()) for mark in ".;(•")
    ends = [e for e in (text.find(mark, match.end()) for mark in ".;(•") if e >= 0]
    return " ".join(text[start + 1 : min(ends, default=len(text))].replace("**", "").split())


def _states_default(text: str, figure: re.Pattern[str]) -> str:
    """The clause saying something is on without asking ("Cache survive reboots by default"), "" when none does."""
    if _OPT_IN.search(text):
        return ""
    for match in _DEFAULT_ON.finditer(text):
        if not figure.search(text[max(0, match.start() - 24) : match.end() + 16]):
            return _clause(text, match)
    return ""


# A number near "by default" makes it a default value ("7 days by default"), not a default state. Any digit is taken
# for one, unless the column asks about defaults: there a digit inside a name ("SSE-S3") is no figure.
_ANY_DIGIT = re.compile(r"\d")


def opt_in_clause(text: str) -> str:
    """The clause saying something must be turned on ("Must set header: ..."), "" when none does."""
    match = _OPT_IN.search(text)
    return _clause(text, match) if match else ""


def default_against_opt_in(evidence: dict[str, list[str]], asks_default: bool = False) -> Conflict | None:
    """One file says a feature is on by default, another that it must be turned on (both lines evidence of one cell;
    `asks_default` for a column about defaults)."""
    files = sorted(evidence)
    opt_ins = {f: [(t, m) for t in evidence[f] if (m := _OPT_IN.search(t))] for f in files}
    figure = STANDALONE_NUMBER if asks_default else _ANY_DIGIT
    for a in files:
        for text_a in evidence[a]:
            said = _states_default(text_a, figure)
            if not said:
                continue
            for b in (f for f in files if f != a and opt_ins[f]):
                text_b, opt_in = opt_ins[b][0]
                return Conflict(a, text_a, b, text_b, f"{a} says “{said}”; {b} says “{_clause(text_b, opt_in)}”")
    return None


# "pushed into S3 or Lambda", "published to CloudWatch Logs or S3": where something goes. Not "compared to", "up to".
_TO = re.compile(
    r"(?<!\bcompared )(?<!\bsimilar )(?<!\bequivalent )(?<!\balternative )(?<!\bdue )(?<!\baccording )(?<!\bup )"
    r"(?<!\brelative )(?<!\bopposed )(?<!\baddition )\b(?:to|into)\b:?",
    re.IGNORECASE,
)
# A list that says it is not all of them ("such as S3 or Lambda", "S3, SQS etc.").
_PARTIAL = re.compile(r"\b(?:such as|like|including|includes?|e\.?g\.?|for example|among others|etc)\b|\.\.\.|…", re.IGNORECASE)


def _destinations(text: str) -> tuple[set[str], bool] | None:
    """The services a clause sends something to (two or more), and whether it offers them as the only choices
    ("to CloudWatch Logs or S3"); None when the text names no such list."""
    for clause in re.split(r"[.;()•]", text):
        for match in _TO.finditer(clause):
            rest = clause[match.end() :]
            named = set(get_catalogue().find_in_text(rest))
            if len(named) >= 2:
                return named, bool(re.search(r"\bor\b", rest, re.IGNORECASE)) and not _PARTIAL.search(rest)
    return None


def destinations_differ(evidence: dict[str, list[str]]) -> Conflict | None:
    """One file offers a closed choice of destinations ("pushed into S3 or Lambda"), another names one it leaves out
    among the same kind of destinations (the two lists share at least one)."""
    files = sorted(evidence)
    lists = {f: [(t, d) for t in evidence[f] if (d := _destinations(t))] for f in files}
    for a in files:
        for text_a, (closed, only) in lists[a]:
            if not only:
                continue
            for b in (f for f in files if f != a):
                for text_b, (listed, _) in lists[b]:
                    extra = listed - closed
                    if extra and listed & closed:
                        names = ", ".join(sorted(get_catalogue().services[i].name for i in extra))
                        chosen = " or ".join(sorted(get_catalogue().services[i].name for i in closed))
                        return Conflict(a, text_a, b, text_b, f"{a} says to {chosen}; {b} also names {names}")
    return None
