"""Guards: texts that must not become a version after the previous one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policy_archive.pipeline.jobs.guards import judge, refusal_against_previous
from policy_archive.pipeline.jobs.report import format_counts, refusal_counts

POLICY = "We collect your name and email address to answer your requests.\n\n" * 40


def test_first_version_is_accepted() -> None:
    assert refusal_against_previous(POLICY, None) is None


def test_empty_text_is_refused_even_without_history() -> None:
    assert refusal_against_previous("  \n\n ", None) == "empty text"
    assert refusal_against_previous("", POLICY) == "empty text"


def test_collapsed_text_is_refused_with_its_share() -> None:
    truncated = POLICY[: len(POLICY) // 10]
    reason = refusal_against_previous(truncated, POLICY)
    assert reason == "far shorter than the previous version (10 % of its length)"


@pytest.mark.parametrize(
    ("kept", "whole", "share"),
    [(5_400, 2_260_000, "0.2 %"), (9_990, 1_000_000, "1 %"), (1_000, 1_000_000, "0.1 %"), (999, 1_000_000, "< 0.1 %")],
)
def test_a_tiny_share_never_reads_as_an_empty_text(kept: int, whole: int, share: str) -> None:
    """Outside audit A (2026-11-29): 5.4 KB after a bloated 2.26 MB version read "0 % of its length", as if empty."""
    reason = refusal_against_previous("x" * kept, "x" * whole)
    assert reason == f"far shorter than the previous version ({share} of its length)"


def test_moderate_shortening_and_growth_are_accepted() -> None:
    assert refusal_against_previous(POLICY[: len(POLICY) // 2], POLICY) is None
    assert refusal_against_previous(POLICY * 3, POLICY) is None


def test_whitespace_changes_do_not_count_as_length() -> None:
    rewrapped = POLICY.replace("\n\n", "\n\n\n\n\n") + "   "
    assert refusal_against_previous(POLICY, rewrapped) is None


def test_a_length_drop_seen_on_two_days_is_recorded_with_a_note():
    short = POLICY[: len(POLICY) // 10]
    once = [datetime(2020, 1, 1, 8, tzinfo=UTC), datetime(2020, 1, 1, 20, tzinfo=UTC)]  # same day twice
    refused = judge(short, POLICY, once)
    assert refused.refusal and "recorded once captured on 2 different days" in refused.refusal
    confirmed = judge(short, POLICY, [*once, datetime(2020, 1, 9, tzinfo=UTC)])
    assert confirmed.refusal is None and "captured on 2 different days" in (confirmed.note or "")
    assert judge("", POLICY, [*once, datetime(2020, 1, 9, tzinfo=UTC)]).refusal == "empty text"


def test_refusal_kinds_are_counted_in_words():
    reasons = [
        "empty: no text left after extraction",
        "same bytes as the capture of 20180101000000: empty: the capture has no content",
        "javascript-shell: the page only has text after running its scripts",
        "archived status 429",
        "not a document (image/png)",
    ]
    assert (
        format_counts(refusal_counts(reasons)) == "2 empty, 1 archived status 429, 1 javascript-shell, 1 not a document"
    )
