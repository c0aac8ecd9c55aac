"""Preformatted text keeps its lines, and code lines never run together (extractor revision 17).

A ``<pre>`` whose lines are separated by ``<br>`` or written one block per line (a highlighter's ``<div
class="line">``) was rendered from its text alone: "line1line2". Where Markdown cannot hold a code block (a heading,
a table cell, a link's text) the lines are one line, their words apart: a heading is one line, a GFM table row is
one line (a ``<br>`` in a cell is a space already), and a code span's line breaks are spaces (CommonMark 6.1).
Judged by markdown-it-py (CommonMark 0.31.2 and GitHub's tables), as a reader of the recorded text sees it.
"""

from __future__ import annotations

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from policy_archive.pipeline.extraction.markdown import MarkdownRenderer, preformatted_text
from policy_archive.pipeline.extraction.normalize import normalize_markdown

COMMONMARK = MarkdownIt("commonmark").enable("table")


def rendered(html: str) -> str:
    return normalize_markdown(
        MarkdownRenderer("https://example.org/").render(lxml.html.fromstring(f"<div>{html}</div>"))
    )


def code_blocks(markdown: str) -> list[str]:
    return [token.content for token in COMMONMARK.parse(markdown) if token.type in ("fence", "code_block")]


def pre(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(f"<div><pre>{html}</pre></div>").find("pre")


@pytest.mark.parametrize(
    "html",
    [
        "line1<br>line2<br/>line3",
        '<div class="line">line1</div><div class="line">line2</div><div class="line">line3</div>',
        "<p>line1</p><p>line2</p>line3",
        "<code>line1<br>line2</code>\nline3",
        '<span class="ln">line1</span><br><span class="ln">line2</span>\n<span class="ln">line3</span>',
    ],
)
def test_a_pre_of_br_or_block_lines_is_a_code_block_of_those_lines(html: str) -> None:
    assert code_blocks(rendered(f"<pre>{html}</pre>")) == ["line1\nline2\nline3\n"]


@pytest.mark.parametrize("tag", ["xmp", "listing"])
def test_the_obsolete_preformatted_tags_are_code_blocks_as_browsers_show_them(tag: str) -> None:
    """1990s pages wrote ``<xmp>`` and ``<listing>`` for ``<pre>`` (an ``<xmp>`` shows its tags as text); they were
    inline text: their lines one paragraph, run into the text after them ("…</b>l1")."""
    markdown = rendered(f"<{tag}>line1\nline2 <b>x</b></{tag}><p>after</p>")
    shown = "line2 <b>x</b>" if tag == "xmp" else "line2 x"
    assert code_blocks(markdown) == [f"line1\n{shown}\n"], markdown
    assert markdown.endswith("\n\nafter\n"), markdown


def test_plaintext_is_a_code_block_of_the_rest_of_the_page() -> None:
    """``<plaintext>`` ends HTML: everything after it is its text (here the test's own closing ``</div>``)."""
    markdown = rendered("<p>before</p><plaintext>p1\np2 <i>y</i>")
    assert code_blocks(markdown) == ["p1\np2 <i>y</i></div>\n"], markdown


def test_a_highlighters_empty_line_is_an_empty_line_and_an_empty_block_none() -> None:
    """``<div><br></div>`` is how editors draw a blank line; an empty ``<div>`` has no height and shows nothing."""
    assert preformatted_text(pre("<div>a</div><div><br></div><div></div><div>b</div>")) == "a\n\nb\n"


def test_comments_and_processing_instructions_in_a_pre_keep_the_text_after_them() -> None:
    assert preformatted_text(pre("a<!-- note -->b<?php x ?>c<br>d")) == "abc\nd"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<h2><pre>line1\nline2</pre></h2>", "## line1 line2"),
        ('<h2><pre><div class="line">line1</div><div class="line">line2</div></pre></h2>', "## line1 line2"),
        ("<h3><code><div>line1</div><div>line2</div></code></h3>", "### line1 line2"),
        ("<h3><pre><code>line1\nline2</code></pre></h3>", "### `line1 line2`"),
        ('<h3><a href="/x"><pre>line1<br>line2</pre></a></h3>', "### [line1 line2](https://example.org/x)"),
    ],
)
def test_a_pre_or_code_lines_in_a_heading_are_one_line_their_words_apart(html: str, expected: str) -> None:
    assert rendered(html) == expected + "\n"


@pytest.mark.parametrize(
    "cell",
    [
        "<pre>line1\nline2</pre>",
        "<pre>line1<br>line2</pre>",
        "<pre><code><div>line1</div><div>line2</div></code></pre>",
        "<code><div>line1</div><div>line2</div></code>",
        '<a href="/x"><pre>line1\nline2</pre></a>',
    ],
)
def test_a_pre_or_code_lines_in_a_table_cell_are_one_line_their_words_apart(cell: str) -> None:
    """A GFM table row is one line: the cell's lines are joined by a space, as a ``<br>`` in a cell is."""
    markdown = rendered(f"<table><tr><th>Name</th><th>Value</th></tr><tr><td>{cell}</td><td>x</td></tr></table>")
    tokens = COMMONMARK.parse(markdown)
    cells = ["".join(child.content for child in token.children) for token in tokens if token.type == "inline"]
    assert cells == ["Name", "Value", "line1 line2", "x"], markdown


def test_a_pre_in_a_link_stays_a_code_block_of_its_lines() -> None:
    """A link holding a block is rendered as its blocks (its target is lost, as for any link around blocks): a code
    block cannot be a link's text, and its lines are the text."""
    assert code_blocks(rendered('<ul><li><a href="/x"><pre>line1\nline2</pre></a></li></ul>')) == ["line1\nline2\n"]


LINE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789=(){};.", min_size=1, max_size=12)
# How a page separates the lines of preformatted text: a newline, a <br>, one block per line, a span per line.
LAYOUTS = {
    "newlines": lambda lines: "\n".join(lines),
    "br": lambda lines: "<br>".join(lines),
    "divs": lambda lines: "".join(f'<div class="line">{line}</div>' for line in lines),
    "spans": lambda lines: "\n".join(f'<span class="token">{line}</span>' for line in lines),
    "code-br": lambda lines: f"<code>{'<br>'.join(lines)}</code>",
}
# Where the <pre> stands: (HTML around it, whether Markdown can hold it as a code block there).
PLACES = {
    "page": ("{}", True),
    "list item": ("<ul><li>{}</li></ul>", True),
    "quote": ("<blockquote>{}</blockquote>", True),
    "heading": ("<h2>{}</h2>", False),
    "cell": ("<table><tr><th>a</th><th>b</th></tr><tr><td>{}</td><td>c</td></tr></table>", False),
    "link in a heading": ('<h3><a href="/x">{}</a></h3>', False),
}


# No deadline: CI runs under heavy load, and a slow example is no failure (tests never depend on timing).
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=6), st.sampled_from(sorted(LAYOUTS)), st.sampled_from(sorted(PLACES)))
def test_preformatted_lines_are_kept_and_never_run_together(lines: list[str], layout: str, place: str) -> None:
    """Wherever a ``<pre>`` stands and however its lines are separated: a code block of exactly its lines where
    Markdown holds one, else its words in order, each line's apart from the next's."""
    around, holds_code = PLACES[place]
    markdown = rendered(around.format(f"<pre>{LAYOUTS[layout](lines)}</pre>"))
    if holds_code:
        assert code_blocks(markdown) == ["\n".join(lines) + "\n"], markdown
    else:
        text = " ".join(token.content for token in COMMONMARK.parse(markdown) if token.type == "inline")
        words = text.replace("`", " ").replace("\\", "").split()
        assert " ".join(lines) in " ".join(words), markdown
