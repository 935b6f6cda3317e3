"""Reader for plain-text notes whose headings are short lines at column 0 and whose facts are "•" bullets.

This is the shape of a course handout saved as text (aws-developer-course.txt): no markup at all,
prose paragraphs and list lead-ins also sit at column 0, and the only difference between a
service heading and a sub-heading is its wording.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.lines import is_blank
from ingest.readers.base import split_lines
from ingest.readers.spans import SectionStart, sections_from_starts
from kb.models import Section

_BULLET = "•"
_MARKDOWN_HEADING = re.compile(r"^ {0,3}#{1,6}\s")
_NUMBERED = re.compile(r"^\d+[.)]\s")
_MIN_BULLET_SHARE = 0.2

_MAX_HEADING_CHARS = 60
_MAX_NAME_WORDS = 4
_NAME = re.compile(r"[\w&()/@'’.\-– ]+")
# Sentences and list lead-ins ("They regulate:") end in punctuation;
# questions ("Why use a load balancer?") are headings.
_SENTENCE_ENDINGS = (".", ":", ";", ",", "!")
# A line opening like a sentence ("The fundamental of ...", "A managed DB service ...") is prose.
_SENTENCE_OPENERS = frozenset({"a", "an", "the", "it", "its", "they", "this", "these", "if"})
# A line ending mid-sentence ("Public Subnets usually contain") introduces the list below it.
_DANGLING_ENDINGS = frozenset({"a", "an", "the", "is", "are", "contain", "contains", "include", "includes",
                               "of", "to", "for", "with", "that", "as", "like", "and", "or"})
# "IAM: Identity and Access Management": an abbreviation, then the name it stands for.
_ABBREVIATION_FORM = re.compile(r"^([A-Z][A-Z0-9]+): [A-Z]")
# "Note: This is an introduction ...", "Overview: The same way ...": a one-word label before a sentence.
_LABELLED_SENTENCE = re.compile(r"^[A-Za-z]+: ")

# The notes never mark heading levels, so the service a heading leads with decides its level:
# a heading that leads with a different service from the current top heading opens a new top
# ("S3 Buckets" after VPC), or goes back under that service's earlier top ("EC2 Instances Overview"
# after "AMIs"); every other heading ("Best practices", "Docker", "Why use a load balancer?")
# sits one level below the current top. "ABBR: Full name" headings are always top level.
_SERVICE_KEYS = {
    "iam": "iam", "ec2": "ec2", "ami": "ami", "security group": "security group",
    "elb": "elb", "load balancer": "elb", "asg": "asg", "auto scaling": "asg",
    "ebs": "ebs", "efs": "efs", "route 53": "route 53", "route53": "route 53",
    "rds": "rds", "aurora": "aurora", "elasticache": "elasticache", "vpc": "vpc",
    "s3": "s3", "cloudfront": "cloudfront", "cli": "cli", "sdk": "sdk",
    "elastic beanstalk": "elastic beanstalk", "beanstalk": "elastic beanstalk", "cicd": "cicd",
    "codecommit": "codecommit", "codepipeline": "codepipeline", "codebuild": "codebuild",
    "codedeploy": "codedeploy", "cloudformation": "cloudformation", "cf": "cloudformation",
    "cloudwatch": "cloudwatch", "cloudtrail": "cloudtrail", "x-ray": "x-ray", "sqs": "sqs",
    "sns": "sns", "kinesis": "kinesis", "dynamodb": "dynamodb", "lambda": "lambda",
    "api gateway": "api gateway", "cognito": "cognito", "ecs": "ecs", "ecr": "ecr",
    "fargate": "fargate", "eks": "eks", "kms": "kms", "sts": "sts", "ssm": "ssm",
    "secrets manager": "secrets manager", "step functions": "step functions",
    "athena": "athena", "redshift": "redshift", "glacier": "glacier",
}
_LEADING_SERVICE = re.compile(
    r"^(?:(?:AWS|Amazon)\s+)?("
    + "|".join(re.escape(name) for name in sorted(_SERVICE_KEYS, key=len, reverse=True))
    + r")s?(?!\w)",
    re.IGNORECASE,
)


class BulletTextReader:
    """Sections of "•"-bullet plain text, one per heading, with paths [service heading, sub-heading]."""

    name = "bullet-text"

    def can_read(self, path: Path, text: str) -> bool:
        """True when a good share of lines are "•" bullets and there are no markdown headings or "▼" toggles."""
        lines = [line for line in split_lines(text) if not is_blank(line)]
        if not lines or "▼" in text or any(_MARKDOWN_HEADING.match(line) for line in lines):
            return False
        bullets = sum(1 for line in lines if line.lstrip().startswith(_BULLET))
        return bullets / len(lines) >= _MIN_BULLET_SHARE

    def sections(self, text: str) -> list[Section]:
        """One section per heading, from the heading line to the line before the next heading."""
        lines = split_lines(text)
        headings = [index + 1 for index in range(len(lines)) if is_heading(lines, index)]
        return sections_from_starts(lines, _with_paths(lines, headings))


def is_heading(lines: list[str], index: int) -> bool:
    """Whether lines[index] (0-based) is a heading: a short non-sentence line at column 0 that names
    something ("EC2 User Data", "IAM: Identity and Access Management") or heads the bullets below it."""
    line = lines[index]
    if is_blank(line) or line[0].isspace() or line.startswith(_BULLET) or _NUMBERED.match(line):
        return False
    text = line.strip()
    if len(text) > _MAX_HEADING_CHARS or text.endswith(_SENTENCE_ENDINGS):
        return False
    words = text.split()
    if words[0].lower() in _SENTENCE_OPENERS or words[-1].lower() in _DANGLING_ENDINGS:
        return False
    if _ABBREVIATION_FORM.match(text):
        return True
    if _LABELLED_SENTENCE.match(text):
        return False
    is_name = len(words) <= _MAX_NAME_WORDS and _NAME.fullmatch(text) is not None
    return is_name or _next_content_is_bullet(lines, index)


def _next_content_is_bullet(lines: list[str], index: int) -> bool:
    for line in lines[index + 1 :]:
        if not is_blank(line):
            return line.lstrip().startswith(_BULLET)
    return False


def _service_key(heading: str) -> str | None:
    abbreviation = _ABBREVIATION_FORM.match(heading)
    if abbreviation:
        name = abbreviation.group(1).lower()
        return _SERVICE_KEYS.get(name, name)
    leading = _LEADING_SERVICE.match(heading)
    return _SERVICE_KEYS[leading.group(1).lower()] if leading else None


def _with_paths(lines: list[str], headings: list[int]) -> list[SectionStart]:
    starts: list[SectionStart] = []
    top: str | None = None
    top_key: str | None = None
    top_by_key: dict[str, str] = {}
    for line_number in headings:
        heading = lines[line_number - 1].strip()
        key = _service_key(heading)
        if top is None or _ABBREVIATION_FORM.match(heading) or (key and key != top_key and key not in top_by_key):
            top, top_key = heading, key
            if key:
                top_by_key.setdefault(key, heading)
            path = [heading]
        else:
            if key and key != top_key:
                top, top_key = top_by_key[key], key
            path = [top, heading]
        starts.append(SectionStart(line_number, path, line_number))
    return starts
