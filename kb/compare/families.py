"""Families of services (messaging, load balancers, storage...) and the aspects a table of each shows by default."""

from __future__ import annotations

from collections.abc import Sequence

from kb.catalogue import Catalogue, Service, get_catalogue
from kb.evidence.lineage import ancestors


FAMILY_ASPECTS: dict[str, tuple[str, ...]] = {
    "messaging": ("model", "ordering", "retention", "message/record size limit", "throughput/scaling", "consumers/delivery", "replay"),
    "load balancers": ("OSI layer", "protocols", "routing features", "static IP", "health checks", "sticky sessions", "use case"),
    "storage classes": ("availability", "durability", "availability zones", "minimum storage duration", "retrieval", "storage cost", "use case"),
    "purchasing options": ("discount", "commitment", "interruption", "payment options", "use case"),
    "caches": ("data model", "persistence", "replication and high availability", "sharding", "multi-threading", "backup and snapshots", "use case"),
    "storage": ("storage type", "access and attachment", "availability and durability", "size and performance", "backup and snapshots", "pricing", "use case"),
    "databases": ("data model", "scaling", "replication and high availability", "backup and snapshots", "performance", "pricing", "use case"),
    "monitoring": ("what it records", "retention", "alarms and actions", "scope", "integration", "use case"),
    "generic": ("what it is", "use case", "scaling", "availability and durability", "security", "pricing", "limits"),
}

_STORAGE_CLASS_IDS = frozenset({
    "s3-standard", "s3-standard-ia", "s3-one-zone-ia", "s3-intelligent-tiering", "s3-glacier-instant-retrieval",
    "s3-glacier", "s3-glacier-deep-archive",
})
_PURCHASING_IDS = frozenset({
    "on-demand-instances", "reserved-instances", "spot-instances", "savings-plans", "dedicated-hosts",
    "dedicated-instances", "capacity-reservations",
})
_MONITORING_IDS = frozenset({"cloudtrail", "config", "xray", "health-dashboard", "trusted-advisor"})


def _family_label(service: Service, catalogue: Catalogue) -> str:
    lineage = ancestors(service.id, catalogue) | {service.id}
    if service.id in _STORAGE_CLASS_IDS:
        return "storage classes"
    if service.id in _PURCHASING_IDS:
        return "purchasing options"
    if "elb" in lineage:
        return "load balancers"
    if "elasticache" in lineage or service.id == "dax":
        return "caches"
    if service.category == "messaging" or "kinesis" in lineage or service.id == "msk":
        return "messaging"
    if service.category == "monitoring" or service.id in _MONITORING_IDS:
        return "monitoring"
    if service.category == "storage":
        return "storage"
    if service.category == "database" or service.id == "redshift":
        return "databases"
    return "generic"


def family_of(services: Sequence[Service], catalogue: Catalogue | None = None) -> str:
    """The kind of comparison (messaging, load balancers, storage...) most of the services belong to; else generic."""
    catalogue = catalogue or get_catalogue()
    labels = [_family_label(s, catalogue) for s in services]
    best = max(set(labels), key=lambda label: (labels.count(label), label != "generic"))
    return best if labels.count(best) * 2 >= len(labels) else "generic"


def default_aspects(services: Sequence[Service], catalogue: Catalogue | None = None) -> list[str]:
    """The aspects a table of these services shows when the user names none."""
    return list(FAMILY_ASPECTS[family_of(services, catalogue)])
