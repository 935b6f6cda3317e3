"""Conflicts between files (kb/compare/conflicts.py): different figures for the same quantity, "X only" against a
longer list, different OSI layers; inline note sentences."""

from __future__ import annotations

from kb.compare import resolve_aspect
from kb.evidence import detect_conflict
from kb.evidence.conflicts import OPPOSITES


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


def test_a_single_figure_against_a_range_that_starts_at_it_conflicts():
    evidence = {"course.txt": ["Disk capacity (in /tmp): 512 MB"], "saa.txt": ["Disk capacity (in /tmp): 512 MB to 10GB"]}
    conflict = detect_conflict(evidence, ["size"])
    assert conflict is not None and "512 MB to 10GB" in conflict.reason
    # A figure inside the range, or a range's maximum stated alone, is no disagreement.
    assert detect_conflict({"a.md": ["retention up to 14 days"], "b.txt": ["retention 1 to 14 days"]}, ["duration"]) is None


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


def test_counts_of_the_same_thing_compare_role_by_role():
    conflict = detect_conflict({"a.md": ["read replica: up to 5 read replicas possible"],
                                "b.txt": ["We can have up to 15 Aurora read replicas for reads."]}, ["count"])
    assert conflict is not None and "5 read replicas" in conflict.reason and "15 Aurora read replicas" in conflict.reason
    assert detect_conflict({"a.md": ["up to 5 read replicas"], "b.txt": ["Aurora can have 5 replicas"]}, ["count"]) is None


def test_counts_of_different_things_never_conflict():
    evidence = {"a.md": ["Vpcs are region specific, 5 vpc per region"], "b.txt": ["200 subnets per vpc, up to 10 nodes"]}
    assert detect_conflict(evidence, ["count"]) is None
    # the same noun counted per different things is two quantities
    assert detect_conflict({"a.md": ["up to 5 read replicas"], "b.txt": ["up to 16 read replicas per region"]}, ["count"]) is None


def test_a_bare_limit_after_a_noun_counts_what_the_cell_counts():
    evidence = {"saa.txt": ["Read Replicas allow one or more read-only copies (max 15) of our primary database."],
                "dev.md": ["Up to 5 read replicas"]}
    assert detect_conflict(evidence, ["count"]) is None  # "copies" and "replicas": not the same noun by themselves
    aspect = resolve_aspect("max read replicas")
    assert aspect.counts == ("read", "replica")
    conflict = detect_conflict(evidence, aspect.figures, keywords=aspect.figure_words_re, counted=(frozenset(aspect.counts),))
    assert conflict is not None and "max 15" in conflict.reason and "5 read replicas" in conflict.reason


def test_different_periods_conflict_and_a_period_needs_no_cue_beside_it():
    granularity = resolve_aspect("billing granularity")
    assert "period" in granularity.figures
    conflict = detect_conflict(
        {"course.txt": ["Pay per duration: (in increment of 100ms)"], "architect.md": ["1ms Billing Granularity Adds Cost Savings"]},
        granularity.figures, keywords=granularity.figure_words_re,
    )
    assert conflict is not None and "100ms" in conflict.reason and "1ms" in conflict.reason
    often = resolve_aspect("how often transaction logs are backed up")
    conflict = detect_conflict({"a.txt": ["Capture transaction logs in real time"], "b.txt": ["backed-up by RDS every 5mins."]}, often.figures)
    assert conflict is not None and "real time" in conflict.reason
    same = {"a.txt": ["EC2 instance metrics every 5 minutes"], "b.md": ["basic monitoring: every 5 mins"]}
    assert detect_conflict(same, often.figures) is None


def test_instantaneous_conflicts_with_seconds_but_not_with_milliseconds():
    failover = {"course.txt": ["Failover in Aurora is instantaneous."], "saa.txt": ["failover typically completes within 30 seconds"]}
    assert detect_conflict(failover, ["duration"]) is not None
    assert detect_conflict({"a.txt": ["retrieval is instantaneous"], "b.txt": ["retrieval in 200 ms"]}, ["duration"]) is None


def test_alternatives_in_the_aspects_words_are_a_closed_set_for_only():
    aspect = resolve_aspect("read/write caching behaviour")
    evidence = {"architect.md": ["DAX only supports read caching"], "dev.md": ["dax, cache for dynamodb, write through"]}
    conflict = detect_conflict(evidence, aspect.figures, aspect.vocabulary)
    assert conflict is not None and conflict.file_a == "architect.md" and "write" in conflict.reason
    # "write only if" is an adverb, and a denied term lists nothing
    assert detect_conflict({"a.md": ["Conditional write - write only if"], "b.md": ["read capacity"]}, [], aspect.vocabulary) is None
    rules = resolve_aspect("allow/deny rules")
    denied = {"saa.txt": ["It can have only ALLOW rules."], "architect.md": ["we cant add explicitly deny rules"]}
    assert detect_conflict(denied, [], rules.vocabulary) is None


def test_terms_that_rule_each_other_out_conflict_under_only_whatever_the_aspect():
    evidence = {"architect.md": ["DAX only supports read caching"], "dev.md": ["dax, cache for dynamodb, write through"]}
    found = [c for c in (detect_conflict(evidence, [], pair) for pair in OPPOSITES) if c]
    assert len(found) == 1 and "write" in found[0].reason
    agreeing = {"a.md": ["DAX only supports read caching"], "b.md": ["DAX is a read cache"]}
    assert not any(detect_conflict(agreeing, [], pair) for pair in OPPOSITES)


def test_one_fixed_figure_against_a_choice_that_holds_it_and_more_conflicts():
    # aws-developer-course.txt:146 against aws-saa-notes.txt:358 (Dedicated Hosts)
    conflict = detect_conflict(
        {"aws-developer-course.txt": ["Allocated for your account for a 3 year period reservation"],
         "aws-saa-notes.txt": ["Reserved: 1 or 3 years"]},
        ["duration"],
    )
    assert conflict is not None and "1 or 3 years" in conflict.reason
    # the same choice in both files, or a figure outside the choice (another quantity), is no such conflict
    assert detect_conflict({"a.md": ["Reserved: 1 or 3 years"], "b.txt": ["a term of 1 or 3 years"]}, ["duration"]) is None
    assert detect_conflict({"a.md": ["billed for 5 days"], "b.txt": ["a term of 1 or 3 years"]}, ["duration"]) is None
