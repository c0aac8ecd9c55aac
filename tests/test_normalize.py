"""Normalisation: the same policy text always gives the same bytes, and normalising is idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_archive.pipeline.extraction.normalize import normalize_characters, normalize_markdown

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"

MESSY_SAMPLES = [
    "Cafe\u0301 policy\u00a0\u00a0text\u200b with soft\u00adhyphen  \r\n\r\n\r\n\r\nNext   paragraph   ",
    "* one\n+ two\n    * nested\n\n• bullet sign",
    "__bold__ and _emphasis_ but snake_case_name stays\n\n** ** empty emphasis ****",
    "Title\n=====\n\nSection\n-------\n\ntext\n\n* * *\n\n___",
    '[a link](http://example.com/page;jsessionid=0AF31?x=1&utm_source=mail "Title") and <https://example.com/a>',
    "Page generated at 2009-04-01 12:00:01\nPolicy text\nGenerated in 0.031 seconds",
    "```\n  code   keeps   spaces  \n```\n\nafter",
    "\u200d\n\n\u200d\u200cjoiners\u200d \u200c a\u200cb",
    "bell\x07 esc\x1b[31m red\x7f del\x85nel\x0cff\n\n```\nx\x0by\x1b[0m\n```",
    "> - a\n>   - b\n>\n>   more  text \n\n- c\n\n  > q\n  >   * r\n\n  ```\n  code  x\n  ```\n>text\n** **>x",
    "  para\n---\n\n   ===\n\n>  ** **\n",
]


@pytest.mark.parametrize("sample", MESSY_SAMPLES)
def test_idempotent_on_messy_input(sample: str) -> None:
    once = normalize_markdown(sample)
    assert normalize_markdown(once) == once


@pytest.mark.parametrize("expected", sorted(FIXTURES.glob("*/expected.md")), ids=lambda path: path.parent.name)
def test_idempotent_on_policy_texts(expected: Path) -> None:
    once = normalize_markdown(expected.read_text(encoding="utf-8"))
    assert normalize_markdown(once) == once


def test_unicode_and_invisible_characters_settle() -> None:
    composed = normalize_markdown("Café policy text with softhyphen\n")
    decomposed = normalize_markdown("Cafe\u0301 policy\u00a0text\u200b with soft\u00adhyphen\n")
    assert composed == decomposed == "Café policy text with softhyphen\n"


@pytest.mark.parametrize("removed", ["\u200b", "\u2060", "\ufeff", "\u00ad", "\x07", "\u200b\x1b"])
def test_characters_are_nfc_once_invisible_ones_are_gone(removed: str) -> None:
    """A removed character between a letter and its combining accent leaves the two to compose: the text is NFC
    after one call, and a second changes nothing (the renderer escapes what one call gives; found by Hypothesis)."""
    once = normalize_characters(f"A{removed}\u0301 and c{removed}\u0327")
    assert once == "\u00c1 and \u00e7"
    assert normalize_characters(once) == once


def test_control_characters_are_dropped_or_spaces() -> None:
    """Acceptance report 6, F-d1: no C0 control but TAB/LF, no DEL or C1 control is left (XML 1.0 forbids the C0
    ones; ESC sequences reach terminals through ``git log -p``); the whitespace ones separate words, in code too."""
    text = "We col\x07lect\x1b[31m data\x7f\x9b.\x85Next\x0bword\x1cand\x0cmore\n\n```\na\x0cb\x00c\x1b[0m\n```\n"
    assert normalize_markdown(text) == "We collect[31m data. Next word and more\n\n```\na bc[0m\n```\n"


def test_zero_width_joiners_are_spelling_and_stay() -> None:
    """Acceptance report 6, F-d2: a Persian word keeps its ZWNJ, an emoji sequence its ZWJ; a ZWSP still goes."""
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u06cc\u0645"  # می‌خواهیم, "we want"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalize_markdown(f"{persian} {family} zero\u200bwidth\n") == f"{persian} {family} zerowidth\n"
    # one that joins nothing goes: Webflow's empty paragraph (a lone ZWJ) and paragraph starts
    assert normalize_markdown("One.\n\n\u200d\n\n\u200d\u200dTwo \u200c three\u200c\n") == "One.\n\nTwo three\n"


def test_whitespace_variants_give_identical_bytes() -> None:
    variants = [
        "First  para.\n\n\n\nSecond para.",
        "First para.   \r\n\r\nSecond para.\r\n\r\n",
        "\n\nFirst para.\n\nSecond para.",
    ]
    assert {normalize_markdown(text) for text in variants} == {"First para.\n\nSecond para.\n"}


def test_bullet_and_emphasis_styles_are_unified() -> None:
    assert normalize_markdown("* a\n+ b\n• c") == "- a\n- b\n- c\n"
    assert normalize_markdown("__strong__ _soft_ snake_case_name") == "**strong** *soft* snake_case_name\n"


def test_heading_and_rule_styles_are_unified() -> None:
    assert (
        normalize_markdown("Title\n=====\n\nSub\n---\n\nText\n\n* * *\n\nEnd")
        == "# Title\n\n## Sub\n\nText\n\n---\n\nEnd\n"
    )


def test_links_lose_session_ids_tracking_and_titles() -> None:
    text = '[policy](http://example.com/p;jsessionid=0AF31?PHPSESSID=9d8&page=2&utm_source=mail "Privacy")'
    assert normalize_markdown(text) == "[policy](http://example.com/p?page=2)\n"
    assert normalize_markdown("<https://example.com/a>") == "[https://example.com/a](https://example.com/a)\n"


def test_session_ids_never_make_a_new_version() -> None:
    monday = "See [our terms](http://example.com/terms?sid=a81f) for details."
    tuesday = "See [our terms](http://example.com/terms?sid=77c0) for details."
    assert normalize_markdown(monday) == normalize_markdown(tuesday)


def test_volatile_generation_lines_are_dropped() -> None:
    text = "Policy text.\n\nPage generated at 2009-04-01 12:00:01 in 0.04 s\n\nGenerated in 0.031 seconds\n\nEnd."
    assert normalize_markdown(text) == "Policy text.\n\nEnd.\n"


def test_code_fences_keep_their_spacing() -> None:
    assert normalize_markdown("```\n  a   b\n```") == "```\n  a   b\n```\n"


def test_indents_stay_in_and_after_block_quote_markers() -> None:
    """An item's further paragraph, a quote or code block in an item, a list in a quote: each line's indent and its
    indent after "> " as the renderer wrote them (revision 15); the words single-spaced, bullets unified."""
    text = "1. a\n\n   b  c\n2. d\n\n> - e\n>   * f\n>\n>   g\n\n- h\n\n  > - i\n  >   - j\n\n  ```\n  k  l\n  ```\n"
    assert normalize_markdown(text) == (
        "1. a\n\n   b c\n2. d\n\n> - e\n>   - f\n>\n>   g\n\n- h\n\n  > - i\n  >   - j\n\n  ```\n  k  l\n  ```\n"
    )


def test_an_indented_line_is_no_setext_heading() -> None:
    """Indented, a line is an item's paragraph in the renderer's Markdown, never a heading's text; "---" after it
    stays a rule (and normalising stays idempotent)."""
    assert normalize_markdown("  para\n---\n") == "  para\n---\n"
    assert normalize_markdown("para\n---\n") == "## para\n"
