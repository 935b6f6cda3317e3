"""Aspects: what a column of a comparison table is about, the known ones and those built from a user's words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import combinations

from kb.evidence.figures import count_stem
from kb.evidence.text import STOP_WORDS, crude_stem
from kb.errors import BadQuery


@dataclass(frozen=True)
class Aspect:
    """What a column of the table is about: how to recognise it in a note line, and what figures it compares."""

    name: str
    query: str
    strong: str
    weak: str = ""
    synonyms: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()  # dimensions whose figures are compared across files (see kb.evidence.figures)
    vocabulary: str = ""  # a closed set of terms for "X only" claims (protocols...)
    counts: tuple[str, ...] = ()  # stems of what the aspect counts ("max read replicas": read, replica)
    figure_words: str = ""  # the words beside which a figure is the aspect's, when not its telling words
    # Lines holding at least this keyword score are also matched by meaning to the catalogue's one-line description
    # of each compared service (None: never): what a thing is reads like its description ("It routes traffic to a
    # single resource"), not like the aspect's words. A use case does only where it says so ("good for", "used to"):
    # a line close to the description is otherwise a definition, no use case.
    description_keyword: float | None = None

    @property
    def strong_re(self) -> re.Pattern[str]:
        return _compile(self.strong)

    @property
    def weak_re(self) -> re.Pattern[str] | None:
        return _compile(self.weak) if self.weak else None

    @property
    def figure_words_re(self) -> re.Pattern[str]:
        """The words beside which a figure is the aspect's: what it counts, for a count aspect, else its telling words."""
        if self.counts:
            return counted_words_re(self.counts)
        return _compile(self.figure_words) if self.figure_words else self.strong_re

    def keyword_score(self, text: str) -> float:
        """1 when the text holds one of the aspect's telling words, 0.5 for a looser word, else 0."""
        if self.strong and self.strong_re.search(text):
            return 1.0
        weak = self.weak_re
        return 0.5 if weak is not None and weak.search(text) else 0.0


def counted_words_re(stems: tuple[str, ...]) -> re.Pattern[str]:
    """The words beside which a count of these things (word stems) is theirs."""
    return _compile("|".join(rf"\b{re.escape(stem)}\w*" for stem in stems))


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
               r"retention|retain|\bpersist|\bkept\b|\bkeeps?\b(?! track)|expire|rolling window|deleted after|stored? for|data storage for|\bhold (?:the )?messages?",
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
               r"replay|\bre-?process|\bre-?read|deleted after|no longer available|after (?:being )?consumed|multiple (?:apps|applications|consumers|processors?)|read by (?:a )?consumer|not persisted|\bimmutable",
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
               r"^\W*(?:it|they|this|these)\b[\w' ]{0,25}\bused (?:for|in|to|when)\b|use ?cases?|good for|useful for|great (?:fit|to|for)|suitable|ideal|best for|meant for|designed (?:for|to)|makes? it [\w ]{0,25}\bfor\b|use it (?:when|for)|recommended|should (?:not )?be|legacy|\bold\b|older generation|extreme performance|mostly used",
               r"used (?:for|in|to)|\bfor\b.*\b(?:applications?|workloads?)\b|when (?:you|we) need",
               ("use cases", "usage", "use", "when to use", "good for", "best for"), description_keyword=1.0),
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
               r"\bAZs?\b", ("replication", "high availability", "ha", "multi-az"), figures=("count",)),
        # how replicas take over is not how many there are: a "failover" column compares how and how fast
        Aspect("failover", "failover: automatic failover to a standby or replica when the primary fails, and how long it takes",
               r"failover|fail(?:s|ing|ed)? over|promot(?:e|ed|es|ion)|standby|take over", r"multi[- ]?az|\bdns\b|cname|outage",
               ("automatic failover", "fail over", "failover time", "failover behaviour", "failover behavior"),
               figures=("duration",)),
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
               ("savings", "price", "cost"), figures=("percent",)),
        Aspect("commitment", "commitment and term length: 1 year or 3 years contract, reservation",
               r"commit|\bterm\b|\b[13] (?:or 3 )?years?\b|\b1 or 3\b|contract|reserv|long[- ]term", "",
               ("term", "contract", "commitment term"), figures=("duration",)),
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
               # "It routes traffic to a single resource.": a sentence whose subject is the thing says what it does
               r"\bis an? |fully managed|service (?:that|which|for|to)|allows? (?:us|you)|lets (?:us|you)|enables? (?:us|you)|used to\b"
               r"|^\W*it (?:\w+ly )?\w+s\b",
               "", ("definition", "description", "overview", "purpose"), description_keyword=0.0),
        Aspect("encryption", "encryption at rest and in transit, KMS keys, SSL/TLS",
               r"encrypt|\bkms\b|\bsse\b|\btls\b|\bssl\b|at rest|in[- ](?:transit|flight)|\bcmk\b", "", ("encrypted", "encryption at rest")),
        Aspect("limits", "limits and quotas: maximum sizes and counts",
               r"\blimits?\b|quota|max(?:imum)?|up to [\d,]+|at most|cannot exceed", "", ("quotas", "limitations"),
               figures=("count",)),
    ]
}


# Words too general to stand for one known aspect inside a free one ("type", "model", "scope").
_GENERAL_WORDS = frozenset(
    "type kind model level features access usage term order records purpose coverage definition description "
    "overview payment flexibility reliability speed size capacity performance limits architecture".split()
)


def _free_word_patterns() -> dict[str, str]:
    """A word of a free aspect that names one known aspect ("billing", "failover", "snapshots") brings that aspect's
    telling words: "billing granularity" then finds "charged per request & duration"."""
    owners: dict[str, set[str]] = {}
    for aspect in ASPECTS.values():
        for name in (aspect.name, *aspect.synonyms):
            if " " not in name and "/" not in name and name not in _GENERAL_WORDS:
                owners.setdefault(name, set()).add(aspect.name)
    derived = {word: ASPECTS[next(iter(names))].strong for word, names in owners.items() if len(names) == 1}
    return derived | {
        "cost": ASPECTS["pricing"].strong, "price": ASPECTS["pricing"].strong, "pricing": ASPECTS["pricing"].strong,
        "billed": ASPECTS["pricing"].strong, "charged": ASPECTS["pricing"].strong, "paid": ASPECTS["pricing"].strong,
        "encryption": ASPECTS["encryption"].strong, "security": ASPECTS["security"].strong,
        "latency": r"latency|millisecond|\bms\b|real[- ]time", "monitoring": r"monitor|cloudwatch|metrics?|logs?",
        "limits": ASPECTS["limits"].strong, "backup": ASPECTS["backup and snapshots"].strong,
        "kept": ASPECTS["retention"].strong, "retained": ASPECTS["retention"].strong,
    }


# Free words a user may type, expanded to the patterns the notes use.
_FREE_WORD_PATTERNS: dict[str, str] = _free_word_patterns()


@cache
def _aspect_keys() -> dict[str, str]:
    keys = {_aspect_key(aspect.name): aspect.name for aspect in ASPECTS.values()}
    for aspect in ASPECTS.values():  # an aspect's own name wins over another's synonym ("durability")
        for name in aspect.synonyms:
            keys.setdefault(_aspect_key(name), aspect.name)
    return keys


@cache
def _aspect_stems() -> dict[frozenset[str], str]:
    """Known aspects by the stems of their names' telling words: "what gets recorded" is "what it records"."""
    stems: dict[frozenset[str], str] = {}
    for aspect in ASPECTS.values():
        for name in (aspect.name, *aspect.synonyms):
            key = _stem_key(name)
            if key:
                stems.setdefault(key, aspect.name)
    return stems


def _stem_key(text: str) -> frozenset[str]:
    return frozenset(
        crude_stem(w) for w in _aspect_key(text).split() if w not in STOP_WORDS and w not in _LIGHT_WORDS and len(w) >= 3
    )


def _aspect_key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# Words in front of a known aspect's name that ask for nothing more ("stated use case", "main use cases").
_QUALIFIERS = "stated|typical|main|primary|common|overall|basic|usual"


def resolve_aspect(text: str) -> Aspect:
    """The known aspect a user's words name (by name or synonym), else one built from the words themselves."""
    key = _aspect_key(text)
    plain = re.sub(rf"^(?:(?:{_QUALIFIERS}) )+", "", key)
    known = _aspect_keys().get(key) or _aspect_keys().get(plain)
    if known is not None:
        return ASPECTS[known]
    free = free_aspect(text)
    # The same words in another form ("what gets recorded") name the known aspect, unless the user's words ask for a
    # figure it does not compare ("how it's billed" asks a billing period, not the pricing aspect's words alone).
    known = _aspect_stems().get(_stem_key(plain))
    if known is not None and set(free.figures) <= set(ASPECTS[known].figures):
        return ASPECTS[known]
    return free


def free_aspect(text: str) -> Aspect:
    """An aspect built from the user's own words: all of them make a telling match, one of them a loose one."""
    key = _aspect_key(text)
    words = key.split()
    if not words:
        raise BadQuery(f"The aspect {text!r} has no words in it.")
    # "how long it's kept" asks for a duration; "long" is no word the notes need to hold ("stored for 90 days")
    asked = {m.group(1): _HOW_ASKS[m.group(1)] for m in _HOW.finditer(key)}
    content = [w for w in words if w not in STOP_WORDS and len(w) >= 3 and w not in asked and w not in _LIGHT_WORDS] or words
    asks_a_count = any(_LIMIT_CUE.fullmatch(w) or _FIGURE_CUES["count"].fullmatch(w) for w in words)
    # "number of read replicas": the notes say "up to 5 read replicas"; the asking words are no words of the notes
    named_words = [w for w in content if not (asks_a_count and _ASKING.fullmatch(w))] or content
    # Every named word is in a slot, so at least one slot has a pattern.
    stems = [stem for stem in (_slot_pattern(slot, named_words) for slot in _word_slots(text)) if stem]
    # All of the user's words make a telling match ("cold start" needs both); one of them, a loose one.
    # Anchored: unanchored lookaheads would be tried again at every position of the line.
    strong = "^" + "".join(f"(?=.*?{stem})" for stem in stems)
    known = [_FREE_WORD_PATTERNS[w] for w in words if w in _FREE_WORD_PATTERNS]
    if known:
        strong = "|".join(f"(?:{a})" for a in [*known, strong])
    # A loose match holds half the words: "users" alone is not "user management features".
    need = max(1, len(stems) // 2)
    weak = "|".join("^" + "".join(f"(?=.*?{stem})" for stem in group) for group in combinations(stems, need)) if len(stems) > 1 else ""
    name = " ".join(text.split())
    figures = tuple(
        dimension for dimension, cue in _FIGURE_CUES.items() if dimension in asked.values() or any(cue.fullmatch(w) for w in words)
    )
    if not figures and any(_LIMIT_CUE.fullmatch(w) for w in words):
        # "max read replicas" counts; "max data per request" measures a size; "max message size" says so itself
        figures = ("size",) if "data" in words else ("count",)
    named = words[: words.index("per")] if "per" in words else words  # "max VPCs per region" counts VPCs
    counted = [count_stem(w) for w in content if w in named and not _ASKING.fullmatch(w)]
    counts = tuple(counted) if "count" in figures else ()
    # A line holds all the user's words somewhere; a figure is the aspect's when one of them stands beside it.
    figure_words = "|".join(stems) if figures else ""
    # Words offered as alternatives ("read/write caching", "sync or async") are a closed set: a note that says "only
    # read" disagrees with one that says "write".
    alternatives = next((slot for slot in _word_slots(text) if len(slot) >= 2), [])
    vocabulary = "|".join(rf"\b{re.escape(w)}\b" for w in alternatives)
    return Aspect(name=name, query=name, strong=strong, weak=weak, figures=figures, counts=counts, figure_words=figure_words,
                  vocabulary=vocabulary)


def _word_slots(text: str) -> list[list[str]]:
    """The aspect's words in order, where words joined by "/" or "or" share one slot: either of them will do
    ("destinations/consumers", "sync or async", "stateful or stateless")."""
    slots: list[list[str]] = []
    joining = False
    for token in re.findall(r"[a-z0-9]+(?:\s*/\s*[a-z0-9]+)*|/", text.lower()):
        if token == "or" and slots:
            joining = True
            continue
        alternatives = re.findall(r"[a-z0-9]+", token)
        if not alternatives:
            continue
        if joining:
            slots[-1].extend(alternatives)
        else:
            slots.append(alternatives)
        joining = False
    return slots


def _slot_pattern(slot: list[str], named_words: list[str]) -> str:
    """One slot's pattern: any of its words that name what is asked, each by its stem (empty when none does)."""
    stems = sorted({re.escape(crude_stem(w)) for w in slot if w in named_words}, key=len, reverse=True)
    if not stems:
        return ""
    return rf"\b{stems[0]}\w*" if len(stems) == 1 else rf"\b(?:{'|'.join(stems)})\w*"


# Words in a free-form aspect that say which figures it compares ("max execution time" compares durations).
_FIGURE_CUES = {
    "duration": re.compile(r"time|times|duration|retention|period|timeout|ttl|expiry|expiration|age|window|lifetime|lifespan|validity"),
    "period": re.compile(r"often|frequency|frequently|granularity|increments?|interval|cadence|billed|billing|charged"),
    "size": re.compile(r"size|sizes|memory|storage|capacity|payload|disk|volume"),
    "percent": re.compile(r"availability|durability|sla|uptime|discounts?|savings?|percent|percentage"),
    "count": re.compile(r"many|count|number|replicas|quota|quotas"),
}
# Words of a question's frame, which no note line needs to hold: "what gets recorded" is answered by "records all
# API calls", "can it be resized" by "volumes can be resized".
_LIGHT_WORDS = frozenset(
    "get gets got can could it they them their there this that these those you your we our us will would should may "
    "might also too be been being has have had much where who whom whose why".split()
)
# "how long", "how often", "how big": the figure a question form asks for.
_HOW_ASKS = {"long": "duration", "often": "period", "big": "size", "large": "size", "many": "count"}
_HOW = re.compile(rf"\bhow ({'|'.join(_HOW_ASKS)})\b")
# Words asking for a limit: of a count ("max read replicas") unless another word says which figure ("max size").
_LIMIT_CUE = re.compile(r"max|maximum|limit|limits")
# Words that ask for a count rather than name what is counted.
_ASKING = re.compile(r"many|count|number|quota|quotas|max|maximum|limit|limits|how")
