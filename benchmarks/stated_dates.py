"""Stated-date benchmark: ``python -m benchmarks.stated_dates [--ota DIR] [-v]``.

On the OTA benchmark pages, whose stated dates were labelled by hand (``stated_date`` in its cases.json),
compares three ways of reading the date a document gives itself:
- ours: ``pipeline.extraction.stated_date`` on our generic extraction's Markdown;
- dateparser: the same phrases ("Last updated", "Stand", …) locate the date, ``dateparser.parse`` reads the
  50 characters after the phrase (in the page's language);
- htmldate: ``htmldate.find_date`` on the raw page (it reads metadata, URLs and text; its ``original_date``
  mode asks for the first publication, the default for the last modification).
Precision = right dates / dates given; recall = right dates / labelled dates. Process time per page is printed.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dateparser
from htmldate import find_date

from benchmarks.extraction import Case, load_ota
from benchmarks.shared import BUILD_OTA, OTA, require
from policy_archive.pipeline.extraction.extract import ExtractionRefused, extract
from policy_archive.pipeline.extraction.stated_date import GAP_CHARS, STATED, stated_date
from policy_archive.records import ExtractionRules

Reader = Callable[[Case, str], date | None]
LANGUAGE = re.compile(rb"<html[^>]*\blang=[\"']?([A-Za-z-]+)")


def generic_markdown(case: Case) -> tuple[str, date | None]:
    try:
        # The case's type, as the product passes it: a terms page holding a privacy section is otherwise refused.
        document = extract(
            case.page,
            case.url,
            ExtractionRules(),
            case.content_type,
            captured=case.captured,
            document_type=case.document_type,
        )
    except ExtractionRefused:
        return "", None
    return document.body, document.stated_date


def dateparser_reader(case: Case, markdown: str) -> date | None:
    language = _language(case, primary=True)
    languages = [language] if language else None
    for line in markdown.splitlines():
        for phrase in STATED.finditer(line):
            window = line[phrase.end() : phrase.end() + GAP_CHARS].strip(" :*_")
            parsed = dateparser.parse(window, languages=languages, settings={"STRICT_PARSING": True})
            if parsed:
                return parsed.date()
    return None


def htmldate_reader(original: bool) -> Reader:
    def read(case: Case, _markdown: str) -> date | None:
        found = find_date(case.page, original_date=original, extensive_search=True)
        return date.fromisoformat(found) if found else None

    return read


@dataclass(frozen=True)
class Tally:
    given: int = 0
    right: int = 0
    labelled: int = 0
    seconds: float = 0.0

    def line(self, name: str, pages: int) -> str:
        precision = self.right / self.given if self.given else 0.0
        recall = self.right / self.labelled if self.labelled else 0.0
        return (
            f"{name:<24} precision {precision:.3f} ({self.right}/{self.given})  recall {recall:.3f} "
            f"({self.right}/{self.labelled})  {self.seconds / pages * 1000:6.2f} ms/page"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ota", type=Path, default=OTA, help="OTA benchmark folder (shared data, or fetch_ota's)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per page")
    arguments = parser.parse_args()
    require(arguments.ota, "cases.json", "--ota", BUILD_OTA)
    cases = load_ota(arguments.ota)
    markdowns = {}
    tallies = {"ours": Tally()}
    for case in cases:
        markdowns[case.name], found = generic_markdown(case)
        # Ours is timed on the Markdown alone (extraction time is the extraction benchmark's business).
        started = time.process_time()
        assert stated_date(markdowns[case.name], _language(case), case.captured) == found
        tallies["ours"] = _count(tallies["ours"], case, found, time.process_time() - started)
        if arguments.verbose:
            print(f"  ours        {case.name:<52} label {case.stated_date}  found {found}")
    readers: dict[str, Reader] = {
        "dateparser (phrases)": dateparser_reader,
        "htmldate (modified)": htmldate_reader(original=False),
        "htmldate (original)": htmldate_reader(original=True),
    }
    for name, reader in readers.items():
        tallies[name] = Tally()
        for case in cases:
            started = time.process_time()
            found = reader(case, markdowns[case.name])
            tallies[name] = _count(tallies[name], case, found, time.process_time() - started)
            if arguments.verbose and found != case.stated_date:
                print(f"  {name:<11} {case.name:<52} label {case.stated_date}  found {found}")
    labelled = sum(1 for case in cases if case.stated_date)
    print(f"{len(cases)} pages, {labelled} with a hand-labelled stated date")
    for name, tally in tallies.items():
        print(tally.line(name, len(cases)))


def _language(case: Case, primary: bool = False) -> str | None:
    """The page's ``<html lang>`` (as extraction reads it), or its primary subtag (for dateparser)."""
    found = LANGUAGE.search(case.page[:5000])
    if not found:
        return None
    language = found.group(1).decode().lower()
    return language.split("-")[0] if primary else language


def _count(tally: Tally, case: Case, found: date | None, seconds: float) -> Tally:
    return Tally(
        given=tally.given + (found is not None),
        right=tally.right + (found is not None and found == case.stated_date),
        labelled=tally.labelled + (case.stated_date is not None),
        seconds=tally.seconds + seconds,
    )


if __name__ == "__main__":
    main()
