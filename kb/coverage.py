"""What the notes cover: the names a question gives that the notes never mention, so the answer can say so.

Similarity alone cannot tell "What is Azure Cosmos DB?" from a DynamoDB question (MiniLM puts them close), nor a
t3.micro price from the t2.small price the notes hold. Names can: a product, vendor or instance type the question
names and no note contains is a question the notes do not answer, however close the nearest passage is.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

# Vendors whose products people study beside AWS. A vendor word counts only with the words naming its product
# ("Google Cloud Spanner"), since a note may well mention the vendor itself ("Facebook, Google login").
_VENDORS = (
    r"microsoft\s+azure|azure|google\s+cloud(?:\s+platform)?|gcp|google|oracle\s+cloud|oracle|oci|ibm\s+cloud|ibm"
    r"|alibaba\s+cloud|alibaba|cloudflare|heroku|digitalocean|digital\s+ocean|vercel|netlify|firebase|linode|akamai"
    r"|hetzner|openstack|vmware|salesforce|snowflake|databricks|mongodb\s+atlas"
)
# The vendor in any case, its product's words capitalised ("Google Cloud Spanner", not "Google or Facebook").
_VENDOR_PHRASE = re.compile(rf"\b(?i:{_VENDORS})\b(?:\s+(?:[A-Z0-9][\w.+-]*|for|of)){{0,4}}")
_AWS_PRODUCT = re.compile(r"\b(?:AWS|Amazon)\s+((?:[A-Z][\w-]*\s?){1,3})")
# Instance types and similar identifiers: a family, a generation digit, an optional size ("t3.micro", "m5.large", "c7g").
_IDENTIFIER = re.compile(r"\b[a-z]{1,3}\d[a-z]{0,4}(?:\.(?:nano|micro|small|medium|large|\d*xlarge|metal))\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9][a-z0-9.+-]*[a-z0-9]|[a-z0-9]", re.IGNORECASE)
# An acronym of three letters or more ("ACID", "QUIC", "ACUs"): the key term of a question, and one notes that
# cover the subject would use. Two letters ("AI", "HA") are too often a loose word to decide on.
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{2,5}(?=s?\b)")
# A term written the way products, APIs and technical names are ("TrueTime", "AppConfig", "B-tree"): a key term,
# and one notes that cover the subject would use. Plain words ("Redis", "fleet") are not read this way.
_TERM = re.compile(r"\b(?:[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[a-z]+[A-Z][A-Za-z0-9]+|[A-Z]-[a-z]+)\b")
_TRAILING = {"for", "of"}
# Products people ask about (AWS's whole range, other vendors' and open-source ones), by the names they type:
# "memorydb for redis", "cloud run". The list only names them; whether the notes mention one is read from the notes.
PRODUCTS_FILE = Path(__file__).parent / "data" / "products.json"


# A word of a product name as people type it: "memorydb", "pub/sub", "next.js", "2.0" (hyphens split words).
_NAME_WORD = re.compile(r"[a-z0-9][a-z0-9./'_+]*[a-z0-9+]|[a-z0-9]")


@dataclass(frozen=True)
class _Products:
    by_alias: dict[tuple[str, ...], tuple[str, tuple[str, ...]]]  # alias words -> (product name, all its aliases)
    longest: int  # words in the longest alias
    other_vendors: frozenset[str]  # names of the products not made by AWS


def _name_words(text: str) -> tuple[str, ...]:
    return tuple(_NAME_WORD.findall(text.lower().replace("-", " ")))


@cache
def _products() -> _Products:
    entries = json.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))["products"]
    # A dictionary of word runs, not one regex of 1,400 names: compiling that took 0.1 s of a cold `kb ask`.
    by_alias = {_name_words(alias): (entry["name"], tuple(entry["aliases"])) for entry in entries for alias in entry["aliases"]}
    others = frozenset(entry["name"] for entry in entries if entry.get("vendor") != "AWS")
    return _Products(by_alias, max((len(words) for words in by_alias), default=0), others)


@dataclass(frozen=True)
class Uncovered:
    """A name the question gives that the notes never mention, and what the notes have instead, if anything alike."""

    name: str
    instead: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.instead:
            return f"nothing about {self.name} in them; they mention {', '.join(self.instead)}"
        return f"nothing about {self.name} in them"


def _whole_words(phrase: str) -> re.Pattern[str] | None:
    """The phrase's words, single-spaced and lower case, standing as whole words (None for a phrase of no words)."""
    words = " ".join(_WORD.findall(phrase.lower()))
    return re.compile(rf"(?<![a-z0-9]){re.escape(words)}(?![a-z0-9])") if words else None


class NotesVocabulary:
    """The words and identifiers of one build's notes, for asking whether a name occurs in them at all."""

    def __init__(self, corpus: str, texts: Sequence[str] = ()) -> None:
        # Lower-case text with single spaces, as the loaded build keeps it; and the passages' own texts, line by line.
        self.corpus = corpus
        self._texts = texts

    @cached_property
    def lines(self) -> list[str]:
        """The notes' lines, lower case with single spaces (made on first use: most questions never ask)."""
        texts = self._texts or self.corpus.split("\n")
        return [" ".join(line.lower().split()) for text in texts for line in text.splitlines() if line.strip()]

    def lines_mentioning(self, phrase: str) -> list[str]:
        pattern = _whole_words(phrase)
        return [line for line in self.lines if pattern.search(line)] if pattern else []

    @cached_property
    def identifiers(self) -> frozenset[str]:
        return frozenset(m.group(0).lower() for m in _IDENTIFIER.finditer(self.corpus))

    def mentions(self, phrase: str) -> bool:
        pattern = _whole_words(phrase)
        return pattern is not None and pattern.search(self.corpus) is not None

    def alike(self, identifier: str, n: int = 3) -> tuple[str, ...]:
        """Identifiers of the notes of the same family ("t2.small" for "t3.micro") or size, closest first."""
        family, _, size = identifier.lower().partition(".")
        letters = re.match(r"[a-z]*", family).group(0)  # "t" of "t3", "m" of "m5"

        def kinship(other: str) -> float:
            other_family, _, other_size = other.partition(".")
            same_family = other_family.startswith(letters) and other_family[len(letters):len(letters) + 1].isdigit()
            return 2 * same_family + (other_size == size) + difflib.SequenceMatcher(None, identifier.lower(), other).ratio()

        ranked = sorted((kinship(other), other) for other in self.identifiers)
        return tuple(other for score, other in reversed(ranked) if score >= 1.0)[:n]


def uncovered_names(
    question: str,
    vocabulary: NotesVocabulary,
    is_catalogued: Callable[[str], bool],
    is_service_name: Callable[[str], bool] = lambda name: False,
    spelled_out: Callable[[str], bool] = lambda acronym: False,
) -> list[Uncovered]:
    """The names in the question that no note mentions: other vendors' products, 'AWS X' products, instance types,
    acronyms, technical terms ("TrueTime", "B-tree"), listed products. `is_catalogued` says a name holds a catalogued service's name, `is_service_name` that
    it is one, `spelled_out` that the passages found write an acronym out in full ("point-in-time recovery")."""
    found: list[Uncovered] = []
    for match in _VENDOR_PHRASE.finditer(question):
        words = match.group(0).split()
        while len(words) > 1 and words[-1].lower() in _TRAILING:
            words.pop()
        name = " ".join(words)
        if not vocabulary.mentions(name):
            found.append(Uncovered(name))
    for match in _AWS_PRODUCT.finditer(question):
        name = match.group(1).strip()
        # One short word ("AWS AI", "Amazon PoP") is too generic to call a product.
        if (" " in name or len(name) >= 4) and not is_catalogued(name) and not vocabulary.mentions(name):
            found.append(Uncovered(name))
    for match in _IDENTIFIER.finditer(question):
        name = match.group(0)
        if name.lower() not in vocabulary.identifiers:
            found.append(Uncovered(name, vocabulary.alike(name)))
    letters = [c for c in question if c.isalpha()]
    shouted = sum(c.isupper() for c in letters) > len(letters) / 2  # every word of "WHAT IS X?" looks an acronym
    for match in _ACRONYM.finditer("" if shouted else question):
        name = match.group(0)
        if not is_catalogued(name) and not vocabulary.mentions(name) and not spelled_out(name):
            found.append(Uncovered(name))
    for match in _TERM.finditer(question):
        name = match.group(0)
        if len(name) < 5:
            continue  # "PoP", "IaC": as loose as a two-letter acronym
        if not is_catalogued(name) and not vocabulary.mentions(name) and not vocabulary.mentions(name.replace("-", " ")):
            found.append(Uncovered(name))
    # A product named inside a name already found ("Spanner" in "Google Cloud Spanner") is that name.
    named = [" ".join(_name_words(u.name)) for u in found]
    found += [u for said, u in _unmentioned_products(question, vocabulary, is_service_name) if not any(said in n for n in named)]
    found += asked_in_passing(question, vocabulary)
    return list({u.name.lower(): u for u in found}.values())


def _unmentioned_products(
    question: str, vocabulary: NotesVocabulary, is_service_name: Callable[[str], bool]
) -> list[tuple[str, Uncovered]]:
    """Listed products the question names that the notes mention by none of their names ("MemoryDB", "Cloud Run"),
    each with the words that name it."""
    return [
        (said, Uncovered(name))
        for said, name, aliases in _named_products(question)
        if not is_service_name(said) and not any(vocabulary.mentions(alias) for alias in aliases)
    ]


def _named_products(question: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(words that name it, name, aliases) of each listed product the question names, longest names first."""
    products = _products()
    words = _name_words(question)
    found = []
    start = 0
    while start < len(words):
        # The longest name starting here: "memorydb for redis" before "memorydb".
        for size in range(min(products.longest, len(words) - start), 0, -1):
            named = products.by_alias.get(words[start : start + size])
            if named is not None:
                break
        else:
            start += 1
            continue
        found.append((" ".join(words[start : start + size]), *named))
        start += size
    return found


# Another vendor's product that the notes name on this many lines at most is named in passing ("Amazon MQ is a
# managed message broker service for RabbitMQ and ActiveMQ"): they do not cover its own workings.
PASSING_MENTIONS = 2
# Words of a question's frame, which say nothing of what is asked.
_FRAME_WORDS = frozenset(
    "what which when where does difference between work works should would could using used into from with about "
    "there their them they this that these those explain mean means happens happen service services aws amazon "
    "managed best way ways need needs make makes".split()
)


def asked_in_passing(question: str, vocabulary: NotesVocabulary) -> list[Uncovered]:
    """Another vendor's product the notes name only in passing, asked about in words none of those lines hold
    ("a direct exchange in RabbitMQ", where the notes say only that Amazon MQ runs RabbitMQ)."""
    found = []
    for said, name, aliases in _named_products(question):
        if name not in _products().other_vendors:
            continue
        passages = list(dict.fromkeys(line for alias in aliases for line in vocabulary.lines_mentioning(alias)))
        if not 0 < len(passages) <= PASSING_MENTIONS:
            continue
        own = {w for alias in aliases for w in _name_words(alias)}
        asked = [
            w for w in dict.fromkeys(_WORD.findall(question.lower()))
            if len(w) >= 4 and w not in own and w not in _FRAME_WORDS and not w.isdigit()
        ]
        held = {w[:5] for p in passages for w in _WORD.findall(p)}
        if asked and not any(w[:5] in held for w in asked):
            found.append(Uncovered(f"what the question asks of {name} ({', '.join(asked)})", (f"{name} only in passing",)))
    return found


def spells_out(acronym: str, text: str) -> bool:
    """Whether the text holds words whose initials make the acronym: "point-in-time recovery" for "PITR"."""
    words = r"[\s-]+".join(rf"{re.escape(letter)}[a-z0-9]*" for letter in acronym.lower())
    return re.search(rf"(?<![a-z0-9]){words}(?![a-z0-9])", text.lower()) is not None


def identifier_mismatch(question: str, statement: str) -> tuple[str, str] | None:
    """(asked, stated) when the question names an identifier ("t3.micro") and the statement that would answer it
    names another of the same kind ("t2.small") but not the one asked: it answers a different question."""
    asked = {m.group(0).lower() for m in _IDENTIFIER.finditer(question)}
    stated = [m.group(0).lower() for m in _IDENTIFIER.finditer(statement)]
    if not asked or not stated or asked & set(stated):
        return None
    return sorted(asked)[0], stated[0]
