"""What one home page says about where a site's policy is: which of its listed captures are worth reading, and
the policy link one capture (or today's page) gives (decision 0014; the link itself: pipeline.extraction.links)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from policy_archive.crawler.hosts import Proposals
from policy_archive.pipeline.extraction.decode import ContentEncodingError
from policy_archive.pipeline.extraction.links import LinkChoice, choose_link, link_url, merged, url_key
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.pipeline.jobs.examine import archived_elsewhen
from policy_archive.pipeline.jobs.served_bytes import UNDECODABLE, entity
from policy_archive.records import Capture, CaptureRef, FetchFailure, Source, iso_z, parse_iso_z
from policy_archive.text import counted, first_few, plural

HOME_STATUSES = {200, 301, 302, 303, 307, 308, None}
HOME_MIMETYPES = ("text/html", "application/xhtml", "unk", "warc/revisit")
NO_LINK = "(no link)"
# A frameset home page's links are in its frames: the first few of each frameset are read, captured at the home
# page's time, and the frames of a frameset in a frame one level further (sites of 1997–2004 nested a frameset of
# menu and content beside a banner frame), never more than FRAME_PAGES frame pages for one home page: pages
# framing each other cost a bounded number of requests (FRAME_LEVELS is 2: FrameReading shares FRAME_PAGES among
# the home page's frames, not further). A frame's nearest capture further than FRAME_SPAN from
# the home page's may show other links than the page did then (crawlers fetch a frameset's frames in one crawl).
FRAMES_FOLLOWED = 3
FRAME_LEVELS = 2
FRAME_PAGES = 6
FRAME_SPAN = timedelta(days=30)


@dataclass(frozen=True)
class Sighting:
    """What one home-page capture said: the linked URL (``None``: no link), its rivals, or why it was unreadable."""

    timestamp: datetime
    url: str | None = None
    text: str = ""
    rivals: tuple[str, ...] = ()
    unreadable: str | None = None
    # A frameset page's frames to read, or the page a meta refresh leads to (``refresh``); never kept in a state
    # file, which keeps what the page said once they were read.
    frames: tuple[str, ...] = ()
    refresh: bool = False
    iframes: tuple[str, ...] = ()  # no link: the iframes the page shows beside its links, not read (a few)
    # The other document the link's text names too, no link naming only the sought one ("Privacy & Cookies" for a
    # cookie policy: pipeline.extraction.links.SHARED_LINKS).
    also_names: str | None = None

    @property
    def key(self) -> str:
        """The linked page as discovery compares links (:func:`url_key`: scheme, ``www.`` and trailing slash
        ignored), or :data:`NO_LINK`; consecutive sightings of one key are one era."""
        return url_key(self.url) if self.url else NO_LINK

    def to_json(self) -> dict[str, object]:
        """The sighting as a state file keeps it, its time in UTC with ``Z``; without ``frames`` and ``refresh``,
        which only matter before its frames are read (:meth:`from_json` reads it back)."""
        kept = {key: value for key, value in asdict(self).items() if key not in ("frames", "refresh")}
        return {**kept, "timestamp": iso_z(self.timestamp)}

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Sighting:
        """A sighting as a state file keeps it, its URLs spelled as a fresh run spells them (``link_url``): a
        state written by an earlier version kept links as the page wrote them (``HTTP://Example.org:80/a%7eb``),
        and a resumed run must give the eras a fresh one gives. Raises ValueError on a URL no run would keep."""
        values = dict(raw)
        values["timestamp"] = parse_iso_z(str(raw["timestamp"]))
        if raw.get("url") is not None:
            values["url"] = _saved_url(raw["url"])
        values["rivals"] = tuple(_saved_url(rival) for rival in raw.get("rivals") or ())  # type: ignore[attr-defined]
        values["iframes"] = tuple(_saved_url(url) for url in raw.get("iframes") or ())  # type: ignore[attr-defined]
        return cls(**values)  # type: ignore[arg-type]


def _saved_url(raw: object) -> str:
    url = link_url(raw) if isinstance(raw, str) else None
    if url is None:
        raise ValueError(f"not a link discovery keeps: {raw!r}")
    return url


def home_page_row(ref: CaptureRef) -> bool:
    """A listed row worth reading as the home page: a page or a redirect, HTML, or a row that does not say."""
    mimetype = (ref.mimetype or "unk").lower()
    return ref.status in HOME_STATUSES and mimetype.startswith(HOME_MIMETYPES)


def read_home_page(
    capture: Capture, page_url: str, document_type: str, listed_at: datetime, proposals: Proposals
) -> Sighting:
    """The policy link of one home-page capture; links resolve against ``page_url``, the page reached after
    archived redirects (a home page often redirects: example.com → www.example.com/en/), or against the page's
    ``<base href>`` (pipeline.extraction.links.document_base). A frameset page is unreadable with its frames
    (``frames``), which the archive search and ``--live`` then read (:class:`FrameReading`). ``proposals``: the
    home page a person named, the only internal address a link may be to, and the run's name lookups
    (``choose_link``); a capture whose only links naming the document are to other internal addresses is
    unreadable, saying so."""
    if capture.status != 200:
        return Sighting(listed_at, unreadable=_status_reason(capture))
    if elsewhen := archived_elsewhen(capture):  # a redirect's target archived far from it (decision 0008)
        return Sighting(listed_at, unreadable=elsewhen)
    try:
        body = entity(capture)
        choice: LinkChoice = choose_link(body, capture.content_type, page_url, document_type, proposals)
    except (ExtractionRefused, ContentEncodingError) as refusal:  # too-deep (the parser stopped), undecodable
        return Sighting(listed_at, unreadable=unread(refusal))
    if choice.refused is not None:
        return Sighting(listed_at, unreadable=choice.refused)
    if choice.refresh:
        reason = f"meta refresh: links are on the page it leads to ({choice.frames[0]})"
        return Sighting(listed_at, unreadable=reason, frames=choice.frames, refresh=True)
    if choice.frames:
        return Sighting(listed_at, unreadable=f"frameset: links are in frames ({shown(choice.frames)})",
                        frames=choice.frames)  # fmt: skip
    if choice.best is None and b"<a" not in body.lower():
        return Sighting(listed_at, unreadable="no links at all (a JavaScript shell or an empty page)")
    return _sighting(listed_at, choice)


def unread(refusal: ExtractionRefused | ContentEncodingError) -> str:
    """Why a page's links could not be read: the parser stopped (too-deep), or its Content-Encoding cannot be
    undone (in examine's words)."""
    return f"{UNDECODABLE}: {refusal}" if isinstance(refusal, ContentEncodingError) else str(refusal)


def _sighting(listed_at: datetime, choice: LinkChoice) -> Sighting:
    if choice.best is None:
        # One more than are named, to say there were more (``…``).
        return Sighting(listed_at, iframes=choice.iframes[: FRAMES_FOLLOWED + 1])
    rivals = tuple(rival.url for rival in choice.rivals)
    return Sighting(listed_at, choice.best.url, choice.best.text, rivals, also_names=choice.best.also_names)


def shown(urls: Sequence[str]) -> str:
    """The first :data:`FRAMES_FOLLOWED` of ``urls``, and ``…`` when there are more."""
    return first_few(urls, FRAMES_FOLLOWED)


def iframes_not_read(urls: Sequence[str]) -> str:
    """Why a page showing iframes beside its own links (no link to the document among them) was not read
    through them (``pipeline.extraction.links``)."""
    return (
        f"the home page shows {plural(len(urls), 'an iframe', 'iframes')} ({shown(urls)}), not read: discover reads"
        " iframes only on a page with no link of its own (elsewhere they are mostly other sites' widgets)"
    )


def page_url(capture: Capture) -> str:
    """The URL a capture's links resolve against, the page reached after redirects: a live fetch's fetched URL;
    an archived capture's original URL (its fetched URL is the archive's replay URL)."""
    return capture.fetched_url if capture.source is Source.LIVE else capture.url


def _status_reason(capture: Capture) -> str:
    answered = "answered" if capture.source is Source.LIVE else "archived"  # today's page, or a capture
    return f"{answered} with status {capture.status}"


def read_frame(capture: Capture, document_type: str, listed_at: datetime, proposals: Proposals) -> LinkChoice | str:
    """The links of one frame of a frameset home page read at ``listed_at`` (a frameset's frames among them:
    :class:`FrameReading` decides whether they are read); why not, when it cannot say (``proposals`` as for
    :func:`read_home_page`)."""
    if capture.status != 200:
        return _status_reason(capture)
    if abs(capture.captured_at - listed_at) > FRAME_SPAN:
        return f"its nearest capture is {abs(capture.captured_at - listed_at).days} days from the home page's"
    try:
        choice = choose_link(entity(capture), capture.content_type, page_url(capture), document_type, proposals)
    except (ExtractionRefused, ContentEncodingError) as refusal:
        return unread(refusal)
    return choice.refused if choice.refused is not None else choice


def framed_sighting(
    listed_at: datetime, frames: Sequence[str], readings: Sequence[LinkChoice | str], *, refresh: bool = False
) -> Sighting:
    """What a frameset home page says, from its frames' readings (in ``frames``' order): their best link, or no
    link when the frames read have none; unreadable, with each frame's reason, when none could be read
    (``refresh``: the home page is a meta refresh, its one frame the page it leads to)."""
    choices = [reading for reading in readings if isinstance(reading, LinkChoice)]
    if choices:
        return _sighting(listed_at, merged(choices))
    why = "; ".join(f"{url}: {reason}" for url, reason in zip(frames, readings, strict=True))
    if refresh:
        return Sighting(listed_at, unreadable=f"meta refresh: the page it leads to could not be read ({why})")
    return Sighting(listed_at, unreadable=f"frameset: no frame could be read ({why})")


@dataclass
class FrameReading:
    """A frameset home page read through its frames, by the archive search and ``--live`` alike (each fetches
    them its way, this says what to fetch and what they say): the frame pages asked for, numbered in the order
    asked, each one's level (1: a frame of the home page) and reading, and whether every failure lasts (one that
    does not makes the archive search ask the home page again in its next run).

    A splash home page, only a meta refresh (``refresh``), is read the same way: the page it leads to is its one
    frame, asked of the archive at the home page's time (never where the page points: acceptance report 5,
    finding 1), or today through the live crawl's checks; a refresh there is followed once more (``FRAME_LEVELS``)."""

    home_url: str  # the page reached: a frame of it that frames it again is not read twice
    listed_at: datetime
    proposals: Proposals  # the home page a person named, the run's name lookups (read_home_page)
    refresh: bool = False
    urls: list[str] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)
    readings: dict[int, LinkChoice | str] = field(default_factory=dict)
    lasting: bool = True

    def follow(self, frames: Sequence[str], level: int = 1, share: int = FRAMES_FOLLOWED) -> list[tuple[int, str]]:
        """The frames to fetch next (number, URL): of the first ``share`` of ``frames``, those not asked for yet
        (nor the home page itself). Cut before what was asked is taken out, so that what is fetched never
        depends on the order the frames answer in."""
        asked = []
        for url in list(dict.fromkeys(frames))[:share]:
            if url != self.home_url and url not in self.urls:
                asked.append((len(self.urls), url))
                self.urls.append(url)
                self.levels.append(level)
        return asked

    def answer(self, number: int, result: Capture | FetchFailure, document_type: str) -> list[tuple[int, str]]:
        """Frame ``number``'s answer; the frames to fetch next when it is a frameset itself."""
        if isinstance(result, FetchFailure):
            self.readings[number] = f"not fetched: {result.reason}"
            self.lasting = self.lasting and result.refused
            return []
        reading = read_frame(result, document_type, self.listed_at, self.proposals)
        if isinstance(reading, LinkChoice) and reading.frames:
            return self._nested(number, reading)
        self.readings[number] = reading
        return []

    @property
    def done(self) -> bool:
        """Whether every frame asked for has answered (then :meth:`sighting` says what the home page links to). True
        with none asked for."""
        return len(self.readings) == len(self.urls)

    def sighting(self) -> Sighting:
        """What the home page says, once every frame asked for answered."""
        if not self.urls:
            itself = "meta refresh: it leads to" if self.refresh else "frameset: its only frames show"
            return Sighting(self.listed_at, unreadable=f"{itself} the home page itself")
        readings = [self.readings[n] for n in range(len(self.urls))]
        return framed_sighting(self.listed_at, self.urls, readings, refresh=self.refresh)

    def _nested(self, number: int, choice: LinkChoice) -> list[tuple[int, str]]:
        """A frameset in a frame: its frames are read when it is a frame of the home page, each such frameset
        an equal share of what :data:`FRAME_PAGES` leaves (three frames of the home page: one each); a meta
        refresh there: the page it leads to, likewise."""
        frames = choice.frames
        if self.levels[number] + 1 > FRAME_LEVELS:
            deeper = f"{FRAME_LEVELS} pages from the home page" if choice.refresh else "inside a frame inside a frame"
            what = "meta refresh" if choice.refresh else "frameset"
            self.readings[number] = f"a {what} {deeper} ({FRAME_LEVELS} levels are read)"
            return []
        first = self.levels.count(1)
        share = min(FRAMES_FOLLOWED, (FRAME_PAGES - first) // first)
        if choice.refresh:
            self.readings[number] = f"a meta refresh to {frames[0]} (that page read)"
        else:
            read = "its frames read" if len(frames) <= share else f"its first {counted(share, 'frame')} read"
            self.readings[number] = f"a frameset ({read})"
        return self.follow(frames, self.levels[number] + 1, share)
