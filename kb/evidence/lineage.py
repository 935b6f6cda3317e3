"""A service's place in the catalogue's family tree."""

from __future__ import annotations

from kb.catalogue import Catalogue


def ancestors(service_id: str, catalogue: Catalogue) -> set[str]:
    """The ids of the service's parent, its parent's parent and so on up to the top of its family."""
    found: set[str] = set()
    parent = catalogue.services[service_id].parent
    while parent is not None:
        found.add(parent)
        parent = catalogue.services[parent].parent
    return found
