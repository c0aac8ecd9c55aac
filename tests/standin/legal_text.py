"""A realistic legal document for the stand-in sites: ~50 KB of pseudo-legal text, the same for the same arguments.

Each revision of a :func:`policy_page` replaces one more paragraph than the previous one and updates its "Last
updated" line, so consecutive revisions differ by a few lines, as real policy updates mostly do.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from html import escape

from standin.pages import Page

_WORDS = (
    "personal data information we you your services process processing collect use share third parties "
    "controller processor consent legitimate interest purposes retention period account contact request "
    "access rectification erasure portability object restrict cookies analytics advertising partners "
    "security measures transfer countries safeguards contractual clauses law enforcement authorities "
    "children age device identifiers location usage logs communications support marketing opt-out "
    "rights complaint supervisory authority applicable laws changes policy effective date website "
    "application features payment billing fraud prevention compliance obligations storage encryption "
    "anonymised aggregated statistics research improvement providers hosting infrastructure vendors"
).split()
_SENTENCE_POOL_SIZE = 4000
_SENTENCES: list[str] = []


def _sentences() -> list[str]:
    """A fixed pool of pseudo-legal sentences (built once, same for every run of the test suite)."""
    if not _SENTENCES:
        rng = random.Random(20261104)
        for _ in range(_SENTENCE_POOL_SIZE):
            words = rng.choices(_WORDS, k=rng.randint(10, 24))
            _SENTENCES.append(" ".join(words).capitalize() + rng.choice((".", ".", ".", ";", " — où applicable.")))
    return _SENTENCES


def paragraph(rng: random.Random) -> str:
    """3 to 7 sentences of the pool, drawn by ``rng``."""
    return " ".join(rng.sample(_sentences(), rng.randint(3, 7)))


def heading(rng: random.Random) -> str:
    """A section heading of three words, drawn by ``rng``."""
    return " ".join(rng.sample(_WORDS, 3)).capitalize()


def policy_page(site: str, document: str, revision: int = 0, size: int = 50_000) -> Page:
    """A ~``size``-byte legal document of ``site``, the same bytes for the same arguments.

    Each revision replaces one more paragraph than the previous one and updates the "Last updated" line, so
    consecutive revisions differ by a few lines, as real policy updates mostly do.
    """
    title = f"{site} {document.replace('-', ' ').title()}"
    rng = random.Random(f"{site}/{document}")
    sections: list[tuple[str, list[str]]] = []
    used = 2000  # the page chrome around the sections
    while used < size:
        section_heading = heading(rng)
        paragraphs = [paragraph(rng) for _ in range(rng.randint(2, 5))]
        sections.append((section_heading, paragraphs))
        used += len(section_heading) + sum(len(p) + 8 for p in paragraphs) + 16
    for number in range(1, revision + 1):
        edit = random.Random(f"{site}/{document}/revision {number}")
        _, paragraphs = sections[edit.randrange(len(sections))]
        paragraphs[edit.randrange(len(paragraphs))] = paragraph(edit)
    updated = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=revision)).strftime("%B %d, %Y")
    body = "".join(
        f"<section><h2>{index}. {escape(section_heading)}</h2>\n"
        + "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
        + "</section>\n"
        for index, (section_heading, paragraphs) in enumerate(sections, start=1)
    )
    document_html = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<link rel="stylesheet" href="/static/site.css"></head>\n<body>\n'
        '<div class="cookie-banner">We use cookies. <button>Accept all</button> <button>Reject</button></div>\n'
        '<header><nav><a href="/">Home</a> <a href="/products">Products</a> <a href="/pricing">Pricing</a> '
        '<a href="/about">About us</a> <a href="/careers">Careers</a> <a href="/login">Sign in</a></nav></header>\n'
        f"<main><article><h1>{escape(title)}</h1>\n<p><em>Last updated: {updated}</em></p>\n{body}</article></main>\n"
        '<footer><p>© 2026 Example Corp. All rights reserved.</p><nav><a href="/legal/privacy-policy">Privacy</a> '
        '<a href="/legal/terms-of-service">Terms</a> <a href="/legal/cookie-policy">Cookies</a></nav></footer>\n'
        "</body></html>\n"
    )
    return Page(body=document_html.encode("utf-8"))
