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
