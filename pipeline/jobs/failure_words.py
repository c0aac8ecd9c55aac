"""Why a backfilled document failed although its listing was complete, in the contract's words (DESIGN.md):
captures waiting for a browser, no version at all (``no version: N captures listed, all refused (…)``), captures
not fetched for now or as the archive serves them, each named by its timestamp; and the captures of each kind,
which the run's last line counts (:mod:`.backfill`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policy_archive.archive.catalog.rows import Outcome
from policy_archive.crawler.sources.base import ASKED_AGAIN
from policy_archive.pipeline.jobs.backfill_plan import DocumentPlan
from policy_archive.pipeline.jobs.report import RETRY_HINT, format_counts, refusal_counts, refusal_kind
from policy_archive.pipeline.jobs.unverified import NOT_FETCHED_FOR_NOW, not_fetched_as_served
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import CaptureRef, Source, Version
from policy_archive.text import plural


def why_failed(workspace: Workspace, plan: DocumentPlan, listed: Sequence[CaptureRef], found: Sequence[Version]) -> str:
    """Why a document failed although its listing was complete: captures that need a browser (said first, with
    what to install), no version at all, or captures not fetched: for now, or as the archive serves them."""
    for_now, unfetchable = unfetched(plan, as_served=False), unfetched(plan, as_served=True)
    groups = [
        (failed, f"{how} ({rerun})")
        for failed, (how, rerun) in (
            (for_now, NOT_FETCHED_FOR_NOW),
            (unfetchable, not_fetched_as_served(len(unfetchable))),
        )
        if failed
    ]
    named = []
    for failed, how in groups:
        # "N captures" after versions found; after "no version: N captures listed", N alone (the contract's line).
        count = f"{len(failed)} {plural(len(failed), 'capture')}" if found else str(len(failed))
        named.append(f"{count} {how}: {_captures(plan, failed)}")
    if found:
        words = "; ".join([*named, f"{len(found)} {plural(len(found), 'version')} found among the others"])
    else:
        words = ", ".join([_no_version(workspace, plan, listed), *named])
    if not plan.needs_browser:
        return words
    count = len(plan.needs_browser)
    waiting = f"{count} {plural(count, 'capture')} to render once it is installed"
    needs = next(iter(plan.needs_browser.values()))
    return f"{needs}; {waiting}: {_captures(plan, plan.needs_browser, reasons=False)}; {words}"


def unfetched(plan: DocumentPlan, *, as_served: bool) -> dict[int, str]:
    """Captures of ``plan`` that could not be fetched (not those waiting for a browser), by index, with why: with
    ``as_served``, those a rerun gets the same answer for (:attr:`~policy_archive.records.FetchFailure.lasting`,
    judged on the failure's own reason: a rendering's follows the shell's refusal in the words kept);
    without, the others (a timeout, a reset, the archive's 5xx: the next run may fetch them).

    Both stay catalogued failed, so the next run asks for each again: a lasting one costs one request (cut short at
    its announced size, or at the first 16 KiB of its head), keeps its document failing and named until it is
    fetched (by raising ``max_page_bytes``, say), and so never hides a version quietly."""
    return {
        i: why
        for i, why in plan.unfetched.items()
        if i not in plan.needs_browser and (i in plan.as_served) == as_served
    }


# Captures named one by one in a FAILED line for each group (not fetched for now, as served, waiting for a browser);
# the others are counted. Every one was named until outside audit 5 (item 1): 500 captures a pywb collection's access
# rules blocked made one line of 58 KB, which `status` repeated. Each keeps its reason in the catalog (`status
# --json` lists every failed capture).
NAMED_CAPTURES = 5


def _captures(plan: DocumentPlan, captures: dict[int, str], *, reasons: bool = True) -> str:
    """``20180629162426 (why); ...``, or without ``reasons`` ``20180629162426, ...``: captures of ``plan`` by
    index, in date order; past :data:`NAMED_CAPTURES`, the first named and the rest counted (``; and 495 more``)."""
    ordered = sorted(captures.items())
    named = ordered[:NAMED_CAPTURES]
    if not reasons:
        words = ", ".join(plan.refs[i].wayback_timestamp for i, _ in named)
    else:
        words = "; ".join(f"{plan.refs[i].wayback_timestamp} ({why})" for i, why in named)
    rest = len(ordered) - len(named)
    return words + (f"{',' if not reasons else ';'} and {rest} more" if rest else "")


def _no_version(workspace: Workspace, plan: DocumentPlan, listed: Sequence[CaptureRef]) -> str:
    """``no version: N captures listed, all refused (k reason, ...)``, the contract's words (DESIGN.md)."""
    keys = {(ref.url, ref.timestamp) for ref in listed}
    refusals = refusal_counts(_listed_refusals(workspace, plan, listed))
    refused = sum(refusals.values())
    # "captures listed" whatever N: the contract's line, which checks from outside parse.
    words = f"no version: {len(keys)} captures listed"
    if refused:
        share = "all" if refused == len(keys) else str(refused)
        words += f", {share} refused ({format_counts(refusals)})"
    return words


def retry_note(workspace: Workspace, plan: DocumentPlan, listed: Sequence[CaptureRef]) -> str | None:
    """A line for a document without a version whose listed captures were refused on the archive's answer alone
    (``crawler.sources.base.ASKED_AGAIN``: a configuration mistake or a passing fault may have made them): the way
    out, named. A line of its own, so that the ``FAILED`` line keeps the contract's words (DESIGN.md)."""
    again = refusal_counts(
        reason for reason in _listed_refusals(workspace, plan, listed) if refusal_kind(reason) in ASKED_AGAIN
    )
    if not again:
        return None
    return f"{plan.declaration.key}: {format_counts(again)} refused on the archive's answer alone: {RETRY_HINT}"


def _listed_refusals(workspace: Workspace, plan: DocumentPlan, listed: Sequence[CaptureRef]) -> Iterator[str | None]:
    """The catalogued reasons of the refused captures among ``listed``."""
    keys = {(ref.url, ref.timestamp) for ref in listed}
    rows = workspace.catalog.each_capture(plan.declaration.key, Source.WAYBACK, texts=False)
    return (row.reason for row in rows if (row.url, row.captured_at) in keys and row.outcome is Outcome.REFUSED)
