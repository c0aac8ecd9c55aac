"""What a backfill plan knows of each capture, held by column (``pipeline.jobs.knowledge.Known``), reads as the
dictionary it replaced, the strategies decide the same on it, and a listing of one text known at every row costs a
few bytes a row (2026-11-29: a dictionary entry per row, and the bisect search's envelope per row, were most of a
million rows' backfill peak memory; issue 11)."""

from __future__ import annotations

import random
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from test_strategy import refs_for

from policy_archive.digests import PayloadDigest
from policy_archive.listed import ListedRows
from policy_archive.pipeline.jobs.knowledge import Known
from policy_archive.pipeline.jobs.strategy import StrategyName, changes, dating_probes, spans, to_fetch, wanted
from policy_archive.records import CaptureRef


def test_the_column_reads_as_the_dictionary_it_replaced():
    pick = random.Random(11)
    count = 200
    as_dict: dict[int, str | None] = {}
    column = Known(count)
    for _ in range(2_000):
        index = pick.randrange(count)
        if pick.random() < 0.1 and index in as_dict:
            del as_dict[index]
            del column[index]
        else:
            text = pick.choice([None, "a", "b", "c"])
            as_dict[index] = text
            column[index] = text
        assert len(column) == len(as_dict)
    assert column == as_dict and as_dict == column
    assert list(column) == sorted(as_dict), "the positions in listing order"
    assert list(column.items()) == sorted(as_dict.items())
    assert list(column.evidence()) == sorted(i for i, text in as_dict.items() if text is not None)
    for index in [-1, *range(count), count, count + 5]:
        assert (index in column) == (index in as_dict)
        assert column.get(index, "absent") == as_dict.get(index, "absent")
    assert column.setdefault(count - 1, "d") == as_dict.setdefault(count - 1, "d")
    with pytest.raises(KeyError):
        column[count]
    with pytest.raises(IndexError):
        column[count] = "a"


@pytest.mark.parametrize("strategy", list(StrategyName))
@pytest.mark.parametrize("seed", range(6))
def test_the_strategies_decide_the_same_on_the_column(strategy, seed):
    """A search driven to its end over a history with changes, flips, captures of no evidence and repeated bytes:
    the same requests, changes, spans and dating probes with the column as with a dictionary."""
    pick = random.Random(seed)
    texts, text = [], "A"
    for _ in range(400):
        if pick.random() < 0.02:
            text = pick.choice("ABCD")
        texts.append(text)
    digests = [f"{texts[i]}{pick.randrange(3)}" for i in range(len(texts))]
    refs = refs_for(texts, digests, sizes={"A": 20_000, "B": 20_200, "C": 19_900, "D": 20_000})
    nothing = {i for i in range(len(texts)) if pick.random() < 0.05}

    def drive(known):
        asked = []
        while batch := wanted(strategy, refs, known):
            asked.append((batch, to_fetch(strategy, refs, known)))
            for index in batch:
                known[index] = None if index in nothing else texts[index]
                for other, ref in enumerate(refs):
                    if other not in known and ref.digest == refs[index].digest:
                        known[other] = known[index]
        undated = [i for i in sorted(known) if pick.random() < 0.1]
        return asked, changes(known), spans(refs, known), dating_probes(refs, known, undated)

    pick_state = pick.getstate()
    by_dict = drive({})
    pick.setstate(pick_state)
    assert drive(Known(len(refs))) == by_dict


def one_text(count: int) -> ListedRows:
    """``count`` captures of one URL five minutes apart, all one digest and length: a page archived for years."""
    start, digest = datetime(2010, 1, 1, tzinfo=UTC), PayloadDigest.parse("A" * 32)
    return ListedRows(
        CaptureRef("https://example.com/privacy", start + timedelta(minutes=5 * n), 200, "text/html", digest, 5_000)
        for n in range(count)
    )


def test_a_listing_of_one_text_known_at_every_row_costs_a_few_bytes_a_row():
    """Known through its one replay at each of 100,000 rows, then searched, its changes read and its spans made:
    at most 40 bytes a row traced at the peak (28 on 2026-11-29: 4 for the column, 8 for the positions with a
    text, 8 for their envelopes, and the arrays' growth; before, the search's envelopes alone were a dictionary
    entry a row, and the positions a list of numbers)."""
    count = 100_000
    refs = one_text(count)
    tracemalloc.start()
    try:
        known = Known(count)
        for index in range(count):
            known[index] = "d41d8cd98f00b204e9800998ecf8427e"
        assert wanted(StrategyName.BISECT, refs, known) == []
        assert [change.index for change in changes(known)] == [0]
        assert spans(refs, known) == []
        assert to_fetch(StrategyName.BISECT, refs, known).captures == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * count, peak
