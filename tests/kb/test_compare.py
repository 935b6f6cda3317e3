"""Comparison tables (kb/compare.py, kb/compare_export.py): figures and conflicts on inline notes, attribution of
note lines to services, exports, a small index built with the hashing embedder, and (slow) the shipped notes."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from ingest.build import build_index
from kb.catalogue import get_catalogue
from kb.compare import (
    NOT_IN_NOTES,
    NoteLine,
    detect_conflict,
    extract_figures,
    family_of,
    figures_near,
    listed_members,
    membership_conflict,
    resolve_aspect,
    resolve_service,
    segment_file,
)
from kb.compare_export import CSV_COLUMNS, to_csv, to_markdown
from kb.config import Settings
from kb.errors import BadQuery, UnknownService
from kb.models import Cell, CellCitation, ComparisonTable
from kb.testing import HashingEmbedder
from tests.conftest import SHIPPED_NOTES


# -- figures ------------------------------------------------------------------------------------------------
def test_figures_carry_their_role_and_a_common_unit():
    figures = extract_figures("Default retention of messages is 4 days, maximum of 14 days.", ["duration"])
    assert [(f.role, f.value) for f in figures] == [("default", 96.0), ("max", 336.0)]


def test_a_range_gives_a_minimum_and_a_maximum():
    figures = extract_figures("Configurable retention from 24 hours to 365 days", ["duration"])
    assert {(f.role, f.value) for f in figures} == {("min", 24.0), ("max", 365 * 24.0)}
    figures = extract_figures("Data storage for 1 to 365 days", ["duration"])
    assert {(f.role, f.value) for f in figures} == {("min", 24.0), ("max", 365 * 24.0)}


def test_sizes_are_read_with_or_without_a_space_and_rates_are_not_sizes():
    assert [f.value for f in extract_figures("256kb per message", ["size"])] == [256 * 1024]
    assert [f.value for f in extract_figures("Max message size is 256 KB", ["size"])] == [256 * 1024]
    assert extract_figures("Can receive up to 5 MB/s of data", ["size"]) == []


def test_a_dash_or_to_between_two_figures_is_a_range():
    figures = extract_figures("Memory allocation: 128 MB – 3008 MB (64 MB increments)", ["size"])
    assert [(f.role, f.text) for f in figures] == [("min", "128 MB"), ("max", "3008 MB"), ("value", "64 MB")]
    assert [f.role for f in extract_figures("memory 128MB to 3TB", ["size"])] == ["min", "max"]


def test_a_frequency_is_no_retention():
    assert [f.role for f in extract_figures("Transaction logs are backed-up by RDS every 5mins.", ["duration"])] == ["every"]


def test_only_figures_next_to_the_aspects_words_count():
    retention = resolve_aspect("retention")
    text = "Producers need a partition key; 5 transactions per sec. It has by default 24 hrs retention."
    assert [f.text for f in figures_near(text, ["duration"], retention.strong_re)] == ["24 hrs"]
    glacier = "glacier: 3 retrieval options (expedited(1-5 minutes), bulk(5 to 12 hours)), min 90 days of storage"
    minimum = resolve_aspect("minimum storage duration")
    assert [f.text for f in figures_near(glacier, ["duration"], minimum.strong_re)] == ["90 days"]


# -- conflicts ----------------------------------------------------------------------------------------------
def test_two_files_stating_different_figures_for_the_same_quantity_conflict():
    conflict = detect_conflict(
        {"dev.md": ["Kinesis: default retention period is 1 day and it can be increased to 7 days."],
         "saa.txt": ["Kinesis Data Streams: data storage for 1 to 365 days"]},
        ["duration"],
    )
    assert conflict is not None
    assert (conflict.file_a, conflict.file_b) == ("dev.md", "saa.txt")
    assert "7 days" in conflict.reason and "365 days" in conflict.reason
    assert "\n" not in conflict.reason


def test_two_plain_figures_that_differ_conflict():
    conflict = detect_conflict({"a.md": ["256KB per message"], "b.txt": ["messages can be 1 MB each"]}, ["size"])
    assert conflict is not None and "256KB" in conflict.reason and "1 MB" in conflict.reason


def test_the_same_figure_worded_differently_is_no_conflict():
    assert detect_conflict({"a.md": ["256KB per message"], "b.txt": ["Max message size is 256 KB"]}, ["size"]) is None
    assert detect_conflict({"a.md": ["It has by default 24 hrs retention."], "b.txt": ["Default retention: 1 day"]}, ["duration"]) is None
    assert detect_conflict({"a.md": ["We have 1 year retention"], "b.txt": ["retention up to 365 days"]}, ["duration"]) is None


def test_a_default_and_a_maximum_are_different_quantities():
    evidence = {"dev.md": ["4 days message retention"], "saa.txt": ["Default retention of messages is 4 days, maximum of 14 days."]}
    assert detect_conflict(evidence, ["duration"]) is None
    assert detect_conflict({"a.md": ["default retention 4 days"], "b.txt": ["maximum retention 14 days"]}, ["duration"]) is None


def test_a_plain_figure_beyond_another_files_maximum_conflicts():
    conflict = detect_conflict({"a.md": ["messages are kept 30 days"], "b.txt": ["retention up to 14 days"]}, ["duration"])
    assert conflict is not None and conflict.file_a == "a.md"


def test_figures_within_one_file_never_conflict():
    assert detect_conflict({"a.md": ["retention up to 7 days", "retention up to 365 days"]}, ["duration"]) is None


def test_x_only_against_a_longer_list_in_another_file_conflicts():
    vocabulary = resolve_aspect("protocols").vocabulary
    conflict = detect_conflict(
        {"saa.txt": ["Application Load Balancer (ALB) (HTTP/HTTPS only) - Layer 7"],
         "dev.md": ["Application load balancer - HTTP, HTTPS, WebSocket"]},
        [], vocabulary,
    )
    assert conflict is not None and conflict.file_a == "saa.txt" and "WebSocket" in conflict.reason
    agreeing = {"saa.txt": ["(HTTP/HTTPS only)"], "dev.md": ["supports HTTPS"]}
    assert detect_conflict(agreeing, [], vocabulary) is None


def test_different_osi_layers_conflict():
    conflict = detect_conflict({"a.md": ["works at Layer 7"], "b.md": ["operates at layer 4"]}, ["layer"])
    assert conflict is not None
    assert detect_conflict({"a.md": ["Layer 7"], "b.md": ["OSI Layer 7"]}, ["layer"]) is None


def test_two_files_listing_which_variants_have_a_feature_conflict_for_the_one_left_out():
    members = {"alb": "alb", "nlb": "nlb", "clb": "clb", "gwlb": "gwlb"}
    assert listed_members("This works for ALB and NLB.", members) == {"alb", "nlb"}
    assert listed_members("Works on ALB", members) is None
    statements = {
        "saa.txt": [("This works for ALB and NLB.", "ELB Sticky Sessions This works for ALB and NLB.", {"alb", "nlb"})],
        "dev.md": [("works for CLB and ALB", "ELB - stickiness works for CLB and ALB", {"clb", "alb"})],
    }
    found = membership_conflict("nlb", statements, known_in={"saa.txt", "dev.md"})
    assert found is not None and found[0].file_a == "saa.txt" and found[0].file_b == "dev.md"
    assert "(not NLB)" in found[0].reason
    # a file that never discusses the service cannot contradict by leaving it out
    assert membership_conflict("clb", statements, known_in={"dev.md"}) is None
    # nor do two lists about different features
    other = {**statements, "dev.md": [("works for CLB and ALB", "ELB - connection draining works for CLB and ALB", {"clb", "alb"})]}
    assert membership_conflict("nlb", other, known_in={"saa.txt", "dev.md"}) is None


# -- aspects, families, names -------------------------------------------------------------------------------
def test_aspects_are_known_by_name_and_synonym_and_free_words_still_work():
    assert resolve_aspect("Message size").name == "message/record size limit"
    assert resolve_aspect("durability").name == "durability"
    free = resolve_aspect("carbon footprint")
    assert free.name == "carbon footprint"
    assert free.keyword_score("our carbon footprints") == 1.0 and free.keyword_score("retention") == 0.0
    assert resolve_aspect("encrypted at rest?").keyword_score("encryption at rest using KMS") > 0
    with pytest.raises(BadQuery):
        resolve_aspect(" ?! ")


@pytest.mark.parametrize(
    ("names", "family"),
    [
        (["SQS", "SNS", "Kinesis Data Streams"], "messaging"),
        (["ALB", "NLB", "CLB"], "load balancers"),
        (["EBS", "EFS", "S3"], "storage"),
        (["Redis", "Memcached"], "caches"),
        (["S3 Standard-IA", "One Zone-IA"], "storage classes"),
        (["Spot Instances", "Reserved Instances"], "purchasing options"),
        (["RDS", "DynamoDB"], "databases"),
        (["CloudWatch", "CloudTrail"], "monitoring"),
        (["Lambda", "IAM"], "generic"),
    ],
)
def test_family_of_picks_the_default_aspects(names, family):
    assert family_of([resolve_service(n) for n in names], get_catalogue()) == family


def test_a_name_that_starts_one_service_is_enough_and_an_ambiguous_one_is_an_error():
    assert resolve_service("Spot").id == "spot-instances"
    assert resolve_service("Reserved").id == "reserved-instances"
    with pytest.raises(UnknownService) as caught:
        resolve_service("Standard")
    assert {"s3-standard", "sqs-standard"} <= set(caught.value.details["suggestions"])


# -- attribution of note lines to services (inline notes, real catalogue) ------------------------------------
def _lines(text: str, heading_path: tuple[str, ...] = ()) -> list[NoteLine]:
    return [NoteLine(number, line, 0, heading_path) for number, line in enumerate(text.split("\n"), start=1)]


def _about(segments, quote_part: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    segment = next(s for s in segments if quote_part in s.quote)
    return segment.named, segment.subject


def test_a_line_opening_with_a_service_name_is_the_subject_of_the_lines_after_it():
    # plain-text shape of aws-developer-notes.md: one paragraph a line, a service named at the start
    text = "sqs: queue model, sns: pub/sub model\n\n4 days message retention\n\nSNS - one message to many receivers\n\nno persistence"
    segments = segment_file("dev.md", _lines(text, ("SQS, SNS",)))
    assert _about(segments, "sns: pub/sub model")[0] == ("sns",)
    assert _about(segments, "4 days message retention")[1] == ("sqs",)
    assert _about(segments, "no persistence")[1] == ("sns",)


def test_a_short_title_line_heads_what_follows_but_a_described_pair_does_not():
    text = "Kinesis Data Streams\n- Data storage for 1 to 365 days\n\nlambda + sns : react to notification\n\nprocess in batches"
    segments = segment_file("saa.txt", _lines(text, ("Kinesis Data Firehose",)))
    assert _about(segments, "Data storage for 1 to 365 days")[1] == ("kinesis-data-streams",)
    assert _about(segments, "process in batches")[1] == ("kinesis-data-streams",)


def test_table_cells_belong_to_the_service_heading_their_column():
    # Notion export shape of aws-saa-notes.txt: tab-separated header and row, "•" items inside a cell
    text = "SQS:\t\tSNS:\t\nConsumer pulls • Data is deleted after being consumed\t\tPush data • Data is not persisted\t"
    segments = segment_file("saa.txt", _lines(text))
    cells = {s.quote: s.named for s in segments if s.kind == "table"}
    assert cells["Data is deleted after being consumed"] == ("sqs",)
    assert cells["Data is not persisted"] == ("sns",)
    assert all(s.quote in text.split("\n")[s.line - 1] for s in segments)


def test_a_table_with_a_row_name_column_labels_its_cells():
    text = "\tStandard\tStandard-IA\tOne Zone-IA\nAvailability\t99.99%\t99.9%\t99.5%"
    segments = segment_file("saa.txt", _lines(text, ("S3 Storage Classes",)))
    one_zone = next(s for s in segments if s.named == ("s3-one-zone-ia",))
    assert (one_zone.quote, one_zone.label, one_zone.column) == ("99.5%", "Availability", "One Zone-IA")
    assert next(s for s in segments if s.named == ("s3-standard",)).quote == "99.99%"


def test_a_lone_bold_bullet_heads_the_paragraph_after_it():
    # Notion export shape of aws-saa-notes.txt 1611-1617
    text = "- **S3 Standard-IA**\n\nIt's used for disaster recovery.\n\n- **S3 One Zone-IA**\n\nIt's used for secondary copies."
    segments = segment_file("saa.txt", _lines(text, ("S3 Storage Classes",)))
    assert _about(segments, "disaster recovery")[1] == ("s3-standard-ia",)
    assert _about(segments, "secondary copies")[1] == ("s3-one-zone-ia",)


def test_a_list_lead_in_heads_its_list_only():
    # aws-saa-notes.txt 732-749: "Target Groups:" (an ELB feature) lists targets inside the NLB topic
    text = "NLB has one static IP per AZ.\n\nTarget Groups:\n\n- **EC2 Instances.**\n- **ALB.**\n\nHealth checks support TCP."
    segments = segment_file("saa.txt", _lines(text, ("Network Load Balancer (NLB)",)))
    assert _about(segments, "EC2 Instances")[1] == ("elb",)
    assert _about(segments, "Health checks support TCP")[1] == ("nlb",)


def test_a_merged_notion_cell_spans_every_column():
    text = "\tStandard\tStandard-IA\tOne Zone-IA\nDurability\t99.999999999% (11 9's)\t\t\nMonitoring\t\t$0.0025\t"
    segments = segment_file("saa.txt", _lines(text, ("S3 Storage Classes",)))
    durability = {s.named[0] for s in segments if s.label == "Durability"}
    assert durability == {"s3-standard", "s3-standard-ia", "s3-one-zone-ia"}
    assert {s.named[0] for s in segments if s.label == "Monitoring"} == {"s3-standard-ia"}


# -- exports ------------------------------------------------------------------------------------------------
def _table() -> ComparisonTable:
    cite = CellCitation(file="a.md", start_line=3, end_line=3, quote="4 days | retention", id="c1")
    other = CellCitation(file="b.txt", start_line=9, end_line=10, quote="up to 14 days", id="c2")
    return ComparisonTable(
        services=["SQS", "SNS"],
        aspects=["retention", "size"],
        cells=[
            Cell(service="SQS", aspect="retention", value="4 days | retention", status="conflict", citations=[cite, other],
                 conflict_reason="a.md says 4 days; b.txt says max 14 days"),
            Cell(service="SNS", aspect="retention", value="not persisted", status="found", citations=[other]),
            Cell(service="SQS", aspect="size", value="256KB, per message", status="found", citations=[cite]),
            Cell(service="SNS", aspect="size", value=NOT_IN_NOTES, status="not_in_notes"),
        ],
    )


def test_markdown_has_one_row_an_aspect_and_lists_the_sources():
    text = to_markdown(_table())
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| aspect | SQS | SNS |"
    assert len(rows) == 3 and all(len(re.split(r"(?<!\\)\|", row)) == 5 for row in rows)
    assert "_not in notes_" in rows[2] and "**conflict:**" in rows[1] and "b.txt says max 14 days" in rows[1]
    assert "1. a.md:3: \"4 days \\| retention\"" in text and "2. b.txt:9-10: \"up to 14 days\"" in text
    assert rows[1].count("[2]") == 2  # the same citation keeps its number


def test_csv_has_one_row_a_cell_and_survives_commas_and_pipes():
    rows = list(csv.reader(io.StringIO(to_csv(_table()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 5
    sqs_size = rows[3]
    assert sqs_size[:4] == ["SQS", "size", "found", "256KB, per message"]
    assert rows[1][4] == "a.md:3; b.txt:9-10" and rows[1][6] == "a.md says 4 days; b.txt says max 14 days"
    assert rows[4][2] == "not_in_notes" and rows[4][4] == ""


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
