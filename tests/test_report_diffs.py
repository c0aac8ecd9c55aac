"""The report's word diff: real changes marked word by word; hard inputs within a work bound counted in
operations (never in seconds: CI runs under load)."""

from __future__ import annotations

import random
import textwrap
from html import escape
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_markdown_escaping import FIRST, LAST, PAGE_TEXT, as_html, seen, version_file

from policy_archive.pipeline.extraction.escaping import reader_text
from policy_archive.pipeline.webreport import diffs
from policy_archive.pipeline.webreport.diffs import (
    ESCAPES_NOTE,
    PARAGRAPHS_NOTE,
    SPACING_NOTE,
    WHOLE_NOTE,
    Block,
    Work,
    align,
    budget,
    change_blocks,
    shown_paragraphs,
)

# A real policy (Cloudinary's, 2014, 1,985 words), as extracted: see tests/fixtures/extraction.
POLICY = (Path(__file__).parent / "fixtures/extraction/legacy-2008-div-sidebar-cloudinary/expected.md").read_text(
    encoding="utf-8"
)
# A small revision of it, as policies are revised: (before, after, how the report marks it).
EDITS = (
    ("data as needed, to", "data for 24 months, to", "data <del>as needed</del><ins>for 24 months</ins>, to"),
    ("March 4, 2014.", "May 25, 2018.", "<del>March 4</del><ins>May 25</ins>, <del>2014</del><ins>2018</ins>."),
    ("used properly.", "used properly and lawfully.", "used properly<ins> and lawfully</ins>."),
)


class Counted:
    """A word whose every comparison and hash is counted: the work of a diff, measured without a clock."""

    __slots__ = ("word",)
    operations = 0

    def __init__(self, word: str) -> None:
        self.word = word

    def __eq__(self, other: object) -> bool:
        Counted.operations += 1
        return isinstance(other, Counted) and self.word == other.word

    def __hash__(self) -> int:
        Counted.operations += 1
        return hash(self.word)


def counted_alignment(old: list[str], new: list[str]):
    """Align two lists of words; the alignment and the comparisons and hashes it took."""
    Counted.operations = 0
    alignment = align([Counted(word) for word in old], [Counted(word) for word in new])
    return alignment, Counted.operations


def revised(text: str) -> str:
    for before, after, _ in EDITS:
        assert text.count(before) == 1
        text = text.replace(before, after)
    return text


def marked(text: str) -> str:
    """The revised text as the report marks it (its escapes read: the policy's ``\\-`` shows as ``-``)."""
    html = escape(reader_text(revised(text)))
    for _, after, marks in EDITS:
        html = html.replace(after, marks)
    return html


def test_a_real_policy_revision_is_marked_word_by_word():
    blocks = change_blocks(POLICY, revised(POLICY))
    edited = [block.html for block in blocks if block.kind == "edited"]
    assert edited == [
        "We, at Cloudinary Ltd., put great efforts in making sure that your personal information is safe and used "
        "properly<ins> and lawfully</ins>.",
        "**Data retention** – We retain data <del>as needed</del><ins>for 24 months</ins>, to provide the service "
        "and for legitimate and lawful purposes. Read more.",
        "Last updated: <del>March 4</del><ins>May 25</ins>, <del>2014</del><ins>2018</ins>.",
    ]
    assert {block.kind for block in blocks} == {"same", "edited", "folded"}


def test_a_real_policy_in_one_paragraph_is_still_marked_word_by_word():
    # A policy served in <pre> extracts as one paragraph: 1,985 words compared at once, too many for difflib's
    # worst case, so the diff is cut at the words found once on each side.
    one_paragraph = " ".join(POLICY.split())
    blocks = change_blocks(one_paragraph, revised(one_paragraph))
    assert blocks == [Block("edited", marked(one_paragraph))]
    words = one_paragraph.split()
    _, operations = counted_alignment(words, revised(one_paragraph).split())
    assert operations < 16 * 2 * len(words)


def test_spacing_stays_with_the_words_it_separates():
    assert change_blocks("If you ask, we delete it.", "you ask, we delete it.") == [
        Block("edited", "<del>If </del>you ask, we delete it.")
    ]
    assert change_blocks("We keep it 2 years.", "We keep it 5 years.") == [
        Block("edited", "We keep it <del>2</del><ins>5</ins> years.")
    ]
    assert change_blocks("We keep it.", "We keep it safe.") == [Block("edited", "We keep it<ins> safe</ins>.")]


def test_re_wrapped_text_is_the_same_words():
    one_paragraph = " ".join(POLICY.split()[:300])
    wrapped = "\n".join(textwrap.wrap(one_paragraph, 60))
    assert change_blocks(one_paragraph, wrapped) == [Block("edited", escape(wrapped)), Block("note", SPACING_NOTE)]


def test_ids_that_all_change_take_one_look_at_each():
    # The audit's case (2026-11): a paragraph of 2,000 ids, all changed, took 454 s word by word with difflib.
    rng = random.Random(1)
    old, new = ([f"{rng.getrandbits(48):012x}" for _ in range(2000)] for _ in range(2))
    alignment, operations = counted_alignment(old, new)
    assert alignment.matches == () and not alignment.whole, "no id in common: replaced, nothing given up"
    assert operations <= 2 * (len(old) + len(new))


def test_a_long_paragraph_of_few_words_stays_within_the_bound():
    # 20,000 words drawn from 20, every 7th changed: no word is found once, so the diff is cut at runs of words.
    rng = random.Random(2)
    vocabulary = [f"w{index}" for index in range(20)]
    old = [rng.choice(vocabulary) for _ in range(20_000)]
    new = [word if index % 7 else rng.choice(vocabulary) for index, word in enumerate(old)]
    alignment, operations = counted_alignment(old, new)
    assert operations <= alignment.work <= budget(len(old), len(new)).limit
    assert operations <= 64 * (len(old) + len(new))
    assert sum(size for _, _, size in alignment.matches) >= 0.8 * len(old), "still a word-level diff"
    assert not alignment.whole


def test_a_change_too_hard_to_diff_is_shown_whole_and_said_so():
    # One word repeated: nothing is found once, not even a run of 16 words; the budget ends the search.
    old, new = ["the"] * 5000, ["the", "a"] * 2500
    alignment, operations = counted_alignment(old, new)
    assert alignment.whole
    assert operations <= alignment.work <= budget(len(old), len(new)).limit
    blocks = change_blocks(" ".join(old), " ".join(new))
    assert [block.kind for block in blocks] == ["note", "removed", "added"]
    assert blocks[0].html == WHOLE_NOTE


def test_many_changed_paragraphs_are_matched_up():
    old = [f"Paragraph {index} says {index * 7}." for index in range(3000)]
    new = [text if index % 2 else text.replace("says", "states") for index, text in enumerate(old)]
    blocks = change_blocks("\n\n".join(old), "\n\n".join(new))
    assert Block("note", PARAGRAPHS_NOTE) not in blocks
    assert [block.html for block in blocks if block.kind == "edited"][:2] == [
        "Paragraph 0 <del>says</del><ins>states</ins> 0.",
        "Paragraph 2 <del>says</del><ins>states</ins> 14.",
    ]
    assert sum(block.kind == "edited" for block in blocks) == 1500


def test_one_allowance_covers_every_paragraph_of_a_change(monkeypatch):
    # 300 small paragraphs of one repeated word, each too costly for its size: together they share the work
    # allowed for their words, so the later ones are shown whole, with their note, instead of each taking more.
    allowances = []

    def kept(a_size: int, b_size: int) -> Work:
        allowances.append(budget(a_size, b_size))
        return allowances[-1]

    monkeypatch.setattr(diffs, "budget", kept)
    old, new = ["the " * 30] * 300, ["the a " * 15] * 300
    blocks = change_blocks("\n\n".join(old), "\n\n".join(f"{index} {text}" for index, text in enumerate(new)))
    (work,) = allowances
    words = (300 * 30 + 1, 300 * 31 + 1)  # each text's words, and the spacing that ends it
    assert work.limit == budget(*words).limit and 0.9 * work.limit < work.spent <= work.limit
    notes = sum(block == Block("note", WHOLE_NOTE) for block in blocks)
    assert 0 < notes < 300, "diffed word by word while the allowance lasted, then shown whole and said so"


# --- the words as a reader reads them: the file's Markdown escapes are not shown ------------------------------


def test_a_change_shows_the_words_as_read_not_the_files_backslashes():
    old = "# Privacy Policy\n\n1\\. Scope: we keep \\*all\\* data.\n\nSee `a\\*b` and snake\\_case."
    new = "# Privacy Policy\n\n1\\. Scope: we keep \\*some\\* data.\n\nSee `a\\*b` and snake\\_case."
    blocks = change_blocks(old, new)
    html = "".join(block.html for block in blocks)
    assert "1. Scope: we keep *<del>all</del><ins>some</ins>* data." in html
    assert "See `a\\*b` and snake_case." in html  # in a code span a backslash is what a reader sees
    assert "\\." not in html and "\\_" not in html


def test_a_change_of_escapes_alone_is_said_to_read_the_same():
    """A re-extraction that escapes anew (extractor revision 6 escaped cookie names such as ``__tld__``, which a
    reader had seen bold) changes the file, not the words: none is marked, and the note says why the version
    exists. (``\\1. Scope`` and ``1\\. Scope`` do differ: ``\\1`` is no escape, a reader sees its backslash.)"""
    old = "# Terms\n\nCookies: _ga and __tld__.\n\nSecond.\n\nThird.\n\nFourth."
    new = "# Terms\n\nCookies: \\_ga and \\_\\_tld\\_\\_.\n\nSecond.\n\nThird.\n\nFourth."
    blocks = change_blocks(old, new)
    assert blocks[0] == Block("note", ESCAPES_NOTE)
    assert [block.kind for block in blocks[1:]] == ["folded"] and "<ins>" not in blocks[1].html
    assert change_blocks(old, old) == [Block("folded", "5 unchanged paragraphs")]  # the same file: no note
    moved = change_blocks("1\\. Scope", "\\1. Scope")
    assert moved == [Block("edited", "<ins>\\</ins>1. Scope")], moved


@pytest.mark.parametrize(
    ("markdown", "read"),
    [
        ("1\\. Scope", "1. Scope"),
        ("5 \\* 3 and snake\\_case \\_\\_tld\\_\\_", "5 * 3 and snake_case __tld__"),
        ("\\&amp; and \\<b> and a\\\\", "&amp; and <b> and a\\"),
        ("`x\\*y` then \\*", "`x\\*y` then *"),
        ("``a`b\\_`` \\_", "``a`b\\_`` _"),
        ("an unclosed ` tick \\_", "an unclosed ` tick _"),
        ("**bold** and [label](https://example.com/a\\_b)", "**bold** and [label](https://example.com/a_b)"),
        ("a backslash \\ before a space, and \\1", "a backslash \\ before a space, and \\1"),
    ],
)
def test_reader_text_reads_each_escape_outside_code_spans(markdown, read):
    assert reader_text(markdown) == read


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGE_TEXT)
def test_any_paragraph_of_page_text_shows_in_a_difference_as_the_page_said_it(text):
    """Page text in a paragraph, written into a version file, shows as the page said it once its escapes are read
    (a paragraph holds no markup of ours): the same words a CommonMark reader sees (test_markdown_escaping)."""
    markdown = version_file("Privacy Policy", f"<p>{as_html(text, False)}</p>")
    shown = shown_paragraphs(markdown.partition("\n\n")[2])
    assert seen(" ".join(shown)) == seen(f"{FIRST} {text} {LAST}"), markdown
