"""Attribution: is a segment about a compared service, and how strongly?"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kb.catalogue import get_catalogue
from kb.evidence.lineage import ancestors
from kb.evidence.segment import Segment
from kb.evidence.sentences import leading_service


# A family name speaks for its one compared member only in a small family ("Kinesis" for Kinesis Data Streams): what
# the notes say of EC2 at large (its prices, its instance types) is not said of each of its 19 parts (instance store).
FAMILY_SPEAKS_UP_TO = 6


@cache
def _owner(compared: tuple[str, ...], service_id: str) -> tuple[str | None, str]:
    """(compared service, how) that a catalogue id speaks for: how is "exact", "variant" (the id is a variant of the
    compared service) or "family" (the id is the family of the one compared member); (None, "") for none of them."""
    catalogue = get_catalogue()
    if service_id not in catalogue.services:
        return None, ""
    if service_id in compared:
        return service_id, "exact"
    lineage = ancestors(service_id, catalogue)
    holders = [s for s in compared if s in lineage]
    if holders:
        # The most specific compared service wins: "sqs-fifo" speaks for "SQS FIFO", not "SQS", when both are compared.
        return max(holders, key=lambda s: len(ancestors(s, catalogue))), "variant"
    family = set(catalogue.family(service_id))
    inside = [s for s in compared if s in family]
    if len(inside) == 1 and len(catalogue.children(service_id)) <= FAMILY_SPEAKS_UP_TO:
        # A family name ("Kinesis") speaks for its one compared member ("Kinesis Data Streams"), but never for
        # members compared side by side (ALB vs NLB): the family's words do not tell them apart.
        return inside[0], "family"
    return None, ""


def _names_a_sibling(named: tuple[str, ...], service_id: str) -> bool:
    catalogue = get_catalogue()
    parent = catalogue.services[service_id].parent
    if parent is None:
        return False
    own = set(catalogue.family(service_id))
    return any(n not in own and parent in ancestors(n, catalogue) for n in named if n in catalogue.services)


def _top_level(service_ids: tuple[str, ...]) -> set[str]:
    catalogue = get_catalogue()
    tops = set()
    for service_id in service_ids:
        lineage = ancestors(service_id, catalogue)
        tops.add(next((a for a in lineage if catalogue.services[a].parent is None), service_id))
    return tops


@dataclass(frozen=True)
class Attribution:
    """How a segment speaks about one compared service."""

    strength: float
    strong: bool  # says it of this service itself (not of a variant, not in passing): its figures are compared
    direct: bool = True  # about this service or one of its variants, not a passing mention or a shared passage


def attribute(segment: Segment, service_id: str, compared: tuple[str, ...]) -> Attribution | None:
    """How strongly a segment speaks about one compared service, or None when it does not.

    The segment's subject is the service it opens with ("SNS - one message to many receivers"), else the one it
    inherits. Named and subject: it is about the service. Named under another subject: a passing mention.
    Inherited only: about the service, unless it names another compared service or inherits several.
    Only what is said of the service itself (not of one of its variants) is strong enough to count its figures.
    """
    named = [_owner(compared, n) for n in segment.named]
    named_for = [o for o, _ in named]
    if segment.kind == "table":
        if not named_for or named_for[0] != service_id:
            return None
        how = named[0][1]
        return Attribution(0.85 if how == "family" else 1.0, how != "variant" and not segment.shared_column)
    opener = leading_service(segment.quote) if segment.kind == "prose" else None
    subject_ids = (opener,) if opener is not None else segment.subject
    subject = [_owner(compared, n) for n in subject_ids]
    subject_for = [o for o, _ in subject if o is not None]
    mine = {how for o, how in named + subject if o == service_id}
    if not mine:
        return None
    factor = 0.85 if mine == {"family"} else 1.0  # only a family name speaks for it ("Kinesis" for Kinesis Data Streams)
    itself = mine != {"variant"}  # "sqs fifo queue - lower throughput" is about SQS FIFO, not all of SQS
    others_named = {o for o in named_for if o is not None and o != service_id}
    if service_id in named_for:
        lineage = ancestors(service_id, get_catalogue())
        if service_id in subject_for or not subject_ids or any(s in lineage for s in subject_ids):
            if opener is None and len(_top_level(tuple(subject_ids))) > 1:
                # under "DynamoDB Integration with S3", "Export to S3 ..." is about both, and not mainly S3
                return Attribution(0.8 * factor, False, False)
            return Attribution(1.0 * factor, itself)
        if not subject_for and segment.kind == "heading":
            return Attribution(1.0 * factor, itself)
        if subject_for:
            return None  # "Kinesis can hold messages for 24 hrs ... unlike SQS" is about Kinesis, not SQS
        return Attribution(0.7 * factor, False, False)
    if others_named or any(n in subject_ids for n in segment.named) or _names_a_sibling(segment.named, service_id):
        # it names another compared service, the other service it inherits ("lambda ..." under "lambda + sqs"),
        # or another member of the service's family ("S3 Glacier storage classes ..." under "S3 One Zone-IA")
        return Attribution(0.5 * factor, False, False)
    if len(set(subject_for)) > 1 or len(_top_level(tuple(subject_ids))) > 1:
        return Attribution(0.75 * factor, False, False)
    return Attribution(0.9 * factor, itself)
