"""Membership conflicts: one file lists a service among the family members something applies to, another leaves it out."""

from __future__ import annotations

import re
from functools import cache

from kb.catalogue import get_catalogue
from kb.evidence.conflicts import Conflict
from kb.evidence.text import STOP_WORDS, WORD, clean


_APPLIES_TO = re.compile(
    r"\bfor\s+((?:the\s+)?[\w@-]+(?:\s*(?:,|&|\band\b|\bor\b)\s*(?:the\s+)?[\w@-]+)+)", re.IGNORECASE
)
_LIST_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bor\b)\s*", re.IGNORECASE)
_GENERIC_TOPIC_WORDS = frozenset(
    "works work possible support supports supported available enabled using which where there these those their "
    "about other between always never types type".split()
)


def listed_members(text: str, members: dict[str, str]) -> set[str] | None:
    """The members of a family a sentence says something applies to ("works for CLB and ALB"), or None.

    `members` maps catalogue ids (a member and its variants) to the member they stand for.
    """
    for match in _APPLIES_TO.finditer(text):
        found = set()
        for item in _LIST_SPLIT.split(match.group(1)):
            service_id = get_catalogue().id_for(item)
            if service_id in members:
                found.add(members[service_id])
        if len(found) >= 2:
            return found
    return None


def _topic_words(text: str, ignore: frozenset[str]) -> set[str]:
    return {
        w for w in WORD.findall(clean(text).lower())
        if len(w) >= 5 and w not in STOP_WORDS and w not in _GENERIC_TOPIC_WORDS and w not in ignore
    }


def same_topic(a: str, b: str, ignore: frozenset[str] = frozenset()) -> bool:
    """True when two passages share a telling word (not one of `ignore`), allowing for its form ("sticky", "stickiness")."""
    words_a, words_b = _topic_words(a, ignore), _topic_words(b, ignore)
    return any(x[:5] == y[:5] for x in words_a for y in words_b)


@cache
def _family_name_words(service_id: str) -> frozenset[str]:
    """Words of the proper names of a service's family (its parent and siblings): they do not make a topic."""
    catalogue = get_catalogue()
    parent = catalogue.services[service_id].parent or service_id
    return frozenset(
        w for member in catalogue.family(parent) for name in (catalogue.services[member].name, catalogue.services[member].full_name)
        for w in WORD.findall(name.lower())
    )


def membership_conflict(
    service_id: str, statements: dict[str, list[tuple[str, str, set[str]]]], known_in: set[str]
) -> tuple[Conflict, str, str] | None:
    """Two files listing which members of a family something applies to, one with the service, one without it.

    `statements` maps a file to (text, topic, members listed) triples; an omission counts only in a file that
    discusses the service elsewhere (`known_in`), since a file silent about it cannot contradict.
    Returns the conflict and the two texts.
    """
    for file_a, mine in sorted(statements.items()):
        for text_a, topic_a, listed_a in mine:
            if service_id not in listed_a:
                continue
            for file_b, theirs in sorted(statements.items()):
                if file_b == file_a or file_b not in known_in:
                    continue
                for text_b, topic_b, listed_b in theirs:
                    if service_id in listed_b or not same_topic(topic_a, topic_b, _family_name_words(service_id)):
                        continue
                    name = get_catalogue().services[service_id].name
                    reason = f'{file_a} says "{clean(text_a)}"; {file_b} says "{clean(text_b)}" (not {name})'
                    return Conflict(file_a, text_a, file_b, text_b, reason), text_a, text_b
    return None
