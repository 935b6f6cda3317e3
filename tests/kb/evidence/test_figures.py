"""Figures read from note text (kb/compare/figures.py): roles, units, ranges, and which figures stand next to an
aspect's words; inline note sentences."""

from __future__ import annotations

from kb.compare import resolve_aspect
from kb.evidence import extract_figures, figures_near


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


def test_a_count_carries_its_role_and_what_it_counts():
    figures = extract_figures("We can have up to 15 Aurora read replicas for reads", ["count"])
    assert [(f.role, f.value, f.of, f.per) for f in figures] == [("max", 15.0, "aurora read replica", "")]
    figures = extract_figures("Vpcs are region specific, 5 vpc per region; 20 IPs per ENI", ["count"])
    assert [(f.value, f.of, f.per) for f in figures] == [(5.0, "vpc", "region"), (20.0, "ip", "eni")]
    assert [(f.role, f.value) for f in extract_figures("lambda - upto 1,000 concurrent executions", ["count"])] == [("max", 1000.0)]


def test_a_bare_limit_counts_the_noun_before_it():
    figures = extract_figures("allows us to create one or more read-only copies (max 15) of our database", ["count"])
    assert [(f.role, f.value, f.text, f.of) for f in figures] == [("max", 15.0, "max 15", "read copi")]
    assert [f.of for f in extract_figures("a maximum of 10 subnets", ["count"])] == ["subnet"]


def test_numbers_that_name_or_measure_are_no_counts():
    text = "Layer 7 load balancer, launched in 2019, costs $5 for 10 GB and keeps data 7 days; 5 times faster"
    assert extract_figures(text, ["count"]) == []
    # An error or status code names a response, and a rate is a bandwidth (aws-saa-notes.txt: "Up to 100 Gbps").
    for text in ("load balancer error 503 means at capacity", "returns HTTP 200", "Bandwidth\tUp to 100 Gbps\tDepends"):
        assert extract_figures(text, ["count"]) == [], text


def test_a_count_written_in_words_counts_what_it_names():
    figures = extract_figures("It provides two static IP addresses that serve as a fixed entry point", ["count"])
    assert [(f.value, f.text, f.of) for f in figures] == [(2.0, "two static IP addresses", "static ip address")]
    # "one" is as often a pronoun, and a written number before a unit is that unit's figure, not a count.
    assert extract_figures("one of the replicas answers within two hours", ["count"]) == []
    # a bare written number after a limit's cue counts, as a bare digit does
    assert [(f.role, f.value) for f in extract_figures("at most seven per AZ, typically up to seven.", ["count"])][-1] == ("max", 7.0)


def test_a_period_says_how_often_or_in_what_steps():
    def periods(text: str) -> list[tuple[float, str]]:
        return [(round(f.value * 3600, 3), f.text) for f in extract_figures(text, ["period"])]

    assert periods("Pay per duration: (in increment of 100ms)") == [(0.1, "increment of 100ms")]
    assert periods("New for AWS Lambda – 1ms Billing Granularity") == [(0.001, "1ms Billing Granularity")]
    assert periods("You are billed by the second, with a minimum of 60 seconds.") == [(1.0, "billed by the second")]
    assert periods("Transaction logs are backed-up by RDS every 5mins.") == [(300.0, "every 5mins")]
    assert periods("Capture transaction logs in real time") == [(0.0, "real time")]
    assert periods("Files are updated in near real-time") == []  # near real time is no period of zero


def test_instantaneous_is_a_duration_of_zero_unless_denied():
    assert [(f.value, f.text) for f in extract_figures("Failover in Aurora is instantaneous.", ["duration"])] == [(0.0, "instantaneous")]
    assert extract_figures("LBs can scale but not instantaneously", ["duration"]) == []


def test_the_number_of_a_name_is_no_figure():
    # aws-saa-notes.txt 1270: "Route 53 supports the following DNS records" counts nothing.
    assert extract_figures("Route 53 supports the following DNS record types", ["count"]) == []
    assert [f.text for f in extract_figures("About 15 global health checkers will check it", ["count"])] == ["15 global health checkers"]
    assert [f.of for f in extract_figures("up to 16 EC2 instances", ["count"])] == ["ec2 instanc"]


def test_numbers_offered_as_choices_are_options_in_the_unit_written_last():
    options = extract_figures("Reserved: 1 or 3 years", ["duration"])
    assert [(f.role, f.value) for f in options] == [("option", 1 * 8760.0), ("option", 3 * 8760.0)]
    assert {f.text for f in options} == {"1 or 3 years"}
    # a range and a plain figure are read as before
    assert [f.role for f in extract_figures("Retention: 1 to 35 days", ["duration"])] == ["min", "max"]
    assert [f.role for f in extract_figures("a 3 year period reservation", ["duration"])] == ["value"]
