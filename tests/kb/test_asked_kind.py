"""The kind of fact a question asks for, and whether a quote states one (kb/asked_kind.py)."""

from __future__ import annotations

import pytest

from kb.asked_kind import unstated_kind


@pytest.mark.parametrize(
    ("question", "quotes", "missing"),
    [
        ("What year did AWS launch EC2?", ["EC2 is a core AWS product that provides virtual machines."], "year"),
        ("What year did AWS launch EC2?", ["EC2 launched in 2006 as a beta."], None),
        ("What port does Redshift listen on by default?", ["Redshift is based on Postgres."], "port number"),
        ("What port does Redshift listen on by default?", ["Redshift: TCP port 5439."], None),
        ("What's the hourly price of a NAT Gateway?", ["We pay per hour for usage and bandwidth."], "price"),
        ("What's the hourly price of a NAT Gateway?", ["NAT Gateway: $0.045 per hour"], None),
        ("How many S3 buckets can I create per account?", ["Public access settings are defined per account."], "count"),
        ("How many endpoints do I get?", ["It provides two static IP addresses."], None),
        ("How many buckets can I create?", ["Unlimited buckets."], None),
        ("What's the limit on hosted zones?", ["Private zones route traffic within one or more VPCs."], "limit"),
        ("What's the maximum request payload size API Gateway accepts?", ["429 Too Many Requests"], "size"),
        ("max length of an sqs queue name?", ["aws sqs create-queue --queue-name Messages"], "size"),
        ("max length of an sqs queue name?", ["Queue names are at most 80 characters."], None),
        ("How long does SQS keep messages?", ["Messages are kept 4 days by default."], None),
        ("How long does SQS keep messages?", ["SQS is a queue."], "duration"),
        ("Is there a cap on how many stages an API can have?", ["Deploy to as many stages as you want"], None),
        ("What's the size limit on unzipped code?", ["size of uncompressed deployment 250MB"], None),
        ("Is there a limit on how many event notifications I can set?", ["We can create as many S3 events as desired."], None),
        ("How many regions does AWS run?", ["If one region fails, the others go on."], "count"),
        ("What's the default limit on hosted zones?", ["We pay $0.50 per month per hosted zone."], "limit"),
        ("What's the SES sandbox sending limit per 24 hours?", ["SES sends email from your applications."], "limit"),
        ("What's the SES sandbox sending limit per 24 hours?", ["In the sandbox SES sends up to 200 messages per 24 hours."], None),
        ("Is there a rate limit on GetObject?", ["GetObject on S3 has a limit of 5500 GET per second per prefix"], None),
    ],
)
def test_a_fact_of_the_asked_kind_must_be_stated(question, quotes, missing):
    assert unstated_kind(question, quotes) == missing


def test_questions_asking_no_kind_or_giving_one_as_an_example_are_not_checked():
    assert unstated_kind("What is SQS?", ["SQS is a queue."]) is None
    # "an app-specific number, like how many users are logged in" describes the metric; it asks for no count.
    question = "How do I scale my Auto Scaling group on an app-specific number, like how many users are logged in?"
    assert unstated_kind(question, ["Use a custom CloudWatch metric with target tracking."]) is None


def test_no_limit_on_a_count_states_no_size():
    # "max length of a queue name" is not answered by the queue holding any number of messages.
    assert unstated_kind("What is the max length of a queue name?", ["There is no limit how many messages can be in the queue."]) == "size"
    assert unstated_kind("How many messages can a queue hold?", ["There is no limit how many messages can be in the queue."]) is None
    assert unstated_kind("What is the maximum object size?", ["Unlimited storage, no limit on size"]) is None


@pytest.mark.parametrize(
    "question",
    [
        "How much does Fargate charge per vCPU-hour?",
        "How much am I charged for an idle Elastic IP?",
        "What's the hourly port charge for a dedicated connection?",
        "How much do I pay for each request?",
    ],
)
def test_a_price_is_asked_in_the_words_of_a_bill(question: str):
    assert unstated_kind(question, ["With Fargate, it's all serverless!", "No more EC2"]) == "price"
    assert unstated_kind(question, ["It costs $0.04 per vCPU per hour"]) is None


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What's the longest expiration I can give a presigned URL?", "duration"),
        ("What is the maximum duration of a stickiness cookie?", "duration"),
        ("How many days are deleted items kept?", "duration"),
        ("What's the maximum storage capacity of a file system?", "size"),
        ("Which SMTP port should my application use?", "port number"),
    ],
)
def test_a_kind_is_asked_by_naming_what_it_measures(question: str, kind: str):
    assert unstated_kind(question, ["It is a managed service."]) == kind
