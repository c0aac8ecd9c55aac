"""``discover DOMAIN``: where a site's policy lived over time, read from its archived home pages (decision 0014).

Policies move (``/privacy.html`` → ``/legal/privacy`` → ``/privacy``) and old URLs often stay online with stale
text, so one URL's captures give a wrong history. As the Princeton "Privacy Policies over Time" crawl did, the
site's home page tells which URL was *the* policy at each moment: its policy link (pipeline.extraction.links).

Requests go where the link changes: the home page's captures are listed once, a grid of about two captures a
year is read, and between two read captures that link different URLs the capture halfway is read, until the
change sits between adjacent captures (unreadable ones skipped). Consecutive captures linking the same page
make an *era*. Everything read is kept in ``DATA/discovery/<domain>.<type>.json`` before the next request is
chosen, so a killed run continues where it stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from policy_archive.config.settings import Settings
from policy_archive.config.writer import DocumentDraft, service_toml
from policy_archive.crawler.ratelimit import limiter_for
from policy_archive.crawler.runner import crawl_archive, crawl_live
from policy_archive.crawler.sources import ArchiveSource, ListingClient, archive_source
from policy_archive.pipeline.extraction.links import LinkChoice, choose_link, url_key
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.records import (
    Capture,
    CaptureRef,
    DocumentDeclaration,
    FetchFailure,
    FetchRequest,
    HistoryEntry,
    iso_z,
)

GRID_DAYS = 182  # about two captures a year are read first; changes between them are then searched
HOME_STATUSES = {200, 301, 302, 303, 307, 308, None}
HOME_MIMETYPES = ("text/html", "application/xhtml", "unk", "warc/revisit")
NO_LINK = "(no link)"


@dataclass(frozen=True)
class Sighting:
    """What one home-page capture said: the linked URL (``None``: no link), its rivals, or why it was unreadable."""

    timestamp: datetime
    url: str | None = None
    text: str = ""
    rivals: tuple[str, ...] = ()
    unreadable: str | None = None

    @property
    def key(self) -> str:
        return url_key(self.url) if self.url else NO_LINK

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "timestamp": iso_z(self.timestamp)}

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Sighting:
        values = dict(raw)
        values["timestamp"] = datetime.fromisoformat(str(raw["timestamp"]).replace("Z", "+00:00"))
        values["rivals"] = tuple(raw.get("rivals") or ())  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Era:
    """A span of home-page captures linking one page (``url`` None: no link found)."""

    url: str | None
    text: str
    first_seen: datetime
    last_seen: datetime
    captures: int
    rivals: tuple[str, ...]

    @property
    def unsure(self) -> str | None:
        if self.url is None:
            return "no link to the document found"
        if self.rivals:
            return f"other links as likely: {', '.join(self.rivals)}"
        return None

    def describe(self) -> str:
        span = f"{self.first_seen.date()} … {self.last_seen.date()}"
        linked = f"{self.url} (linked as {self.text!r})" if self.url else "no link found"
        return f"{span}: {linked}, {self.captures} home-page captures read"


@dataclass(frozen=True)
class Discovery:
    domain: str
    document_type: str
    eras: tuple[Era, ...]
    unreadable: tuple[Sighting, ...]
    listed: int
    requests: int  # captures fetched in this run (replay requests, redirects not counted)

    @property
    def latest(self) -> Era | None:
        linked = [era for era in self.eras if era.url]
        return linked[-1] if linked else None


class SearchState:
    """The home page's captures and what was read of them; says which to read next (the change-point search)."""

    def __init__(self, refs: Sequence[CaptureRef], state_file: Path, document_type: str) -> None:
        self.refs = list(refs)
        self.state_file = state_file
        self.document_type = document_type
        self.known: dict[int, Sighting] = {}
        self.in_flight: set[int] = set()
        self.fetched = 0
        index = {ref.timestamp: i for i, ref in enumerate(self.refs)}
        for sighting in self._saved():
            if sighting.timestamp in index:
                self.known[index[sighting.timestamp]] = sighting
        self.grid = _grid(self.refs)

    def _saved(self) -> list[Sighting]:
        if not self.state_file.exists():
            return []
        try:
            raw = json.loads(self.state_file.read_text(encoding="utf-8"))
            return [Sighting.from_json(item) for item in raw.get("sightings", [])]
        except (ValueError, TypeError, KeyError):
            return []  # a damaged state file only costs the requests again

    def save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_file.with_suffix(".partial")
        sightings = [self.known[i].to_json() for i in sorted(self.known)]
        partial.write_text(json.dumps({"document_type": self.document_type, "sightings": sightings}, indent=1))
        os.replace(partial, self.state_file)

    def learn(self, index: int, sighting: Sighting) -> None:
        self.in_flight.discard(index)
        self.known[index] = sighting
        self.fetched += 1
        self.save()

    def wanted(self) -> list[int]:
        """Captures to read next: the grid, a stand-in for each unreadable grid capture, then bisection."""
        wanted = [i for i in self.grid if i not in self.known]
        bounds = [*self.grid, len(self.refs)]
        for start, end in zip(bounds, bounds[1:], strict=False):
            if not any(self._readable(i) for i in range(start, end)):
                wanted += self._middle_untried(start - 1, end)
        valued = [i for i in sorted(self.known) if self._readable(i)]
        for left, right in zip(valued, valued[1:], strict=False):
            if self.known[left].key != self.known[right].key:
                wanted += self._middle_untried(left, right)
        return [i for i in dict.fromkeys(wanted) if i not in self.in_flight]

    def _readable(self, index: int) -> bool:
        return index in self.known and self.known[index].unreadable is None

    def _middle_untried(self, left: int, right: int) -> list[int]:
        untried = [i for i in range(left + 1, right) if i not in self.known]
        return [untried[len(untried) // 2]] if untried else []


def _grid(refs: Sequence[CaptureRef]) -> list[int]:
    """The first capture, the last, and one at least ``GRID_DAYS`` after the previous pick."""
    grid: list[int] = []
    for i, ref in enumerate(refs):
        if not grid or ref.timestamp - refs[grid[-1]].timestamp >= timedelta(days=GRID_DAYS):
            grid.append(i)
    if refs and grid[-1] != len(refs) - 1:
        grid.append(len(refs) - 1)
    return grid


class DiscoveryPlan:
    """The fetch plan handed to the Wayback spider: reads home-page captures until the search is done."""

    def __init__(self, state: SearchState, source: ArchiveSource, document: str, progress: Progress) -> None:
        self.state = state
        self.source = source
        self.document = document
        self.progress = progress
        self.index = {(ref.url, ref.timestamp): i for i, ref in enumerate(state.refs)}

    def start(self) -> Iterable[FetchRequest]:
        return self._next()

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        if isinstance(result, Capture):
            # After archived redirects ``url`` is the page reached; the listed row is what was asked for.
            index = self.index[result.listing_key]
            sighting = read_home_page(result, result.url, self.state.document_type, self.state.refs[index].timestamp)
        else:
            ref = result.request.ref
            assert ref is not None
            index = self.index[(ref.url, ref.timestamp)]
            sighting = Sighting(ref.timestamp, unreadable=f"not fetched: {result.reason}")
        self.state.learn(index, sighting)
        self.progress.add("unreadable" if sighting.unreadable else "read", done=True)
        return self._next()

    def _next(self) -> list[FetchRequest]:
        chosen = self.state.wanted()
        self.state.in_flight.update(chosen)
        refs = [self.state.refs[i] for i in chosen]
        return [FetchRequest(self.document, self.source.capture_url(r.timestamp, r.url), r.url, r) for r in refs]


def read_home_page(capture: Capture, page_url: str, document_type: str, listed_at: datetime) -> Sighting:
    """The policy link of one home-page capture; links resolve against ``page_url``, the page reached after
    archived redirects (a home page often redirects: example.com → www.example.com/en/)."""
    if capture.status != 200:
        return Sighting(listed_at, unreadable=f"archived with status {capture.status}")
    choice: LinkChoice = choose_link(capture.body, capture.content_type, page_url, document_type)
    if choice.best is None and b"<a" not in capture.body.lower():
        return Sighting(listed_at, unreadable="no links at all (a JavaScript shell or an empty page)")
    if choice.best is None:
        return Sighting(listed_at)
    rivals = tuple(rival.url for rival in choice.rivals)
    return Sighting(listed_at, choice.best.url, choice.best.text, rivals)


def eras_of(state: SearchState) -> list[Era]:
    """Consecutive readable captures linking the same page, oldest first."""
    eras: list[Era] = []
    for index in sorted(state.known):
        sighting = state.known[index]
        if sighting.unreadable is not None:
            continue
        last = eras[-1] if eras else None
        if last is not None and (url_key(last.url) if last.url else NO_LINK) == sighting.key:
            rivals = tuple(dict.fromkeys(last.rivals + sighting.rivals))
            url = sighting.url or last.url  # the latest spelling of the URL (http → https)
            eras[-1] = Era(url, sighting.text, last.first_seen, sighting.timestamp, last.captures + 1, rivals)
        else:
            eras.append(Era(sighting.url, sighting.text, sighting.timestamp, sighting.timestamp, 1, sighting.rivals))
    return eras


def discover(
    settings: Settings,
    data_dir: Path,
    domain: str,
    document_type: str,
    *,
    since: date | None = None,
    until: date | None = None,
    progress: Progress | None = None,
) -> Discovery:
    """List the home page's captures, read the ones the search needs, group what they link into eras."""
    progress = progress or Progress("discover")
    source = archive_source(settings.wayback)
    client = ListingClient(limiter_for(data_dir, settings.wayback, "cdx"), settings.crawl.user_agent)
    home = f"http://{domain}/"
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    end = datetime.combine(until, time.max, tzinfo=UTC) if until else None
    refs = [ref for ref in source.list_captures(home, client, start, end) if _home_page_row(ref)]
    progress.add("captures listed", len(refs))
    progress.expect(None, "home-page captures read")
    state = SearchState(refs, data_dir / "discovery" / f"{domain}.{document_type}.json", document_type)
    if state.wanted():
        plan = DiscoveryPlan(state, source, f"{domain}/{document_type}", progress)
        crawl_archive(plan, source, settings, data_dir)
    progress.finish()
    unreadable = tuple(state.known[i] for i in sorted(state.known) if state.known[i].unreadable)
    return Discovery(domain, document_type, tuple(eras_of(state)), unreadable, len(refs), state.fetched)


class LivePlan:
    """The fetch plan of ``discover --live``: today's home page, once (the live spider follows its redirects)."""

    def __init__(self, request: FetchRequest) -> None:
        self.request = request
        self.result: Capture | FetchFailure | None = None

    def start(self) -> Iterable[FetchRequest]:
        return [self.request]

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        self.result = result
        return []


def discover_live(settings: Settings, home: str, domain: str, document_type: str) -> Discovery:
    """Today's home page's link to the document, as a one-era discovery (its URL is the one to track)."""
    plan = LivePlan(FetchRequest(f"{domain}/{document_type}", home, home))
    crawl_live(plan, settings, declared_origins=(home,))  # the operator named this site; its redirects are checked
    result = plan.result
    if isinstance(result, Capture):
        sighting = read_home_page(result, result.fetched_url, document_type, result.captured_at)
    else:
        reason = result.reason if result is not None else "the crawl ended without an answer"
        sighting = Sighting(datetime.now(UTC), unreadable=f"not fetched: {reason}")
    if sighting.unreadable:
        return Discovery(domain, document_type, (), (sighting,), 1, 1)
    era = Era(sighting.url, sighting.text, sighting.timestamp, sighting.timestamp, 1, sighting.rivals)
    return Discovery(domain, document_type, (era,), (), 1, 1)


def _home_page_row(ref: CaptureRef) -> bool:
    mimetype = (ref.mimetype or "unk").lower()
    return ref.status in HOME_STATUSES and mimetype.startswith(HOME_MIMETYPES)


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
                                      history=tuple(history))  # fmt: skip
    comments = [f"Found by `policy-archive discover` from {sum(e.captures for e in discovery.eras)} home-page "
                "captures; eras (oldest first):"]  # fmt: skip
    comments += [era.describe() + (f" — UNSURE: {era.unsure}" if era.unsure else "") for era in discovery.eras]
    return DocumentDraft(declaration, comments=tuple(comments))


def service_text(discovery: Discovery, service_id: str) -> str | None:
    """The service file declaring what was discovered (None when no link was found at all)."""
    draft = declaration_of(discovery, service_id)
    return service_toml(discovery.domain, [draft]) if draft else None
