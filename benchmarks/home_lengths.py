"""What a home page's CDX listing says for free about a link change: its lengths and digests (issue 15, 0014).

    python -m benchmarks.home_lengths LISTING...    # CDX answers of home pages, any dialect (one file a page)

``discover`` reads about two home-page captures a year (the grid) and misses a policy link that moved and moved
back between two of them. ``bisect`` (pipeline/jobs/strategy.py) finds such flips in a document's captures by
probing captures whose CDX length lies outside the lengths of the text around them. Whether that can work for
home pages depends on how much a home page's length moves between captures for reasons other than the link:
a link change moves it by a few bytes (its path and text). Printed per year of each listing: home-page
captures, distinct digests, the median change of length between consecutive captures, the share of
consecutive pairs within 16 bytes, and the median spread (largest - smallest length) inside each span between
two grid captures — the envelope a move-and-back capture would have to lie outside of to be probed.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from pathlib import Path

from policy_archive.crawler.sources.cdx_rows import read_page
from policy_archive.pipeline.jobs.home_search import grid
from policy_archive.records import CaptureRef

CLOSE_BYTES = 16  # a link's path and text changing: a few bytes to a few dozen


def home_captures(path: Path) -> list[CaptureRef]:
    """The 200 captures of a listing (the ones whose length says something about the page), oldest first."""
    refs = read_page(path.read_text(encoding="utf-8"), resume_keys=True).refs
    return sorted((ref for ref in refs if ref.status == 200 and ref.length), key=lambda ref: ref.timestamp)


def span_spreads(refs: Sequence[CaptureRef]) -> list[int]:
    """For each span between two adjacent grid captures: the spread of the lengths inside it, ends included."""
    points = grid(refs)
    return [
        max(lengths) - min(lengths)
        for left, right in zip(points, points[1:], strict=False)
        if (lengths := [ref.length or 0 for ref in refs[left : right + 1]])
    ]


def describe(path: Path) -> list[str]:
    refs = home_captures(path)
    lines = [f"{path.name}: {len(refs)} home-page captures (200), {len({r.digest for r in refs})} digests"]
    years = sorted({ref.timestamp.year for ref in refs})
    for year in years:
        of_year = [ref for ref in refs if ref.timestamp.year == year]
        steps = [abs((a.length or 0) - (b.length or 0)) for a, b in zip(of_year, of_year[1:], strict=False)]
        close = f"{sum(step < CLOSE_BYTES for step in steps) / len(steps):.0%}" if steps else "-"
        median = f"{statistics.median(steps):.0f} B" if steps else "-"
        lines.append(
            f"  {year}: {len(of_year):>3} captures, {len({r.digest for r in of_year}):>3} digests, "
            f"consecutive length change median {median}, within {CLOSE_BYTES} B: {close}"
        )
    spreads = span_spreads(refs)
    if spreads:
        lines.append(
            f"  spans between grid captures: {len(spreads)}, length spread inside median "
            f"{statistics.median(spreads):.0f} B, smallest {min(spreads)} B, largest {max(spreads)} B"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("listings", nargs="+", type=Path, metavar="LISTING", help="CDX answer files of home pages")
    for path in parser.parse_args(argv).listings:
        print("\n".join(describe(path)), flush=True)


if __name__ == "__main__":
    main()
