"""Names the notes never mention: other vendors' products, absent 'AWS X' products, instance types, acronyms."""

from __future__ import annotations

from kb.coverage import NotesVocabulary, identifier_mismatch, spells_out, uncovered_names

NOTES = NotesVocabulary(
    "dynamodb is a nosql database. cognito user pools: sign in with facebook, google login etc. "
    "t2.small in us-east-1 (virginia), cost $0.023 per hour. rds supports oracle and sql server. m5.large "
    "aws ec2 and amazon aurora"
)


def _is_lambda(name: str) -> bool:
    return name.lower().removeprefix("aws ") == "lambda"


def _names(question: str) -> list[str]:
    return [u.name for u in uncovered_names(question, NOTES, _is_lambda, _is_lambda)]


def test_other_vendors_products_are_uncovered():
    assert _names("What is Azure Cosmos DB?") == ["Azure Cosmos DB"]
    assert _names("How does Google Cloud Spanner replicate data?") == ["Google Cloud Spanner"]
    assert _names("Is Heroku cheaper than EC2?") == ["Heroku"]


def test_a_vendor_the_notes_mention_in_passing_is_covered():
    assert _names("Can Cognito user pools sign in users with Google or Facebook?") == []
    assert _names("Does RDS support Oracle?") == []


def test_aws_products_absent_from_notes_and_catalogue():
    assert "Ground Station" in " ".join(_names("What is AWS Ground Station?"))
    assert _names("What is AWS Lambda?") == []  # catalogued
    assert _names("Is Amazon DynamoDB serverless?") == []  # in the notes


def test_an_instance_type_the_notes_lack_names_the_ones_they_have():
    found = uncovered_names("How much does a t3.micro cost per hour?", NOTES, lambda name: False)
    assert [u.name for u in found] == ["t3.micro"]
    assert "t2.small" in found[0].instead
    assert "they mention t2.small" in found[0].describe()
    assert _names("How much does a t2.small cost?") == []


def test_a_statement_about_another_identifier_does_not_answer():
    assert identifier_mismatch("t3.micro price per hour?", "t2.small in US-EAST-1 costs $0.023 per hour") == ("t3.micro", "t2.small")
    assert identifier_mismatch("t2.small price?", "t2.small in US-EAST-1 costs $0.023 per hour") is None
    assert identifier_mismatch("How much is EC2?", "t2.small costs $0.023 per hour") is None


def test_a_listed_product_the_notes_never_mention_is_uncovered_however_it_is_typed():
    assert _names("is memorydb for redis durable enough to use as a primary database?") == ["Amazon MemoryDB"]
    assert _names("Does setting min instances on Cloud Run get rid of cold starts?") == ["Cloud Run"]
    assert _names("graviton2 vs graviton3: what changed?") == ["AWS Graviton"]  # one product, named once


def test_a_listed_product_the_notes_mention_or_the_catalogue_names_is_covered():
    assert _names("Is DynamoDB serverless?") == []  # listed, and in the notes
    found = uncovered_names("How do I tune Lambda memory?", NOTES, lambda name: False, lambda name: name == "lambda")
    assert found == []  # listed, not in these notes, but a catalogued service: retrieval answers or abstains


def test_the_product_list_is_well_formed():
    """Every alias is lower case, at least 4 characters and names one product only."""
    import json

    from kb.coverage import PRODUCTS_FILE

    products = json.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))["products"]
    aliases = [alias for product in products for alias in product["aliases"]]
    assert len(products) > 400
    assert all(alias == alias.lower() and len(alias) >= 4 for alias in aliases)
    assert len(aliases) == len(set(aliases))


def test_an_acronym_the_notes_never_use_is_uncovered():
    assert _names("Explain the ACID properties of a database transaction") == ["ACID"]
    assert _names("What is the max ACUs setting for Aurora?") == ["ACU"]  # the plural of an acronym is the acronym
    assert _names("Is RDS a NoSQL database?") == []  # both in the notes
    assert _names("Which AWS AI service transcribes calls?") == []  # two letters are too loose a word to decide on
    assert _names("WHAT IS DYNAMODB?") == []  # a shouted question names no acronym the notes lack


def test_an_acronym_written_out_in_the_passages_found_is_covered():
    assert spells_out("PITR", "Continuous backups: point-in-time recovery, up to 35 days")
    assert spells_out("ACU", "billed in Aurora capacity units")
    assert not spells_out("ACID", "Aurora is a relational database")
    found = uncovered_names("How do I turn on PITR?", NOTES, _is_lambda, _is_lambda, lambda acronym: acronym == "PITR")
    assert found == []


def test_a_technical_term_the_notes_never_use_is_uncovered():
    assert "TrueTime" in _names("How does Spanner use TrueTime to guarantee external consistency?")
    assert _names("What is a B-tree index and why do databases use them?") == ["B-tree"]
    assert _names("Is DynamoDB serverless?") == []  # written as a product is, and in the notes
    assert _names("Is it announced from every Amazon PoP?") == []  # a short mixed-case word is too loose to decide on
    notes = NotesVocabulary("sort order is ascending, the scanindexforward parameter can be set to false")
    assert uncovered_names("How do I set ScanIndexForward?", notes, _is_lambda, _is_lambda) == []


def test_another_vendors_product_named_in_passing_answers_nothing_of_its_own_workings():
    """aws-saa-notes.txt:2635 is the one line naming RabbitMQ: what Amazon MQ runs, nothing of exchanges."""
    notes = NotesVocabulary(
        "amazon mq is a managed message broker service for rabbitmq and activemq.",
        ["SNS topics fan out messages.\nAmazon MQ is a managed message broker service for RabbitMQ and ActiveMQ."],
    )
    found = uncovered_names("In RabbitMQ, what is the difference between a direct exchange and a topic exchange?", notes, lambda n: False)
    assert [u.name for u in found] == ["what the question asks of RabbitMQ (direct, exchange, topic)"]
    assert "RabbitMQ only in passing" in found[0].describe()
    # what the passing mention does say is answered from it; "topic" of SNS on another line is no answer
    assert uncovered_names("Which service runs a managed RabbitMQ broker?", notes, lambda n: False) == []


def test_a_product_the_notes_discuss_on_many_lines_is_not_in_passing():
    lines = [f"Docker line {i}: images and containers" for i in range(5)]
    notes = NotesVocabulary(" ".join(lines).lower(), ["\n".join(lines)])
    assert uncovered_names("How do Docker volumes persist data?", notes, lambda n: False) == []
    # the same question over one line naming Docker is asked of a passing mention
    one = NotesVocabulary(lines[0].lower(), lines[:1])
    assert uncovered_names("How do Docker volumes persist data?", one, lambda n: False) != []
