"""The service catalogue: its data (kb/data/services.json), lookup by name, and the heading/body-text matcher."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import get_args

import pytest
from markdown_it import MarkdownIt

from kb.catalogue import Catalogue, Category, Service, get_catalogue, load_catalogue, lookup_key
from kb.errors import UnknownService

NOTES = Path(__file__).resolve().parents[2] / "data" / "notes"

# Bare English words that would tag ordinary prose if they were case-insensitive aliases.
COMMON_WORDS = {
    "config", "batch", "shield", "glue", "connect", "backup", "health", "translate", "forecast", "personalize",
    "transcribe", "comprehend", "inspector", "detective", "organizations", "organization", "artifact", "amplify",
    "pinpoint", "wavelength", "panorama", "polly", "queue", "queues", "notification", "notifications", "storage",
    "database", "cache", "function", "functions", "stream", "streams", "logs", "metrics", "alarms", "events",
    "rules", "pipeline", "gateway", "region", "regions", "support", "ram", "cup", "map", "lens", "lock",
    "select", "archive", "standard", "insights", "trail", "watch", "search", "bucket", "table", "tables",
    "guardrail", "guardrails", "hub", "explorer", "advisor", "catalog", "directory", "broker",
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return get_catalogue()


@pytest.fixture(scope="module")
def raw_entries() -> list[dict]:
    text = resources.files("kb").joinpath("data/services.json").read_text(encoding="utf-8")
    return json.loads(text)


# ---------------------------------------------------------------- the data


def test_catalogue_has_over_100_entries_with_unique_ids(catalogue: Catalogue, raw_entries: list[dict]) -> None:
    ids = [entry["id"] for entry in raw_entries]
    assert len(ids) > 100
    assert len(set(ids)) == len(ids)
    assert list(catalogue.services) == ids, "services keep file order"


def test_no_name_or_alias_is_claimed_by_two_services(raw_entries: list[dict]) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for entry in raw_entries:
        names = [entry["id"], entry["name"], entry["full_name"], *entry["aliases"],
                 *entry["case_sensitive_aliases"], *entry["heading_only_aliases"]]
        for name in names:
            first = owner.setdefault(lookup_key(name), entry["id"])
            if first != entry["id"]:
                clashes.append((name, entry["id"], first))
    assert clashes == []


def test_a_plural_never_names_a_different_service_than_its_singular(catalogue: Catalogue) -> None:
    # The matcher accepts a trailing "s", so "X" + "s" must not be some other service's name.
    keys = catalogue._keys
    assert [(key, keys[key + "s"]) for key in keys if key + "s" in keys and keys[key + "s"] != keys[key]] == []


def test_every_entry_is_well_formed(raw_entries: list[dict]) -> None:
    categories = set(get_args(Category))
    for entry in raw_entries:
        assert set(entry) - {"part"} == {"id", "name", "full_name", "aliases", "case_sensitive_aliases",
                                         "heading_only_aliases", "category", "parent", "description"}, entry["id"]
        assert entry.get("part", True) is True, f"{entry['id']}: 'part' is written only when true"
        assert entry["category"] in categories, entry["id"]
        description = entry["description"]
        assert description.endswith(".") and "\n" not in description and len(description) > 30, entry["id"]


def test_lowercase_alias_lists_hold_no_bare_common_word(catalogue: Catalogue) -> None:
    offenders = [
        (service.id, alias)
        for service in catalogue
        for alias in service.aliases
        if alias in COMMON_WORDS
    ]
    assert offenders == []


def test_every_category_is_used(catalogue: Catalogue) -> None:
    assert {service.category for service in catalogue} == set(get_args(Category))


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("alb", "elb"), ("nlb", "elb"), ("clb", "elb"), ("gwlb", "elb"),
        ("kinesis-data-streams", "kinesis"), ("kinesis-data-firehose", "kinesis"),
        ("kinesis-data-analytics", "kinesis"),
        ("s3-glacier", "s3"), ("s3-glacier-deep-archive", "s3"), ("s3-standard-ia", "s3"), ("s3-one-zone-ia", "s3"),
        ("s3-intelligent-tiering", "s3"), ("aurora", "rds"), ("sqs-fifo", "sqs"), ("sqs-standard", "sqs"),
        ("dax", "dynamodb"), ("elasticache-redis", "elasticache"), ("elasticache-memcached", "elasticache"),
        ("spot-instances", "ec2"), ("reserved-instances", "ec2"), ("on-demand-instances", "ec2"),
        ("savings-plans", "ec2"), ("dedicated-hosts", "ec2"), ("ebs-gp2", "ebs"), ("ebs-io1", "ebs"),
        ("lambda-edge", "lambda"), ("ssm-parameter-store", "systems-manager"),
    ],
)
def test_variants_point_to_their_family(catalogue: Catalogue, child: str, parent: str) -> None:
    assert catalogue.get(child).parent == parent


@pytest.mark.parametrize(
    "service_ids",
    [
        ("elasticache-redis", "elasticache-memcached"),
        ("alb", "nlb", "clb", "gwlb"),
        ("s3-standard-ia", "s3-one-zone-ia"),
        ("spot-instances", "reserved-instances", "on-demand-instances", "savings-plans", "dedicated-hosts"),
        ("ebs", "efs", "s3", "instance-store"),
        ("sqs-standard", "sqs-fifo"),
        ("kinesis-data-streams", "kinesis-data-firehose", "kinesis-data-analytics"),
        ("kms", "cloudhsm"),
        ("ssm-parameter-store", "secrets-manager"),
    ],
)
def test_services_people_compare_are_all_present(catalogue: Catalogue, service_ids: tuple[str, ...]) -> None:
    assert all(service_id in catalogue for service_id in service_ids)


# ---------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Simple Queue Service", "sqs"),
        ("Amazon SQS", "sqs"),
        ("sqs", "sqs"),
        ("SQS", "sqs"),
        ("Amazon Simple Queue Service", "sqs"),
        ("Kinesis Data Streams", "kinesis-data-streams"),
        ("kinesis-data-streams", "kinesis-data-streams"),
        ("S3 Glacier", "s3-glacier"),
        ("Glacier Deep Archive", "s3-glacier-deep-archive"),
        ("Route 53", "route53"),
        ("route-53", "route53"),
        ("Route53", "route53"),
        ("Cloud Watch", "cloudwatch"),
        ("AWS X-Ray", "xray"),
        ("Lambda@Edge", "lambda-edge"),
        ("Config", "config"),
        ("AWS Config", "config"),
        ("S3 Standard-IA", "s3-standard-ia"),
        ("Spot Instance", "spot-instances"),
        ("Application Load Balancers", "alb"),
        ("ElastiCache for Redis", "elasticache-redis"),
        ("Parameter Store", "ssm-parameter-store"),
    ],
)
def test_resolve_accepts_ids_names_full_names_and_aliases(catalogue: Catalogue, name: str, expected: str) -> None:
    assert catalogue.resolve(name).id == expected


def test_resolve_of_a_made_up_name_raises_unknown_service_with_suggestions(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownService) as caught:
        catalogue.resolve("Frobnicator")
    suggestions = caught.value.details["suggestions"]
    assert suggestions and all(suggestion in catalogue for suggestion in suggestions)
    assert caught.value.message == f"Unknown service 'Frobnicator'. Did you mean: {', '.join(suggestions)}?"


def test_a_misspelt_name_suggests_the_right_service_first(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownService) as caught:
        catalogue.resolve("Lamda")
    assert caught.value.details["suggestions"][0] == "lambda"
    assert catalogue.suggest("elasticash", n=2)[0] == "elasticache"


def test_get_takes_exact_ids_and_raises_unknown_service_not_key_error(catalogue: Catalogue) -> None:
    assert catalogue.get("sqs").name == "SQS"
    with pytest.raises(UnknownService) as caught:
        catalogue.get("SQS queue thing")
    assert isinstance(caught.value.details["suggestions"], list)


def test_children_and_family(catalogue: Catalogue) -> None:
    assert catalogue.children("elb") == ["alb", "nlb", "clb", "gwlb"]
    assert catalogue.children("alb") == []
    family = catalogue.family("s3")
    assert family[0] == "s3"
    assert {"s3-glacier", "s3-glacier-deep-archive", "s3-standard-ia", "s3-one-zone-ia"} <= set(family)
    assert catalogue.family("aurora") == [
        "aurora", "aurora-global-database", "aurora-serverless", "aurora-replicas", "aurora-auto-scaling",
        "aurora-endpoints", "aurora-writer-endpoint", "aurora-reader-endpoint", "aurora-custom-endpoints",
    ], "a feature's own features (the Aurora endpoints) follow it, depth first"
    assert "aurora-serverless" in catalogue.family("rds"), "family includes grandchildren"
    with pytest.raises(UnknownService):
        catalogue.family("nope")


def test_get_catalogue_is_loaded_once() -> None:
    assert get_catalogue() is get_catalogue()


def test_a_catalogue_refuses_a_name_claimed_by_two_services() -> None:
    first = Service(id="sqs", name="SQS", full_name="Amazon SQS", category="messaging", description="Queues.",
                    aliases=["queue service"])
    second = Service(id="mq", name="MQ", full_name="Amazon MQ", category="messaging", description="Brokers.",
                     aliases=["queue service"])
    with pytest.raises(ValueError, match="queue service"):
        Catalogue([first, second])


def test_a_catalogue_refuses_an_unknown_parent(tmp_path: Path) -> None:
    path = tmp_path / "services.json"
    path.write_text(json.dumps([{"id": "alb", "name": "ALB", "full_name": "Application Load Balancer",
                                 "category": "networking", "parent": "elb", "description": "A load balancer."}]))
    with pytest.raises(ValueError, match="unknown parent"):
        load_catalogue(path)


def test_a_catalogue_refuses_a_parent_cycle() -> None:
    first = Service(id="a", name="A", full_name="A", category="other", description="One.", parent="b")
    second = Service(id="b", name="B", full_name="B", category="other", description="Two.", parent="a")
    with pytest.raises(ValueError, match="ancestor"):
        Catalogue([first, second])


def test_aliases_must_be_lowercase() -> None:
    with pytest.raises(ValueError):
        Service(id="sqs", name="SQS", full_name="Amazon SQS", category="messaging", description="Queues.",
                aliases=["Simple Queue Service"])


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("SQS, SNS, Kinesis", ["sqs", "sns", "kinesis"]),
        ("ECS, ECR and Fargate", ["ecs", "ecr", "fargate"]),
        ("Simple Queue Service (SQS)", ["sqs"]),
        ("Kinesis Data Firehose", ["kinesis-data-firehose"]),
        ("Amazon Kinesis Data Firehose", ["kinesis-data-firehose"]),
        ("S3 Glacier Deep Archive", ["s3-glacier-deep-archive"]),
        ("AWS SQS - FIFO Queues", ["sqs-fifo"]),
        ("Data Ordering for KDS & SQS FIFO", ["kinesis-data-streams", "sqs-fifo"]),
        ("ECS Auto Scaling", ["ecs"]),
        ("ELB and ASG", ["elb", "asg"]),
        ("ECSx and EC2y", []),
        ("Lambda@Edge vs CloudFront Functions", ["lambda-edge", "cloudfront-functions"]),
        ("Redis vs Memcached", ["elasticache-redis", "elasticache-memcached"]),
        ("KMS - CloudHSM Integration", ["kms", "cloudhsm"]),
        ("Queue", ["sqs"]),
        ("DNS", ["route53"]),
    ],
)
def test_find_in_heading(catalogue: Catalogue, heading: str, expected: list[str]) -> None:
    assert catalogue.find_in_heading(heading) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("configure the app", []),
        ("edit the config file, then glue the pieces together and connect to the batch queue", []),
        ("put the job in a queue and send a notification", []),
        ("resolve the name with DNS", []),
        ("AWS Config rules do not deny anything; Config is per region", ["config-rules", "config"]),
        ("Glue jobs write Parquet that Athena reads", ["glue-jobs", "athena"]),
        ("Shield Advanced gives a DDoS response team", ["shield-advanced"]),
        ("the SQS-based worker reads from Amazon SQS", ["sqs"]),
        ("ship logs with the cloud watch agent", ["cloudwatch-agent"]),
        ("use apigateway with x ray", ["api-gateway", "xray"]),
        ("AWS supports three role types", []),
        # Every separator the notes write between a name's words: hyphen and dashes, no-break space, tab, "_", "/".
        ("X\u2010Ray traces, then Cloud\u2013Watch alarms", ["xray", "cloudwatch-alarms"]),
        ("route\u00a053 records and Route53\tDNS", ["route53-records", "route53"]),
        ("an AWS_Lambda function reads Amazon/Kinesis streams", ["lambda", "kinesis"]),
        ("SQS \u2013 FIFO queue, archived in S3/Glacier", ["sqs-fifo", "s3-glacier"]),
    ],
)
def test_find_in_text_is_precise(catalogue: Catalogue, text: str, expected: list[str]) -> None:
    assert catalogue.find_in_text(text) == expected


def test_every_alias_and_name_finds_its_own_service(catalogue: Catalogue) -> None:
    misses = []
    for service in catalogue:
        for alias in [*service.aliases, *service.case_sensitive_aliases, *service.heading_only_aliases]:
            if catalogue.find_in_heading(alias) != [service.id]:
                misses.append((service.id, alias, catalogue.find_in_heading(alias)))
        for name in (service.name, service.full_name):
            if service.id not in catalogue.find_in_heading(name):
                misses.append((service.id, name, catalogue.find_in_heading(name)))
    assert misses == []


# ---------------------------------------------------------------- real headings of the shipped notes


@cache
def _headings(file_name: str, tag: str) -> dict[int, str]:
    """Real markdown headings of one level, by 1-based line; `#` lines inside code blocks are not headings."""
    tokens = MarkdownIt().parse((NOTES / file_name).read_text(encoding="utf-8"))
    return {
        token.map[0] + 1: tokens[index + 1].content
        for index, token in enumerate(tokens)
        if token.type == "heading_open" and token.tag == tag
    }


# aws-developer-notes.md (markdown, services as `## ` h2s, some bold, some naming several services): all 32 h2s.
DEVELOPER_H2 = {
    3: ("Domains:", []),
    16: ("IAM and EC2:", ["iam", "ec2"]),
    195: ("ELB and ASG:", ["elb", "asg"]),
    343: ("EBS and EFS:", ["ebs", "efs"]),
    389: ("RDS, Aurora and ElastiCache:", ["rds", "aurora", "elasticache"]),
    483: ("Route53:", ["route53"]),
    523: ("VPC:", ["vpc"]),
    577: ("S3:", ["s3"]),
    826: ("AWS CLI, SDK:", ["aws-cli", "aws-sdk"]),
    914: ("AWS CloudFront:", ["cloudfront"]),
    953: ("**ECS, ECR and Fargate:**", ["ecs", "ecr", "fargate"]),
    1010: ("**AWS Elastic Beanstalk:**", ["elastic-beanstalk"]),
    1066: ("CICD - CodeCommit, CodePipeline, CodeBuild, CodeDeploy:",
           ["codecommit", "codepipeline", "codebuild", "codedeploy"]),
    1142: ("CloudFormation:", ["cloudformation"]),
    1156: ("CloudWatch, X-Ray, CloudTrail:", ["cloudwatch", "xray", "cloudtrail"]),
    1253: ("SQS, SNS, Kinesis:", ["sqs", "sns", "kinesis"]),
    1300: ("AWS Lambda:", ["lambda"]),
    1436: ("DynamoDB:", ["dynamodb"]),
    1531: ("API Gateway:", ["api-gateway"]),
    1681: ("SAM (Serverless Application Model):", ["sam"]),
    1704: ("Cognito:", ["cognito"]),
    1720: ("AppSync:", ["appsync"]),
    1727: ("Step Functions:", ["step-functions"]),
    1735: ("AWS STS:", ["sts"]),
    1766: ("AWS security and encryption:", []),
    1918: ("AWS SES:", ["ses"]),
    1924: ("AWS Certificate Manager (ACM):", ["acm"]),
    1940: ("**Amazon Inspector:**", ["inspector"]),
    1944: ("**Quicksight:**", ["quicksight"]),
    1948: ("**CloudHSM:**", ["cloudhsm"]),
    1952: ("**OpsWorks**", ["opsworks"]),
    1956: ("**AWS CodeStar**", ["codestar"]),
}

# aws-architect-notes.md (Typora markdown): every h1, including 3496 which starts with a space; the `#` lines
# inside code blocks (86, 736-768, 5634-5638) are not headings and are not listed.
ARCHITECT_H1_SERVICES = {
    7: ("Edge Location", ["global-infrastructure"]),
    232: ("AWS Organizations", ["organizations"]),
    302: ("IAM (Identity and Access Management)", ["iam"]),
    691: ("AWS SQS", ["sqs"]),
    1096: ("AWS Compute -Elastic Compute Cloud (EC2)", ["ec2"]),
    1449: ("AWS Instance Scheduler", ["instance-scheduler"]),
    1453: ("EMR and Hadoop", ["emr"]),
    1524: ("AWS Storage Gateway", ["storage-gateway"]),
    1532: ("Elasticity and Scaling EC2", ["ec2"]),
    1545: ("Content Delivery and Domain Name System (DNS)", ["cloudfront", "route53"]),
    1776: ("Serverless Compute -Lambda", ["lambda"]),
    1985: ("Serverless Compute - API Gateway", ["api-gateway"]),
    2098: ("Step Functions", ["step-functions"]),
    2230: ("GuardDuty", ["guardduty"]),
    2234: ("Detective", ["detective"]),
    2238: ("Inspector", ["inspector"]),
    2262: ("DynamoDB", ["dynamodb"]),
    2702: ("S3 Architecture and Features", ["s3"]),
    3038: ("CloudFront", ["cloudfront"]),
    3069: ("EBS Volume", ["ebs"]),
    3087: ("Elastic Load Balancer", ["elb"]),
    3148: ("VPC", ["vpc"]),
    3156: ("Security Hub", ["security-hub"]),
    3178: ("Simple Notification Service (SNS)", ["sns"]),
    3243: ("Elastic Transcoder", ["elastic-transcoder"]),
    3279: ("Kinesis and Firehose", ["kinesis", "kinesis-data-firehose"]),
    3369: ("Redshift", ["redshift"]),
    3377: ("Build a Simple Serverless Website with Route 53, API Gateway, Lambda and S3",
           ["route53", "api-gateway", "lambda", "s3"]),
    3394: ("X-Ray", ["xray"]),
    3404: ("CloudFormation", ["cloudformation"]),
    3569: ("Global DNS (Route 53)", ["route53"]),
    3618: ("RDS", ["rds"]),
    3701: ("VPN and Direct Connect", ["site-to-site-vpn", "direct-connect"]),
    3717: ("AWS Elastic Search", ["opensearch"]),
    3743: ("CloudFront", ["cloudfront"]),
    3778: ("EFS and SFX", ["efs", "fsx"]),
    3787: ("Virtual Private Cloud (VPC) and Subnets", ["vpc", "subnets"]),
    3884: ("Elastic Cache", ["elasticache"]),
    3956: ("AWS WAF", ["waf"]),
    3992: ("AWS Shield", ["shield"]),
    3996: ("AWS GuardDuty", ["guardduty"]),
    4010: ("AWS Redshift", ["redshift"]),
    4084: ("Cloud Trail", ["cloudtrail"]),
    4092: ("Migrating Data to AWS with Snowball and Snowmobile", ["snowball", "snowmobile"]),
    4103: ("Elasticsearch", ["opensearch"]),
    4114: ("Data Pipeline Essentials", ["data-pipeline"]),
    4126: ("CloudFormation Deep Dive", ["cloudformation"]),
    4377: ("AWS IOT", ["iot-core"]),
    4429: ("Automation with Boto 3 and Lambda", ["aws-sdk", "lambda"]),
    5642: ("Cloud watch and AWX X-Ray Logging", ["cloudwatch", "xray"]),
    5705: ("Step Functions", ["step-functions"]),
    6300: ("Building and Deploying Docker Containers to Fargate with Terraform and ADO", ["fargate"]),
}
ARCHITECT_H1_NO_SERVICE = {
    3, 13, 17, 23, 186, 850, 1400, 1459, 1577, 1736, 2128, 2226, 2242, 2252, 3166, 3260, 3463, 3496, 3894, 4048,
    4178, 5697, 5731, 5755, 5763, 6292, 6322, 6378,
}


@pytest.mark.parametrize("line", sorted(DEVELOPER_H2))
def test_developer_notes_h2_headings(catalogue: Catalogue, line: int) -> None:
    text, expected = DEVELOPER_H2[line]
    headings = _headings("aws-developer-notes.md", "h2")
    assert headings[line] == text
    assert catalogue.find_in_heading(text) == expected


def test_developer_notes_h2_table_is_complete() -> None:
    assert set(_headings("aws-developer-notes.md", "h2")) == set(DEVELOPER_H2)


@pytest.mark.parametrize("line", sorted(ARCHITECT_H1_SERVICES))
def test_architect_notes_h1_service_headings(catalogue: Catalogue, line: int) -> None:
    text, expected = ARCHITECT_H1_SERVICES[line]
    headings = _headings("aws-architect-notes.md", "h1")
    assert headings[line] == text
    assert catalogue.find_in_heading(text) == expected


def test_architect_notes_h1_without_a_service_match_nothing(catalogue: Catalogue) -> None:
    headings = _headings("aws-architect-notes.md", "h1")
    assert set(headings) == set(ARCHITECT_H1_SERVICES) | ARCHITECT_H1_NO_SERVICE, "every h1 is classified"
    assert {line: catalogue.find_in_heading(headings[line]) for line in ARCHITECT_H1_NO_SERVICE} == {
        line: [] for line in ARCHITECT_H1_NO_SERVICE
    }


@pytest.mark.parametrize(
    ("file_name", "line", "expected"),
    [
        # aws-architect-notes.md, service headings below h1
        ("aws-architect-notes.md", 864, ["route53"]),  # "## Route53"
        ("aws-architect-notes.md", 1581, ["cloudwatch"]),  # "### Cloudwatch"
        ("aws-architect-notes.md", 3465, ["dax"]),  # "## DAX"
        ("aws-architect-notes.md", 4720, ["sqs"]),  # "## Simple Queue Service (SQS)"
        ("aws-architect-notes.md", 3113, ["nlb"]),  # "## Network Load balancer (OSI Layer 4) - ..."
        ("aws-architect-notes.md", 3888, ["elasticache-redis"]),  # "## Redis"
        # aws-saa-notes.txt, "▼" toggle topics
        ("aws-saa-notes.txt", 754, ["gwlb"]),  # "▼ **Gateway Load Balancer (GWLB).**"
        ("aws-saa-notes.txt", 2342, ["sqs-standard"]),  # "▼ AWS SQS - Standard Queues."
        ("aws-saa-notes.txt", 2524, ["kinesis-data-firehose"]),  # "▼ **Kinesis Data Firehose (KDF).**"
        ("aws-saa-notes.txt", 1957, ["s3-glacier-vault-lock", "s3-object-lock"]),  # "▼ **S3 Glacier Vault Lock & Object Lock.**"
        ("aws-saa-notes.txt", 3740, ["config"]),  # "▼ AWS Config."
        ("aws-saa-notes.txt", 4666, ["vpc-endpoints", "privatelink"]),  # "▼ **VPC Endpoints & AWS PrivateLink.**"
        # aws-developer-course.txt, plain column-0 headings
        ("aws-developer-course.txt", 1472, ["lambda-edge"]),  # "Lambda@Edge"
        ("aws-developer-course.txt", 1675, ["cognito-user-pools", "cognito-identity-pools"]),
        ("aws-developer-course.txt", 1778, ["ecs"]),  # "ECS – Service Auto Scaling" (en dash)
        # aws-advanced-topics.md, bold pseudo-headings
        ("aws-advanced-topics.md", 453, ["fis"]),  # "**AWS Fault Injection Simulator (FIS)**"
        ("aws-advanced-topics.md", 444, ["cloud-map"]),  # "**AWS Cloud Map**"
    ],
)
def test_other_real_headings(catalogue: Catalogue, file_name: str, line: int, expected: list[str]) -> None:
    heading = (NOTES / file_name).read_text(encoding="utf-8").splitlines()[line - 1]
    assert catalogue.find_in_heading(heading) == expected


def test_features_are_entries_under_their_service():
    catalogue = get_catalogue()
    for name, feature, parent in [
        ("Multi-AZ", "rds-multi-az", "rds"),
        ("RDS read replicas", "rds-read-replicas", "rds"),
        ("GSI", "dynamodb-gsi", "dynamodb"),
        ("local secondary index", "dynamodb-lsi", "dynamodb"),
        ("Aurora Global Database", "aurora-global-database", "aurora"),
    ]:
        assert catalogue.id_for(name) == feature
        assert catalogue.services[feature].parent == parent


@pytest.mark.parametrize(
    ("name", "feature", "parent"),
    [
        ("IAM User", "iam-users", "iam"), ("IAM Groups", "iam-groups", "iam"), ("IAM role", "iam-roles", "iam"),
        ("IAM policies", "iam-policies", "iam"), ("instance profile", "iam-instance-profiles", "iam"),
        ("permissions boundary", "iam-permissions-boundaries", "iam-policies"), ("MFA", "iam-mfa", "iam"),
        ("CRR", "s3-cross-region-replication", "s3-replication"), ("SRR", "s3-same-region-replication", "s3-replication"),
        ("Convertible Reserved Instances", "convertible-reserved-instances", "reserved-instances"),
        ("Scheduled Reserved Instances", "scheduled-reserved-instances", "reserved-instances"),
        ("Glacier Vault Lock", "s3-glacier-vault-lock", "s3-glacier"), ("Shield Advanced", "shield-advanced", "shield"),
        ("AssumeRoleWithSAML", "sts-assumerolewithsaml", "sts"), ("Public subnets", "public-subnets", "subnets"),
        ("Virtual Private Gateway", "virtual-private-gateway", "site-to-site-vpn"),
        ("Cached Volumes", "cached-volumes", "volume-gateway"), ("Aurora Replicas", "aurora-replicas", "aurora"),
        ("CloudWatch Logs Insights", "cloudwatch-logs-insights", "cloudwatch-logs"),
        ("Customer managed key", "kms-customer-managed-keys", "kms"),
    ],
)
def test_parts_and_variants_of_a_service_are_features_of_their_own(name: str, feature: str, parent: str) -> None:
    catalogue = get_catalogue()
    assert catalogue.resolve(name).id == feature
    assert catalogue.services[feature].parent == parent


def test_sibling_variants_resolve_apart_so_they_can_be_compared():
    catalogue = get_catalogue()
    for first, second in [("IAM Group", "IAM User"), ("IAM Role", "IAM Policy"), ("CRR", "SRR"),
                          ("Convertible Reserved Instances", "Scheduled Reserved Instances"),
                          ("Shield Standard", "Shield Advanced"), ("OAI", "OAC"), ("AD Connector", "Simple AD"),
                          ("Provisioned Concurrency", "Reserved Concurrency"), ("Launch Template", "Launch Configuration")]:
        assert catalogue.resolve(first).id != catalogue.resolve(second).id, (first, second)
    assert catalogue.resolve("IAM").id == "iam" and catalogue.resolve("AWS Identity and Access Management").id == "iam"


def test_dynamodb_operations_are_features_named_as_people_write_them():
    catalogue = get_catalogue()
    for name, service_id in [("Query", "dynamodb-query"), ("Scan", "dynamodb-scan"), ("BatchGetItem", "dynamodb-batchgetitem"),
                             ("BatchWriteItem", "dynamodb-batchwriteitem"), ("GetItem", "dynamodb-getitem")]:
        service = catalogue.resolve(name, allow_prefix=True)
        assert service.id == service_id and service.parent == "dynamodb"
    assert catalogue.resolve("STS temporary credentials").id == "sts"


def test_a_feature_is_named_by_its_short_name_inside_its_parent_only():
    catalogue = get_catalogue()
    assert catalogue.child_named("ec2", "On-demand") == "on-demand-instances"
    assert catalogue.child_named("ec2", "Spot Instance") == "spot-instances"
    assert catalogue.child_named("kinesis", "Data Streams") == "kinesis-data-streams"
    # "Dedicated" begins Dedicated Hosts as well as Dedicated Instances, "Data" every Kinesis Data service.
    assert catalogue.child_named("ec2", "Dedicated") is None
    assert catalogue.child_named("kinesis", "Data") is None
    assert catalogue.child_named("s3", "On-demand") is None


def test_a_name_that_holds_a_number_is_blanked_where_it_stands():
    catalogue = get_catalogue()
    text = "Route 53 and S3 keep 2 EC2 instances for 5 days"
    blanked = catalogue.without_numbered_names(text)
    assert len(blanked) == len(text)  # positions stay where they were
    assert "53" not in blanked
    assert blanked.endswith("and S3 keep 2 EC2 instances for 5 days")  # a digit inside a word is no number anyway
    assert catalogue.without_numbered_names("ALB is a layer 7 load balancer") == "ALB is a layer 7 load balancer"


def test_a_part_of_a_service_is_never_guessed_from_a_description_alone():
    """Parts (a policy type, a setting, an API call) are found where a question names them; the description guess
    (kb.retrieval.ServiceDescriptions) weighs services and products only, so 'real-time streaming ingestion' is still
    Kinesis Data Streams, not CloudWatch metric streams."""
    catalogue = get_catalogue()
    assert catalogue.services["iam-roles"].part and catalogue.services["cloudwatch-metric-streams"].part
    assert not catalogue.services["kinesis-data-streams"].part and not catalogue.services["sqs-fifo"].part
    # a tier or class offered on its own is a variant people describe without naming it, not a part
    assert not catalogue.services["shield-advanced"].part and not catalogue.services["efs-infrequent-access"].part
    assert all(catalogue.services[s.id].parent for s in catalogue.services.values() if s.part)
