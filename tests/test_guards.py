"""Guards: texts that must not become a version after the previous one."""

from __future__ import annotations

from policy_archive.pipeline.jobs.guards import refusal_against_previous

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


def test_moderate_shortening_and_growth_are_accepted() -> None:
    assert refusal_against_previous(POLICY[: len(POLICY) // 2], POLICY) is None
    assert refusal_against_previous(POLICY * 3, POLICY) is None


def test_whitespace_changes_do_not_count_as_length() -> None:
    rewrapped = POLICY.replace("\n\n", "\n\n\n\n\n") + "   "
    assert refusal_against_previous(POLICY, rewrapped) is None
