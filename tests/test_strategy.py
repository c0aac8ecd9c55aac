"""Change-point search and the other strategies, on capture lists with known texts (no network)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from policy_archive.pipeline.jobs.strategy import StrategyName, changes, wanted
from policy_archive.records import CaptureRef

START = datetime(2015, 1, 1, tzinfo=UTC)


def refs_for(texts: list[str], digests: list[str] | None = None) -> list[CaptureRef]:
    return [
        CaptureRef(
            url="https://example.com/privacy",
            timestamp=START + timedelta(days=7 * i),
            status=200,
            mimetype="text/html",
            digest=digests[i] if digests else f"D{i}",  # bytes differ on every capture by default
        )
        for i in range(len(texts))
    ]


def run(strategy: StrategyName, texts: list[str], refs: list[CaptureRef] | None = None, evidence=None):
    """Drive a strategy to completion against a truth table; return (changes, fetched indices)."""
    refs = refs or refs_for(texts)
    known: dict[int, str | None] = {}
    fetched: list[int] = []
    while batch := wanted(strategy, refs, known):
        for index in batch:
            assert index not in known, "a strategy must never ask twice for the same capture"
            fetched.append(index)
            known[index] = texts[index] if evidence is None or evidence(index) else None
            for other, ref in enumerate(refs):  # what the backfill plan does for identical bytes
                if other not in known and ref.digest == refs[index].digest:
                    known[other] = known[index]
    return changes(refs, known), fetched


def truth(texts: list[str]) -> list[int]:
    return [i for i, text in enumerate(texts) if i == 0 or text != texts[i - 1]]


def test_bisect_finds_every_change_at_its_first_capture_with_few_fetches():
    texts = ["A"] * 300 + ["B"] * 200 + ["C"] * 500
    found, fetched = run(StrategyName.BISECT, texts)
    assert [c.index for c in found] == [0, 300, 500]
    assert [c.window_start for c in found] == [None, 299, 499]
    assert len(fetched) <= 2 * 2 * 10 + 2  # ≈ versions × log2(captures)
    full, fetched_all = run(StrategyName.ALL, texts)
    assert [c.index for c in full] == [0, 300, 500]
    assert len(fetched_all) == 1000


@pytest.mark.parametrize("seed", range(20))
def test_bisect_equals_all_on_random_histories_without_flips(seed):
    rng = random.Random(seed)
    count = rng.randint(1, 400)
    cuts = sorted(rng.sample(range(1, count), min(rng.randint(0, 9), count - 1))) if count > 1 else []
    texts, version = [], 0
    for i in range(count):
        if cuts and i == cuts[0]:
            cuts.pop(0)
            version += 1
        texts.append(f"v{version}")
    bisect_found, _ = run(StrategyName.BISECT, texts)
    assert [c.index for c in bisect_found] == truth(texts)


def test_bisect_misses_a_flip_back_inside_an_equal_span_and_all_does_not():
    texts = ["A"] * 10 + ["B"] * 3 + ["A"] * 87
    bisect_found, _ = run(StrategyName.BISECT, texts)
    all_found, _ = run(StrategyName.ALL, texts)
    assert [c.index for c in all_found] == [0, 10, 13]
    assert [c.index for c in bisect_found] == [0]  # the documented assumption


def test_captures_without_evidence_are_skipped_and_the_window_spans_them():
    texts = ["A"] * 50 + ["B"] * 50
    not_the_document = {0, 49, 50, 51, 99}  # soft-404s and errors at the worst places
    found, fetched = run(StrategyName.BISECT, texts, evidence=lambda i: i not in not_the_document)
    assert [c.index for c in found] == [1, 52]
    assert found[1].window_start == 48
    assert set(fetched) >= {0, 1, 99, 98}


def test_identical_bytes_cost_nothing():
    texts = ["A"] * 100
    digests = ["SAME"] * 100
    found, fetched = run(StrategyName.ALL, texts, refs_for(texts, digests))
    assert fetched == [0]
    assert [c.index for c in found] == [0]


def test_sample_takes_one_capture_per_half_year_and_misses_short_lived_versions():
    # weekly captures over four years; a version that lives six weeks between two samples
    texts = ["A"] * 48 + ["B"] * 6 + ["C"] * 154  # B: December 2015 to January 2016
    found, fetched = run(StrategyName.SAMPLE, texts)
    refs = refs_for(texts)
    half_years = {(refs[i].timestamp.year, refs[i].timestamp.month > 6) for i in fetched}
    assert len(fetched) == len(half_years) == 8
    assert "B" not in {texts[c.index] for c in found}
