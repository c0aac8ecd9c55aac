"""The report's state file (``.policy-archive-report.json`` in its directory): what an earlier run reported of
each document, read back as this release keeps it (older formats upgraded or forgotten), and which numbered page
holds each version (:func:`placed`: given once, never moved, so that a link once given out stays good)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from policy_archive.errors import ConfigurationError
from policy_archive.records import DocumentDeclaration

STATE_FILE = ".policy-archive-report.json"
# Bump when pages or feeds change shape: every page is then written again by the next run.
STATE_FORMAT = 7  # 2: word diffs in bounded time, with notes; a feed without entries dated truly; 3: paged, bounded;
# 4: the newest versions' numbered page written as it fills, every link to a version to its numbered page;
# 5: anchors and feed ids that survive a re-chain, each numbered page's last commit remembered (``page_heads``);
# 6: each numbered page's versions remembered and kept (``pages``): an earlier version inserted by a backfill gets
# a page of its own instead of moving later ones to the next page (a format 5 state is upgraded: _upgraded)
# 7: the document's text marked as of no known language (``lang=""``), the base URL the feeds name themselves by
# remembered (a format 6 state is kept, its pages written again: _written_again)


def state_bytes(base_url: str | None, documents: dict[str, dict]) -> bytes:
    """The state file's content: this format, the base URL the feeds name themselves by, each document's state (none:
    a report begun, whose every page the next run writes)."""
    return json.dumps({"format": STATE_FORMAT, "base_url": base_url, "documents": documents}, indent=1).encode()


def load_state(
    output: Path, base_url: str | None, named: Sequence[DocumentDeclaration], configured: Sequence[DocumentDeclaration]
) -> dict[str, dict]:
    """The documents an earlier run reported, as this release keeps them; a state of format 6 is kept with every
    page written again (:func:`_written_again`), one of format 5 is upgraded (its numbered pages' versions read from
    the pages themselves), any other format or an unreadable state is taken as none (every page is written again,
    numbered from the oldest). A state whose feeds named another address than ``base_url`` is kept with every page
    and feed written again; it is refused when only some documents are ``named`` (of those ``configured``): the
    others' feeds would keep the old address."""
    earlier = None
    try:
        state = json.loads((output / STATE_FILE).read_text(encoding="utf-8"))
        documents = state.get("documents", {}) if isinstance(state, dict) else {}
        earlier = state.get("base_url") if isinstance(state, dict) else None
        if state.get("format") == 6:
            documents = {key: _written_again(known) for key, known in documents.items()}
        elif state.get("format") == 5:
            documents = {key: known for key, known in documents.items() if _upgraded(output, known)}
        elif state.get("format") != STATE_FORMAT:
            documents = {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        documents = {}
    if earlier == base_url:
        return documents
    if {d.key for d in configured if d.key in documents} - {d.key for d in named}:
        given = f"--base-url {base_url}" if base_url else "no --base-url"
        was = f"--base-url {earlier}" if earlier else "no --base-url"
        raise ConfigurationError(
            f"{given}: the report in {output} was written with {was}, which its feeds name themselves by: "
            "change it for every document at once (report without DOC)"
        )
    return {key: _written_again(known) for key, known in documents.items()}


def _written_again(known: dict) -> dict:
    """A document's state with its head and what each numbered page was written from forgotten: every page and
    its feed are written again by this run, each numbered page holding the versions it held (links stay good)."""
    pages = [{**page, "written": ""} for page in known.get("pages", [])]
    return {**known, "head": "", "pages": pages}


# The version articles of a page: their ids are the versions' anchors (``version_anchor``, since format 5).
ARTICLE = re.compile(r'<article class="version" id="(v-\d{8}T\d{6}Z)"')


def _upgraded(output: Path, known: dict) -> bool:
    """Turn a document's format 5 state into this format in place: its numbered pages held the versions counted
    from the oldest when they were written, so what each page holds now is read from the page file (the links given
    out point there); its head is forgotten, so that every page is written again. False (the document is reported
    afresh) when a page is missing: a link to it was broken already, and nothing says what it held."""
    base = known["summary"]["page"].removesuffix(".html")
    pages, seen = [], set()
    for number in range(1, len(known.pop("page_heads")) + 1):
        path = output / f"{base}-{number}.html"
        if not path.is_file():
            return False
        anchors = [a for a in ARTICLE.findall(path.read_text(encoding="utf-8")) if a not in seen]
        seen.update(anchors)
        pages.append({"number": number, "versions": sorted(anchors), "written": ""})
    known["pages"], known["head"] = pages, ""
    return True


def placed(anchors: Sequence[str], pages: Sequence[dict], size: int) -> tuple[dict[int, list[int]], list[int]]:
    """Each numbered page's versions (indexes into ``anchors``, the document's versions oldest first), and the
    numbers of the pages of ``pages`` (the state's) that hold none any more.

    A version keeps the page it was given when it was first reported. A version on no page yet (a new one, or an
    earlier one a backfill inserted, wherever it falls) joins the page of the version just before it while that page
    holds fewer than ``size``, else the page this run last made for its kind while it has room, else a new page (the
    next number never used). The kinds are kept apart: a version after the newest one already on a page (appended)
    never joins a page made for inserted ones, nor an inserted one a page made for appended ones; else a run that
    brings both, the newest page full, put the newest version on a page ordered by an early inserted one, first in
    the chain of pages, and later runs kept filling it. So new versions fill the page of the newest, then pages of
    their own, counted from the oldest in a first report; inserted ones take pages of their own (at most as many as
    they fill), whose dates then fall within or between those of earlier pages: moving a version to another page
    would break the links to it that feed readers and bookmarks keep.
    """
    where = {anchor: index for index, anchor in enumerate(anchors)}
    members: dict[int, list[int]] = {}
    for known in pages:
        members[known["number"]] = [where[a] for a in known["versions"] if a in where]
    emptied = [number for number, held in members.items() if not held]
    for number in emptied:
        del members[number]
    page_of = {index: number for number, held in members.items() for index in held}
    next_number = max((known["number"] for known in pages), default=0) + 1
    newest = max(page_of, default=-1)
    made_for: dict[bool, list[int]] = {False: [], True: []}  # appended? -> the pages this run made for that kind
    for index in range(len(anchors)):
        if index in page_of:
            continue
        made = made_for[index > newest]
        before = page_of.get(index - 1)
        if before is not None and len(members[before]) < size:
            number = before
        elif made and len(members[made[-1]]) < size:
            number = made[-1]
        else:
            number, next_number = next_number, next_number + 1
            members[number] = []
            made.append(number)
        members[number].append(index)
        page_of[index] = number
    for held in members.values():
        held.sort()
    return members, emptied
