"""A generated policy history, as the backfill benchmarks serve it (``benchmarks.backfill``, ``benchmarks.flips``).

Each document is one of the shared seed policies (``../shared/seeds``) read as blocks (headings, paragraphs, list
items); each change is one to three edits of them (a sentence added to a paragraph, a paragraph added or dropped),
never back to an earlier text; each capture is the text rendered as a policy page with chrome around it and a
per-capture token in it, so that every capture's bytes differ, as on real pages.
"""

from __future__ import annotations

import html
import random
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

HISTORY_START = datetime(2008, 1, 1, tzinfo=UTC)
HISTORY_SECONDS = 18 * 365 * 24 * 3600
CLAUSES = (
    "We may share aggregated statistics with our partners, which do not identify you personally",
    "You can ask us at any time for a copy of the personal information we hold about you",
    "We keep log files for no longer than is necessary for the purposes described in this section",
    "Where we rely on your consent, you may withdraw it at any time without affecting earlier processing",
    "Our service providers process personal information only on our instructions and under contract",
    "We transfer personal information outside your country only with appropriate safeguards in place",
    "Cookies used for analytics can be switched off in the settings of your browser",
    "Children under the age of sixteen may not use the service without the consent of a parent",
    "We notify the competent supervisory authority of a personal data breach where the law requires it",
    "You may object to processing based on our legitimate interests, including profiling",
)
MONTHS = ("January February March April May June July August September October November December").split()


@dataclass(frozen=True)
class Block:
    """One block of a policy page: a heading, a paragraph or a list item (inline Markdown links and bold)."""

    kind: str  # "h2", "p" or "li"
    text: str


@dataclass(frozen=True)
class DocumentTruth:
    service: str
    name: str
    url: str
    select: tuple[str, ...]
    timestamps: tuple[str, ...]  # every capture, oldest first (14-digit Wayback timestamps)
    version_starts: tuple[int, ...]  # capture index where each version first shows, oldest first
    texts: tuple[tuple[Block, ...], ...]  # each version's blocks

    @property
    def key(self) -> str:
        return f"{self.service}/privacy-policy"

    @property
    def path(self) -> str:
        return f"{self.service[0]}/{self.service}/privacy-policy.md"

    def version_at(self, index: int) -> int:
        return bisect_right(self.version_starts, index) - 1

    def flips(self) -> int:
        """Versions whose text equals an earlier, not adjacent version's (A→B→A): 0 by construction."""
        return sum(1 for i, text in enumerate(self.texts) if text in self.texts[: max(0, i - 1)])


def seed_blocks(path: Path) -> tuple[str, list[Block]]:
    """The site name and the blocks of a seed policy (its provenance header and title line are dropped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    site = re.search(r"transformed from the (\S+?) ", lines[0])
    blocks = []
    for line in lines[1:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("# ") or set(stripped) <= set("*_-"):
            continue
        if stripped.startswith("#"):
            blocks.append(Block("h2", stripped.lstrip("#").strip()))
        elif re.match(r"^([*+-]|\d+\.)\s", stripped):
            blocks.append(Block("li", re.sub(r"^([*+-]|\d+\.)\s+", "", stripped)))
        else:
            blocks.append(Block("p", stripped))
    return (site.group(1) if site else path.stem), blocks


def edit(blocks: list[Block], rng: random.Random, moment: datetime) -> None:
    """One to three edits; the last always adds a sentence no earlier version had (so no text comes back)."""
    for _ in range(rng.randint(0, 2)):
        paragraphs = [i for i, block in enumerate(blocks) if block.kind == "p"]
        if rng.random() < 0.3 and len(paragraphs) > 15:
            del blocks[rng.choice(paragraphs)]
        else:
            place = rng.randrange(len(blocks) + 1)
            blocks.insert(place, Block("p", f"{rng.choice(CLAUSES)}. {rng.choice(CLAUSES)}."))
    paragraphs = [i for i, block in enumerate(blocks) if block.kind == "p"]
    place = rng.choice(paragraphs)
    dated = f"{rng.choice(CLAUSES)} (amended {MONTHS[moment.month - 1]} {moment.day}, {moment.year})."
    blocks[place] = Block("p", f"{blocks[place].text} {dated}")


def inline_html(text: str) -> str:
    escaped = html.escape(text, quote=False)
    linked = re.sub(r"\[([^\]]*)\]\(([^)\s]*)\)", r'<a href="\2">\1</a>', escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", linked)


def render_page(site: str, blocks: Sequence[Block], token: str) -> bytes:
    """A policy page as sites served them: chrome around the text, and a per-request token in three places."""
    parts: list[str] = []
    in_list = False
    for block in blocks:
        if block.kind == "li" and not in_list:
            parts.append("<ul>")
        if block.kind != "li" and in_list:
            parts.append("</ul>")
        in_list = block.kind == "li"
        parts.append(f"<{block.kind}>{inline_html(block.text)}</{block.kind}>")
    if in_list:
        parts.append("</ul>")
    body = "\n".join(parts)
    menu = "".join(f'<li><a href="/{item.lower()}">{item}</a></li>' for item in ("Products", "Pricing", "Blog"))
    # ~4 KB of inline script, like the analytics and consent-manager snippets real pages carry.
    script = "".join(f"window.dl.push({{'event':'e{n}','token':'{token}'}});\n" for n in range(80))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Privacy Policy | {site}</title>'
        f'<meta name="csrf-token" content="{token}"><script>window.dl=[];{script}</script></head>'
        f'<body><header><nav><a href="/">{site}</a><ul>{menu}</ul></nav></header>'
        f'<main id="content"><article><h1>Privacy Policy</h1>\n{body}\n</article></main>'
        f'<footer><p>Copyright {site}. All rights reserved.</p><a href="/privacy">Privacy</a>'
        f'<form><input type="hidden" name="session" value="{token}"></form></footer></body></html>'
    ).encode()


def generate(
    count: int, min_captures: int, max_captures: int, max_versions: int, seeds: Sequence[Path], seed: int
) -> list[DocumentTruth]:
    rng = random.Random(seed)
    documents = []
    for n in range(count):
        seed_path = seeds[n % len(seeds)]
        site, blocks = seed_blocks(seed_path)
        service = re.sub(r"[^a-z0-9]", "", site.split(".")[0].lower()) + f"{n:02d}"
        captures = rng.randint(min_captures, max_captures)
        offsets = sorted(rng.sample(range(HISTORY_SECONDS), captures))
        timestamps = tuple(f"{HISTORY_START + timedelta(seconds=offset):%Y%m%d%H%M%S}" for offset in offsets)
        versions = rng.randint(1, max_versions)
        starts = (0, *sorted(rng.sample(range(1, captures), versions - 1)))
        texts = [tuple(blocks)]
        for start in starts[1:]:
            edit(blocks, rng, datetime.strptime(timestamps[start], "%Y%m%d%H%M%S"))
            texts.append(tuple(blocks))
        documents.append(
            DocumentTruth(
                service=service,
                name=site,
                url=f"https://www.{service}.example/legal/privacy",
                # Half the declarations name the body, half rely on generic extraction minus the chrome.
                select=("main",) if n % 2 == 0 else (),
                timestamps=timestamps,
                version_starts=starts,
                texts=tuple(texts),
            )
        )
    return documents
