"""The curated catalogue of AWS services the notes discuss, and the matcher that finds them in headings and text."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kb.errors import UnknownService
from kb.name_finder import NameFinder

__all__ = ["Catalogue", "Category", "Service", "get_catalogue", "load_catalogue", "lookup_key"]

Category = Literal[
    "compute",
    "containers",
    "serverless",
    "storage",
    "database",
    "networking",
    "messaging",
    "analytics",
    "security",
    "identity",
    "monitoring",
    "management",
    "devtools",
    "ml",
    "migration",
    "cost",
    "other",
]

_PREFIXES = frozenset({"aws", "amazon"})
# Between the words of an alias the notes write a space, a hyphen, an en dash, a no-break space, an underscore,
# a slash or nothing at all ("Route53", "X-Ray", "Cloud Watch", "SQS - FIFO", "apigateway", "pub/sub").
# Text is searched with those folded into two characters, " " for the spaces and dashes and "_" for the underscore
# and the slash, which kb/name_finder.py skips between the words of a name. The folding keeps every offset.
_FOLD = str.maketrans({"\t": " ", "\u00a0": " ", "-": " ", "/": "_", **{chr(c): " " for c in range(0x2010, 0x2016)}})
_SUGGESTION_CUTOFF = 0.6
_FALLBACK_CUTOFF = 0.3


def _name_words(name: str) -> list[str]:
    """The lower-case words of a name, punctuation and underscores dropped ("Route-53" -> ["route", "53"])."""
    return re.findall(r"[^\W_]+", name.lower())


def lookup_key(name: str) -> str:
    """Normalise a service name for lookup: lowercase, leading "AWS"/"Amazon" dropped, only letters and digits kept."""
    words = _name_words(name)
    while len(words) > 1 and words[0] in _PREFIXES:
        words.pop(0)
    return "".join(words)


class Service(BaseModel):
    """One AWS service, feature family or variant, with the names people and the notes use for it."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="Stable lowercase slug, e.g. 'sqs-fifo'")
    name: str = Field(min_length=1, description="Display name, e.g. 'SQS FIFO'")
    full_name: str = Field(min_length=1, description="Official name, e.g. 'Amazon SQS FIFO queues'")
    aliases: list[str] = Field(
        default_factory=list, description="Lowercase phrases matched case-insensitively in headings and body text"
    )
    case_sensitive_aliases: list[str] = Field(
        default_factory=list, description="Names that are also common words, matched only exactly as written"
    )
    heading_only_aliases: list[str] = Field(
        default_factory=list,
        description="Lowercase phrases that name the service in a heading but are too loose in prose",
    )
    category: Category
    parent: str | None = Field(None, description="Id of the family this is a variant or feature of")
    part: bool = Field(
        False,
        description="A part of its parent (a policy type, a setting, an API call): found where named, never guessed "
        "as what a question is about from its description alone",
    )
    description: str = Field(min_length=1, description="One plain sentence of what it is and what it is for")

    @field_validator("aliases", "heading_only_aliases")
    @classmethod
    def _lowercase_phrases(cls, phrases: list[str]) -> list[str]:
        for phrase in phrases:
            if phrase != phrase.lower() or not phrase.strip():
                raise ValueError(f"alias {phrase!r} must be a non-empty lowercase phrase")
        return phrases

    @field_validator("case_sensitive_aliases")
    @classmethod
    def _non_empty(cls, phrases: list[str]) -> list[str]:
        if any(not phrase.strip() for phrase in phrases):
            raise ValueError("case-sensitive aliases must not be empty")
        return phrases

    def lookup_names(self) -> list[str]:
        """Every string this service can be resolved by: id, name, full name and all aliases."""
        return [
            self.id,
            self.name,
            self.full_name,
            *self.aliases,
            *self.case_sensitive_aliases,
            *self.heading_only_aliases,
        ]


class Catalogue:
    """The services in file order, with lookup by any of their names and a matcher for headings and body text."""

    def __init__(self, services: Iterable[Service]) -> None:
        """Index the services; raises ValueError on a duplicate id, a bad parent or a name two services claim."""
        self.services: dict[str, Service] = {}
        for service in services:
            if service.id in self.services:
                raise ValueError(f"duplicate service id {service.id!r}")
            self.services[service.id] = service
        self._children: dict[str, list[str]] = {service_id: [] for service_id in self.services}
        for service in self.services.values():
            if service.parent is None:
                continue
            if service.parent not in self.services:
                raise ValueError(f"service {service.id!r} has unknown parent {service.parent!r}")
            self._children[service.parent].append(service.id)
        for service in self.services.values():
            ancestors = {service.id}
            parent = service.parent
            while parent is not None:
                if parent in ancestors:
                    raise ValueError(f"service {service.id!r} is its own ancestor")
                ancestors.add(parent)
                parent = self.services[parent].parent
        self._keys = self._build_keys()

    def __len__(self) -> int:
        return len(self.services)

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services.values())

    def __contains__(self, service_id: object) -> bool:
        return service_id in self.services

    def get(self, service_id: str) -> Service:
        """The service with exactly this id; raises UnknownService (with suggestions) if there is none."""
        service = self.services.get(service_id)
        if service is None:
            raise self._unknown(service_id)
        return service

    def resolve(self, name: str, allow_prefix: bool = False) -> Service:
        """The service named by an id, name, full name or alias, ignoring case, "AWS"/"Amazon", spacing and punctuation.

        A name with its short form in brackets ("AWS Certificate Manager (ACM)") stands for the service either names.
        With allow_prefix, a name that starts exactly one service's names ("Spot", "Reserved") is enough.
        Raises UnknownService, whose `details["suggestions"]` holds the ids of close matches (or of every service a
        prefix fits, when it fits several, like "Standard").
        """
        service_id = self.id_for(name) or self._named_within(name)
        if service_id is None and allow_prefix:
            service_id = self._by_prefix(name)
        if service_id is None:
            raise self._unknown(name)
        return self.services[service_id]

    def id_for(self, name: str) -> str | None:
        """The id of the service this exact name (any of its names or aliases, singular or plural) stands for."""
        return self._lookup(lookup_key(name))

    def _named_within(self, name: str) -> str | None:
        """The service a name with its short form in brackets stands for ("AWS Certificate Manager (ACM)").

        Only that form: a longer name merely holding a service's name ("Kinesis Video Streams") is another product,
        and answering it with the service it holds would mislead."""
        match = re.fullmatch(r"\s*(.+?)\s*\(([^()]+)\)\s*", name)
        if match is None:
            return None
        found = {self.id_for(part) for part in match.groups()} - {None}
        return found.pop() if len(found) == 1 else None

    def _by_prefix(self, name: str) -> str | None:
        key = lookup_key(name)
        if len(key) < 3:
            return None
        by_name = sorted({s.id for s in self.services.values() for n in (s.name, s.full_name) if lookup_key(n).startswith(key)})
        starting = by_name if len(by_name) == 1 else by_name or sorted({i for k, i in self._keys.items() if k.startswith(key)})
        if len(starting) == 1:
            return starting[0]
        if len(starting) > 1:
            suggestions = (starting + [s for s in self.suggest(name) if s not in starting])[:8]
            raise UnknownService(
                f"{name!r} could be several services: {', '.join(starting[:8])}. Name one of them.", suggestions=suggestions
            )
        return None

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Up to n ids of services whose names are closest to `name` (difflib), best first; exact matches lead."""
        key = lookup_key(name)
        if not key or n <= 0:
            return []
        exact = self._lookup(key)
        ranked = [exact] if exact else []
        for cutoff in (_SUGGESTION_CUTOFF, _FALLBACK_CUTOFF):
            # Ask difflib for more keys than ids wanted: one service owns many near-identical aliases.
            for close_key in difflib.get_close_matches(key, self._keys, n=n * 8, cutoff=cutoff):
                service_id = self._keys[close_key]
                if service_id not in ranked:
                    ranked.append(service_id)
            if ranked:
                break
        return ranked[:n]

    def find_in_heading(self, text: str) -> list[str]:
        """Ids of every service a heading names, in order of first appearance, each once; longest name wins."""
        return self._find(self._heading_finder, text)

    def find_in_text(self, text: str) -> list[str]:
        """Ids of every service body text names, like find_in_heading but without the aliases too loose for prose."""
        return self._find(self._text_finder, text)

    def without_numbered_names(self, text: str) -> str:
        """The text with the service names that hold a number as a word ("Route 53") blanked out where they stand: the
        53 is no figure. A digit inside a word ("S3", "gp2") is read as no number anyway, a count of a service
        ("15 read replicas", "2 EC2 instances") keeps its noun, and "layer 7" (of "layer 7 load balancer") is a layer."""
        if self._numbered_names is None:
            return text
        return self._numbered_names.sub(lambda m: " " * len(m.group(0)), text)

    @cached_property
    def _numbered_names(self) -> re.Pattern[str] | None:
        """The names that hold a number as a word, each up to its number ("route 53" of "Route 53 failover routing"),
        as one small pattern: the whole catalogue's finder costs a cold start 0.03 s to build."""
        heads = set()
        for service in self.services.values():
            for name in (*service.aliases, *service.case_sensitive_aliases):
                number = _NAMED_NUMBER.search(name)
                if number is not None:
                    heads.add(tuple(_name_words(name[: number.end()])))
        if not heads:
            return None
        alternatives = sorted((r"[\W_]*".join(map(re.escape, words)) for words in heads), key=len, reverse=True)
        return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)

    def children(self, service_id: str) -> list[str]:
        """Ids of the services whose parent is `service_id`, in file order."""
        self.get(service_id)
        return list(self._children[service_id])

    def child_named(self, parent_id: str, label: str) -> str | None:
        """The child of `parent_id` that a short label names inside the parent's context: "On-demand" under EC2 is
        On-Demand Instances, "Data Streams" under Kinesis is Kinesis Data Streams (None when no child is named so)."""
        return _plural_tolerant(self._short_names.get(parent_id, {}), lookup_key(label))

    @cached_property
    def _short_names(self) -> dict[str, dict[str, str]]:
        """parent -> {key of a child's short name: child}. A child's short names are its name without the parent's
        name in front ("Data Streams"), and that without a last word its siblings' names share ("Spot" of "Spot
        Instances" beside "Reserved Instances"). A short name two children share, or one that begins another
        child's ("Dedicated" of "Dedicated Hosts"), names neither."""
        names: dict[str, dict[str, str]] = {}
        for parent_id, children in self._children.items():
            if not children:
                continue
            parent_words = {w.lower() for w in re.findall(r"[^\W_]+", self.services[parent_id].name)}
            worded = {c: [w.lower() for w in re.findall(r"[^\W_]+", self.services[c].name)] for c in children}
            for child, words in worded.items():
                while len(words) > 1 and words[0] in parent_words:
                    words = words[1:]
                worded[child] = words
            last_words = [words[-1] for words in worded.values() if len(words) > 1]
            shared = {w for w in last_words if last_words.count(w) >= 2}
            variants = {
                child: {tuple(words)} | ({tuple(words[:-1])} if len(words) > 1 and words[-1] in shared else set())
                for child, words in worded.items()
            }
            owners: dict[tuple[str, ...], set[str]] = {}
            for child, forms in variants.items():
                for form in forms:
                    owners.setdefault(form, set()).add(child)
            names[parent_id] = {
                "".join(form): next(iter(owning))
                for form, owning in owners.items()
                if len(owning) == 1 and not any(
                    other != form and other[: len(form)] == form and owners[other] != owning for other in owners
                )
            }
        return names

    def family(self, service_id: str) -> list[str]:
        """`service_id` followed by all its descendants (children, their children...), depth first in file order."""
        self.get(service_id)
        members: list[str] = []
        pending = [service_id]
        while pending:
            current = pending.pop()
            members.append(current)
            pending.extend(reversed(self._children[current]))
        return members

    def _lookup(self, key: str) -> str | None:
        return _plural_tolerant(self._keys, key) if key else None

    def _unknown(self, name: str) -> UnknownService:
        suggestions = self.suggest(name)
        message = f"Unknown service {name!r}."
        if suggestions:
            message += f" Did you mean: {', '.join(suggestions)}?"
        return UnknownService(message, suggestions=suggestions)

    def _build_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        clashes: list[str] = []
        for service in self.services.values():
            for name in service.lookup_names():
                key = lookup_key(name)
                if not key:
                    raise ValueError(f"service {service.id!r} has a name with no letters or digits: {name!r}")
                owner = keys.setdefault(key, service.id)
                if owner != service.id:
                    clashes.append(f"{name!r} ({service.id}) vs {owner}")
        if clashes:
            raise ValueError("names claimed by two services: " + "; ".join(clashes))
        return keys

    # Made on first use: most processes need only one of the two.
    @cached_property
    def _heading_finder(self) -> NameFinder:
        return NameFinder(self._names(include_heading_only=True))

    @cached_property
    def _text_finder(self) -> NameFinder:
        return NameFinder(self._names(include_heading_only=False))

    def _names(self, *, include_heading_only: bool) -> list[tuple[str, bool]]:
        """Every alias a finder matches, with whether it is case-sensitive; longer names first, so the longest wins."""
        terms: dict[tuple[str, bool], None] = {}
        for service in self.services.values():
            phrases = [(alias, False) for alias in service.aliases]
            phrases += [(alias, True) for alias in service.case_sensitive_aliases]
            if include_heading_only:
                phrases += [(alias, False) for alias in service.heading_only_aliases]
            for phrase in phrases:
                terms.setdefault(phrase)
        return sorted(terms, key=lambda term: (-len(lookup_key(term[0])), -len(term[0]), term))

    def _find(self, finder: NameFinder, text: str) -> list[str]:
        found: dict[str, None] = {}
        for start, end in finder.spans(text.translate(_FOLD)):
            service_id = self._lookup(lookup_key(text[start:end]))
            if service_id is not None:
                found.setdefault(service_id)
        return list(found)


# A number a name holds as a word ("Route 53", "Cloud 9"); after "layer" it is the layer, a figure.
_NAMED_NUMBER = re.compile(r"(?<!\blayer )(?<!\w)(\d+)(?!\w)", re.IGNORECASE)


def _plural_tolerant(keys: dict[str, str], key: str) -> str | None:
    """keys[key], or the entry of its plural or singular form ("Spot Instance" / "spot instances", "SGs")."""
    if key in keys:
        return keys[key]
    if key.endswith("s") and key[:-1] in keys:
        return keys[key[:-1]]
    return keys.get(key + "s")


def catalogue_sha256() -> str:
    """A hash of the catalogue data, so an index knows when its service tags are out of date."""
    import hashlib

    return hashlib.sha256(resources.files("kb").joinpath("data/services.json").read_bytes()).hexdigest()


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Read a catalogue from a JSON list of services; the shipped kb/data/services.json when no path is given."""
    if path is None:
        raw = resources.files("kb").joinpath("data/services.json").read_text(encoding="utf-8")
    else:
        raw = Path(path).read_text(encoding="utf-8")
    return Catalogue(Service.model_validate(entry) for entry in json.loads(raw))


@cache
def get_catalogue() -> Catalogue:
    """The shipped catalogue, loaded and compiled once per process."""
    return load_catalogue()
