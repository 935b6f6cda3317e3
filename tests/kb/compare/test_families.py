"""Families (kb/compare/families.py): which kind of comparison a set of services makes, hence its default aspects."""

from __future__ import annotations

import pytest

from kb.catalogue import get_catalogue
from kb.compare import family_of, resolve_service


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
