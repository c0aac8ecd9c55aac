"""Benchmark of extracting pages nested deeper than the HTML parser reads (acceptance report 3, finding 1): what
each page gives, its process time (best of ``--rounds``) and this process's peak memory after it.

    python -m benchmarks.deep_nesting
    python -m benchmarks.deep_nesting --levels 100000 --rounds 3

Pages, made here: ``--levels`` nested ``<div>``s with the policy at the bottom (refused: the parser stops at
2,048 levels before any text); the same with policy paragraphs before and after (recorded, the unread part
named); 3,000 unclosed ``<font>``s, one per paragraph (a legacy page past the limit); 300 unclosed ``<font>``s
(read whole); and a 20 MB page past the limit (the size of ``[crawl] max_page_bytes``), to bound the counting of
what was not read.
"""

from __future__ import annotations

import argparse
import resource
import time

from policy_archive.pipeline.extraction.extract import ExtractionRefused, extract
from policy_archive.records import ExtractionRules

PARAGRAPH = "<p>We collect personal information to provide the service and we protect your privacy.</p>"


def pages(levels: int) -> dict[str, str]:
    fonts = "".join(
        f"<font size=2>{i}. We collect personal information to provide the service.<br><br>" for i in range(3000)
    )
    return {
        f"{levels:,} levels, the policy at the bottom": "<div>" * levels
        + "<h1>Privacy Policy</h1>"
        + PARAGRAPH * 50
        + "</div>" * levels,
        f"{levels:,} levels between the policy's paragraphs": "<h1>Privacy Policy</h1>"
        + PARAGRAPH * 5
        + "<div>" * levels
        + PARAGRAPH * 50
        + "</div>" * levels
        + PARAGRAPH * 10,
        "3,000 unclosed <font>": f"<table><tr><td>{fonts}</td></tr></table>",
        "300 unclosed <font>": f"<table><tr><td>{fonts[: len(fonts) // 10]}</td></tr></table>",
        "20 MB, 3,000 levels": "<h1>Privacy Policy</h1>" + PARAGRAPH * 5 + "<div>" * 3000 + PARAGRAPH * 220_000,
    }


def outcome(body: bytes) -> str:
    try:
        document = extract(body, "https://example.org/privacy", ExtractionRules())
    except ExtractionRefused as refusal:
        return f"refused {refusal.reason}"
    dropped = ", ".join(f"{record.words:,} words of {record.reason}" for record in document.dropped) or "nothing"
    return f"recorded {len(document.body.split()):,} words, dropped {dropped}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, default=100_000, help="nesting of the two <div> pages")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds per page (best is kept)")
    arguments = parser.parse_args(argv)
    for name, body_html in pages(arguments.levels).items():
        body = f"<html><head><title>Privacy Policy</title></head><body>{body_html}</body></html>".encode()
        best = float("inf")
        for _ in range(arguments.rounds):
            start = time.process_time()
            result = outcome(body)
            best = min(best, time.process_time() - start)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{name} ({len(body):,} bytes): {result}; {best:.3f} s process time, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
