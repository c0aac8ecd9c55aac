"""Generated capture histories with their truth: which text each capture shows (issue 16's three kinds).

- ``steady``: 3-6 lasting versions, each change for good (no text ever comes back);
- ``flips``: the same, plus 1-3 short flips per document: 1-3 consecutive captures inside a version show an
  earlier text (a stale copy from a CDN or a mirror) or a variant (an A/B test), then the version resumes;
- ``reverts``: the same as ``steady``, plus 1-2 changes per document shown by 10 extra captures over 2-8
  weeks (and by any capture already in that window), then reverted.

A history holds text identities only; what a text *is* is up to its user: the strategy simulation gives each
text a CDX ``length`` (:func:`lengths`), the flips benchmark renders each text as a page. ``parents[t]`` is
the text ``t`` was edited from (``-1`` for the first; parents come before their children), so a renderer can
build each text by one more edit of its parent. Seeded: the same ``random.Random`` state gives the same history.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from policy_archive.digests import PayloadDigest
from policy_archive.pipeline.jobs.strategy import MAX_HIDDEN_CAPTURES, StrategyName, changes, wanted
from policy_archive.records import CaptureRef

Kind = Literal["steady", "flips", "reverts"]
KINDS: tuple[Kind, ...] = ("steady", "flips", "reverts")
START = datetime(2008, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
REVERT_CAPTURES = 10
PLACEMENT_ATTEMPTS = 100  # tries to place a flip or a revert inside one version


@dataclass(frozen=True)
class History:
    timestamps: tuple[datetime, ...]  # every capture, oldest first, all distinct (whole seconds)
    texts: tuple[int, ...]  # the text each capture shows
    parents: tuple[int, ...]  # text → the text it was edited from (-1: the first text)

    def runs(self) -> list[tuple[int, int]]:
        """(first capture, number of captures) of each version: each maximal run of one text."""
        result: list[tuple[int, int]] = []
        for index, text in enumerate(self.texts):
            if result and self.texts[result[-1][0]] == text:
                result[-1] = (result[-1][0], result[-1][1] + 1)
            else:
                result.append((index, 1))
        return result

    def lasting(self) -> list[int]:
        """First capture of each version shown by two captures or more."""
        return [start for start, count in self.runs() if count >= 2]


def generate(rng: random.Random, kind: Kind, min_captures: int = 70, max_captures: int = 150) -> History:
    count = rng.randint(min_captures, max_captures)
    seconds = int((END - START).total_seconds())
    times = sorted(START + timedelta(seconds=offset) for offset in rng.sample(range(seconds), count))
    versions = rng.randint(3, 6)
    # Changes at least 4 captures apart, so a flip or a revert fits inside a version with captures around it.
    starts = sorted(rng.sample(range(1, count // 4), versions - 1))
    starts = [4 * start for start in starts]
    texts = [sum(1 for start in starts if start <= index) for index in range(count)]
    parents = [-1, *range(versions - 1)]
    if kind == "flips":
        _flip(rng, texts, parents)
    elif kind == "reverts":
        times, texts = _revert(rng, times, texts, parents)
    return History(tuple(times), tuple(texts), tuple(parents))


def _flip(rng: random.Random, texts: list[int], parents: list[int]) -> None:
    wanted = rng.randint(1, 3)
    for _ in range(PLACEMENT_ATTEMPTS):
        if not wanted:
            return
        length = rng.randint(1, 3)
        at = rng.randrange(1, len(texts) - length - 1)
        current = texts[at]
        if texts[at - 1] != current or texts[at + length] != current or len(set(texts[at : at + length])) > 1:
            continue  # only inside one version, with a capture of it on each side
        earlier = sorted({text for text in texts[:at] if text != current})
        if earlier and rng.random() < 0.5:
            shown = rng.choice(earlier)  # a stale copy
        else:
            shown = len(parents)  # a variant of the current text
            parents.append(current)
        texts[at : at + length] = [shown] * length
        wanted -= 1


def _revert(
    rng: random.Random, times: list[datetime], texts: list[int], parents: list[int]
) -> tuple[list[datetime], list[int]]:
    wanted = rng.randint(1, 2)
    for _ in range(PLACEMENT_ATTEMPTS):
        if not wanted:
            break
        at = rng.randrange(1, len(texts) - 2)
        current = texts[at]
        window = timedelta(weeks=rng.uniform(2, 8))
        later = [index for index in range(at + 1, len(times)) if times[index] <= times[at] + window]
        after = (later[-1] if later else at) + 1
        if texts[at - 1] != current or after >= len(texts) or texts[after] != current:
            continue  # the window must lie inside one version, with a capture of it on each side
        if any(texts[index] != current for index in later):
            continue
        changed = len(parents)
        parents.append(current)
        new_times = {times[at] + window * (n + 1) / (REVERT_CAPTURES + 1) for n in range(REVERT_CAPTURES)}
        new_times = {moment.replace(microsecond=0) for moment in new_times} - set(times)
        shown = [(moment, changed) for moment in new_times] + [(times[index], changed) for index in later]
        merged = sorted([(times[i], texts[i]) for i in range(len(times)) if i not in later] + shown)
        times, texts = [moment for moment, _ in merged], [text for _, text in merged]
        wanted -= 1
    return times, texts


def lengths(
    rng: random.Random, history: History, noise: int, base: int = 20_000, same_length_share: float = 0.0
) -> list[int]:
    """A CDX ``length`` for each capture: its text's size, plus up to ``noise`` bytes either way.

    Each text differs from its parent by one edit: a sentence added (+60 to +400 bytes) or a paragraph dropped
    (-100 to -800); ``same_length_share`` of the edits change a word for one of the same size (0 bytes), which
    no length can tell. ``noise`` stands for what changes on every capture (tokens, dates, compression).
    """
    size = [base]
    for text in range(1, len(history.parents)):
        if rng.random() < same_length_share:
            delta = 0
        elif rng.random() < 0.7:
            delta = rng.randint(60, 400)
        else:
            delta = -rng.randint(100, 800)
        size.append(size[history.parents[text]] + delta)
    return [size[text] + rng.randint(-noise, noise) for text in history.texts]


@dataclass(frozen=True)
class Simulated:
    """What a strategy did on one history, driven with the history's truth instead of an archive."""

    fetched: tuple[int, ...]
    changes: tuple[int, ...]  # capture index of each version found (dated at that capture)
    knowledge: dict[int, str | None]


def simulate(
    strategy: StrategyName, refs: Sequence[CaptureRef], texts: Sequence[int], max_hidden: int = MAX_HIDDEN_CAPTURES
) -> Simulated:
    """Drive ``strategy`` to completion as the backfill does: fetch what it wants, learn each capture's text
    (and, for free, the text of every capture with the same digest), ask again."""
    known: dict[int, str | None] = {}
    fetched: list[int] = []
    by_digest: dict[PayloadDigest | None, list[int]] = {}
    for index, ref in enumerate(refs):
        by_digest.setdefault(ref.digest, []).append(index)
    while batch := wanted(strategy, refs, known, max_hidden=max_hidden):
        for index in batch:
            if index in known:
                raise AssertionError(f"{strategy} asked twice for capture {index}")
            fetched.append(index)
            twins = by_digest[refs[index].digest] if refs[index].digest else [index]
            for twin in twins:
                known.setdefault(twin, f"text {texts[index]}")
    return Simulated(tuple(fetched), tuple(change.index for change in changes(known)), known)


def capture_refs(
    history: History, sizes: Sequence[int | None], url: str = "https://example.com/privacy"
) -> list[CaptureRef]:
    """CDX rows of a history: every capture's bytes differ (its own digest), lengths as given."""
    return [
        CaptureRef(url, moment, 200, "text/html", PayloadDigest.parse(f"D{index:05d}"), size)
        for index, (moment, size) in enumerate(zip(history.timestamps, sizes, strict=True))
    ]
