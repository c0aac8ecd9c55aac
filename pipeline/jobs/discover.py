"""``discover DOMAIN``: where a site's policy lived over time, read from its archived home pages (decision 0014).

Policies move (``/privacy.html`` → ``/legal/privacy`` → ``/privacy``) and old URLs often stay online with stale
text, so one URL's captures give a wrong history. As the Princeton "Privacy Policies over Time" crawl did, the
site's home page tells which URL was *the* policy at each moment: its policy link (pipeline.extraction.links).

Requests go where the link changes: the home page's captures are listed once, a grid of about two captures a
year is read, and between two read captures that link different URLs the capture halfway is read, until the
change sits between adjacent captures (unreadable ones skipped). Consecutive captures linking the same page
make an *era*. Everything read is kept in ``DATA/discovery/<domain>.<type>.json`` before the next request is
chosen, so a killed run continues where it stopped.

Several domains are searched in turn in one crawl (Scrapy's reactor runs once per process): a domain's home page
is listed when the previous domain's search is done, and its result is handed over (written) before the next
one starts, so an interrupted list keeps every domain finished. The state file then also notes where the
declaration went (:func:`mark_finished`), so a rerun of the list skips it (:func:`finished_earlier`).
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from policy_archive.config.settings import Settings, load_service
from policy_archive.config.writer import DocumentDraft
from policy_archive.crawler.middlewares import PAUSE_STATUSES
from policy_archive.crawler.ratelimit import limiter_for
from policy_archive.crawler.runner import StopSignal, crawl_archive, crawl_live
from policy_archive.crawler.settings import ARCHIVE_CONCURRENCY
from policy_archive.crawler.sources import ArchiveSource, ListingClient, ListingError, archive_source
from policy_archive.errors import ConfigurationError
from policy_archive.pipeline.extraction.links import LinkChoice, choose_link, url_key
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.records import (
    Capture,
    CaptureRef,
    DocumentDeclaration,
    FetchFailure,
    FetchRequest,
    HistoryEntry,
    Source,
    iso_z,
    parse_iso_z,
)
from policy_archive.text import counted, plural

GRID_DAYS = 182  # about two captures a year are read first; changes between them are then searched
# The last era is unsure when the home page's captures after it could not be read over at least this span (issue
# 15): the link may have changed since, and its URL would be declared as today's policy on no evidence.
UNREAD_TAIL = timedelta(days=GRID_DAYS)
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
        values["timestamp"] = parse_iso_z(str(raw["timestamp"]))
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
    unread_until: datetime | None = None  # the last era: its home page's later captures unreadable until then

    @property
    def unsure(self) -> str | None:
        if self.url is None:
            return "no link to the document found"
        reasons = [f"other links as likely: {', '.join(self.rivals)}"] if self.rivals else []
        if self.unread_until is not None:
            reasons.append(
                f"no home-page capture after {self.last_seen.date()} could be read (unreadable ones until "
                f"{self.unread_until.date()}): the link may have changed since"
            )
        return "; ".join(reasons) or None

    def describe(self) -> str:
        span = f"{self.first_seen.date()} … {self.last_seen.date()}"
        linked = f"{self.url} (linked as {self.text!r})" if self.url else "no link found"
        return f"{span}: {linked}, {self.captures} home-page {plural(self.captures, 'capture')} read"


@dataclass(frozen=True)
class Discovery:
    domain: str
    document_type: str
    eras: tuple[Era, ...]
    unreadable: tuple[Sighting, ...]
    listed: int
    requests: int  # captures fetched in this run (replay requests, redirects not counted)
    live: bool = False  # today's home page (``--live``), not the archive's captures

    @property
    def latest(self) -> Era | None:
        linked = [era for era in self.eras if era.url]
        return linked[-1] if linked else None


@dataclass(frozen=True)
class Unread:
    """A domain whose home page could not be read in this run, one line saying why: its captures could not be
    listed, or the archive kept refusing to serve them (what was read is kept for the next run)."""

    domain: str
    reason: str


@dataclass(frozen=True)
class Unfinished:
    """What a stopped run left: the domain whose search was under way (its readings are kept), those not begun."""

    in_progress: str | None
    not_started: tuple[str, ...]


@dataclass(frozen=True)
class Finished:
    """Where an earlier run put a domain's declaration, kept in its state file: a rerun of the list skips it
    while that file is there and the period asked is the same."""

    file: str
    since: str | None
    until: str | None
    unsure: bool
    live: bool = False  # written by ``--live`` (today's URL, no history): an archive run does not skip it

    @classmethod
    def of(cls, file: Path, since: date | None, until: date | None, unsure: bool, live: bool = False) -> Finished:
        return cls(str(file.resolve()), since.isoformat() if since else None, until.isoformat() if until else None,
                   unsure, live)  # fmt: skip


class SearchState:
    """The home page's captures and what was read of them; says which to read next (the change-point search)."""

    def __init__(self, refs: Sequence[CaptureRef], state_file: Path, document_type: str) -> None:
        self.refs = list(refs)
        self.state_file = state_file
        self.document_type = document_type
        self.known: dict[int, Sighting] = {}
        self.in_flight: set[int] = set()
        # Captures not fetched in this run (a network error, the run stopped): searched around now, but not kept
        # in the state file, so a rerun asks for them again.
        self.retry: set[int] = set()
        self.fetched = 0
        index = {ref.timestamp: i for i, ref in enumerate(self.refs)}
        for sighting in self._saved():
            if sighting.timestamp in index:
                self.known[index[sighting.timestamp]] = sighting
        self.grid = grid(self.refs)

    def _saved(self) -> list[Sighting]:
        try:
            return [Sighting.from_json(item) for item in _read_state(self.state_file).get("sightings", [])]  # type: ignore[union-attr]
        except (ValueError, TypeError, KeyError, AttributeError):
            return []  # a damaged state file only costs the requests again

    def save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        sightings = [self.known[i].to_json() for i in sorted(self.known) if i not in self.retry]
        # Written without the ``finished`` mark: something new was read, the declaration written is stale.
        _write_json(self.state_file, {"document_type": self.document_type, "sightings": sightings})

    def learn(self, index: int, sighting: Sighting, lasting: bool = True) -> None:
        """What capture ``index`` showed; ``lasting`` False: a failure of this run only (asked again next run)."""
        self.in_flight.discard(index)
        self.known[index] = sighting
        if not lasting:
            self.retry.add(index)
        self.fetched += 1
        self.save()

    @property
    def done(self) -> bool:
        return not self.in_flight and not self.wanted()

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


def grid(refs: Sequence[CaptureRef]) -> list[int]:
    """The first capture, the last, and one at least ``GRID_DAYS`` after the previous pick."""
    grid: list[int] = []
    for i, ref in enumerate(refs):
        if not grid or ref.timestamp - refs[grid[-1]].timestamp >= timedelta(days=GRID_DAYS):
            grid.append(i)
    if refs and grid[-1] != len(refs) - 1:
        grid.append(len(refs) - 1)
    return grid


class DiscoveryPlan:
    """One domain's fetch plan: reads home-page captures until the search is done."""

    def __init__(self, state: SearchState, source: ArchiveSource, document: str, progress: Progress) -> None:
        self.state = state
        self.source = source
        self.document = document
        self.progress = progress
        self.index = {(ref.url, ref.timestamp): i for i, ref in enumerate(state.refs)}
        # Why the search stopped before it was done: the archive kept refusing (429/503) after every pause.
        self.refused: str | None = None

    def start(self) -> Iterable[FetchRequest]:
        return self._next()

    @property
    def finished(self) -> bool:
        """Nothing in flight, and nothing more to read (or nothing more to ask of an archive that refuses)."""
        return not self.state.in_flight and (self.refused is not None or self.state.done)

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        if isinstance(result, FetchFailure) and _archive_refused(result) and self.refused is None:
            # The archive's own 429/503 after the shared limiter's pauses (crawler.middlewares): the rest of the
            # search would only ask it again. The domain is not read this run; what was read is kept.
            ref = result.request.ref
            when = f" (capture {ref.wayback_timestamp})" if ref else ""
            self.refused = f"the archive kept answering {result.status} after every pause{when}"
        if isinstance(result, Capture):
            # After archived redirects ``url`` is the page reached; the listed row is what was asked for.
            index = self.index[result.listing_key]
            sighting = read_home_page(result, result.url, self.state.document_type, self.state.refs[index].timestamp)
        else:
            ref = result.request.ref
            assert ref is not None
            index = self.index[(ref.url, ref.timestamp)]
            sighting = Sighting(ref.timestamp, unreadable=f"not fetched: {result.reason}")
        # An archived answer that is not a capture (refused) lasts; a network error or a stop is asked again.
        self.state.learn(index, sighting, lasting=isinstance(result, Capture) or result.refused)
        self.progress.add("unreadable" if sighting.unreadable else "read")
        return self._next()

    def _next(self) -> list[FetchRequest]:
        if self.refused is not None:
            return []
        # No more in flight than the crawl sends at once: what is handed over is queued in the spider, beyond
        # the plan's reach, so after the archive's refusal only these few are still asked (each after the pauses).
        chosen = self.state.wanted()[: max(0, ARCHIVE_CONCURRENCY - len(self.state.in_flight))]
        self.state.in_flight.update(chosen)
        refs = [self.state.refs[i] for i in chosen]
        return [FetchRequest(self.document, self.source.capture_url(r.timestamp, r.url), r.url, r) for r in refs]


def _archive_refused(failure: FetchFailure) -> bool:
    """The archive itself refused (429/503, no archived answer), after every pause the middleware allows."""
    return not failure.refused and failure.status in PAUSE_STATUSES


def read_home_page(capture: Capture, page_url: str, document_type: str, listed_at: datetime) -> Sighting:
    """The policy link of one home-page capture; links resolve against ``page_url``, the page reached after
    archived redirects (a home page often redirects: example.com → www.example.com/en/)."""
    if capture.status != 200:
        answered = "answered" if capture.source is Source.LIVE else "archived"  # today's page, or a capture
        return Sighting(listed_at, unreadable=f"{answered} with status {capture.status}")
    choice: LinkChoice = choose_link(capture.body, capture.content_type, page_url, document_type)
    if choice.best is None and b"<a" not in capture.body.lower():
        return Sighting(listed_at, unreadable="no links at all (a JavaScript shell or an empty page)")
    if choice.best is None:
        return Sighting(listed_at)
    rivals = tuple(rival.url for rival in choice.rivals)
    return Sighting(listed_at, choice.best.url, choice.best.text, rivals)


def eras_of(state: SearchState) -> list[Era]:
    """Consecutive readable captures linking the same page, oldest first; the last one noting the span of
    unreadable captures after it when that is long (:data:`UNREAD_TAIL`)."""
    eras = _linked_spans(state)
    unreadable = [sighting.timestamp for sighting in state.known.values() if sighting.unreadable is not None]
    if eras and unreadable and max(unreadable) - eras[-1].last_seen >= UNREAD_TAIL:
        eras[-1] = replace(eras[-1], unread_until=max(unreadable))
    return eras


def _linked_spans(state: SearchState) -> list[Era]:
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
    domains: Sequence[str],
    document_type: str,
    done: Callable[[Discovery | Unread], None],
    *,
    since: date | None = None,
    until: date | None = None,
    progress: Progress | None = None,
) -> Unfinished:
    """For each domain in turn: list its home page's captures, read the ones the search needs, group what they
    link into eras, and hand the result to ``done`` before the next domain starts. One domain's failure (its
    listing) is its result, never the others'. Returns what a stop (SIGINT, SIGTERM) left unfinished.
    ``progress`` counts the domains done (the caller says of how many)."""
    if progress is None:
        progress = Progress("discover")
        progress.expect(len(domains), "domains", one="domain")
    source = archive_source(settings.wayback)
    client = ListingClient(limiter_for(data_dir, settings.wayback, "cdx"), settings.crawl.user_agent)
    period = (
        datetime.combine(since, time.min, tzinfo=UTC) if since else None,
        datetime.combine(until, time.max, tzinfo=UTC) if until else None,
    )
    stop = StopSignal()
    plan = ListPlan(domains, document_type, source, client, period, data_dir, progress, done, stop)
    crawl_archive(plan, source, settings, data_dir, stop)
    progress.finish()
    return plan.unfinished()


class ListPlan:
    """The fetch plan handed to the Wayback spider: each domain's search in turn, the next domain listed when the
    previous one's search is done (so an interrupted list has finished every domain before the current one)."""

    def __init__(
        self,
        domains: Sequence[str],
        document_type: str,
        source: ArchiveSource,
        client: ListingClient,
        period: tuple[datetime | None, datetime | None],
        data_dir: Path,
        progress: Progress,
        done: Callable[[Discovery | Unread], None],
        stop: StopSignal,
    ) -> None:
        self.pending = deque(domains)
        self.document_type = document_type
        self.source = source
        self.client = client
        self.period = period
        self.data_dir = data_dir
        self.progress = progress
        self.done = done
        self.stop = stop
        self.current: tuple[str, DiscoveryPlan] | None = None

    def start(self) -> Iterable[FetchRequest]:
        return self._advance()

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        assert self.current is not None, "results come only for the domain being searched"
        requests = list(self.current[1].handle(result))
        if requests or not self.current[1].finished:
            return requests
        self._finish()
        return self._advance()

    def unfinished(self) -> Unfinished:
        return Unfinished(self.current[0] if self.current else None, tuple(self.pending))

    def _advance(self) -> list[FetchRequest]:
        """The first requests of the next domain that needs any; domains needing none are finished on the way."""
        while self.pending and not self.stop.received:
            domain = self.pending.popleft()
            try:
                listed = self.source.list_captures_patiently(f"http://{domain}/", self.client, *self.period)
            except ListingError as error:
                self.done(Unread(domain, f"archive listing failed: {error}"))
                self.progress.add("listings failed", done=True, one="listing failed")
                continue
            refs = [ref for ref in listed if _home_page_row(ref)]
            self.progress.add("captures listed", len(refs), one="capture listed")
            state = SearchState(refs, state_file(self.data_dir, domain, self.document_type), self.document_type)
            self.current = (domain, DiscoveryPlan(state, self.source, f"{domain}/{self.document_type}", self.progress))
            if requests := list(self.current[1].start()):
                return requests
            self._finish()
        return []

    def _finish(self) -> None:
        assert self.current is not None
        domain, plan = self.current
        self.current = None
        state = plan.state
        if plan.refused is not None:
            read = counted(len(state.known) - len(state.retry), "home-page capture")
            self.done(Unread(domain, f"{plan.refused}; {read} read and kept, run again later to continue"))
            self.progress.add("refused by the archive", done=True)
            return
        unreadable = tuple(state.known[i] for i in sorted(state.known) if state.known[i].unreadable)
        self.done(Discovery(domain, self.document_type, tuple(eras_of(state)), unreadable, len(state.refs),
                            state.fetched))  # fmt: skip
        self.progress.add("searched", done=True)


def state_file(data_dir: Path, domain: str, document_type: str) -> Path:
    return data_dir / "discovery" / f"{domain}.{document_type}.json"


def _write_json(path: Path, content: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(content, indent=1))
    os.replace(partial, path)


def _read_state(path: Path) -> dict[str, object]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def mark_finished(data_dir: Path, domain: str, document_type: str, finished: Finished | None) -> None:
    """Note in the domain's state file that its declaration goes where ``finished`` says (just before writing it:
    see :func:`finished_earlier`); None takes the note back (the file could not be written)."""
    path = state_file(data_dir, domain, document_type)
    state = {key: value for key, value in _read_state(path).items() if key != "finished"}
    _write_json(path, {**state, "finished": asdict(finished)} if finished else state)


def finished_earlier(data_dir: Path, domain: str, document_type: str, wanted: Finished) -> Finished | None:
    """What an earlier run noted, if it wrote this domain's declaration where ``wanted`` says, for the same
    period, and the file still declares the document (a person may delete it to have the domain searched
    again). The mark is written just before the file, so a run killed between the two searches the domain
    again instead of skipping it."""
    mark = _read_state(state_file(data_dir, domain, document_type)).get("finished")
    try:
        earlier = Finished(**mark)  # type: ignore[arg-type]
    except TypeError:
        return None  # no mark, or a damaged one: the domain is searched again (its readings are kept)
    same = (earlier.file, earlier.since, earlier.until, earlier.live) == (wanted.file, wanted.since, wanted.until,
                                                                         wanted.live)  # fmt: skip
    return earlier if same and _declares(Path(earlier.file), document_type) else None


def _declares(service_file: Path, document_type: str) -> bool:
    if not service_file.exists():
        return False
    try:
        return document_type in {declaration.document_id for declaration in load_service(service_file)}
    except ConfigurationError:
        return False  # a file that does not load is not a finished declaration (and is refused when written)


class LivePlan:
    """The fetch plan of ``discover --live``: each domain's home page today, once (the live spider follows its
    redirects, one request at a time per site); each domain's result is handed to ``done`` as it comes."""

    def __init__(
        self,
        homes: Mapping[str, str],
        document_type: str,
        done: Callable[[Discovery | Unread], None],
        progress: Progress,
    ) -> None:
        self.requests = {f"{domain}/{document_type}": (domain, home) for domain, home in homes.items()}
        self.document_type = document_type
        self.done = done
        self.progress = progress
        self.waiting = dict.fromkeys(homes)  # the domains without a result yet, in the order given

    def start(self) -> Iterable[FetchRequest]:
        return [FetchRequest(document, home, home) for document, (_, home) in self.requests.items()]

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        document = result.document if isinstance(result, Capture) else result.request.document
        domain = self.requests[document][0]
        self.waiting.pop(domain, None)
        self.done(live_discovery(domain, self.document_type, result))
        self.progress.add("searched", done=True)
        return []


def live_discovery(domain: str, document_type: str, result: Capture | FetchFailure) -> Discovery:
    """Today's home page's link to the document, as a one-era discovery (its URL is the one to track)."""
    if isinstance(result, Capture):
        sighting = read_home_page(result, result.fetched_url, document_type, result.captured_at)
    else:
        sighting = Sighting(datetime.now(UTC), unreadable=f"not fetched: {result.reason}")
    if sighting.unreadable:
        return Discovery(domain, document_type, (), (sighting,), 1, 1, live=True)
    era = Era(sighting.url, sighting.text, sighting.timestamp, sighting.timestamp, 1, sighting.rivals)
    return Discovery(domain, document_type, (era,), (), 1, 1, live=True)


def discover_live(
    settings: Settings,
    homes: Mapping[str, str],
    document_type: str,
    done: Callable[[Discovery | Unread], None],
    *,
    progress: Progress | None = None,
) -> Unfinished:
    """Each domain's home page today (``homes``: domain → home-page URL), read in one live crawl, its result
    handed to ``done``. Returns the domains a stop (SIGINT, SIGTERM) left without a result.

    The live fetching is track's: robots.txt, the same user agent, and the internal-address policy, where the
    home pages named are the declared origins (the operator named these sites) and every redirect hop
    elsewhere is held to it (crawler.addresses)."""
    if progress is None:
        progress = Progress("discover")
        progress.expect(len(homes), "domains", one="domain")
    plan = LivePlan(homes, document_type, done, progress)
    stop = StopSignal()
    crawl_live(plan, settings, declared_origins=tuple(homes.values()), stop=stop)
    progress.finish()
    if stop.received:
        return Unfinished(None, tuple(plan.waiting))
    for domain in plan.waiting:  # not expected: every request ends in a capture or a failure
        done(Unread(domain, "the live crawl ended without an answer for its home page"))
    return Unfinished(None, ())


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
    read = sum(era.captures for era in discovery.eras)
    comments = [f"Found by `policy-archive discover` from {read} home-page {plural(read, 'capture')}; eras (oldest "
                "first):"]  # fmt: skip
    comments += [era.describe() + (f" — UNSURE: {era.unsure}" if era.unsure else "") for era in discovery.eras]
    return DocumentDraft(declaration, comments=tuple(comments))
