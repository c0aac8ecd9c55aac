"""The route of a page rendered from an archive, on its own: every request is answered from the archive or
aborted, never sent to the live web (no browser needed: Playwright's route and request are stood in for)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.routes import ArchiveRoute
from policy_archive.crawler.sources import archive_source

REPLAY = "http://archive.test/web"
PAGE = "https://spa.example/privacy"
CAPTURE = f"{REPLAY}/20200101000000id_/{PAGE}"
MEMENTO = {"memento-datetime": "Wed, 01 Jan 2020 00:00:07 GMT"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Frame:
    parent_frame: Frame | None = None


@dataclass
class PageRequest:
    url: str
    resource_type: str = "script"
    navigation: bool = False
    frame: Frame = field(default_factory=Frame)
    headers: dict[str, str] = field(default_factory=lambda: {"accept": "*/*"})

    def is_navigation_request(self) -> bool:
        return self.navigation


@dataclass
class Route:
    """Answers ``fetch`` from ``answers`` (URL → Answer) and remembers what was asked and how it ended."""

    answers: dict[str, Answer]
    fetched: list[tuple[str, str]] = field(default_factory=list)  # (URL, user agent)
    outcome: str | None = None

    async def fetch(self, *, url: str, max_redirects: int, headers: dict[str, str]) -> Answer:
        assert max_redirects == 0, "redirects are followed by the route, inside the archive only"
        self.fetched.append((url, headers["user-agent"]))
        return self.answers.get(url, Answer(404, MEMENTO))

    async def fulfill(self, *, response: Answer) -> None:
        self.outcome = f"fulfilled {response.status}"

    async def abort(self) -> None:
        self.outcome = "aborted"


@pytest.fixture
def archive_route(tmp_path: Path) -> ArchiveRoute:
    limiter = RateLimiter(tmp_path / "limits.sqlite3", "archive.test", "replay", 1e9, 0)
    source = archive_source(WaybackSettings(cdx_url="http://archive.test/cdx", replay_url=REPLAY))
    return ArchiveRoute(CAPTURE, source, datetime(2020, 1, 1, tzinfo=UTC), limiter, "policy-archive/test")


def ask(route: ArchiveRoute, request: PageRequest, answers: dict[str, Answer]) -> Route:
    handle = Route(answers)
    asyncio.run(route(handle, request))  # type: ignore[arg-type]
    return handle


def test_the_page_and_its_resources_come_from_the_archive_at_the_capture_time(archive_route: ArchiveRoute):
    page = ask(archive_route, PageRequest(PAGE, "document", navigation=True), {CAPTURE: Answer(200, MEMENTO)})
    assert page.fetched == [(CAPTURE, "policy-archive/test")] and page.outcome == "fulfilled 200"
    assert archive_route.navigation_url == CAPTURE

    script = "https://cdn.example/app.js"
    nearest = f"{REPLAY}/20191230000000id_/{script}"
    answers = {
        f"{REPLAY}/20200101000000id_/{script}": Answer(302, {"location": nearest}),  # the nearest capture
        nearest: Answer(200, MEMENTO),
    }
    resource = ask(archive_route, PageRequest(script), answers)
    assert [url for url, _ in resource.fetched] == [f"{REPLAY}/20200101000000id_/{script}", nearest]
    assert resource.outcome == "fulfilled 200"


def test_nothing_leaves_the_archive(archive_route: ArchiveRoute):
    escape = f"{REPLAY}/20200101000000id_/https://api.example/data.json"
    leaving = ask(
        archive_route,
        PageRequest("https://api.example/data.json", "fetch"),
        {escape: Answer(302, {"location": "https://api.example/live"})},
    )
    assert leaving.outcome == "aborted" and len(leaving.fetched) == 1, "a redirect out of the archive is not followed"

    image = ask(archive_route, PageRequest("https://spa.example/logo.png", "image"), {})
    assert image.outcome == "aborted" and image.fetched == [], "images are never downloaded"


def test_an_archived_redirect_is_followed_inside_the_archive_as_the_site_sent_it(archive_route: ArchiveRoute):
    """pywb replays an archived redirect's Location as the site sent it (relative here): followed inside the
    archive, at the redirect's own time; an archive's own redirect out of it is still blocked (above)."""
    script = "https://spa.example/app.js"
    asked = f"{REPLAY}/20200101000000id_/{script}"
    moved = f"{REPLAY}/20200101000007id_/https://spa.example/v2/app.js"
    answers = {asked: Answer(301, {**MEMENTO, "location": "/v2/app.js"}), moved: Answer(200, MEMENTO)}
    resource = ask(archive_route, PageRequest(script), answers)
    assert [url for url, _ in resource.fetched] == [asked, moved] and resource.outcome == "fulfilled 200"


def test_an_archive_refusal_fails_the_rendering_and_stops_its_requests(archive_route: ArchiveRoute):
    refused = ask(archive_route, PageRequest("https://spa.example/app.js"), {})
    assert refused.outcome == "fulfilled 404", "a resource the archive does not hold is answered as the archive did"
    busy = f"{REPLAY}/20200101000000id_/https://spa.example/data.json"
    limited = ask(archive_route, PageRequest("https://spa.example/data.json", "fetch"), {busy: Answer(429)})
    assert limited.outcome == "aborted"
    assert archive_route.refusal == "the archive answered 429 to a request of the page"
    after = ask(archive_route, PageRequest("https://spa.example/more.js"), {})
    assert after.outcome == "aborted" and after.fetched == [], "nothing more is asked of a refusing archive"
