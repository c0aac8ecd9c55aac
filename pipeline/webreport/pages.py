"""The HTML of the report: the index of documents and one page per document (semantic, no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from policy_archive.pipeline.webreport.diffs import Block, shown_paragraphs
from policy_archive.records import iso_z, parse_iso_z, utc
from policy_archive.text import counted, markup_text


@dataclass(frozen=True)
class VersionView:
    """One version as its page shows it."""

    anchor: str  # v-<its date>, kept when its commit is re-chained (document_files.version_anchor)
    commit: str
    captured_at: datetime
    stated_date: str | None
    subject: str
    source: str
    snapshot_url: str
    unchanged_at: datetime | None  # the last capture seen with the previous text, when known
    note: str | None
    words: int
    lines_added: int
    lines_removed: int
    text: str
    changes: tuple[Block, ...]  # against the previous version; empty for the first
    # The file name of the numbered page that holds it for good (``privacy-policy-3.html``): every link the report
    # makes to the version leads there (with its anchor), never to the document's own page, which shows it only
    # until newer versions push it off (empty: links within the page, ``#anchor``).
    page: str = ""
    # Its place among the document's versions, counted from 1 (the oldest); 0: not given (the page's ``first`` on).
    # A page's versions are consecutive unless a backfill inserted earlier versions among them after it was made:
    # those are on a page of their own (state.placed), and the numbers of this page's versions then skip them.
    number: int = 0

    @property
    def link(self) -> str:
        """The version's lasting link, relative to its document's folder: its page and anchor."""
        return f"{self.page}#{self.anchor}"


@dataclass(frozen=True)
class DocumentSummary:
    """A document as the index lists it (kept between runs, so unchanged documents are not read again)."""

    key: str
    name: str  # ACRCloud Privacy Policy
    url: str
    page: str  # acrcloud/privacy-policy.html, relative to the report's root
    feed: str
    dates: tuple[str, ...]  # every version's capture time, ISO 8601 UTC, oldest first


def day(moment: datetime) -> str:
    """``YYYY-MM-DD``: the UTC day of ``moment`` (an aware time in any zone; a naive one is taken as UTC)."""
    return utc(moment).strftime("%Y-%m-%d")


def time_element(moment: datetime, *, precise: bool = False) -> str:
    """A ``<time>`` element with the exact instant (ISO 8601 UTC, ``Z``) as its ``datetime`` and, shown, the UTC
    day, or with ``precise`` the UTC time to the second labelled ``UTC``: one zone for every moment of the report,
    whatever zone ``moment`` is given in (a naive one is taken as UTC)."""
    shown = utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC") if precise else day(moment)
    return f'<time datetime="{iso_z(moment)}">{shown}</time>'


def page(title: str, root: str, body: str, feed: str | None = None) -> str:
    """A whole HTML document, without the characters HTML calls parse errors (``markup_text``: a version in Git
    may hold control characters); ``root`` is the relative path back to the report's root (``""`` or ``"../"``)."""
    alternate = (
        f'\n<link rel="alternate" type="application/atom+xml" href="{escape(feed)}" title="Changes (Atom)">'
        if feed
        else ""
    )
    return markup_text(f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{root}style.css">{alternate}
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="site"><nav aria-label="Report"><a href="{root}index.html">All documents</a></nav></header>
<main id="main">
{body}
</main>
<footer class="site"><p>Made by policy-archive from its versions repository. Every text links to the raw capture it
was extracted from.</p></footer>
</body>
</html>
""")


def timeline(dates: Sequence[datetime], start: datetime, end: datetime, links: Sequence[str] = ()) -> str:
    """A small picture of when changes happened between ``start`` and ``end`` (hidden from screen readers:
    the dates are also given as text next to it). Marks closer than one unit of its 1,000-wide picture are drawn
    once (the newest of them, as ``dates`` are oldest first): at most about 1,000 marks, however many versions."""
    span = (end - start).total_seconds() or 1.0
    marks: dict[int, str] = {}
    for index, moment in enumerate(dates):
        x = round(4 + 992 * (moment - start).total_seconds() / span)
        mark = f'<rect x="{x - 3}" y="4" width="6" height="16" rx="1"><title>{day(moment)}</title></rect>'
        marks[x] = f'<a href="{escape(links[index])}">{mark}</a>' if links else mark
    return (
        '<svg class="timeline" viewBox="0 0 1000 24" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        '<line x1="0" y1="12" x2="1000" y2="12"></line>' + "".join(marks.values()) + "</svg>"
    )


def index_page(documents: Sequence[DocumentSummary]) -> str:
    """Every document: versions, first and last capture, and a timeline on a scale shared by all rows."""
    times = [parse_iso_z(d) for doc in documents for d in doc.dates]
    start, end = (min(times), max(times)) if times else (None, None)
    rows = []
    for document in documents:
        dates = [parse_iso_z(d) for d in document.dates]
        first = time_element(dates[0]) if dates else "—"
        last = time_element(dates[-1]) if dates else "—"
        picture = timeline(dates, start, end) if dates and start and end else ""
        rows.append(
            f'<tr><th scope="row"><a href="{escape(document.page)}">{escape(document.name)}</a>'
            f'<br><span class="key">{escape(document.key)}</span></th>'
            f'<td class="number">{len(dates)}</td><td>{first}</td><td>{last}</td>'
            f'<td class="picture">{picture}</td><td><a href="{escape(document.feed)}">Atom</a></td></tr>'
        )
    scale = f"from {day(start)} to {day(end)}" if start and end else ""
    body = f"""<h1>Policy histories</h1>
<p>{counted(len(documents), "document")}, {counted(len(times), "version")}. Each document links to its page:
every change as a word-level difference, with the capture it came from.
<a href="feed.atom">All changes (Atom feed)</a>.</p>
<table class="documents">
<caption>Documents and their versions (timelines {scale}, on one scale)</caption>
<thead><tr><th scope="col">Document</th><th scope="col">Versions</th><th scope="col">First capture</th>
<th scope="col">Last change</th><th scope="col">Timeline of changes</th><th scope="col">Feed</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>"""
    return page("Policy histories", "", body, "feed.atom")


def _facts(version: VersionView) -> str:
    stated = (
        f'<time datetime="{version.stated_date}">{version.stated_date}</time>'
        if version.stated_date
        else ("not stated in the text")
    )
    facts = [
        ("Captured", time_element(version.captured_at, precise=True)),
        ("Date stated in the text", stated),
    ]
    if version.unchanged_at:
        facts.append(("Last seen unchanged", time_element(version.unchanged_at, precise=True)))
    facts += [
        ("Snapshot", f'<a href="{escape(version.snapshot_url)}">{escape(version.snapshot_url)}</a>'),
        ("Source", escape(version.source)),
        ("Commit", f"<code>{version.commit}</code>"),
        ("Size", f"{counted(version.words, 'word')}; +{version.lines_added} / −{version.lines_removed} lines"),
    ]
    if version.note:
        facts.append(("Note", escape(version.note)))
    return "".join(f"<dt>{term}</dt><dd>{value}</dd>" for term, value in facts)


# The language of a document's text, on the elements holding it: unknown (HTML's ``lang=""``). The pages' own words
# are English (``<html lang="en">``), which the text would otherwise inherit; but a recorded text is in its site's
# language (French, German, …), which nothing records (the extraction reads a page's ``lang`` only to date it, and
# a template's default ``lang`` is often wrong), and a wrong language makes screen readers pronounce it wrongly.
DOCUMENT_LANGUAGE = ' lang=""'


def _changes(version: VersionView) -> str:
    if not version.changes:
        text = "".join(f"<p>{escape(part)}</p>" for part in shown_paragraphs(version.text))
        return (
            f'<details class="fulltext"><summary>The first recorded text ({counted(version.words, "word")})</summary>'
            f'<div class="text"{DOCUMENT_LANGUAGE}>{text}</div></details>'
        )
    blocks = []
    for block in version.changes:
        if block.kind == "folded":
            blocks.append(f'<p class="folded">… {block.html} …</p>')
        else:  # a note ("Only the spacing … changed") is the report's English, the others the document's text
            language = "" if block.kind == "note" else DOCUMENT_LANGUAGE
            blocks.append(f'<p class="{block.kind}"{language}>{block.html}</p>')
    return f'<div class="diff" role="group" aria-label="Changes from the previous version">{"".join(blocks)}</div>'


@dataclass(frozen=True)
class Pager:
    """Where one page of a document's changes sits among its others: the document's own page holds the newest
    changes; every version is also on a numbered page of at most a fixed number of versions (``name-1.html`` the
    oldest of a first report; the newest one filling as versions come; earlier versions a later backfill inserts on
    pages of their own, in order of their oldest version), which it is on for good, so that a link to a version
    there never goes stale."""

    first: int  # the number of its first version, counting the document's versions from 1 (the oldest)
    number: int | None = None  # the numbered page's number; None on the document's own page
    newer: str | None = None  # file name of the page of the next newer changes
    older: str | None = None  # file name of the page of the next older changes
    newest: str = ""  # file name of the document's own page
    oldest: str | None = None  # file name of the page of the oldest changes (None on it and when there is none)
    # Own page only, each older page: file, its first and last version's numbers, how many it holds, their dates.
    older_pages: tuple[tuple[str, int, int, int, str, str], ...] = ()


def _pages_nav(pager: Pager, where: str) -> str:
    links = []
    if pager.number is not None:
        links.append(f'<li><a href="{escape(pager.newest)}">Newest changes</a></li>')
    if pager.newer:
        links.append(f'<li><a href="{escape(pager.newer)}" rel="prev">Newer changes</a></li>')
    if pager.older:
        links.append(f'<li><a href="{escape(pager.older)}" rel="next">Older changes</a></li>')
    if pager.oldest:
        links.append(f'<li><a href="{escape(pager.oldest)}">Oldest changes</a></li>')
    if not links:
        return ""
    return f'<nav class="pages" aria-label="Pages of changes ({where})"><ul>{"".join(links)}</ul></nav>'


def _span(first: int, last: int, held: int) -> str:
    """``Versions 4–6`` (``Version 4``), or for a page whose versions are not consecutive (later backfills inserted
    others among them, on pages of their own) ``3 of versions 4–12``."""
    if first == last:
        return f"Version {first:,}"
    if last - first + 1 == held:
        return f"Versions {first:,}–{last:,}"
    return f"{held:,} of versions {first:,}–{last:,}"


def _older_pages(pager: Pager) -> str:
    if not pager.older_pages:
        return ""
    items = "".join(
        f'<li><a href="{escape(name)}">{_span(first, last, held)}</a>: '
        f"{time_element(parse_iso_z(since))} to {time_element(parse_iso_z(until))}</li>"
        for name, first, last, held, since, until in reversed(pager.older_pages)
    )
    return (
        f'<section aria-labelledby="older"><h2 id="older">Older changes</h2>'
        f'<ol class="pages" reversed>{items}</ol></section>'
    )


def document_page(
    summary: DocumentSummary,
    versions: Sequence[VersionView],
    pager: Pager | None = None,
    marks: Sequence[tuple[datetime, str]] = (),
) -> str:
    """A page of a document's changes: a timeline, then each of ``versions`` (oldest first), newest first, with what
    changed from the one before. ``pager`` places the page among the document's others (None: the only page);
    ``marks`` are the timeline's (date, link), by default the page's own versions."""
    pager = pager or Pager(first=1)
    marks = marks or [(v.captured_at, v.link) for v in versions]
    dates = [moment for moment, _ in marks]
    numbers = [v.number or pager.first + i for i, v in enumerate(versions)]
    last = numbers[-1] if numbers else pager.first - 1
    consecutive = last - pager.first + 1 == len(versions)
    listing = "".join(
        ("<li>" if consecutive else f'<li value="{number}">')
        + f'<a href="{escape(v.link)}">{time_element(v.captured_at)}</a> {escape(v.subject)}'
        + (f" (states {v.stated_date})" if v.stated_date else "")
        + "</li>"
        for number, v in zip(numbers, versions, strict=True)
    )
    articles = "".join(
        f'<article class="version" id="{v.anchor}" aria-labelledby="h-{v.anchor}">'
        f'<h2 id="h-{v.anchor}">{time_element(v.captured_at)}: {escape(v.subject)}</h2>'
        f'<dl class="facts">{_facts(v)}</dl>{_changes(v)}</article>'
        for v in reversed(versions)
    )
    feed = escape(summary.feed.rsplit("/", 1)[-1])
    if pager.number is None:
        title = summary.name
        shows = f"; this page shows the newest {len(versions):,} (versions {pager.first:,}–{last:,})"
        lead = (
            f"{counted(len(summary.dates) or len(versions), 'version')} from {time_element(dates[0])} to "
            f"{time_element(dates[-1])}" + (shows if pager.older else "")
        )
    else:  # said without the document's count of versions, which grows: an older page's text never changes
        span = _span(pager.first, last, len(versions))
        title = f"{summary.name}: {span[0].lower()}{span[1:]}"
        lead = f"{span[0].lower()}{span[1:]}, " + (
            f"from {time_element(dates[0])} to {time_element(dates[-1])}"
            if len(versions) > 1
            else f"captured {time_element(dates[0])}"
        )
        if not consecutive:
            lead += " (the versions between them are on other pages)"
    body = f"""<h1>{escape(title)}</h1>
<p class="lead"><a href="{escape(summary.url)}">{escape(summary.url)}</a> — {lead}. <a href="{feed}">Atom feed
of its newest changes</a>.</p>
{_pages_nav(pager, "top")}
<section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>
{timeline(dates, dates[0], dates[-1], [link for _, link in marks])}
<ol class="versions" start="{pager.first}">{listing}</ol></section>
<section aria-labelledby="changes"><h2 id="changes">Changes, newest first</h2>
<p class="legend">Added words are <ins>underlined on green</ins>, removed words <del>struck through on red</del>.</p>
{articles}</section>
{_pages_nav(pager, "bottom")}
{_older_pages(pager)}"""
    return page(title, "../", body, feed)
