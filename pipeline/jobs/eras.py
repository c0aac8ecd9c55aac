"""What a domain's discovery found: eras (consecutive home-page captures linking one page, decision 0014) and
the service declaration they make, with one history entry per earlier URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from policy_archive.config.writer import DocumentDraft
from policy_archive.pipeline.extraction.links import url_key
from policy_archive.pipeline.jobs.home_pages import FRAMES_FOLLOWED, NO_LINK, Sighting, iframes_not_read
from policy_archive.pipeline.jobs.home_search import GRID_DAYS
from policy_archive.records import DocumentDeclaration, HistoryEntry
from policy_archive.text import plural

# The last era is unsure when the home page's captures after it could not be read over at least this span (issue
# 15): the link may have changed since, and its URL would be declared as today's policy on no evidence.
UNREAD_TAIL = timedelta(days=GRID_DAYS)
# A run of at least this many one-capture eras in a row whose links differ only in their query is unsure: most
# likely one page whose links carry a per-visit value discovery does not know (a session id under another name, a
# cache buster), not a move on every capture (acceptance report 4, finding 1).
QUERY_CHURN_RUN = 3


@dataclass(frozen=True)
class Era:
    """A span of home-page captures linking one page (``url`` None: no link found)."""

    url: str | None
    text: str
    first_seen: datetime
    last_seen: datetime
    captures: int
    rivals: tuple[str, ...]
    unread_until: datetime | None = None  # the last era: its home page's later captures unreadable until then
    churn: int = 0  # one of this many one-capture eras in a row whose links differ only in their query
    iframes: tuple[str, ...] = ()  # no link: iframes its home pages show beside their links, not read (a few)
    also_names: str | None = None  # its link's text names this other document too, as its latest capture's did

    @classmethod
    def of(cls, sighting: Sighting) -> Era:
        """The era of one readable sighting."""
        return cls(sighting.url, sighting.text, sighting.timestamp, sighting.timestamp, 1, sighting.rivals,
                   iframes=sighting.iframes, also_names=sighting.also_names)  # fmt: skip

    def then(self, sighting: Sighting) -> Era:
        """This era with one more sighting linking the same page (or none, as this one)."""
        rivals = tuple(dict.fromkeys(self.rivals + sighting.rivals))
        url = sighting.url or self.url  # the latest spelling of the URL (http → https)
        # One more than are named, to say there were more (``…``).
        iframes = tuple(dict.fromkeys(self.iframes + sighting.iframes))[: FRAMES_FOLLOWED + 1]
        return Era(url, sighting.text, self.first_seen, sighting.timestamp, self.captures + 1, rivals,
                   iframes=iframes, also_names=sighting.also_names)  # fmt: skip

    @property
    def unsure(self) -> str | None:
        """Why the era's link should be checked by a person, several reasons joined by ``; `` (no link found; rivals
        as likely; a link naming another document too, "Privacy & Cookies" for a cookie policy; a run of one-capture
        eras differing only in their query; the home page unreadable long after it), or None when it is sure."""
        if self.url is None:
            return "no link to the document found" + (f"; {iframes_not_read(self.iframes)}" if self.iframes else "")
        reasons = [f"other links as likely: {', '.join(self.rivals)}"] if self.rivals else []
        if self.also_names:
            reasons.append(
                f"its link's text names the {self.also_names} too and no link names this document alone: probably "
                f"the {self.also_names}, which may hold it as a section (or no such document exists)"
            )
        if self.churn:
            reasons.append(
                f"one of {self.churn} one-capture eras in a row whose links differ only in their query (a per-visit "
                "value such as a session id?): probably one page"
            )
        if self.unread_until is not None:
            reasons.append(
                f"no home-page capture after {self.last_seen.date()} could be read (unreadable ones until "
                f"{self.unread_until.date()}): the link may have changed since"
            )
        return "; ".join(reasons) or None

    def describe(self) -> str:
        """The era as a run says it: its span, its link, and how many of its captures were read."""
        return f"{self.declared()}, {self.captures} home-page {plural(self.captures, 'capture')} read"

    def declared(self) -> str:
        """The era as a service file keeps it, its span and link: not how many captures were read, which is not
        the same from run to run for the same archive (up to 8 are asked at once, and the change-point search
        bisects between the captures answered so far, so the order answers come in chooses some of the captures
        read; a resumed run searches from where the stopped one was), so that a file kept in Git changes only when
        what it declares does."""
        span = f"{self.first_seen.date()} … {self.last_seen.date()}"
        return f"{span}: {f'{self.url} (linked as {self.text!r})' if self.url else 'no link found'}"


@dataclass(frozen=True)
class Discovery:
    """What the search of one domain found: the eras (oldest first), the captures that could not be read, how many
    home-page captures were listed and how many replay requests this run sent."""

    domain: str
    document_type: str
    eras: tuple[Era, ...]
    unreadable: tuple[Sighting, ...]
    listed: int
    requests: int  # captures fetched in this run (replay requests, redirects not counted)
    live: bool = False  # today's home page (``--live``), not the archive's captures
    # Proposed URLs whose name gave no address (``URL: why``): whether they lead to an internal address is unknown.
    unchecked: tuple[str, ...] = ()
    # Listed rows refused before any request, as dated in the future (their 14-digit timestamp, why): not counted
    # in ``listed``, never read (pipeline.jobs.future_dates).
    refused: tuple[tuple[str, str], ...] = ()

    @property
    def latest(self) -> Era | None:
        """The last era that links a page: the URL to declare. None when no era does (nothing is declared); later
        eras without a link do not count."""
        linked = [era for era in self.eras if era.url]
        return linked[-1] if linked else None


def eras_of(sightings: Sequence[Sighting]) -> list[Era]:
    """Consecutive readable captures linking the same page, oldest first (``sightings`` in capture order); the
    last one noting the span of unreadable captures after it when that is long (:data:`UNREAD_TAIL`)."""
    eras = _marked_churn(_linked_spans(sightings))
    unreadable = [sighting.timestamp for sighting in sightings if sighting.unreadable is not None]
    if eras and unreadable and max(unreadable) - eras[-1].last_seen >= UNREAD_TAIL:
        eras[-1] = replace(eras[-1], unread_until=max(unreadable))
    return eras


def _linked_spans(sightings: Sequence[Sighting]) -> list[Era]:
    eras: list[Era] = []
    for sighting in sightings:
        if sighting.unreadable is not None:
            continue
        last = eras[-1] if eras else None
        if last is not None and (url_key(last.url) if last.url else NO_LINK) == sighting.key:
            eras[-1] = last.then(sighting)
        else:
            eras.append(Era.of(sighting))
    return eras


def _marked_churn(eras: list[Era]) -> list[Era]:
    """Each run of :data:`QUERY_CHURN_RUN` or more one-capture eras whose links differ only in their query
    marked with its length (``churn``)."""
    marked = list(eras)
    start = 0
    while start < len(eras):
        end = start
        while end < len(eras) and _same_page_but_query(eras[start], eras[end]):
            end += 1
        if end - start >= QUERY_CHURN_RUN:
            marked[start:end] = [replace(era, churn=end - start) for era in eras[start:end]]
        start = max(end, start + 1)
    return marked


def _same_page_but_query(first: Era, era: Era) -> bool:
    """``era`` has one capture and links ``first``'s page but for the query."""
    return (
        first.url is not None
        and era.url is not None
        and era.captures == 1
        and url_key(era.url).partition("?")[0] == url_key(first.url).partition("?")[0]
    )


def declaration_of(discovery: Discovery, service_id: str) -> DocumentDraft | None:
    """The document's declaration: ``url`` the latest linked URL, one history entry per earlier URL."""
    latest = discovery.latest
    if latest is None:
        return None
    linked = [era for era in discovery.eras if era.url]
    history: list[HistoryEntry] = []
    for era, following in zip(linked, linked[1:], strict=False):
        if url_key(era.url or "") == url_key(following.url or ""):
            continue  # split by a span without a link: one URL all along
        day = era.last_seen.date()
        if history and history[-1].valid_until >= day:
            history.pop()  # two moves on one day: the later URL of that day is kept
        history.append(HistoryEntry(era.url or "", day))
    declaration = DocumentDeclaration(service_id, discovery.domain, discovery.document_type, latest.url or "",
                                      history=tuple(history), written_by="discover")  # fmt: skip
    where = "today's home page" if discovery.live else "the home page's archived captures"
    comments = [f"Found by `policy-archive discover` from {where}; eras (oldest first):"]
    comments += [era.declared() + (f" — UNSURE: {era.unsure}" if era.unsure else "") for era in discovery.eras]
    return DocumentDraft(declaration, comments=tuple(comments))
