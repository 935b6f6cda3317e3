"""The comparison table (kb/compare/table.py): service names, compare() over a small index built with the hashing
embedder, and (slow) the shipped notes with the real model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.build import build_index
from kb.compare import NOT_IN_NOTES, resolve_service
from kb.config import Settings
from kb.errors import BadQuery, UnknownService
from kb.models import CellCitation
from kb.testing import HashingEmbedder
from tests.conftest import SHIPPED_NOTES


def test_a_name_that_starts_one_service_is_enough_and_an_ambiguous_one_is_an_error():
    assert resolve_service("Spot").id == "spot-instances"
    assert resolve_service("Reserved").id == "reserved-instances"
    with pytest.raises(UnknownService) as caught:
        resolve_service("Standard")
    assert {"s3-standard", "sqs-standard"} <= set(caught.value.details["suggestions"])


# -- compare() over a small index built with the hashing embedder --------------------------------------------
NOTE_DEV = """## SQS, SNS, Kinesis:

sqs: queue model, sns: pub/sub model, kinesis: real-time streaming

messages are kept for 4 days (message retention period)

256kb per message

SNS - one message to many receivers, fan out

Kinesis - big data streaming tool

data retention period is 1 day by default and it can be increased to 7 days
"""
NOTE_SAA = """Decoupling Applications

▼ **AWS SQS - Standard Queues.**

SQS is a fully managed message queuing service. Default retention of messages is 4 days, maximum of 14 days.

▼ **Kinesis Data Streams (KDS).**

Data retention period: data is kept for 1 to 365 days.
"""


@pytest.fixture
def small_kb(tmp_path: Path):
    from kb.core import KnowledgeBase

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "dev.md").write_text(NOTE_DEV, encoding="utf-8")
    (notes / "saa.txt").write_text(NOTE_SAA, encoding="utf-8")
    index = tmp_path / "index"
    embedder = HashingEmbedder(dimension=256)
    build_index(notes, index, embedder)
    return KnowledgeBase(Settings(index_dir=index, notes_dir=notes), embedder=embedder), notes


def test_compare_on_a_small_index_finds_flags_and_abstains(small_kb):
    kb, notes = small_kb
    table = kb.compare(["SQS", "SNS", "Kinesis Data Streams"], ["retention", "carbon footprint"])
    assert table.services == ["SQS", "SNS", "Kinesis Data Streams"] and table.aspects == ["retention", "carbon footprint"]
    cells = {(c.service, c.aspect): c for c in table.cells}
    assert len(cells) == 6
    sqs = cells[("SQS", "retention")]
    assert sqs.status == "found"  # 4 days (default) and 14 days (maximum) agree
    assert {c.file for c in sqs.citations} == {"dev.md", "saa.txt"}
    kinesis = cells[("Kinesis Data Streams", "retention")]
    assert kinesis.status == "conflict" and "7 days" in kinesis.conflict_reason and "365 days" in kinesis.conflict_reason
    assert {c.file for c in kinesis.citations[:2]} == {"dev.md", "saa.txt"}
    for service in ("SQS", "SNS", "Kinesis Data Streams"):
        empty = cells[(service, "carbon footprint")]
        assert (empty.status, empty.value, empty.citations) == ("not_in_notes", NOT_IN_NOTES, [])
    for cell in table.cells:
        for citation in cell.citations:
            lines = (notes / citation.file).read_text(encoding="utf-8").split("\n")
            assert citation.quote in "\n".join(lines[citation.start_line - 1 : citation.end_line])


def test_compare_rejects_bad_service_lists(small_kb):
    kb, _ = small_kb
    with pytest.raises(BadQuery):
        kb.compare(["SQS"])
    with pytest.raises(BadQuery):
        kb.compare(["SQS", "SNS", "EBS", "EFS", "S3", "ALB", "NLB"])
    with pytest.raises(BadQuery):
        kb.compare(["SQS", "Simple Queue Service"])
    with pytest.raises(BadQuery):
        kb.compare(["SQS", "SNS"], ["x" * 200])
    with pytest.raises(UnknownService) as caught:
        kb.compare(["SQS", "Quantum Teleporter Service"])
    assert "Quantum Teleporter Service" in caught.value.message and caught.value.details["suggestions"]


# -- the shipped notes (real model) -------------------------------------------------------------------------
MESSAGING = ["SQS", "SNS", "Kinesis"]
DURATION = re.compile(r"\b\d+\s*(?:days?|hours?|hrs?)\b", re.IGNORECASE)


def _cited_text(citation: CellCitation) -> str:
    lines = (SHIPPED_NOTES / citation.file).read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[citation.start_line - 1 : citation.end_line])


@pytest.mark.slow
def test_messaging_retention_cites_what_each_service_keeps(real_kb):
    table = real_kb.compare(MESSAGING, ["retention"])
    cells = {c.service: c for c in table.cells}
    assert set(cells) == set(MESSAGING)
    for service in ("SQS", "Kinesis"):
        cell = cells[service]
        assert cell.status in ("found", "conflict") and cell.citations
        stating = [c for c in cell.citations if DURATION.search(c.quote)]
        assert stating, f"{service}: no citation states a retention figure: {cell.citations}"
    assert any("14 days" in c.quote for c in cells["SQS"].citations)
    assert cells["SQS"].status == "found"  # 4 days default and 14 days maximum are not a conflict
    # The notes give SNS no retention figure; they say it does not keep messages.
    assert any(re.search(r"persist|retain|retention", c.quote, re.IGNORECASE) for c in cells["SNS"].citations)
    assert not any("4 days" in c.quote or "256" in c.quote for c in cells["SNS"].citations)


@pytest.mark.slow
def test_kinesis_data_streams_retention_is_a_conflict_between_files(real_kb):
    table = real_kb.compare(["SQS", "SNS", "Kinesis Data Streams"], ["retention"])
    cell = next(c for c in table.cells if c.service == "Kinesis Data Streams")
    assert cell.status == "conflict"
    assert len({c.file for c in cell.citations[:2]}) == 2
    assert all(DURATION.search(c.quote) for c in cell.citations[:2])
    assert "\n" not in (cell.conflict_reason or "")


@pytest.mark.slow
def test_a_sentence_restated_in_another_file_with_another_figure_is_a_conflict(real_kb):
    """aws-developer-course.txt and aws-saa-notes.txt carry the same course line about Lambda's /tmp, one with
    "512 MB", the other with "512 MB to 10GB": the restatement is found though its line is further from the aspect."""
    table = real_kb.compare(["AWS Lambda", "EC2"], ["temporary disk space"])
    cell = next(c for c in table.cells if c.service == "AWS Lambda")
    assert cell.status == "conflict"
    assert {c.file for c in cell.citations[:2]} == {"aws-developer-course.txt", "aws-saa-notes.txt"}
    assert "10GB" in (cell.conflict_reason or "")


@pytest.mark.slow
def test_disagreements_stated_without_a_figure_are_conflicts(real_kb):
    """aws-developer-course.txt:466 says EBS attaches to one instance at a time, aws-saa-notes.txt:550 that Multi-Attach
    attaches it to several. aws-developer-course.txt:166 bills EC2 by the second; aws-architect-notes.md:1139 bills
    On-Demand Instances per hour (the line sits under "- On-demand"): a feature's statement is cited in EC2's cell
    but is no conflict with EC2's own, as a variant's figure is not (the answer to "Is EC2 billed per second or per
    hour?" says the notes disagree: tests/kb/test_evidence_answers.py)."""
    shared = next(c for c in real_kb.compare(["EBS", "EFS"], ["shared across instances"]).cells if c.service == "EBS")
    assert shared.status == "conflict" and len({c.file for c in shared.citations[:2]}) == 2
    assert "multiple" in (shared.conflict_reason or "")
    billing = next(c for c in real_kb.compare(["EC2", "AWS Lambda"], ["billing granularity"]).cells if c.service == "EC2")
    assert billing.status == "found"
    assert {(c.file, c.start_line) for c in billing.citations} >= {("aws-developer-course.txt", 166), ("aws-architect-notes.md", 1139)}
    for cell in (shared, billing):
        for citation in cell.citations:
            assert citation.quote in _cited_text(citation)


@pytest.mark.slow
def test_an_aspect_asking_for_a_figure_takes_only_lines_that_can_state_one(real_kb):
    """The notes give Aurora's maximum storage (64 TB in two files, 128TB in aws-saa-notes.txt:1009) and no maximum
    for RDS: lines about RDS storage that state no size ("Auto scaling capability for storage") do not fill it."""
    cells = {c.service: c for c in real_kb.compare(["Aurora", "RDS"], ["max storage size"]).cells}
    assert cells["Aurora"].status == "conflict" and "128" in (cells["Aurora"].conflict_reason or "")
    assert cells["RDS"].status == "not_in_notes" and not cells["RDS"].citations


@pytest.mark.slow
def test_an_aspect_the_notes_never_discuss_is_not_in_notes(real_kb):
    # grep -i "carbon" data/notes/* finds nothing
    table = real_kb.compare(MESSAGING, ["carbon footprint"])
    assert all(c.status == "not_in_notes" and not c.citations and c.value == NOT_IN_NOTES for c in table.cells)


@pytest.mark.slow
def test_sns_message_size_is_not_borrowed_from_sqs(real_kb):
    table = real_kb.compare(["SQS", "SNS"], ["message size"])
    cells = {c.service: c for c in table.cells}
    assert any("256" in c.quote for c in cells["SQS"].citations)
    assert cells["SNS"].status == "not_in_notes"


@pytest.mark.slow
@pytest.mark.parametrize(
    "services",
    [MESSAGING, ["ALB", "NLB", "CLB", "GWLB"], ["EBS", "EFS", "S3"], ["Redis", "Memcached"],
     ["Standard-IA", "One Zone-IA"], ["Spot", "Reserved"]],
)
def test_every_quote_is_verbatim_in_its_cited_lines(real_kb, services):
    table = real_kb.compare(services)
    assert table.aspects and len(table.cells) == len(services) * len(table.aspects)
    for cell in table.cells:
        if cell.status == "not_in_notes":
            assert not cell.citations
            continue
        assert cell.citations and cell.value
        for citation in cell.citations:
            assert citation.quote.strip() and citation.quote in _cited_text(citation), citation
            assert real_kb.chunk(citation.id).file == citation.file


@pytest.mark.slow
def test_a_made_up_service_is_a_clear_error_with_suggestions(real_kb):
    with pytest.raises(UnknownService) as caught:
        real_kb.compare(["SQS", "Amazon Snapqueue"])
    assert "Snapqueue" in caught.value.message
    assert caught.value.details["suggestions"]


@pytest.mark.slow
def test_what_a_feature_is_is_read_by_its_catalogue_description(real_kb):
    # aws-saa-notes.txt 1382: "It routes traffic to a single resource." names none of the aspect's words and sits
    # far from its generic query; it is close to the catalogue's description of simple routing.
    table = real_kb.compare(["Simple routing", "Weighted routing"], ["what it is"])
    simple = next(c for c in table.cells if c.service == "Simple routing")
    assert simple.status == "found"
    assert ("aws-saa-notes.txt", 1382) in {(c.file, c.start_line) for c in simple.citations}


@pytest.mark.slow
def test_a_failover_column_compares_how_failover_works_not_how_many_replicas(real_kb):
    """aws-developer-course.txt:580 calls Aurora's failover instantaneous, aws-saa-notes.txt:1018 says within 30
    seconds; RDS's read replica counts (5 against 15) say nothing of its failover."""
    cells = {c.service: c for c in real_kb.compare(["RDS", "Aurora"], ["failover"]).cells}
    assert cells["RDS"].status == "found" and any("failover" in c.quote.lower() for c in cells["RDS"].citations)
    aurora = cells["Aurora"]
    assert aurora.status == "conflict"
    assert {(c.file, c.start_line) for c in aurora.citations[:2]} == {("aws-developer-course.txt", 580), ("aws-saa-notes.txt", 1018)}
    # a time asked of RDS, whose notes give none, is not in the notes
    timed = {c.service: c for c in real_kb.compare(["RDS", "Aurora"], ["failover time"]).cells}
    assert timed["RDS"].status == "not_in_notes"


@pytest.mark.slow
def test_a_few_free_words_are_read_as_said_of_the_service(real_kb):
    """'on by default' alone is a weak query: lines holding its words are weighed against 'AWS CloudTrail: on by
    default' as well (aws-developer-notes.md:1250 'cloudtrail: enabled by default'; aws-architect-notes.md:4769
    'By default, VPC flow logs are not enabled')."""
    cells = {c.service: c for c in real_kb.compare(["CloudTrail", "VPC Flow Logs"], ["on by default"]).cells}
    assert ("aws-developer-notes.md", 1250) in {(c.file, c.start_line) for c in cells["CloudTrail"].citations}
    assert ("aws-architect-notes.md", 4769) in {(c.file, c.start_line) for c in cells["VPC Flow Logs"].citations}
    # a line without the aspect's words still needs to be close to the aspect itself, not only to the service
    assert all("default" in c.quote.lower() for cell in cells.values() for c in cell.citations)


@pytest.mark.slow
def test_what_the_notes_say_of_a_large_family_is_not_said_of_each_part(real_kb):
    """EC2's prices (aws-developer-course.txt:160 'EC2 instances prices (per hour) varies...') are not the instance
    store's pricing model: EC2 has 19 parts; 'Kinesis' still speaks for Kinesis Data Streams (4 members)."""
    cells = {c.service: c for c in real_kb.compare(["S3", "EBS", "EFS", "EC2 Instance Store"], ["pricing model"]).cells}
    assert cells["EC2 Instance Store"].status == "not_in_notes"
    assert cells["EBS"].status == "found"
