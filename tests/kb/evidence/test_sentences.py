"""Segments (kb/compare/segments.py): what each piece of a note line names and inherits from its heading, its
paragraph's opening line, its parent bullet or its table column; inline notes in the shipped shapes, real catalogue."""

from __future__ import annotations

from kb.evidence import NoteLine, segment_file


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


def test_a_bare_label_names_a_feature_of_its_section_by_its_short_name():
    # aws-architect-notes.md 1135-1147: "- On-demand" under EC2's purchasing options, its bullets nested under it
    text = "- Purchasing options\n  - On-demand\n    - Most expensive but flexible. billed per hour.\n  - Reserved\n    - Purchased for 1 or 3 years."
    segments = segment_file("architect.md", _lines(text, ("Amazon EC2",)))
    assert _about(segments, "billed per hour")[1] == ("on-demand-instances",)
    assert _about(segments, "Purchased for 1 or 3 years")[1] == ("reserved-instances",)
    # Outside EC2 the same label names nothing, and a short name two features would share names neither.
    elsewhere = segment_file("notes.md", _lines("- On-demand\n  - billed per hour", ("Pricing",)))
    assert _about(elsewhere, "billed per hour")[1] == ()
    dedicated = segment_file("architect.md", _lines("- Dedicated\n  - no sharing", ("Amazon EC2",)))
    assert _about(dedicated, "no sharing")[1] == ("ec2",)
    # aws-saa-notes.txt 352-358: a label that goes on to name its section's service is a way of that service.
    hosts = "- **Dedicated Hosts:** book an entire physical server\n\n- On-demand: pay per second for active dedicated host."
    assert _about(segment_file("saa.txt", _lines(hosts, ("EC2",))), "pay per second")[1] == ("dedicated-hosts",)


def test_a_label_opening_a_line_names_a_feature_and_a_nested_list_ends_with_its_indent():
    # aws-developer-course.txt 1327-1349 and aws-developer-notes.md 1459-1462, under DynamoDB
    text = "  • Scans:\n    • Examines every item in the table\n  • Provisioned Throughput\n    • All writes are 1 KB"
    segments = segment_file("course.txt", _lines(text, ("DynamoDB",)))
    assert _about(segments, "Examines every item")[1] == ("dynamodb-scan",)
    assert _about(segments, "All writes are 1 KB")[1] == ("dynamodb",)
    text = "BatchGetItem - upto 100 items, 16MB of data\n\nQuery: partition key (must be equal)\nupto 1MB of data"
    segments = segment_file("notes.md", _lines(text, ("DynamoDB",)))
    assert _about(segments, "upto 1MB of data")[1] == ("dynamodb-query",)


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
