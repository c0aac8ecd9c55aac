"""Page text shows in the version file as the page said it (decision 0016): a CommonMark reader sees the same
characters, not a link, an emphasis, a heading, a list, a rule, a code span, an entity or a hard break that the
page did not make. The renderer escapes only where the text would read as markup, and the same text always
gives the same Markdown.

The judge is markdown-it-py with CommonMark 0.31.2 and GitHub's tables and strikethrough (as GitHub, most
viewers and the version files' tables need): the plain text it reads, block by block, must be the page's text,
whitespace-normalised as a browser shows it. Any emphasis, link, code, HTML, rule or break the page did not make
shows up as a marker in that plain text, so it fails the comparison.
"""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from policy_archive.pipeline.exports._rows import title_of
from policy_archive.pipeline.extraction.escaping import escape_text
from policy_archive.pipeline.extraction.extract import extract
from policy_archive.pipeline.extraction.normalize import normalize_characters, normalize_markdown
from policy_archive.pipeline.jobs.provenance import document_text
from policy_archive.records import ExtractionRules
from policy_archive.text import one_line

READER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
FIRST = "We protect your privacy."
LAST = "End."


def shown(markdown: str) -> list[str]:
    """What a reader sees, one entry per block holding text (a table: one per cell); blocks that are not text
    (a rule, code, HTML) as a marker."""
    blocks = []
    for token in READER.parse(markdown):
        if token.type == "inline":
            blocks.append("".join(_plain(child) for child in token.children or ()))
        elif token.type in ("hr", "code_block", "fence", "html_block"):
            blocks.append(f"<{token.type}>")
    return blocks


def _plain(token) -> str:
    if token.type in ("text", "code_inline"):
        return token.content if token.type == "text" else f"<code>{token.content}</code>"
    if token.type == "softbreak":
        return " "
    return f"<{token.type}>"  # emphasis, strikethrough, links, images, HTML, hard breaks: none is page text here


def seen(text: str) -> str:
    """``text`` as a browser shows it, and as the version file keeps it (NFC, no zero-width characters)."""
    return " ".join(normalize_characters(text).split())


def title_seen(text: str) -> str:
    """A ``<title>`` as the version file keeps it: one line, its characters settled as the text's are (NFC, no
    zero-width or control characters: extractor revision 10)."""
    return one_line(normalize_characters(text))


def as_html(text: str, br: bool) -> str:
    escaped = html.escape(text)
    return escaped.replace("\n", "<br>") if br else escaped


CONTEXTS = {
    "paragraph": ("<p>{}</p>", "{}"),
    "list item": ("<ul><li>{}</li><li>item</li></ul>", "{} item"),
    "heading": ("<h2>{}</h2>", "{}"),
    "table cell": ("<table><tr><th>Data</th><th>Use</th></tr><tr><td>{}</td><td>x</td></tr></table>", "Data Use {} x"),
}


def version_file(title: str, content: str) -> str:
    body = (
        f"<html><head><title>{html.escape(title)}</title></head><body><main><h1>Privacy Policy</h1>"
        f"<p>{FIRST}</p>{content}<p>{LAST}</p></main></body></html>"
    )
    document = extract(body.encode(), "https://example.com/privacy", ExtractionRules(select=("main",)))
    return document_text(document)


def assert_shown_as(text: str, context: str, br: bool = False) -> str:
    markup, words = CONTEXTS[context]
    markdown = version_file("Privacy Policy", markup.format(as_html(text, br)))
    expected = seen(f"Privacy Policy {FIRST} {words.format(text)} {LAST}")
    assert seen(" ".join(shown(markdown))) == expected, markdown
    return markdown


# --- each kind of markup the issue names ----------------------------------------------------------------------

EXAMPLES = [
    "[a](b) is a link only in Markdown",
    "![image](https://example.com/x.png)",
    "[1]: https://example.com/reference",
    "***",
    "---",
    "___",
    "* * *",
    "===",
    "# not a heading",
    "###### six",
    "1. not a list",
    "2019) not a list either",
    "- not a bullet",
    "+ nor this",
    "* nor this",
    "> not a quote",
    ">no space quote",
    "*word* and _word_ and **strong** and __strong__",
    "a*b*c and snake_case_names and _ga cookies",
    "~~struck~~ and ~approximately~",
    "backticks `code` and ``more``",
    "&amp; written out, &#38; and &#x26; and &copy;",
    "a line ending in a backslash\\",
    "a backslash \\* before a star",
    "two spaces  \nat a line's end",
    "a | b | c",
    "| a | b |\n| --- | --- |\n| c | d |",
    "--- | ---",
    "```\nfenced\n```",
    "~~~",
    "Title\n===",
    "Title\n---",
    "# closing #",
    "C# and F#",
    "<script>alert(1)</script>",
    "price: 5 * 3 = 15, a ~ b",
]


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("text", EXAMPLES)
def test_markup_written_on_a_page_shows_as_written(text, context):
    assert_shown_as(text, context)


def test_lines_broken_by_br_show_as_written():
    for text in ["intro\n# heading\n1. item\n- bullet\n> quote\n---\n===", "a\n* * *\n_ _ _\n:--|--:"]:
        assert_shown_as(text, "paragraph", br=True)
        assert_shown_as(text, "list item", br=True)


def test_ordinary_text_gains_no_backslash():
    """Only what would read as markup is escaped: prices, arithmetic, URLs, e-mail addresses, snake_case names,
    footnote brackets and ampersands between words stay as they are."""
    ordinary = [
        "Prices: 5 * 3 = 15 (about ~ 20 %) and 1.5 kg.",
        "See https://example.com/my_page?a=1&b=2 or write to privacy_team@example.com.",
        "Section [1] and [2] apply; Terms & Conditions; R&D; 3 < 5 and 7 > 2; C# and a-b-c.",
        "snake_case_name, x_1, and #hashtag; 2019. The year.",
    ]
    for text in ordinary:
        assert escape_text(text) == text
        markdown = assert_shown_as(text, "paragraph")
        assert text in markdown


def test_code_shows_its_text_as_it_is():
    body = "<p>Use <code>__init__ *args* [a](b) &amp;amp;</code> and <kbd>a`b</kbd> and <code>`x`</code>.</p>"
    markdown = version_file("Privacy Policy", body)
    assert "Use `__init__ *args* [a](b) &amp;` and ``a`b`` and `` `x` ``." in markdown
    code = ["<code>__init__ *args* [a](b) &amp;</code>", "<code>a`b</code>", "<code>`x`</code>"]
    assert shown(markdown)[2] == f"Use {code[0]} and {code[1]} and {code[2]}."


def test_normalisation_leaves_code_spans_and_escaped_text_alone():
    assert normalize_markdown("`__init__` and __bold__ and ``a`__b__`` too") == (
        "`__init__` and **bold** and ``a`__b__`` too\n"
    )
    # page text "[a](b?utm_source=x)", escaped: not a link, so its "tracking parameter" is the page's text
    assert normalize_markdown("[a\\](b?utm_source=x) and [a](b?utm_source=x)") == "[a\\](b?utm_source=x) and [a](b)\n"
    assert normalize_markdown("\\`__a__` and `x`") == "\\`**a**` and `x`\n"  # an escaped backtick opens no span


def test_the_title_shows_as_written():
    for title in ["*Privacy* _Policy_ #", "[Privacy](x) &amp; 1. Terms", "# Privacy `Policy`"]:
        markdown = version_file(title, "")
        assert shown(markdown)[0] == title, markdown


def test_a_link_label_shows_as_written():
    body = "<p>See <a href='/p'>[the] *policy* &amp;amp; ]</a>.</p>"
    markdown = version_file("Privacy Policy", body)
    tokens = [token for token in READER.parse(markdown)[7].children or ()]
    assert [token.type for token in tokens] == ["text", "link_open", "text", "link_close", "text"], markdown
    assert tokens[2].content == "[the] *policy* &amp; ]"


# --- properties -----------------------------------------------------------------------------------------------

# Pieces a CommonMark or GitHub reader may take as markup, mixed with words and any other characters.
PIECES = st.sampled_from(
    [
        "\\", "`", "*", "_", "~", "[", "]", "(", ")", "!", "#", "+", "-", ".", ")", ">", "<", "|", ":", "=", "&", ";",
        "1", "2019", "a", "word", "é", "ß", "中文", "①", "😀", "\u0301", "Ａ", "\u200b", "\u00ad", "\u00a0", "\u2003",
        "\u200c", "\u200d", "می\u200cخواهیم", "👨\u200d👩",
        " ", "  ", "\t", "\n", "\n\n", "  \n", "\\\n",
        "&amp;", "&#42;", "&#x2A;", "&copy;", "&nbsp;", "&bogus;", "[a](b)", "![i](s)", "[a]: /u", "[a][b]",
        "<b>", "</p>", "<!--", "<https://x.y>", "1. ", "1) ", "- ", "+ ", "* ", "# ", "###### ", "> ",
        "***", "---", "___", "===", "```", "~~~", "    ", "**", "__", "~~", "a_b", "_a_", "*a*", "`a`",
        "--- | ---", ":-:", "http://x.y/a_b_c",
    ]
)  # fmt: skip
ANY_CHARACTERS = st.text(st.characters(exclude_categories=("Cc", "Cs"), include_characters="\n\t"), max_size=3)
PAGE_TEXT = (
    st.lists(PIECES | ANY_CHARACTERS, max_size=20)
    .map("".join)
    # Text bullets at a line's start ("• item") become list items: a normalisation (decision 0002), not markup.
    .filter(lambda text: not any(line.strip()[:1] in "•·▪◦‣" for line in normalize_characters(text).split("\n")))
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGE_TEXT, st.sampled_from(sorted(CONTEXTS)), st.booleans())
# A zero-width space between a letter and its accent: "Á" (NFC) once the space is gone (found by Hypothesis).
@example("A\u200b\u0301", "heading", False)
def test_any_page_text_shows_as_the_page_said_it(text, context, br):
    markdown = assert_shown_as(text, context, br)
    assert normalize_markdown(markdown.partition("\n\n")[2]) == markdown.partition("\n\n")[2]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGE_TEXT.filter(lambda text: title_seen(text) != ""))
def test_any_title_shows_as_the_page_said_it(title):
    assert shown(version_file(title, ""))[0] == title_seen(title)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGE_TEXT.filter(lambda text: title_seen(text) != ""))
def test_exports_read_the_title_as_the_page_said_it(title):
    # export's ``title`` column (jsonl, csv, sqlite, OTA) is the title a reader sees, not its Markdown escapes
    assert title_of(version_file(title, "")) == title_seen(title)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGE_TEXT, PAGE_TEXT)
def test_a_paragraph_is_escaped_the_same_whatever_the_other_paragraphs_say(text, other):
    """Diffs stay local: text changing elsewhere on the page never changes how this text is written."""
    alone = version_file("Privacy Policy", f"<p>{html.escape(text)}</p>")
    with_other = version_file("Privacy Policy", f"<p>{html.escape(text)}</p><p>Middle.</p><p>{html.escape(other)}</p>")
    before_last = alone.removesuffix(f"{LAST}\n")
    assert with_other.startswith(before_last), (alone, with_other)
