"""Comparison tables: services side by side, every cell quoted from the notes and cited to its exact lines.

How a cell is filled:
1. The notes are cut once per index build into *segments*: sentences of prose lines, bullets, headings, and the
   cells of tab-separated tables. Each segment records the services it names and the services it inherits from
   its heading, from a line that opened a paragraph with a service name ("sqs fifo queue - ...") or from a parent
   bullet. A table cell belongs to the service its column (or row) names.
2. For one service and one aspect, the candidates are the segments about that service; each is scored by the
   aspect's keyword patterns and by the cosine of its line vector to the aspect's query. The best segments that pass
   a threshold, at most two per file, become the cell's value and citations. Nothing passes: "not in notes".
3. Figures with units (retention, sizes, layers, percentages) are read from each file's evidence; two files that
   state different figures for the same quantity (default, maximum, minimum) make the cell a conflict, as does one
   file saying "X only" where another lists more.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
import weakref
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from kb.catalogue import Catalogue, Service, get_catalogue
from kb.errors import BadQuery, UnknownService
from kb.index import all_vectors
from kb.models import Cell, CellCitation, ComparisonTable

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

__all__ = [
    "ASPECTS",
    "FAMILY_ASPECTS",
    "NOT_IN_NOTES",
    "Aspect",
    "Conflict",
    "Figure",
    "NoteLine",
    "Segment",
    "compare",
    "default_aspects",
    "detect_conflict",
    "extract_figures",
    "family_of",
    "figures_near",
    "informative",
    "leading_service",
    "listed_members",
    "membership_conflict",
    "resolve_aspect",
    "resolve_service",
    "same_topic",
    "segment_file",
    "warm_up",
]

MIN_SERVICES = 2
MAX_SERVICES = 6
MAX_ASPECTS = 12
MAX_ASPECT_CHARS = 80
NOT_IN_NOTES = "not in notes"

# A segment passes when it matches the aspect's words and its line is at least this close to the aspect's query,
# or when it is very close to the query without the words (the notes paraphrase).
KEYWORD_GATE = 0.18
WEAK_KEYWORD_GATE = 0.3  # a looser word of the aspect needs a line closer to its query
DENSE_GATE = 0.58
KEYWORD_WEIGHT = 0.3
FIGURE_BONUS = 0.25
# A file's best segment joins the cell when it scores at least this share of the cell's best one.
RELATIVE_KEEP = 0.6
MAX_PER_FILE = 2
# A heading has no vector of its own; one that holds the aspect's words counts as this close to its query.
HEADING_FLOOR = KEYWORD_GATE
SECOND_IN_FILE = 0.75
MAX_CITATIONS = 5
MAX_VALUE_QUOTES = 3
MAX_QUOTE_IN_VALUE = 220


# -- aspects --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Aspect:
    """What a column of the table is about: how to recognise it in a note line, and what figures it compares."""

    name: str
    query: str
    strong: str
    weak: str = ""
    synonyms: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()  # dimensions whose figures are compared across files (see _UNITS)
    vocabulary: str = ""  # a closed set of terms for "X only" claims (protocols...)

    @property
    def strong_re(self) -> re.Pattern[str]:
        return _compile(self.strong)

    @property
    def weak_re(self) -> re.Pattern[str] | None:
        return _compile(self.weak) if self.weak else None

    def keyword_score(self, text: str) -> float:
        """1 when the text holds one of the aspect's telling words, 0.5 for a looser word, else 0."""
        if self.strong and self.strong_re.search(text):
            return 1.0
        weak = self.weak_re
        return 0.5 if weak is not None and weak.search(text) else 0.0


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_PROTOCOLS = r"\b(?:https?|tcp|udp|tls|ssl|web ?sockets?|grpc|geneve|icmp|quic|mqtt|amqp|smtp|nfs|smb|iscsi|ftps?|sftp)\b"

ASPECTS: dict[str, Aspect] = {
    a.name: a
    for a in [
        # messaging and streaming
        Aspect("model", "what kind of service it is: a message queue, publish/subscribe topics or a real-time data stream",
               r"\bmodel\b|pub ?/ ?sub|publish|queu(?:e|ing) (?:service|model)|message queu|real[- ]time (?:data )?stream|streaming (?:service|tool|data)|notification (?:service|system)|message broker|\bis an? (?:fully )?(?:managed |distributed )?\w+ (?:service|system|tool)",
               r"\bqueue\b|\btopic|stream|decoupl|fan ?out|broker",
               ("messaging model", "type", "kind", "what it is", "paradigm")),
        Aspect("ordering", "message ordering guarantees: FIFO, in order, out of order, ordering per shard or group",
               r"(?<!in )\border(?:ing|ed)?\b(?! to\b)|out[- ]of[- ]order|sequenc|message group|best[- ]effort",
               r"\bfifo\b|partition key|dedup|exactly[- ]once",
               ("order", "message ordering", "ordering guarantees")),
        Aspect("retention", "how long messages or data are retained or kept, retention period in days or hours",
               r"retention|retain|\bpersist|\bkept\b|expire|rolling window|deleted after|stored? for|data storage for|\bhold (?:the )?messages?",
               r"\b\d+\s*(?:days?|hours?|hrs?)\b|\blost\b|\bdelete",
               ("message retention", "data retention", "retention period", "how long kept"), figures=("duration",)),
        Aspect("message/record size limit", "maximum message or record size limit in KB or MB per message",
               r"\b\d+(?:\.\d+)?\s*(?:kb|mb|gb|kib|mib)\b(?!\s*/\s*s)(?! per (?:sec|shard))|message size|record size|payload|larger than|size limit|max(?:imum)? (?:message |record )?size",
               r"\bsize\b|\blarge messages?\b",
               ("message size", "record size", "size limit", "max message size", "message size limit", "payload size"),
               figures=("size",)),
        Aspect("throughput/scaling", "throughput and scaling: messages per second, shards, capacity, unlimited scale",
               r"throughput|\bscal(?:e|es|ing|able)\b|per second|/\s?s(?:ec)?\b|transactions? per|\btps\b|provision|capacity|unlimited|no limit|millions of requests",
               r"\bshards?\b|up to [\d,]+|\bbatch",
               ("throughput", "scaling", "scalability", "performance", "capacity")),
        Aspect("consumers/delivery", "how consumers receive messages: poll, pull or push delivery to subscribers, at-least-once",
               r"consum|\bpoll|\bpush|\bpull\b|deliver|subscrib|fan[- ]?out|at[- ]least[- ]once|exactly[- ]once|receivers?\b|workers?\b|\bkcl\b",
               r"\breceive|endpoints?\b|lambda",
               ("consumers", "delivery", "consumption", "subscribers", "delivery model")),
        Aspect("replay", "replay or reprocess data after it has been consumed or read, re-read messages",
               r"replay|re-?process|re-?read|deleted after|no longer available|after (?:being )?consumed|multiple (?:apps|applications|consumers|processors?)|read by (?:a )?consumer|not persisted|\bimmutable",
               r"\bpersist|\bdelete",
               ("reprocessing", "re-read", "replay data")),
        # load balancers
        Aspect("OSI layer", "which OSI layer it operates at: layer 7 application, layer 4 transport, layer 3 network",
               r"\b(?:layer|level)\s*[1-7]\b|\bosi\b|\bL[3-7]\b|application layer|transport (?:layer|level)(?! security)|network layer",
               "", ("layer", "osi", "network layer", "level"), figures=("layer",)),
        Aspect("protocols", "supported protocols: HTTP, HTTPS, WebSocket, TCP, UDP, TLS, GENEVE",
               _PROTOCOLS + r"|protocols?\b", "", ("protocol", "supported protocols", "traffic type"),
               vocabulary=_PROTOCOLS),
        Aspect("routing features", "routing features: path-based, host-based, header and query string routing, redirects, target groups, stickiness",
               r"\brout(?:e|es|ing)\b|path[- ]based|host[- ]based|query string|header|redirect|weighted|sticky|stickiness|based on (?:the )?(?:content|path|host|url|ip)",
               r"target groups?|session|cookie|forward",
               ("routing", "features", "routing rules")),
        Aspect("static IP", "static IP address or Elastic IP, fixed hostname",
               r"static (?:ip|host ?name)|elastic ip|\beip\b|fixed (?:ip|host ?name)|underlying ip",
               r"host ?name|\bdns\b",
               ("static ip address", "elastic ip", "fixed ip", "ip address")),
        Aspect("use case", "typical use case: what it is good for, when to use it, best suited workloads",
               r"^\W*(?:it|they)\b[\w' ]{0,12}\bused (?:for|in|to)\b|use ?cases?|good for|great (?:fit|to|for)|suitable|ideal|best for|meant for|designed (?:for|to)|makes? it [\w ]{0,25}\bfor\b|use it (?:when|for)|recommended|should (?:not )?be|legacy|\bold\b|older generation|extreme performance|mostly used",
               r"used (?:for|in|to)|\bfor\b.*\b(?:applications?|workloads?)\b|when (?:you|we) need",
               ("use cases", "usage", "when to use", "good for", "best for")),
        Aspect("health checks", "health checks: protocol, port and route used to check target health",
               r"health ?checks?|unhealthy|healthy", "", ("health check",)),
        Aspect("cross-zone load balancing", "cross-zone load balancing across availability zones, enabled or disabled by default",
               r"cross[- ]zone", r"\bAZs?\b|availability zones?", ("cross zone", "cross-zone")),
        Aspect("sticky sessions", "sticky sessions and session affinity with cookies",
               r"sticky|stickiness|session affinity|cookie", "", ("stickiness", "session affinity")),
        # storage services
        Aspect("storage type", "kind of storage: block storage volume, shared file system, or object storage",
               r"\bblock (?:storage|level|device)|\bfile (?:system|storage|share)|\bobject (?:storage|store)|\bnfs\b|\bsmb\b|posix|network drive|key[- ]value",
               r"\bvolume|\bobjects?\b|\bfiles?\b|\bbuckets?\b", ("type", "storage model", "kind of storage")),
        Aspect("access and attachment", "how it is attached or accessed: one EC2 instance at a time, mounted by many instances, over HTTP",
               r"\battach|\bmount|one (?:ec2 )?instance|multiple (?:ec2 )?instances|multi[- ]attach|many instances|concurrent|shared|across (?:azs|availability zones)|network drive|accessed (?:via|over|from)",
               r"\binstances?\b|\bhttps?\b", ("access", "attachment", "mounting", "sharing")),
        Aspect("availability and durability", "availability and durability: replicated across availability zones, number of nines",
               r"durab|availability|99\.\d+|\b11 ?9|replicat|multi[- ]az|\b(?:one|single|multiple|3) (?:az|azs|availability zones?)\b|locked to an? (?:az|availability zone)",
               r"\bAZs?\b|region", ("durability", "availability", "resilience", "redundancy"), figures=("percent",)),
        Aspect("size and performance", "size limits and performance: capacity in GB or TB, IOPS, throughput, latency",
               r"\biops\b|throughput|\b\d+\s*(?:gb|tb|pb|mb/s|gb/s)\b|latency|max(?:imum)? size|petabyte|performance|burst",
               r"\bsize|\bscal", ("performance", "size", "capacity", "limits", "iops")),
        Aspect("pricing", "pricing and cost: pay per GB, per hour, per request, cheaper or more expensive",
               r"pric|\bcosts?\b|\bpay|charge|\$\s?\d|per gb|cheap|expensive|billed|billing|free tier|discount|\bfee",
               r"\bsav(?:e|ing)|\bspend", ("price", "cost", "costs", "billing", "charges")),
        Aspect("backup and snapshots", "backups and snapshots, restore, point-in-time recovery, replication for backup",
               r"snapshot|backup|back up|restore|point[- ]in[- ]time|\bpitr\b",
               r"replicat|versioning", ("backup", "backups", "snapshots", "recovery"), figures=("duration",)),
        # caches
        Aspect("data model", "data types and data structures supported: simple key-value strings or sets, sorted sets, lists",
               r"data (?:types|structures)|sorted sets?|\bsets\b|\blists\b|key[- ]value|\bstrings?\b|objects?\b|relational|nosql|\bsql\b|document|graph|columnar|schema",
               "", ("data types", "data structures", "data model", "model")),
        Aspect("persistence", "data persistence and durability: persistent or non-persistent, backup and restore",
               r"persist|durab|backup|snapshot|restore|\baof\b|non[- ]?persistent|data loss|lose data",
               "", ("durability", "persistent")),
        Aspect("replication and high availability", "replication, read replicas, multi-AZ, automatic failover, high availability",
               r"replica|replicat|multi[- ]?az|failover|fail over|high(?:ly)? availab|standby",
               r"\bAZs?\b", ("replication", "high availability", "ha", "failover", "multi-az"), figures=("count",)),
        Aspect("sharding", "sharding and partitioning of data across several nodes, cluster mode",
               r"shard|partition|multi[- ]node|cluster mode|\bnodes?\b", r"cluster",
               ("partitioning", "clustering", "cluster mode", "architecture")),
        Aspect("multi-threading", "multi-threaded or single-threaded architecture",
               r"multi[- ]?thread|single[- ]?thread|\bthreads?\b", "", ("threading", "multithreading", "threads")),
        Aspect("security", "security: authentication, IAM, encryption at rest and in transit, TLS",
               r"\bauth|iam\b|encrypt|\bkms\b|\btls\b|\bssl\b|security group|password|token|access control|polic(?:y|ies)",
               r"secur", ("security", "auth", "authentication")),
        # S3 storage classes
        Aspect("availability", "availability percentage and availability SLA", r"availab|\b99\.\d+\s?%", "",
               ("availability sla",), figures=("percent",)),
        Aspect("durability", "durability: how safe data is from loss, eleven nines, persisted or not",
               r"durab|\b11 ?9|99\.9{5,}", r"persist|data loss|lose data|\blost\b", (), figures=("percent",)),
        Aspect("availability zones", "number of availability zones the data is stored in: one zone or at least three",
               r"\bAZs?\b|availability zones?|one zone|single (?:az|zone)|>= ?3|\bmulti[- ]az",
               "", ("azs", "zones", "number of azs", "resilience")),
        Aspect("minimum storage duration", "minimum storage duration charge in days",
               r"storage duration|min(?:imum)?\.?\s+(?:of\s+)?\d+\s*days(?: of storage)?|minimum (?:storage|duration)",
               "", ("min storage duration", "minimum duration", "min duration"), figures=("duration",)),
        Aspect("retrieval", "retrieval fee and retrieval time: per GB retrieved, instant, minutes or hours",
               r"retriev|instant(?:aneous)?|millisecond|expedited|bulk", r"\bfee\b|access", ("retrieval fee", "retrieval time", "access time")),
        Aspect("storage cost", "storage cost per GB per month, cheaper or lower cost storage",
               r"storage cost|per gb|\$\s?\d|%0\.|cheap|lower cost|low cost|costs? less|\bcost\b", r"pric|\bpay",
               ("cost", "price", "storage price")),
        # purchasing options
        Aspect("discount", "discount compared to On-Demand price, percent cheaper",
               r"discount|\b\d+\s?%|cheap|save|saving|lowest (?:cost|price)|compared to on[- ]demand", r"\bcost|\bpric",
               ("savings", "price", "cost")),
        Aspect("commitment", "commitment and term length: 1 year or 3 years contract, reservation",
               r"commit|\bterm\b|\b[13] (?:or 3 )?years?\b|\b1 or 3\b|contract|reserv|long[- ]term", "",
               ("term", "contract", "commitment term")),
        Aspect("interruption", "can instances be interrupted or reclaimed by AWS, two-minute warning, termination",
               r"interrupt|terminat|reclaim|\blose\b|two[- ]minute|2[- ]minute|can be stopped|stop(?:ped)? at any time|max(?:imum)? price|bid",
               "", ("interruptions", "termination", "reliability")),
        Aspect("payment options", "payment options: all upfront, partial upfront, no upfront, convertible, flexibility",
               r"upfront|up[- ]front|convertible|payment|flexib|change (?:the )?instance (?:type|family)|scheduled",
               "", ("payment", "flexibility")),
        # databases
        Aspect("scaling", "scaling: read replicas, storage auto scaling, capacity units, partitions",
               r"\bscal|read replicas?|capacity|auto ?scal|partition|shard|up to \d+|serverless", "", ("scalability", "scale")),
        Aspect("performance", "performance: latency in milliseconds, IOPS, throughput, times faster",
               r"latency|millisecond|\bms\b|iops|performance|throughput|\d+x\b|faster", "", ("speed", "latency")),
        # monitoring
        Aspect("what it records", "what it records or monitors: metrics, logs, API calls, traces, configuration changes",
               r"\brecords?\b|\blogs?\b|\btracks?\b|monitor|metrics?|api calls?|\bevents?\b|traces?|configuration (?:changes|history)|audit",
               "", ("records", "data collected", "what it monitors", "purpose")),
        Aspect("alarms and actions", "alarms, notifications and automated actions or remediation when something happens",
               r"alarm|notif|trigger|\bactions?\b|remediat|alert", "", ("alarms", "alerts", "actions")),
        Aspect("scope", "scope: per region, per account, across all regions or an organization",
               r"\bregion|\baccounts?\b|organi[sz]ation|global|all regions|multi[- ]account|cross[- ]account", "", ("coverage",)),
        Aspect("integration", "integrations with other AWS services",
               r"integrat|works with|sends? (?:to|data)|deliver(?:s|ed)? to|\bto (?:s3|sns|sqs|lambda|cloudwatch)", "",
               ("integrations",)),
        # generic
        Aspect("what it is", "what the service is and what it does",
               r"\bis an? |fully managed|service (?:that|which|for|to)|allows? (?:us|you)|lets (?:us|you)|enables? (?:us|you)|used to",
               "", ("definition", "description", "overview", "purpose")),
        Aspect("encryption", "encryption at rest and in transit, KMS keys, SSL/TLS",
               r"encrypt|\bkms\b|\bsse\b|\btls\b|\bssl\b|at rest|in[- ](?:transit|flight)|\bcmk\b", "", ("encrypted", "encryption at rest")),
        Aspect("limits", "limits and quotas: maximum sizes and counts",
               r"\blimits?\b|quota|max(?:imum)?|up to [\d,]+|at most|cannot exceed", "", ("quotas", "limitations")),
    ]
}

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

# Free words a user may type, expanded to the patterns the notes use.
_FREE_WORD_PATTERNS: dict[str, str] = {
    "cost": ASPECTS["pricing"].strong, "price": ASPECTS["pricing"].strong, "pricing": ASPECTS["pricing"].strong,
    "encryption": ASPECTS["encryption"].strong, "security": ASPECTS["security"].strong,
    "latency": r"latency|millisecond|\bms\b|real[- ]time", "monitoring": r"monitor|cloudwatch|metrics?|logs?",
    "limits": ASPECTS["limits"].strong, "backup": ASPECTS["backup and snapshots"].strong,
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
    lineage = _ancestors(service.id, catalogue) | {service.id}
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


@cache
def _aspect_keys() -> dict[str, str]:
    keys = {_aspect_key(aspect.name): aspect.name for aspect in ASPECTS.values()}
    for aspect in ASPECTS.values():  # an aspect's own name wins over another's synonym ("durability")
        for name in aspect.synonyms:
            keys.setdefault(_aspect_key(name), aspect.name)
    return keys


def _aspect_key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def resolve_aspect(text: str) -> Aspect:
    """The known aspect a user's words name (by name or synonym), else one built from the words themselves."""
    key = _aspect_key(text)
    known = _aspect_keys().get(key)
    if known is not None:
        return ASPECTS[known]
    words = key.split()
    if not words:
        raise BadQuery(f"The aspect {text!r} has no words in it.")
    content = [w for w in words if w not in _STOP_WORDS and len(w) >= 3] or words
    stems = [rf"\b{re.escape(_crude_stem(w))}\w*" for w in content]
    # All of the user's words make a telling match ("cold start" needs both); one of them, a loose one.
    strong = "".join(f"(?=.*?{stem})" for stem in stems) + ".*"
    known = [_FREE_WORD_PATTERNS[w] for w in words if w in _FREE_WORD_PATTERNS]
    if known:
        strong = "|".join(f"(?:{a})" for a in [*known, strong])
    weak = "|".join(stem for stem in stems) if len(stems) > 1 else ""
    name = " ".join(text.split())
    figures = tuple(dimension for dimension, cue in _FIGURE_CUES.items() if any(cue.fullmatch(w) for w in words))
    return Aspect(name=name, query=name, strong=strong, weak=weak, figures=figures)


# Words in a free-form aspect that say which figures it compares ("max execution time" compares durations).
_FIGURE_CUES = {
    "duration": re.compile(r"time|times|duration|retention|period|timeout|ttl|expiry|expiration|age|window|interval"),
    "size": re.compile(r"size|sizes|memory|storage|capacity|payload|disk|volume"),
    "percent": re.compile(r"availability|durability|sla|uptime"),
}


_STOP_WORDS = frozenset("the and for with how what when which does do are is its per of to in on a an or vs".split())


def _crude_stem(word: str) -> str:
    # Enough to match "encrypted"/"encryption" from "encrypt..." without a stemmer dependency in a pure helper.
    for suffix in ("ations", "ation", "ions", "ion", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


# -- segments: the quotable pieces of the notes, each with the services it is about -------------------------
@dataclass
class NoteLine:
    """One line of a note file as the index holds it."""

    number: int
    text: str
    chunk: int
    heading_path: tuple[str, ...]
    vector_row: int = -1


@dataclass
class Segment:
    """A quotable piece of one line: a sentence, a bullet, a heading or a table cell."""

    file: str
    line: int
    chunk: int
    quote: str  # verbatim substring of the line
    kind: str  # prose | heading | table
    named: tuple[str, ...] = ()  # service ids the segment names, in order (a table cell: its column's service)
    subject: tuple[str, ...] = ()  # service ids inherited from the heading, paragraph opener or parent bullet
    label: str = ""  # a table cell's row or column name ("Max IOPS")
    vector_row: int = -1
    column: str = ""  # a table cell's column header as written ("One Zone-IA")
    shared_column: bool = False  # the cell's service heads more than one column (its value is one of several)
    context: str = ""  # the heading and the paragraph-opening line it sits under ("ELB - stickiness")

    @property
    def text(self) -> str:
        """What keyword patterns read: the quote, with a table cell's attribute name in front."""
        return f"{self.label}: {self.quote}" if self.label else self.quote


_BULLET = re.compile(r"^(\s*)((?:[-*+•▼□]|\d+[.)])\s+)+")
_MARKUP_EDGE = re.compile(r"^(?:\s|\*\*|__|`|#+\s|[-*+•▼□]\s|</?[a-zA-Z][^>]*>|!\[[^\]]*\]\([^)]*\))+|(?:\s|\*\*|__|`|</?[a-zA-Z][^>]*>|!\[[^\]]*\]\([^)]*\))+$")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“*])")
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s|^\s*(?:-\s*)?▼|^\s*<h[1-6]>", re.IGNORECASE)
_OPENER_WORDS = frozenset(
    "is are was has have can cannot can't supports support uses use operates works provides offers allows lets enables "
    "does doesn't don't will gives handles stores".split()
)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def _clean(text: str) -> str:
    text = _IMAGE.sub(" ", _HTML_TAG.sub(" ", text))
    text = text.replace("**", "").replace("__", "").replace("`", "")
    return " ".join(text.split())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) of text past surrounding markup and spaces, so the quote reads cleanly (still verbatim)."""
    piece = text[start:end]
    lead = _MARKUP_EDGE.match(piece)
    if lead and lead.end() < len(piece):
        start += lead.end()
        piece = text[start:end]
    for tail in _MARKUP_EDGE.finditer(piece):
        if tail.end() == len(piece) and tail.start() > 0:
            end = start + tail.start()
            break
    return start, end


@lru_cache(maxsize=65536)
def leading_service(text: str) -> str | None:
    """The service a line opens with as its grammatical subject ("sqs fifo queue - ...", "SNS: ...", "ALB supports ..."), if any."""
    words = _clean(_BULLET.sub("", text)).split()
    for size in range(min(6, len(words)), 0, -1):
        head = words[:size]
        service_id = get_catalogue().id_for(" ".join(head))
        if service_id is None:
            continue
        rest = words[size:]
        while rest and rest[0].startswith("(") and not head[-1].endswith(":"):
            # "Application Load Balancer (ALB) - ..." : skip the parenthetical abbreviation
            closing = next((i for i, w in enumerate(rest) if w.endswith(")") or w.endswith("):")), None)
            if closing is None or closing > 4:
                break
            head, rest = head + rest[: closing + 1], rest[closing + 1 :]
        if not rest or head[-1][-1] in ":-=,":
            return service_id
        first = rest[0].lower()
        if first[0] in "-–—:=(" or first in _OPENER_WORDS:
            return service_id
        # a longer name that does not open the line ("sqs queue model") may hide a shorter one that does ("sqs:")
    return None


def _starts_with_service(text: str) -> bool:
    words = _clean(_BULLET.sub("", text)).split()
    return any(get_catalogue().id_for(" ".join(words[:size])) for size in range(min(6, len(words)), 0, -1))


def _is_short_title(text: str, is_bullet: bool) -> bool:
    """A short line that opens with a service name and reads as a sub-heading ("Kinesis Data Streams", "KDS Security")."""
    body = _clean(_BULLET.sub("", text))
    words = _WORD.findall(body)
    if not words or len(words) > (4 if is_bullet else 6) or not _starts_with_service(body):
        return False
    if re.search(r"\s[:=]\s*\S|:\s+\S", body):
        return False  # "lambda + sns : react to notification" describes, it does not head what follows
    if is_bullet:
        # only "- Kinesis Data Streams:" heads its flat siblings; "- API Gateway" in a list is one item of it
        return body.endswith(":")
    return not re.search(r"[.!?]$", body) or body.endswith(":")


def _split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of a line (bullet marker and edge markup excluded)."""
    bullet = _BULLET.match(text)
    offset = bullet.end() if bullet else 0
    spans: list[tuple[int, int]] = []
    start = offset
    for match in _SENTENCE_END.finditer(text, offset):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        s, e = _trim(text, s, e)
        if e - s >= 2 and len(_WORD.findall(_clean(text[s:e]))) >= 1:
            out.append((s, e))
    return out


def _split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence listing several services ("sqs: queue model, sns: pub/sub model") cut at each service it opens."""
    cuts = [start]
    for match in re.finditer(r"[,;]\s+", text[start:end]):
        after = start + match.end()
        if leading_service(text[after:end]) is not None and re.match(r"\s*[\w ./-]{1,40}?\s*[:=-]", text[after:end]):
            cuts.append(after)
    if len(cuts) == 1:
        return [(start, end)]
    spans = []
    for i, s in enumerate(cuts):
        e = cuts[i + 1] if i + 1 < len(cuts) else end
        e = s + len(text[s:e].rstrip().rstrip(",;"))
        spans.append((s, e))
    return spans


def _is_heading(line: NoteLine) -> bool:
    if _HEADING_LINE.match(line.text):
        return True
    if not line.heading_path:
        return False
    return " ".join(_WORD.findall(_clean(line.text).lower())) == " ".join(_WORD.findall(_clean(line.heading_path[-1]).lower()))


def _heading_subject(heading_path: tuple[str, ...], catalogue: Catalogue) -> tuple[str, ...]:
    for heading in reversed(heading_path):
        found = catalogue.find_in_heading(heading)
        if found:
            return tuple(found)
    return ()


def _table_blocks(lines: list[NoteLine]) -> list[list[int]]:
    """Runs of consecutive lines holding tab-separated cells (or | pipes), as positions into `lines`."""
    blocks: list[list[int]] = []
    current: list[int] = []
    previous_number = None
    for i, line in enumerate(lines):
        is_row = "\t" in line.text.strip() or line.text.lstrip().startswith("|") and line.text.count("|") >= 3
        contiguous = previous_number is not None and line.number == previous_number + 1
        if is_row and (current and contiguous or not current):
            current.append(i)
        else:
            if len(current) >= 2:
                blocks.append(current)
            current = [i] if is_row else []
        previous_number = line.number
    if len(current) >= 2:
        blocks.append(current)
    return blocks


def _cells(text: str) -> list[tuple[int, int]]:
    """Spans of the cells of a table row, tab-separated (or pipe-separated)."""
    separator = "\t" if "\t" in text else "|"
    spans, start = [], 0
    for match in re.finditer(re.escape(separator), text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    if separator == "|":
        spans = spans[1:-1] if text.strip().startswith("|") else spans
    return spans


def _cell_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A table cell cut into its "•" items (Notion exports lists inside cells), each trimmed of markup."""
    cuts = [m.start() for m in re.finditer("•", text[start:end])]
    bounds = [start] + [start + c + 1 for c in cuts] if cuts else [start]
    spans = []
    for i, s in enumerate(bounds):
        e = start + cuts[i] if cuts and i < len(cuts) else end
        s, e = _trim(text, s, e)
        if e > s and _WORD.search(_clean(text[s:e])):
            spans.append((s, e))
    return spans


def _resolve_header(text: str, context: tuple[str, ...], catalogue: Catalogue, direct_only: bool = False) -> str | None:
    """The service a table header cell names ("SQS:", "Amazon Kinesis Streams", "Standard-IA" under S3)."""
    cleaned = _clean(text).strip(" :")
    if not cleaned or len(cleaned) > 80:
        return None
    direct = catalogue.id_for(cleaned)
    if direct or direct_only:
        return direct
    for service_id in context:  # a header may drop its family's name: "Standard" in an S3 table
        prefixed = catalogue.id_for(f"{catalogue.services[service_id].name} {cleaned}")
        if prefixed:
            return prefixed
    found = catalogue.find_in_heading(cleaned)
    return found[0] if len(found) == 1 else None


def _table_segments(file: str, lines: list[NoteLine], block: list[int], context: tuple[str, ...], catalogue: Catalogue) -> list[Segment] | None:
    """Segments of a table whose columns (or rows) name services; None when it names none (read it as prose)."""
    rows = [lines[i] for i in block]
    header = rows[0]
    header_cells = _cells(header.text)
    names = [_clean(header.text[s:e]).strip(" :") for s, e in header_cells]
    columns = [_resolve_header(header.text[s:e], context, catalogue) for s, e in header_cells]
    # The first column holds the row names ("Max IOPS", "Availability") unless it is itself headed by a service.
    if columns and _resolve_header(header.text[slice(*header_cells[0])], (), catalogue, direct_only=True) is None:
        columns[0] = None
    segments: list[Segment] = []
    if len({c for c in columns if c}) >= 2:
        service_columns = [i for i, c in enumerate(columns) if c]
        for row in rows[1:]:
            cells = _cells(row.text)
            label = _clean(row.text[slice(*cells[0])]) if columns[0] is None else ""
            filled = [i for i in service_columns if i < len(cells) and _WORD.search(_clean(row.text[slice(*cells[i])]) or "") or
                      i < len(cells) and re.search(r"\d", row.text[slice(*cells[i])])]
            # A Notion export writes a cell merged across the row into its first column and leaves the others empty
            # ("Durability  99.999999999% (11 9's)" for every S3 class).
            spans_row = len(service_columns) >= 3 and filled == service_columns[:1]
            for index, (s, e) in enumerate(cells):
                service_id = columns[index] if index < len(columns) else None
                if service_id is None:
                    continue
                targets = [(columns[i], "") for i in service_columns] if spans_row else [(service_id, names[index])]
                shared = columns.count(service_id) > 1
                for qs, qe in _cell_items(row.text, s, e):
                    for target, column in targets:
                        segments.append(Segment(file, row.number, row.chunk, row.text[qs:qe], "table", (target,), (), label,
                                                row.vector_row, column, shared))
        return segments
    row_services = [_resolve_header(row.text[slice(*_cells(row.text)[0])], context, catalogue) for row in rows[1:]]
    if len({r for r in row_services if r}) >= 2:
        for row, service_id in zip(rows[1:], row_services):
            if service_id is None:
                continue
            shared = row_services.count(service_id) > 1
            row_name = _clean(row.text[slice(*_cells(row.text)[0])])
            for index, (s, e) in enumerate(_cells(row.text)[1:], start=1):
                label = names[index] if index < len(names) else ""
                for qs, qe in _cell_items(row.text, s, e):
                    segments.append(Segment(file, row.number, row.chunk, row.text[qs:qe], "table", (service_id,), (), label,
                                            row.vector_row, row_name, shared))
        return segments
    return None


def _related(service_id: str, heading_subject: tuple[str, ...], catalogue: Catalogue) -> bool:
    """True when a heading names nothing, or names the service, its family or a member of its family."""
    if not heading_subject:
        return True
    lineage = _ancestors(service_id, catalogue) | {service_id}
    for heading_id in heading_subject:
        if heading_id in lineage or service_id in catalogue.family(heading_id):
            return True
        if catalogue.services[heading_id].parent is not None and catalogue.services[heading_id].parent in lineage:
            return True
    return False


# "- **Spot Instances:** short workloads ..." defines a term: in Notion exports it heads the lines after it.
_COLON_LEAD = re.compile(r"^\s*(?:[-*+•]\s+)+\**[^:*()]{1,60}?\**\s*(?:\([^)]{0,30}\)\s*)?\**:")


def _lone_bullets(lines: list[NoteLine]) -> set[int]:
    """Positions of bullets with no bullet on the non-blank lines just before and after them (used as sub-headings)."""
    filled = [i for i, line in enumerate(lines) if line.text.strip()]
    is_bullet = {i: bool(_BULLET.match(lines[i].text)) for i in filled}
    alone = set()
    for k, i in enumerate(filled):
        if not is_bullet[i]:
            continue
        before = k > 0 and is_bullet[filled[k - 1]]
        after = k + 1 < len(filled) and is_bullet[filled[k + 1]]
        if not before and not after:
            alone.add(i)
    return alone


def segment_file(file: str, lines: list[NoteLine], catalogue: Catalogue | None = None) -> list[Segment]:
    """Every quotable segment of one note file, with the services it names and the services it inherits."""
    catalogue = catalogue or get_catalogue()
    table_rows: dict[int, list[Segment] | None] = {}
    segments: list[Segment] = []
    blocks = _table_blocks(lines)
    block_of = {i: block for block in blocks for i in block}
    heading_subject: tuple[str, ...] = ()
    paragraph_subject: tuple[str, ...] = ()
    bullets: list[tuple[int, tuple[str, ...]]] = []
    previous_path: tuple[str, ...] | None = None
    paragraph_line = ""
    lead_subject: tuple[str, ...] = ()
    alone = _lone_bullets(lines)
    for position, line in enumerate(lines):
        if line.heading_path != previous_path:
            heading_subject = _heading_subject(line.heading_path, catalogue)
            paragraph_subject, bullets, lead_subject = (), [], ()
            paragraph_line = ""
            previous_path = line.heading_path
        context = f"{line.heading_path[-1] if line.heading_path else ''} {paragraph_line}".strip()
        text = line.text
        if not text.strip():
            continue
        if position in block_of:
            block = block_of[position]
            if block[0] == position:
                header_context = tuple(dict.fromkeys(
                    i for s in paragraph_subject + heading_subject for i in (s, *sorted(_ancestors(s, catalogue)))
                ))
                table_rows[position] = _table_segments(file, lines, block, header_context, catalogue)
            table = table_rows.get(block[0])
            if table is not None:
                if block[0] == position:
                    segments.extend(table)
                continue
        if _is_heading(line):
            s, e = _trim(text, 0, len(text))
            named = tuple(catalogue.find_in_heading(text))
            segments.append(Segment(file, line.number, line.chunk, text[s:e], "heading", named, heading_subject, "", line.vector_row))
            continue
        bullet = _BULLET.match(text)
        indent = len(text) - len(text.lstrip(" \t"))
        if bullet:
            while bullets and bullets[-1][0] >= indent:
                bullets.pop()
        else:
            lead_subject = ()  # the list a "Target Groups:" line introduced has ended
            if bullets and indent <= bullets[0][0]:
                bullets = []
        inherited = bullets[-1][1] if bullets else (lead_subject or paragraph_subject or heading_subject)
        running = inherited
        line_named: list[str] = []
        for s, e in _split_sentences(text):
            for cs, ce in _split_clauses(text, s, e):
                quote = text[cs:ce]
                named = tuple(catalogue.find_in_text(quote))
                segments.append(Segment(file, line.number, line.chunk, quote, "prose", named, running, "", line.vector_row, context=context))
                opener = leading_service(quote)
                if opener is not None:
                    running = (opener,)
                line_named.extend(n for n in named if n not in line_named)
        opener = leading_service(text)
        title = _is_short_title(text, bool(bullet))
        if bullet and (title or opener is not None and (position in alone or _COLON_LEAD.match(text))):
            # "- Kinesis Data Streams:" heads the flat bullets after it, and a lone "- **S3 Standard-IA**" between
            # paragraphs heads the paragraph after it, not only deeper bullets
            paragraph_subject, bullets, paragraph_line = ((opener,) if opener else tuple(line_named)), [], text.strip()
        elif bullet and opener is not None:
            bullets.append((indent, (opener,)))
        elif not bullet and title and text.rstrip().endswith(":"):
            # "Target Groups:" heads the list under it; the paragraph after the list is the section's again
            lead_subject = (opener,) if opener is not None else tuple(line_named)
        elif opener is not None and (title or _related(opener, heading_subject, catalogue)):
            # "sqs fifo queue - ..." under "SQS, SNS, Kinesis" heads what follows; "AWS Config has a rule ..." in a
            # section about ACM speaks for its own line only
            paragraph_subject, paragraph_line = (opener,), text.strip()
        elif title and line_named:
            paragraph_subject, bullets, paragraph_line = tuple(line_named), [], text.strip()
    return segments


# -- the per-build cache of segments ------------------------------------------------------------------------
@dataclass
class _SegmentIndex:
    segments: list[Segment]
    by_service: dict[str, list[int]]  # service id -> positions of segments naming or inheriting it
    listings: dict[str, tuple[list[tuple[Segment, set[str]]], set[str]]] = field(default_factory=dict)
    chunk_matrix: np.ndarray | None = None


_CACHE_LOCK = threading.Lock()
_QUERY_CACHE: "weakref.WeakKeyDictionary[object, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()


def _note_lines(state) -> dict[str, list[NoteLine]]:
    index = state.index
    rows: dict[tuple[str, int], int] = {}
    for row, (chunk_index, number) in enumerate(zip(index.line_chunk.tolist(), index.line_numbers.tolist())):
        rows[(index.chunks[chunk_index].chunk.file, int(number))] = row
    by_file: dict[str, list[NoteLine]] = defaultdict(list)
    for position, stored in enumerate(index.chunks):
        chunk = stored.chunk
        path = tuple(chunk.heading_path)
        for offset, text in enumerate(chunk.text.split("\n")):
            number = chunk.start_line + offset
            by_file[chunk.file].append(NoteLine(number, text, position, path, rows.get((chunk.file, number), -1)))
    for lines in by_file.values():
        lines.sort(key=lambda line: line.number)
    return by_file


def _segment_index(state) -> _SegmentIndex:
    with _CACHE_LOCK:
        cached = state.derived.get("compare_segments")
        if cached is not None:
            return cached
        catalogue = get_catalogue()
        segments: list[Segment] = []
        for file, lines in sorted(_note_lines(state).items()):
            segments.extend(segment_file(file, lines, catalogue))
        by_service: dict[str, list[int]] = defaultdict(list)
        for position, segment in enumerate(segments):
            for service_id in dict.fromkeys(segment.named + segment.subject):
                by_service[service_id].append(position)
        built = _SegmentIndex(segments, dict(by_service), chunk_matrix=all_vectors(state.index.chunk_vectors))
        state.derived["compare_segments"] = built
        return built


# -- attribution: is a segment about a compared service? ----------------------------------------------------
def _ancestors(service_id: str, catalogue: Catalogue) -> set[str]:
    found: set[str] = set()
    parent = catalogue.services[service_id].parent
    while parent is not None:
        found.add(parent)
        parent = catalogue.services[parent].parent
    return found


@cache
def _owner(compared: tuple[str, ...], service_id: str) -> tuple[str | None, str]:
    """(compared service, how) that a catalogue id speaks for: how is "exact", "variant" (the id is a variant of the
    compared service) or "family" (the id is the family of the one compared member); (None, "") for none of them."""
    catalogue = get_catalogue()
    if service_id not in catalogue.services:
        return None, ""
    if service_id in compared:
        return service_id, "exact"
    lineage = _ancestors(service_id, catalogue)
    holders = [s for s in compared if s in lineage]
    if holders:
        # The most specific compared service wins: "sqs-fifo" speaks for "SQS FIFO", not "SQS", when both are compared.
        return max(holders, key=lambda s: len(_ancestors(s, catalogue))), "variant"
    family = set(catalogue.family(service_id))
    inside = [s for s in compared if s in family]
    if len(inside) == 1:
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
    return any(n not in own and parent in _ancestors(n, catalogue) for n in named if n in catalogue.services)


def _top_level(service_ids: tuple[str, ...]) -> set[str]:
    catalogue = get_catalogue()
    tops = set()
    for service_id in service_ids:
        lineage = _ancestors(service_id, catalogue)
        tops.add(next((a for a in lineage if catalogue.services[a].parent is None), service_id))
    return tops


@dataclass(frozen=True)
class _Attribution:
    strength: float
    strong: bool  # says it of this service itself (not of a variant, not in passing): its figures are compared
    direct: bool = True  # about this service or one of its variants, not a passing mention or a shared passage


def _attribute(segment: Segment, service_id: str, compared: tuple[str, ...]) -> _Attribution | None:
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
        return _Attribution(0.85 if how == "family" else 1.0, how != "variant" and not segment.shared_column)
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
        lineage = _ancestors(service_id, get_catalogue())
        if service_id in subject_for or not subject_ids or any(s in lineage for s in subject_ids):
            if opener is None and len(_top_level(tuple(subject_ids))) > 1:
                # under "DynamoDB Integration with S3", "Export to S3 ..." is about both, and not mainly S3
                return _Attribution(0.8 * factor, False, False)
            return _Attribution(1.0 * factor, itself)
        if not subject_for and segment.kind == "heading":
            return _Attribution(1.0 * factor, itself)
        if subject_for:
            return None  # "Kinesis can hold messages for 24 hrs ... unlike SQS" is about Kinesis, not SQS
        return _Attribution(0.7 * factor, False, False)
    if others_named or any(n in subject_ids for n in segment.named) or _names_a_sibling(segment.named, service_id):
        # it names another compared service, the other service it inherits ("lambda ..." under "lambda + sqs"),
        # or another member of the service's family ("S3 Glacier storage classes ..." under "S3 One Zone-IA")
        return _Attribution(0.5 * factor, False, False)
    if len(set(subject_for)) > 1 or len(_top_level(tuple(subject_ids))) > 1:
        return _Attribution(0.75 * factor, False, False)
    return _Attribution(0.9 * factor, itself)


# -- figures and conflicts (pure) ----------------------------------------------------------------------------
_UNITS: dict[str, dict[str, float]] = {
    "duration": {
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


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 0.01 * max(abs(a), abs(b), 1e-9)


def _describe(figure: Figure) -> str:
    if figure.role in ("default", "max", "min") and not re.search(r"\bto\b|[-–]\s?\d", figure.text):
        return f"{figure.role} {figure.text}"
    return figure.text


@dataclass(frozen=True)
class Conflict:
    """Two files that disagree: the text in each that says so, and a one-line reason."""

    file_a: str
    text_a: str
    file_b: str
    text_b: str
    reason: str


def detect_conflict(
    evidence: dict[str, list[str]],
    dimensions: Sequence[str],
    vocabulary: str = "",
    keywords: re.Pattern[str] | None = None,
) -> Conflict | None:
    """Where two files state different figures for the same quantity, or one says "X only" where another lists more.

    Figures are compared role by role: a default and a maximum are different quantities ("4 days" default and
    "14 days" maximum agree); a plain figure disagrees with another file's maximum only when it exceeds it.
    The same figure written differently ("256KB", "256 KB", "24 hours", "1 day") is the same figure.
    With `keywords`, only figures standing next to one of them count (see figures_near).
    """
    files = sorted(evidence)

    def read(text: str) -> list[Figure]:
        return figures_near(text, dimensions, keywords) if keywords is not None else extract_figures(text, dimensions)

    figures = {f: [(fig, text) for text in evidence[f] for fig in read(text)] for f in files}
    for i, a in enumerate(files):
        for b in files[i + 1 :]:
            found = _figure_conflict(a, figures[a], b, figures[b]) or _figure_conflict(b, figures[b], a, figures[a])
            if found:
                return found
    if vocabulary:
        for a in files:
            exclusive = _exclusive_terms(evidence[a], vocabulary)
            if not exclusive:
                continue
            terms, phrase, text_a = exclusive
            for b in files:
                if b == a:
                    continue
                for text_b in evidence[b]:
                    extra = sorted(_terms(text_b, vocabulary) - terms)
                    if extra:
                        reason = f"{a} says {phrase}; {b} also lists {', '.join(_pretty(t) for t in extra)}"
                        return Conflict(a, text_a, b, text_b, reason)
    return None


def _figure_conflict(a: str, fa: list[tuple[Figure, str]], b: str, fb: list[tuple[Figure, str]]) -> Conflict | None:
    def found(p: tuple[Figure, str], q: tuple[Figure, str]) -> Conflict:
        return Conflict(a, p[1], b, q[1], f"{a} says {_describe(p[0])}; {b} says {_describe(q[0])}")

    for dimension in dict.fromkeys(f.dimension for f, _ in fa):
        xa = [x for x in fa if x[0].dimension == dimension]
        xb = [x for x in fb if x[0].dimension == dimension]
        if not xa or not xb:
            continue
        for role in ("default", "max", "min"):
            ra = [x for x in xa if x[0].role == role]
            rb = [x for x in xb if x[0].role == role]
            if ra and rb and not any(_same(p[0].value, q[0].value) for p in ra for q in rb):
                return found(ra[0], rb[0])
        va = [x for x in xa if x[0].role == "value"]
        vb = [x for x in xb if x[0].role == "value"]
        if va and vb and not any(_same(p[0].value, q[0].value) for p in va for q in vb):
            # Two plain figures disagree only when neither file gives typed figures that could reconcile them
            # (a layer number has no default or maximum: two different layers always disagree).
            typed = [x for x in xa + xb if x[0].role != "value"]
            if dimension == "layer" or not typed:
                return found(va[0], vb[0])
        # A figure beyond every maximum the other file states contradicts it ("kept 30 days" against "up to 14 days").
        # (One below a minimum is not counted: notes put other durations, such as how recent a backup is, near it.)
        maxima_b = [x for x in xb if x[0].role == "max"]
        for p in va + [x for x in xa if x[0].role == "default"]:
            if maxima_b and all(p[0].value > q[0].value * 1.01 for q in maxima_b):
                return found(p, maxima_b[0])
    return None


def _terms(text: str, vocabulary: str) -> set[str]:
    return {re.sub(r"[\s-]", "", m.group(0).lower()).rstrip("s") for m in re.finditer(vocabulary, text, re.IGNORECASE)}


def _pretty(term: str) -> str:
    return {"websocket": "WebSocket", "grpc": "gRPC"}.get(term, term.upper())


def _exclusive_terms(texts: list[str], vocabulary: str) -> tuple[set[str], str, str] | None:
    """The terms a text restricts to with "only" ("(HTTP/HTTPS only)", "only TCP"), and the phrase that says so."""
    term = rf"(?:{vocabulary})"
    listing = rf"{term}(?:\s*(?:/|,|and|or|&)\s*{term})*"
    pattern = re.compile(rf"(?:\bonly\s+(?:supports?\s+)?({listing}))|(?:({listing})\s+only\b)", re.IGNORECASE)
    for text in texts:
        match = pattern.search(text)
        if match:
            listed = match.group(1) or match.group(2)
            return _terms(listed, vocabulary), match.group(0), text
    return None


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
        w for w in _WORD.findall(_clean(text).lower())
        if len(w) >= 5 and w not in _STOP_WORDS and w not in _GENERIC_TOPIC_WORDS and w not in ignore
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
        for w in _WORD.findall(name.lower())
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
                    reason = f'{file_a} says "{_clean(text_a)}"; {file_b} says "{_clean(text_b)}" (not {name})'
                    return Conflict(file_a, text_a, file_b, text_b, reason), text_a, text_b
    return None


# -- the comparison -----------------------------------------------------------------------------------------
@cache
def _service_words(service_id: str) -> frozenset[str]:
    service = get_catalogue().services[service_id]
    return frozenset(w for name in service.lookup_names() for w in _WORD.findall(name.lower()))


@cache
def _aspect_words(aspect: Aspect) -> frozenset[str]:
    words = {w for name in (aspect.name, *aspect.synonyms) for w in _WORD.findall(name.lower())}
    return frozenset(words | {_crude_stem(w) for w in words})


def informative(segment: Segment, aspect: Aspect) -> bool:
    """False for a segment that only names the service and the aspect ("EBS Snapshots", "Use cases:", "Routing Features")."""
    if segment.kind == "table":
        return bool(_WORD.search(segment.quote))
    rest = _content_words(segment.quote, segment.named + segment.subject)
    if rest is None:
        return False
    topic = _aspect_words(aspect)
    return any(w not in topic and _crude_stem(w) not in topic for w in rest)


@lru_cache(maxsize=65536)
def _content_words(quote: str, services: tuple[str, ...]) -> tuple[str, ...] | None:
    """The words of a quote that are neither stop words nor its services' names; None for a bare lead-in ("Use cases:")."""
    words = [w for w in _WORD.findall(_clean(quote).lower()) if w not in _STOP_WORDS]
    if quote.rstrip().endswith(":") and len(words) <= 4:
        return None
    names = set().union(*(_service_words(i) for i in services)) if services else set()
    return tuple(w for w in words if w not in names)


@dataclass
class _Candidate:
    segment: Segment
    attribution: _Attribution
    keyword: float
    dense: float
    figure: bool = False  # states a figure of the kind the aspect compares ("14 days" for retention)

    @property
    def score(self) -> float:
        bonus = FIGURE_BONUS if self.figure and self.attribution.strong else 0.0
        return self.attribution.strength * (self.dense + KEYWORD_WEIGHT * self.keyword + bonus)

    @property
    def passes(self) -> bool:
        if self.keyword >= 1.0:
            return self.dense >= KEYWORD_GATE
        if self.keyword > 0:
            return self.dense >= WEAK_KEYWORD_GATE
        return self.dense >= DENSE_GATE


def resolve_service(name: str, catalogue: Catalogue | None = None) -> Service:
    """The service a name stands for; a name that starts exactly one service's names ("Spot", "Reserved") is enough."""
    return (catalogue or get_catalogue()).resolve(name, allow_prefix=True)


def _resolve_services(names: Sequence[str], catalogue: Catalogue) -> list[Service]:
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise BadQuery("services must be a list of service names.")
    cleaned = [n.strip() for n in names if n.strip()]
    if len(cleaned) < MIN_SERVICES or len(cleaned) > MAX_SERVICES:
        raise BadQuery(f"Compare {MIN_SERVICES} to {MAX_SERVICES} services; got {len(cleaned)}.")
    services = [resolve_service(n, catalogue) for n in cleaned]
    seen: dict[str, str] = {}
    for name, service in zip(cleaned, services):
        if service.id in seen:
            raise BadQuery(f"{name!r} and {seen[service.id]!r} are the same service ({service.id}); list it once.")
        seen[service.id] = name
    return services


def _aspect_names(aspects: Sequence[str] | None, services: list[Service], catalogue: Catalogue) -> list[str]:
    if not aspects:
        return default_aspects(services, catalogue)
    if not isinstance(aspects, (list, tuple)) or not all(isinstance(a, str) for a in aspects):
        raise BadQuery("aspects must be a list of words.")
    names: list[str] = []
    for aspect in aspects:
        text = " ".join(aspect.split())
        if not text:
            raise BadQuery("An aspect is empty.")
        if len(text) > MAX_ASPECT_CHARS:
            raise BadQuery(f"The aspect {text[:40]!r}... is longer than {MAX_ASPECT_CHARS} characters.")
        if text.lower() not in {n.lower() for n in names}:
            names.append(text)
    if len(names) > MAX_ASPECTS:
        raise BadQuery(f"At most {MAX_ASPECTS} aspects; got {len(names)}.")
    return names


def _query_vectors(kb: "KnowledgeBase", texts: list[str]) -> np.ndarray:
    """The aspects' query vectors; the first call embeds every known aspect at once, so later tables embed nothing."""
    # Keyed by the embedder object itself: two embedders may share a name (test fakes of several sizes).
    cache = _QUERY_CACHE.setdefault(kb.embedder, {})
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing and ASPECTS["model"].query not in cache:
        missing = list(dict.fromkeys(missing + [a.query for a in ASPECTS.values()]))
    if missing:
        for text, vector in zip(missing, kb.embedder.encode(missing)):
            cache[text] = np.asarray(vector, dtype=np.float32)
    return np.stack([cache[t] for t in texts])


def _dense(segment: Segment, query: np.ndarray, matrix: np.ndarray, index: _SegmentIndex, keyword: float) -> float:
    """Cosine of the segment's line to the aspect's query (a table cell: its row's; a line with no vector of its own,
    such as a heading: the passage it heads, and no less than HEADING_FLOOR when it holds the aspect's words).

    Segments are not embedded one by one: on a CPU that would cost seconds per table; the line vectors are built."""
    if segment.kind == "table":
        # a row's vector mixes every column; the cell's own words (and its row's name) are the telling part
        dense = float(matrix[segment.vector_row] @ query) if segment.vector_row >= 0 else 0.0
        return max(dense, HEADING_FLOOR) if keyword >= 1.0 else dense
    if segment.vector_row >= 0:
        return float(matrix[segment.vector_row] @ query)
    dense = 0.0
    if index.chunk_matrix is not None and segment.chunk < len(index.chunk_matrix):
        dense = float(index.chunk_matrix[segment.chunk] @ query)
    return max(dense, HEADING_FLOOR) if keyword >= 1.0 else dense


def _quote_for_value(segment: Segment, service_id: str) -> str:
    quote = _clean(segment.quote)
    if len(quote) > MAX_QUOTE_IN_VALUE:
        quote = quote[: MAX_QUOTE_IN_VALUE - 1].rsplit(" ", 1)[0] + "…"
    label = segment.label
    if segment.column and (segment.shared_column or segment.named[:1] != (service_id,)):
        # a value from a variant's column ("One Zone-IA") or one of several columns says which one it is
        label = f"{label} ({segment.column})" if label else segment.column
    return f"{label}: {quote}" if label else quote


def _choose(candidates: list[_Candidate]) -> list[_Candidate]:
    """The cell's evidence: each file's best passing segments, most specific (strongly attributed, best scored) first."""
    passing = sorted((c for c in candidates if c.passes), key=lambda c: -c.score)
    if not any(c.attribution.direct for c in passing):
        # only passing mentions and passages shared by several services: nothing says it of this one
        return []
    best = passing[0].score
    per_file: dict[str, int] = defaultdict(int)
    chosen: list[_Candidate] = []
    seen: set[tuple[str, int]] = set()
    for c in passing:
        key = (c.segment.file, c.segment.line)
        if key in seen or per_file[c.segment.file] >= MAX_PER_FILE:
            continue
        if c.score < best * RELATIVE_KEEP:
            continue
        if (per_file[c.segment.file] >= 1 or not c.attribution.direct) and c.score < best * SECOND_IN_FILE:
            continue  # a second citation from a file, or a passing mention, only when it is nearly as good
        seen.add(key)
        per_file[c.segment.file] += 1
        chosen.append(c)
        if len(chosen) == MAX_CITATIONS:
            break
    chosen.sort(key=lambda c: (not c.attribution.direct, not c.attribution.strong, -c.score))
    return chosen


def _citation(c: _Candidate, chunk_id: str) -> CellCitation:
    s = c.segment
    return CellCitation(file=s.file, start_line=s.line, end_line=s.line, quote=s.quote, id=chunk_id)


def _listings(index: _SegmentIndex, service_id: str, catalogue: Catalogue) -> tuple[list[tuple[Segment, set[str]]], set[str]]:
    """Sentences listing which members of the service's family something applies to ("works for CLB and ALB"),
    and the files that discuss the service itself; computed once per build and service."""
    cached = index.listings.get(service_id)
    if cached is not None:
        return cached
    parent = catalogue.services[service_id].parent
    found: list[tuple[Segment, set[str]]] = []
    if parent is not None:
        members = {i: m for m in catalogue.children(parent) for i in catalogue.family(m)}
        for p in sorted({p for i in members for p in index.by_service.get(i, ())}):
            segment = index.segments[p]
            listed = listed_members(segment.quote, members) if segment.kind == "prose" else None
            if listed:
                found.append((segment, listed))
    own = set(catalogue.family(service_id))
    counts: dict[str, int] = defaultdict(int)
    for p in {p for i in own for p in index.by_service.get(i, ())}:
        if own.intersection(index.segments[p].named):
            counts[index.segments[p].file] += 1
    index.listings[service_id] = (found, {f for f, n in counts.items() if n >= 3})
    return index.listings[service_id]


def _membership(index: _SegmentIndex, service_id: str, aspect: Aspect, catalogue: Catalogue) -> tuple[Conflict, Segment, Segment] | None:
    """A membership conflict about this aspect for this service, with the two segments that disagree."""
    listings, known_in = _listings(index, service_id, catalogue)
    statements: dict[str, list[tuple[str, str, set[str]]]] = defaultdict(list)
    by_text: dict[tuple[str, str], Segment] = {}
    for segment, listed in listings:
        topic = f"{segment.context} {segment.quote}"
        if aspect.keyword_score(topic):
            statements[segment.file].append((segment.quote, topic, listed))
            by_text.setdefault((segment.file, segment.quote), segment)
    found = membership_conflict(service_id, dict(statements), known_in) if statements else None
    if found is None:
        return None
    conflict, text_a, text_b = found
    return conflict, by_text[(conflict.file_a, text_a)], by_text[(conflict.file_b, text_b)]


def _cell(
    display: str,
    service_id: str,
    aspect_name: str,
    aspect: Aspect,
    candidates: list[_Candidate],
    chunk_id: Callable[[int], str],
    membership: tuple[Conflict, Segment, Segment] | None = None,
) -> Cell:
    chosen = _choose(candidates)
    if not chosen:
        return Cell(service=display, aspect=aspect_name, value=NOT_IN_NOTES, status="not_in_notes", citations=[])
    conflict = None
    if aspect.figures or aspect.vocabulary:
        evidence: dict[str, list[str]] = defaultdict(list)
        holders: dict[tuple[str, str], _Candidate] = {}
        for c in sorted(candidates, key=lambda c: -c.score):
            if c.passes and c.attribution.strong:
                evidence[c.segment.file].append(c.segment.text)
                holders.setdefault((c.segment.file, c.segment.text), c)
        conflict = detect_conflict(dict(evidence), aspect.figures, aspect.vocabulary, aspect.strong_re)
        if conflict:
            # Both sides of the disagreement lead the citations, the rest follow.
            chosen = _lead_with([holders[(conflict.file_a, conflict.text_a)], holders[(conflict.file_b, conflict.text_b)]], chosen)
    if conflict is None and membership is not None:
        conflict = membership[0]
        chosen = _lead_with([_Candidate(segment, _Attribution(1.0, True), 1.0, 1.0) for segment in membership[1:]], chosen)
    citations = [_citation(c, chunk_id(c.segment.chunk)) for c in chosen]
    quotes = list(dict.fromkeys(_quote_for_value(c.segment, service_id) for c in chosen))[:MAX_VALUE_QUOTES]
    if conflict:
        return Cell(service=display, aspect=aspect_name, value=" / ".join(quotes), status="conflict", citations=citations, conflict_reason=conflict.reason)
    return Cell(service=display, aspect=aspect_name, value=" / ".join(quotes), status="found", citations=citations)


def _lead_with(lead: list[_Candidate], chosen: list[_Candidate]) -> list[_Candidate]:
    """The two sides of a conflict first, then the rest of the evidence, one citation a line."""
    out: list[_Candidate] = []
    seen: set[tuple[str, int]] = set()
    for c in lead + chosen:
        key = (c.segment.file, c.segment.line)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out[: max(MAX_CITATIONS, len(lead))]


def warm_up(kb: "KnowledgeBase") -> None:
    """Build the segments of the loaded index and embed every known aspect now (a few seconds on a CPU), so that
    the first comparison a server answers is as fast as the next ones."""
    _segment_index(kb._state)
    _query_vectors(kb, [ASPECTS["model"].query])


def compare(kb: "KnowledgeBase", services: list[str], aspects: list[str] | None = None) -> ComparisonTable:
    """A table of 2-6 services by aspect, each cell quoted from the notes with citations, "not in notes" or a conflict."""
    catalogue = get_catalogue()
    resolved = _resolve_services(services, catalogue)
    displays = [n.strip() for n in services if n.strip()]
    aspect_names = _aspect_names(aspects, resolved, catalogue)
    aspect_defs = [resolve_aspect(a) for a in aspect_names]
    state = kb._state
    index = _segment_index(state)
    compared = tuple(s.id for s in resolved)
    queries = _query_vectors(kb, [a.query for a in aspect_defs])
    matrix = state.line_matrix

    per_service: list[list[tuple[Segment, _Attribution]]] = []
    for service in resolved:
        ids = set(catalogue.family(service.id)) | _ancestors(service.id, catalogue)
        positions = sorted({p for i in ids for p in index.by_service.get(i, ())})
        attributed = []
        for p in positions:
            segment = index.segments[p]
            attribution = _attribute(segment, service.id, compared)
            if attribution is not None:
                attributed.append((segment, attribution))
        per_service.append(attributed)

    chunk_ids = [stored.chunk.id for stored in state.index.chunks]
    cells: list[Cell] = []
    for display, service, attributed in zip(displays, resolved, per_service):
        for aspect_name, aspect, query in zip(aspect_names, aspect_defs, queries):
            candidates = []
            for segment, attribution in attributed:
                keyword = aspect.keyword_score(segment.text)
                if keyword == 0 and segment.context and aspect.keyword_score(segment.context) == 1.0:
                    keyword = 0.5  # "This works for ALB and NLB." under "ELB Sticky Sessions"
                if keyword == 0 and (segment.vector_row < 0 or segment.kind == "table"):
                    continue
                if not informative(segment, aspect):
                    continue
                figure = bool(aspect.figures) and keyword > 0 and bool(extract_figures(segment.text, aspect.figures))
                candidates.append(_Candidate(segment, attribution, keyword, _dense(segment, query, matrix, index, keyword), figure))
            membership = _membership(index, service.id, aspect, catalogue)
            cells.append(_cell(display, service.id, aspect_name, aspect, candidates, chunk_ids.__getitem__, membership))
    return ComparisonTable(services=displays, aspects=aspect_names, cells=cells)
