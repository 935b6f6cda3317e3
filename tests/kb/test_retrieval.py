"""The pure retrieval steps, without a model."""

from __future__ import annotations

import numpy as np
import pytest

from kb.config import Settings
from kb.chunk_views import WordSets
from kb.retrieval import (
    ServiceGuess,
    ServiceIndex,
    Signals,
    Weights,
    boost_services,
    combine,
    apply_focus,
    demote,
    described_bonus,
    diversify,
    focus_query,
    fuse_rrf,
    fuse_weighted,
    minmax,
    small_to_big,
    word_set,
)


def test_minmax_scales_to_unit_range_and_handles_flat_scores():
    assert minmax(np.array([2.0, 4.0, 6.0])).tolist() == [0.0, 0.5, 1.0]
    assert minmax(np.array([3.0, 3.0])).tolist() == [0.0, 0.0]
    assert minmax(np.array([])).size == 0


def test_weighted_fusion_trusts_the_heavier_side():
    dense, lexical = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert np.argmax(fuse_weighted(dense, lexical, 0.8)) == 0
    assert np.argmax(fuse_weighted(dense, lexical, 0.2)) == 1


def test_rrf_rewards_agreement_between_rankings():
    scores = fuse_rrf([[2, 0, 1], [2, 1, 0]], size=3)
    assert np.argmax(scores) == 2
    assert scores[0] == pytest.approx(scores[1])


def test_small_to_big_lifts_a_chunk_with_one_strong_line():
    chunk_scores = np.array([0.5, 0.4], dtype=np.float32)
    lifted = small_to_big(chunk_scores, np.array([1]), np.array([0.9], dtype=np.float32), line_weight=0.6)
    assert lifted[1] > lifted[0]
    assert lifted[0] == pytest.approx(0.5)  # no line of its own among the candidates: unchanged


def test_service_boost_nudges_and_never_filters():
    scores = np.array([0.5, 0.5, 0.9], dtype=np.float32)
    boosted = boost_services(scores, ServiceIndex([["sqs"], ["sns"], []]), {"sqs"}, 0.1)
    assert boosted[0] > boosted[1]
    assert boosted[2] == pytest.approx(0.9)


def test_described_bonus_only_above_the_floor():
    services = ServiceIndex([["redshift"], ["s3"]])
    assert described_bonus(services, {"redshift": 0.4}, 0.1, 0.5).tolist() == [0.0, 0.0]
    bonus = described_bonus(services, {"redshift": 0.75}, 0.1, 0.5)
    assert bonus[0] == pytest.approx(0.05) and bonus[1] == 0.0


def test_diversify_drops_near_copies_but_keeps_order():
    texts = ["sqs keeps messages 4 days", "sqs keeps messages 4 days!", "sns fan out to many", "kinesis shards"]
    assert diversify([0, 1, 2, 3], [word_set(t) for t in texts], k=3) == [0, 2, 3]
    # A build's word sets are made as a search reads them: the same sets, only those read.
    lazy = WordSets(texts)
    assert diversify([0, 1, 2, 3], lazy, k=2) == [0, 2]
    assert len(lazy) == 4 and lazy[1] == word_set(texts[1]) and lazy[2:] == [word_set(t) for t in texts[2:]]


def test_combine_modes():
    signals = Signals(
        dense=np.array([0.9, 0.1], dtype=np.float32),
        line_chunk=np.zeros(0, dtype=np.int32),
        line_scores=np.zeros(0, dtype=np.float32),
        lexical=np.array([0.0, 5.0], dtype=np.float32),
        named=set(),
        described={},
    )
    services = ServiceIndex([[], []])
    assert np.argmax(combine(signals, services, Weights.of(Settings()), "dense")) == 0
    assert np.argmax(combine(signals, services, Weights.of(Settings()), "bm25")) == 1
    assert np.argmax(combine(signals, services, Weights.of(Settings(dense_weight=0.9)), "hybrid")) == 0


def _guess(similarity: float, margin: float) -> ServiceGuess:
    vocabulary = frozenset("amazon simple queue service sqs a fully managed message queue aws s".split())
    return ServiceGuess("sqs", frozenset({"sqs", "sqs-fifo"}), similarity, margin, vocabulary)


def test_focus_query_drops_the_words_that_only_name_or_describe_the_service():
    question = "How long does Amazon's fully managed message queue keep my messages, and what is the max?"
    assert focus_query(question, _guess(0.6, 0.1).vocabulary) == "How long does keep my messages, and what is the max?"
    # Question words and pronouns stay even when the description uses them.
    assert focus_query("What is SQS?", frozenset({"what", "is", "sqs"})) == "What is"


def test_a_guess_is_only_used_when_sure_and_turned_on():
    weights = Weights.of(Settings(focus_floor=0.5, focus_margin=0.06, focus_boost=0.2))
    assert _guess(0.6, 0.1).confident(weights)
    assert not _guess(0.45, 0.1).confident(weights)  # not close enough to any description
    assert not _guess(0.6, 0.02).confident(weights)  # another service is about as close
    assert not _guess(0.9, 0.5).confident(Weights.of(Settings(focus_boost=0.0)))


def test_focus_lifts_only_the_guessed_service_and_never_lowers_a_chunk():
    scores = np.array([0.9, 0.5, 0.4, 0.3], dtype=np.float32)
    focused = np.array([0.1, 0.2, 0.9, 0.8], dtype=np.float32)
    in_service = np.array([False, True, True, False])
    out = apply_focus(scores, focused, in_service, Weights.of(Settings(focus_boost=0.2, focus_mix=0.5)))
    assert out[0] == pytest.approx(0.9) and out[3] == pytest.approx(0.3)  # other services untouched
    assert out[1] == pytest.approx(0.55)  # 0.5 * 0.2 + 0.5 * 0.5 + 0.2
    assert out[2] == pytest.approx(0.85)  # the focused question ranks it first within the service
    assert out[2] > out[1] and (out >= scores).all()


def test_demote_lowers_only_the_masked_passages_and_zero_changes_nothing():
    scores = np.array([0.9, 0.8, 0.7], dtype=np.float32)
    mask = np.array([True, False, False])
    assert demote(scores, mask, 0.1).tolist() == pytest.approx([0.8, 0.8, 0.7])
    assert demote(scores, mask, 0.0) is scores
