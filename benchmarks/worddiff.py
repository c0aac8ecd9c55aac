"""Word-diff benchmark: ``python -m benchmarks.worddiff [--largest 150000]``.

Times the report's comparison of two texts (``pipeline/webreport/diffs.py``: ``change_blocks``, what `report` runs
for every change) on the inputs an outside audit (2026-11) found slow, each as one paragraph: ids that all change,
words drawn from a vocabulary with every 7th replaced, a real policy (Cloudinary's, ``tests/fixtures/extraction``)
with every 7th word replaced, replaced by its own second half, or re-wrapped, and one word repeated (the hardest
found: given up on and shown whole). Measured: wall seconds of ``change_blocks``, and the work steps of the word
alignment (``align``: its own count, capped at ``WORK_PER_ITEM`` per token plus ``WORK_BASE``) per token compared
(words and punctuation marks of both texts).
"""

from __future__ import annotations

import argparse
import random
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from policy_archive.pipeline.webreport.diffs import TOKEN, WORK_PER_ITEM, align, change_blocks

POLICY = Path(__file__).resolve().parent.parent / "tests/fixtures/extraction/legacy-2008-div-sidebar-cloudinary"


def every_seventh(words: list[str], replacement: Iterator[str]) -> list[str]:
    return [word if index % 7 else next(replacement) for index, word in enumerate(words)]


def cases(largest: int) -> Iterator[tuple[str, str, str]]:
    rng = random.Random(1)
    sizes = sorted({size for size in (250, 2_000, 20_000, largest) if size <= largest})
    for size in sizes:
        old, new = ([f"{rng.getrandbits(48):012x}" for _ in range(size)] for _ in range(2))
        yield f"{size:,} ids, all changed", " ".join(old), " ".join(new)
    vocabulary = [f"w{index}" for index in range(5000)]
    for size in sizes:
        old = [rng.choice(vocabulary) for _ in range(size)]
        new = every_seventh(old, iter(lambda: rng.choice(vocabulary), None))
        yield f"{size:,} words of 5,000, every 7th replaced", " ".join(old), " ".join(new)
    policy = (POLICY / "expected.md").read_text(encoding="utf-8").split()
    text = " ".join(policy)
    yield (
        f"real policy ({len(policy):,} words), every 7th replaced",
        text,
        " ".join(every_seventh(policy, iter(lambda: "changed", None))),
    )
    yield "real policy, replaced by its second half", text, " ".join(policy[len(policy) // 2 :] * 2)
    yield "real policy, re-wrapped 72 -> 60 columns", textwrap.fill(text, 72), textwrap.fill(text, 60)
    yield "one word repeated (5,000 -> 2,500 pairs)", " ".join(["the"] * 5000), " ".join(["the", "a"] * 2500)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--largest", type=int, default=150_000, help="the largest paragraph, in words")
    options = parser.parse_args(argv)
    print(f"{'input':<48} {'tokens':>9} {'seconds':>8} {'steps/token':>11} (cap {WORK_PER_ITEM})  shown whole")
    for label, old, new in cases(options.largest):
        started = time.monotonic()
        change_blocks(old, new)
        seconds = time.monotonic() - started
        before, after = [t.lstrip() for t in TOKEN.findall(old)], [t.lstrip() for t in TOKEN.findall(new)]
        alignment = align(before, after)
        words = len(before) + len(after)
        whole = "yes" if alignment.whole else "no"
        print(f"{label:<48} {words:>9,} {seconds:>8.2f} {alignment.work / words:>11.1f} {whole:>18}")


if __name__ == "__main__":
    main()
