"""Extraction benchmark: ``python -m benchmarks.extraction [--shared DIR] [--legacy DIR] [--rounds N] [-v]``.

Scores our extractor with the declared selectors ("declared") and without any ("generic"), and trafilatura's
own ``extract()`` defaults, on two groups of cases: the shared real captures (``../shared/benchmarks/
extraction``, Open Terms Archive data, ODC-By 1.0) and the project's legacy cases (``tests/fixtures/
extraction``, built by ``python -m benchmarks.legacy_cases``). Also counts leaked page furniture (the
``absent`` sentences of the legacy cases) and measures pages/second on one core.

Score (as defined in the shared README): word-sequence similarity after normalising both texts the same way.
Where the README is terse we read it as: a link ``[text](target)`` keeps its text (brackets and target go),
Markdown backslash escapes and setext underlines (``---``/``===`` lines) count as markers, not words.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from benchmarks.shared import BUILD_OTA, EXTRACTION, OTA, REPO_ROOT, require
from policy_archive.pipeline.extraction.extract import ExtractionRefused, extract
from policy_archive.records import ExtractionRules

DEFAULT_LEGACY = REPO_ROOT / "tests" / "fixtures" / "extraction"
# "Large real pages" for the speed figure (issue 12): the OTA pages between these sizes.
LARGE_PAGE_BYTES = (50_000, 600_000)

LINK_TARGET = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
AUTOLINK = re.compile(r"<https?://[^>]*>")
HTML_TAG = re.compile(r"<[^>]+>")
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash escape is the ASCII punctuation it stands for (CommonMark)
EMPHASIS = re.compile(r"[*_]")
SETEXT_UNDERLINE = re.compile(r"(?m)^\s*(?:=+|-+)\s*$")
BLOCK_MARKER = re.compile(r"(?m)^\s*(?:#+|[-+*]|\d+[.)]|>)\s")


def score_words(markdown: str) -> list[str]:
    # "\<" is a "<" that Markdown shows as written (the extractor escapes page text reading as a tag, such as OTA's
    # reference "_ga_<ID>", whose "<ID>" a viewer hides): scored as the "<" it stands for, then as the reference's.
    text = LINK_TARGET.sub(r"\1", markdown.replace("\\<", "<"))
    text = AUTOLINK.sub(" ", text)
    text = HTML_TAG.sub(" ", text)
    text = ESCAPE.sub(r"\1", text)
    text = EMPHASIS.sub("", text)
    text = SETEXT_UNDERLINE.sub(" ", text)
    text = BLOCK_MARKER.sub(" ", text)
    return text.replace("|", " ").lower().split()


def similarity(output: str, expected: str) -> float:
    return difflib.SequenceMatcher(None, score_words(output), score_words(expected), autojunk=False).ratio()


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    url: str
    content_type: str | None
    rules: ExtractionRules
    generic: bool
    page: bytes
    expected: str
    absent: tuple[str, ...]
    declared: bool = True
    document_type: str = "privacy-policy"
    captured: date | None = None
    stated_date: date | None = None


def load_shared(folder: Path) -> list[Case]:
    listing = json.loads((folder / "cases.json").read_text(encoding="utf-8"))["cases"]
    return [
        Case(
            group="shared",
            name=entry["case"],
            url=entry["url"],
            content_type="text/html",
            rules=ExtractionRules(tuple(entry["select"] or ()), tuple(entry["remove"] or ())),
            generic=True,
            page=(folder / entry["case"] / "page.html").read_bytes(),
            expected=(folder / entry["case"] / "expected.md").read_text(encoding="utf-8"),
            absent=(),
        )
        for entry in listing
    ]


def load_ota(folder: Path) -> list[Case]:
    """The OTA benchmark (see its README): pages holding several documents form their own group."""
    listing = json.loads((folder / "cases.json").read_text(encoding="utf-8"))["cases"]
    return [
        Case(
            group="several" if entry["several_documents"] else "ota",
            name=entry["case"],
            url=entry["url"],
            content_type="text/html",
            rules=ExtractionRules(*(_plain_selectors(entry[key]) for key in ("select", "remove"))),
            generic=True,
            page=(folder / entry["case"] / "page.html").read_bytes(),
            expected=(folder / entry["case"] / "expected.md").read_text(encoding="utf-8"),
            absent=(),
            declared=entry["declared"],
            document_type=entry["document_type"],
            captured=datetime.fromisoformat(entry["captured_at"]).date(),
            stated_date=date.fromisoformat(entry["stated_date"]) if entry["stated_date"] else None,
        )
        for entry in listing
    ]


def _plain_selectors(selectors: list[str | dict] | None) -> tuple[str, ...]:
    """CSS selectors only: OTA's range selectors (``startAfter``…) have no equivalent here."""
    return tuple(selector for selector in selectors or () if isinstance(selector, str))


def load_legacy(folder: Path) -> list[Case]:
    cases = []
    for case_file in sorted(folder.glob("*/case.json")):
        spec = json.loads(case_file.read_text(encoding="utf-8"))
        cases.append(
            Case(
                group="legacy",
                name=spec["case"],
                url=spec["url"],
                content_type=spec["content_type"],
                rules=ExtractionRules(tuple(spec["select"]), tuple(spec["remove"])),
                generic=spec["generic"],
                page=(case_file.parent / "page.html").read_bytes(),
                expected=(case_file.parent / "expected.md").read_text(encoding="utf-8"),
                absent=tuple(spec["absent"]),
            )
        )
    return cases


@dataclass(frozen=True)
class Result:
    group: str
    mode: str
    case: str
    score: float
    leaks: tuple[str, ...]
    seconds: float
    large: bool = False
    refused: bool = False  # refused (scored 0): on a page of several documents, better than the wrong text


Runner = Callable[[Case], str]


def ours_declared(case: Case) -> str:
    return extract(case.page, case.url, case.rules, case.content_type, captured=case.captured).body


def ours_generic(case: Case) -> str:
    rules = ExtractionRules()
    return extract(
        case.page, case.url, rules, case.content_type, captured=case.captured, document_type=case.document_type
    ).body


def trafilatura_generic(case: Case) -> str:
    """trafilatura's own ``extract()`` with default settings (Markdown): the reference (``benchmark`` extra).

    Imported here, not at the top: the tests import this module's scoring without the benchmark extra.
    """
    import trafilatura

    return trafilatura.extract(case.page, url=case.url, output_format="markdown") or ""


MODES: dict[str, tuple[Runner, Callable[[Case], bool]]] = {
    "declared": (ours_declared, lambda case: bool(case.rules.select) and case.declared),
    "generic": (ours_generic, lambda case: case.generic),
    "trafilatura-defaults": (trafilatura_generic, lambda case: case.generic),
}


def run(cases: list[Case], rounds: int) -> list[Result]:
    results = []
    for mode, (runner, applies) in MODES.items():
        for case in filter(applies, cases):
            seconds = []
            refused = False
            for _ in range(rounds):
                started = time.process_time()
                try:
                    output = runner(case)
                except ExtractionRefused as refusal:
                    output, refused = f"REFUSED {refusal.reason}", True
                seconds.append(time.process_time() - started)
            leaks = tuple(sentence for sentence in case.absent if sentence in output)
            large = case.group in ("ota", "several") and LARGE_PAGE_BYTES[0] <= len(case.page) < LARGE_PAGE_BYTES[1]
            score = similarity(output, case.expected)
            results.append(Result(case.group, mode, case.name, score, leaks, min(seconds), large, refused))
    return results


def report(results: list[Result], verbose: bool) -> str:
    header = f"{'group':<8} {'mode':<21} {'cases':>5} {'mean':>7} {'min':>7} {'leaks':>6} {'pages/s':>8} {'refused':>7}"
    lines = [header]
    for group in ("shared", "legacy", "ota", "several", "all"):
        for mode in MODES:
            chosen = [r for r in results if r.mode == mode and group in ("all", r.group)]
            if not chosen:
                continue
            scores = [r.score for r in chosen]
            pages_per_second = len(chosen) / sum(r.seconds for r in chosen)
            leaks = sum(len(r.leaks) for r in chosen)
            refused = sum(r.refused for r in chosen)
            lines.append(
                f"{group:<8} {mode:<21} {len(chosen):>5} {statistics.fmean(scores):>7.4f} {min(scores):>7.4f} "
                f"{leaks:>6} {pages_per_second:>8.1f} {refused:>7}"
            )
    ours = [r for r in results if r.mode != "trafilatura-defaults"]
    lines.append(
        f"our extractor, one core (process time, best of rounds): {len(ours) / sum(r.seconds for r in ours):.1f} "
        f"pages/s over {len(ours)} extractions"
    )
    for mode in ("generic", "declared"):
        large = [r for r in results if r.mode == mode and r.large]
        if large:
            lines.append(
                f"{mode}, OTA pages of {LARGE_PAGE_BYTES[0] // 1000}–{LARGE_PAGE_BYTES[1] // 1000} KB: "
                f"{len(large) / sum(r.seconds for r in large):.1f} pages/s over {len(large)} pages"
            )
    if verbose:
        lines.extend(
            f"  {r.group:<7} {r.mode:<21} {r.case:<42} {r.score:.4f} {r.seconds * 1000:7.1f} ms"
            + (f"  LEAKS: {', '.join(r.leaks)}" if r.leaks else "")
            + ("  REFUSED" if r.refused else "")
            for r in results
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=EXTRACTION, help="shared extraction benchmark folder")
    parser.add_argument("--legacy", type=Path, default=DEFAULT_LEGACY, help="legacy fixtures folder")
    parser.add_argument("--ota", type=Path, help=f"OTA benchmark folder (default: {OTA}, skipped if absent)")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds per page (best is kept)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    arguments = parser.parse_args()
    if arguments.ota:
        require(arguments.ota, "cases.json", "--ota", BUILD_OTA)
    require(arguments.shared, "cases.json", "--shared")
    cases = load_shared(arguments.shared) + load_legacy(arguments.legacy)
    ota = arguments.ota or OTA
    if (ota / "cases.json").exists():
        cases += load_ota(ota)
    else:
        left_out = f"no OTA pages in {ota}: the ota and several groups are left out (--ota DIR; {BUILD_OTA})"
        print(left_out, file=sys.stderr)
    print(report(run(cases, arguments.rounds), arguments.verbose))


if __name__ == "__main__":
    main()
