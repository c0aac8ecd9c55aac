"""Guards between extraction and versioning: texts that must not become a version of a document.

Extraction itself refuses pages that are no document at all (``ExtractionRefused``: empty, not found, login
wall, script shell, not a legal text). What only the history can tell is checked here: a capture whose text
collapsed against the previous version is far more often a broken page (truncated response, consent
interstitial, error template with the site's chrome) than a real rewrite, so it is reported, not recorded —
unless the archive shows that text consistently (at captures on two or more different days): then the
previous version was the odd one (a bloated page), and blocking every later text forever would be worse. That
text is recorded with a note saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# A policy rewrite rarely drops below this share of its previous length; broken captures nearly always do.
MINIMUM_LENGTH_SHARE = 0.4
LENGTH_DROP = "far shorter than the previous version"
EMPTY_TEXT = "empty text"
# Every refusal the guards make, by its kind (``report.refusal_kind``): made when the versions are made, from the
# history around a text, not from its capture alone, so made again on every run (docs/decisions/0004, amendment of
# 2026-11-28 (guards)).
GUARD_REFUSALS = (EMPTY_TEXT, LENGTH_DROP)
# A broken capture is a one-off; the same text captured on this many different days is what the site served.
CONFIRMING_DAYS = 2


@dataclass(frozen=True)
class Verdict:
    """What the guards say of a text: refused (why), or recorded (with a note when a guard was overruled)."""

    refusal: str | None = None
    note: str | None = None


def judge(new_body: str, previous_body: str | None, seen_at: Iterable[datetime] = ()) -> Verdict:
    """The guards' verdict on ``new_body`` after ``previous_body``, given the times the text was captured."""
    reason = refusal_against_previous(new_body, previous_body)
    if reason is None or not reason.startswith(LENGTH_DROP):
        return Verdict(refusal=reason)
    days = len({moment.date() for moment in seen_at})
    if days >= CONFIRMING_DAYS:
        return Verdict(note=f"recorded although {reason}: the same text was captured on {days} different days")
    return Verdict(refusal=f"{reason}; recorded once captured on {CONFIRMING_DAYS} different days")


def refusal_against_previous(new_body: str, previous_body: str | None) -> str | None:
    """Why ``new_body`` must not be recorded after ``previous_body``, or ``None`` if it may be."""
    new_length = _text_length(new_body)
    if new_length == 0:
        return EMPTY_TEXT
    if previous_body is None:
        return None
    previous_length = _text_length(previous_body)
    if previous_length and new_length < MINIMUM_LENGTH_SHARE * previous_length:
        return f"{LENGTH_DROP} ({_percent(new_length, previous_length)} of its length)"
    return None


def _percent(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` that never reads as nothing: whole percents from 1 %, one significant
    digit below ("0.2 %": 5.4 KB after 2.26 MB read "0 %", as if the text were empty; outside audit A, 2026-11-29),
    and "< 0.1 %" below that."""
    share = 100 * part / whole
    if share >= 1:
        return f"{round(share)} %"
    if share < 0.1:
        return "< 0.1 %"
    return f"{share:.1g} %"


def _text_length(body: str) -> int:
    """Characters other than whitespace, so re-wrapping or blank lines never count as a change of size."""
    return len("".join(body.split()))
