"""Conflicts stated without figures (kb/evidence/claims.py): one against several, on by default against opt-in."""

from __future__ import annotations

from kb.evidence.claims import default_against_opt_in, single_against_many


def test_only_one_against_several_of_the_same_thing_conflicts():
    conflict = single_against_many({
        "course.txt": ["EBS can be attached to only one instance at a time"],
        "saa.txt": ["Multi-Attach lets us attach the same EBS volume to multiple EC2 instances in the same AZ."],
    })
    assert conflict is not None and (conflict.file_a, conflict.file_b) == ("course.txt", "saa.txt")
    assert "only one instance" in conflict.reason and "multiple EC2 instances" in conflict.reason
    by_count = single_against_many({"a.md": ["only one instance at a time"], "b.txt": ["attach up to 16 EC2 instances"]})
    assert by_count is not None and "16" in by_count.reason


def test_one_of_one_thing_and_several_of_another_agree():
    assert single_against_many({"a.md": ["only one default VPC"], "b.txt": ["multiple subnets per VPC"]}) is None
    # within one file, and a line that itself limits to one, are no disagreement
    assert single_against_many({"a.md": ["only one instance", "multiple instances"]}) is None
    assert single_against_many({"a.md": ["only one instance"], "b.md": ["can't be shared across multiple instances"]}) is None


def test_on_by_default_against_must_be_turned_on_conflicts():
    conflict = default_against_opt_in(
        {"course.txt": ["Cache survive reboots by default (it's called persistence)"],
         "saa.txt": ["Turning on AOF ensures local data persistence"]},
    )
    assert conflict is not None and "by default" in conflict.reason and "Turning on" in conflict.reason
    # a default value is no default state; and both sides must come from two files
    assert default_against_opt_in({"a.md": ["persistence: 1 day by default"], "b.md": ["must enable persistence"]}) is None
    assert default_against_opt_in({"a.md": ["encrypted by default", "must enable persistence"]}) is None
