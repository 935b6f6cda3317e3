"""Aspects (kb/compare/aspects.py): known by name and synonym, or built from a user's free words."""

from __future__ import annotations

import pytest

from kb.compare import resolve_aspect
from kb.errors import BadQuery


def test_aspects_are_known_by_name_and_synonym_and_free_words_still_work():
    assert resolve_aspect("Message size").name == "message/record size limit"
    assert resolve_aspect("durability").name == "durability"
    free = resolve_aspect("carbon footprint")
    assert free.name == "carbon footprint"
    assert free.keyword_score("our carbon footprints") == 1.0 and free.keyword_score("retention") == 0.0
    assert resolve_aspect("encrypted at rest?").keyword_score("encryption at rest using KMS") > 0
    with pytest.raises(BadQuery):
        resolve_aspect(" ?! ")


def test_a_use_case_is_read_where_the_notes_say_what_a_thing_is_used_for():
    use_case = resolve_aspect("stated use case")
    assert use_case.name == "use case"
    for line in (
        "This routing policy is used to ensure high availability for applications",
        "It is used when routing traffic to multiple resources.",
        "This feature is useful for delivering content tailored to specific regions",
    ):
        assert use_case.keyword_score(line) == 1.0, line
    # "is used to" said of something else than the compared thing names no use case of it
    assert use_case.keyword_score("A data key is used to encrypt the object") < 1.0


def test_a_granularity_or_frequency_compares_periods_and_a_time_compares_durations():
    assert resolve_aspect("billing granularity").figures == ("period",)
    assert resolve_aspect("how often are backups taken").figures == ("period",)
    assert resolve_aspect("failover time").figures == ("duration",)


def test_how_long_and_how_often_ask_for_a_figure_and_are_no_words_the_notes_must_hold():
    kept = resolve_aspect("how long it's kept")
    assert kept.figures == ("duration",)
    # the notes say "stored for 90 days" or "retained for 7 days", never "how long"
    assert kept.keyword_score("Events are retained for 90 days") == 1.0
    assert kept.keyword_score("It takes a long time to restore") == 0.0
    often = resolve_aspect("how often transaction logs are backed up")
    assert often.figures == ("period",) and often.keyword_score("transaction logs are backed up every 5 minutes") == 1.0
    assert resolve_aspect("how big a message can be").figures == ("size",)
    assert resolve_aspect("credential lifetime").figures == ("duration",)


def test_a_known_aspect_in_other_words_or_with_a_question_frame_is_that_aspect():
    # the same telling word in another form, the question's frame ("what gets") no word of it
    assert resolve_aspect("what gets recorded").name == "what it records"
    assert resolve_aspect("typical use").name == "use case"
    # a figure asked that the known aspect does not compare keeps the user's own aspect
    billed = resolve_aspect("how it's billed")
    assert billed.name == "how it's billed" and billed.figures == ("period",)


def test_the_words_of_a_question_frame_are_not_required_in_a_line():
    sent = resolve_aspect("where logs can be sent")
    assert sent.keyword_score("Logs are sent to S3 or CloudWatch Logs") == 1.0


def test_what_it_is_reads_used_to_as_a_phrase_not_the_start_of_used_too():
    what = resolve_aspect("what it is")
    assert what.keyword_score("Route 53 is used to route traffic to resources") == 1.0
    assert what.keyword_score("IAM users can now be used too (for MySQL / Aurora - New)") == 0.0


def test_scope_in_a_users_words_brings_the_scope_aspects_words():
    assert resolve_aspect("regional scope").keyword_score("KMS keys are bound to a specific region") == 1.0
    assert resolve_aspect("scope or level").keyword_score("Can be applied to all regions (default) or a single region.") == 1.0
