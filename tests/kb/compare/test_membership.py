"""Membership conflicts (kb/compare/membership.py): two files listing which members of a family something applies
to, one with the service and one without it; inline note sentences, real catalogue."""

from __future__ import annotations

from kb.compare import listed_members, membership_conflict


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
