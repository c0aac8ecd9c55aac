"""Rendering pages in headless Chromium, the Scrapy way (scrapy-playwright): with :mod:`crawler.routes`, where the
page's requests go, :mod:`crawler.settling`, when its tab is taken, and :mod:`crawler.render_handler`, its download
handler, the only modules that know Playwright.

A render request is an ordinary Scrapy request with ``meta["playwright"]``: it goes through the same scheduler,
download slots (one request at a time per site), robots.txt and AutoThrottle middlewares as a plain fetch, and
scrapy-playwright's download handler opens it in a browser tab instead of over HTTP. What this module adds:

- the browser is found and started only when the first page needs it (:class:`LazyBrowserProvider`): Chromium
  from the operating system's packages or Playwright's own download, launched with no network of its own
  (:data:`NO_NETWORK_ARGS`): what a page shows comes through its routes, and nothing else gets out; a missing
  browser or a missing ``browser`` extra is one line of reason for the documents that needed rendering, never an
  end of the run;
- each tab settles (:meth:`PageRendering.settle`, by :mod:`crawler.settling`): network idle, then text shown, then a
  steady text, within one bounded wait; a page still loading without its text, or still changing it, when the wait
  ran out is not taken (``render-unsettled``, a failure for now); the raw bytes of the navigation answer are kept
  next to the rendered DOM;
- every request of the page is asked of a route (:mod:`crawler.routes`), never sent by Chromium: a live page's
  navigation, scripts and data are downloaded by the crawl itself (the internal-address check and the connection
  use the same resolution; robots.txt of each request's origin; one request at a time per site), and a redirect of
  its navigation is handed back to Scrapy (:class:`NavigationRedirectMiddleware`), whose next request is checked
  like a plain fetch's redirect and rendered in a tab of its own; a page rendered from a web archive reaches
  nothing but the archive. Images, fonts, media and stylesheets are never downloaded, WebSockets never connected.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import shutil
import sys
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass, field
from importlib.metadata import requires
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_archive.crawler.rendered_downloads import CrawlDownloads
from policy_archive.crawler.rendering_bytes import AnswersTaken
from policy_archive.crawler.routes import (
    CRAWL_HEADERS,
    ArchiveRoute,
    LiveRoute,
    is_page_navigation,
    refuse_web_socket,
)
from policy_archive.crawler.settling import TEXT_WATCH, settled, unreadable
from policy_archive.errors import PolicyArchiveError

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Response

log = logging.getLogger(__name__)

# What a user reads when a page needs rendering and it cannot be done: that the page needs a browser, and every
# way to get one (the extra, then Chromium from the system's packages or Playwright's own download), in the words
# of the way policy-archive was installed: pip, or pipx, whose environments pip does not reach (pipx's docs, as of
# pipx 1.18: "pipx inject" adds packages to an app's environment, kept through "pipx reinstall").
NEEDS_BROWSER = "needs a browser to run its scripts"


def extra_missing(prefix: str = sys.prefix, python: str = sys.executable) -> str:
    """Why a page needing rendering was not rendered without the ``browser`` extra, and how to install it."""
    return f"{NEEDS_BROWSER}, and the browser extra is not installed: {_install_extra(prefix)}, then " + (
        _how_to_get_chromium(prefix, python)
    )


def browser_missing(prefix: str = sys.prefix, python: str = sys.executable) -> str:
    """Why a page needing rendering was not rendered with the extra but no Chromium, and how to get one."""
    return f"{NEEDS_BROWSER}, and no Chromium was found: install {_how_to_get_chromium(prefix, python)}"


def pipx_environment(prefix: str) -> str | None:
    """The name of the pipx environment whose Python ``prefix`` is (None: not pipx's). As of pipx 1.18 each
    environment pipx makes holds its ``pipx_metadata.json``, and is named after its directory."""
    path = Path(prefix)
    return path.name if (path / "pipx_metadata.json").is_file() else None


def _install_extra(prefix: str) -> str:
    environment = pipx_environment(prefix)
    if environment is None:
        return "pip install 'policy-archive[browser]'"
    return f"pipx inject {environment} " + " ".join(f"'{spec}'" for spec in browser_requirements())


def browser_requirements() -> tuple[str, ...]:
    """The ``browser`` extra's requirements as installed (``playwright>=1.50``): pyproject.toml's, never others."""
    wanted = (line.partition(";") for line in requires("policy-archive") or ())
    return tuple(spec.strip() for spec, _, marker in wanted if "".join(marker.split()) == 'extra=="browser"')


def _how_to_get_chromium(prefix: str, python: str) -> str:
    # Playwright's download is run by the Python that has Playwright: under pipx, not the one on the PATH.
    runner = python if pipx_environment(prefix) else "python"
    return (
        "Chromium from the system's packages (apt-get install chromium) or Playwright's own "
        f"({runner} -m playwright install chromium)"
    )


# As of 2026-11, Debian's package installs /usr/bin/chromium; other distributions use the other names.
SYSTEM_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Headless, no sandbox (the sandbox needs user namespaces, missing when running as root or in containers),
# and none of Chromium's own traffic (component updates, sync, field trials, DNS prefetching, QUIC probes),
# which would otherwise keep trying the network for as long as the browser runs.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--dns-prefetch-disable",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
)
# No way to the network of the browser's own (checked with Debian's Chromium 156 and Playwright 1.65.2, 2026-11-28):
# every host name resolves to nothing in it, IP addresses, localhost and the proxy's own address included, so a request
# Chromium would send itself fails there (net::ERR_NAME_NOT_RESOLVED, or ERR_PROXY_CONNECTION_FAILED through a proxy).
# Every request of a page is meant to be answered by its route (route.fulfill) or refused (route.abort), but Playwright
# continues a request it can no longer route: one a closing tab makes (its driver continues a paused request whose frame
# is gone), which went out past robots.txt and the address checks with the browser's own User-Agent (1 to 6 polls in 2
# of 5 stops of a page polling every 5 ms, 2026-11-28); and Chromium called Google itself (clients2.google.com,
# accounts.google.com) despite the switches above. Playwright's own requests (route.fetch) would be its driver's, not
# the browser's, and go through the proxy given at launch; none is made since 2026-11-29 (the archive's pages too are
# downloaded by their crawl: crawler/routes.py). WebRTC sends UDP around host resolution (a STUN server named by its
# address): only through the proxy, which the browser cannot reach.
NO_NETWORK_ARGS = ("--host-resolver-rules=MAP * ~NOTFOUND", "--webrtc-ip-handling-policy=disable_non_proxied_udp")
TABS = 4  # tabs open at once over all sites (one per site at a time: the per-site download slot)


class RenderingUnavailable(PolicyArchiveError):
    """No browser (or no Playwright) to render a page that needs it."""


def extra_installed() -> bool:
    """Whether the ``browser`` extra (scrapy-playwright, Playwright) is importable."""
    return importlib.util.find_spec("scrapy_playwright") is not None


def scrapy_settings(render_timeout_seconds: float) -> dict[str, Any]:
    """What Scrapy needs to send render requests to scrapy-playwright (plain requests still go over HTTP)."""
    if not extra_installed():
        return {}
    handler = "policy_archive.crawler.render_handler.RenderingDownloadHandler"  # scrapy-playwright's
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_PROVIDER": "policy_archive.crawler.render.LazyBrowserProvider",
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": TABS,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": render_timeout_seconds * 1000,
        # Downloads started by a page (a PDF policy, say) are answered by the plain fetch, not the browser.
        "PLAYWRIGHT_CONTEXTS": {},
    }


def system_chromium() -> str | None:
    """The operating system's Chromium (or Chrome), if installed."""
    return next((path for name in SYSTEM_CHROMIUM if (path := shutil.which(name))), None)


def proxy_settings() -> dict[str, str] | None:
    """The proxy Scrapy uses (``http_proxy`` / ``https_proxy`` / ``no_proxy``), so the browser goes the same way."""
    proxies = urllib.request.getproxies()
    server = proxies.get("http") or proxies.get("https")
    if not server:
        return None
    settings = {"server": server}
    if proxies.get("no"):
        settings["bypass"] = proxies["no"]
    return settings


try:
    from scrapy_playwright.provider import PlaywrightBrowserProvider
except ImportError:  # the browser extra is not installed: scrapy_settings() never names the provider
    PlaywrightBrowserProvider = object  # type: ignore[assignment,misc]


class LazyBrowserProvider(PlaywrightBrowserProvider):  # type: ignore[misc,valid-type]
    """scrapy-playwright's provider, except that nothing starts before the first page needs the browser.

    The stock provider starts Playwright's driver when the crawl starts; here the driver and the browser start
    together on the first render request, so a run whose pages all answer over HTTP never starts either.
    """

    async def start(self) -> None:
        """Deferred to :meth:`launch_browser`."""

    async def launch_browser(self) -> Browser:
        """Start Playwright's driver if nothing has started it yet, then launch headless Chromium with no network of its
        own (:data:`NO_NETWORK_ARGS`), the crawl's proxy given for Playwright's own requests (``route.fetch``, made by
        its driver; none since 2026-11-29): Playwright's own download when present, else the system's. scrapy-playwright
        (0.0.48, checked 2026-11) awaits this when a render request finds it without a browser, under its launch lock:
        the first such request of the crawl. Always a local launch: the stock provider's remote browser
        (``PLAYWRIGHT_CDP_URL``, ``PLAYWRIGHT_CONNECT_URL``) and ``PLAYWRIGHT_LAUNCH_OPTIONS`` are not read. Raises
        :class:`RenderingUnavailable`, saying what to install, when neither Chromium is there."""
        if self.playwright is None:
            await super().start()
        executable = self._executable()
        log.info("starting headless Chromium (%s)", executable or "Playwright's own")
        return await self.browser_type.launch(
            executable_path=executable,
            headless=True,
            args=[*CHROMIUM_ARGS, *NO_NETWORK_ARGS],
            proxy=proxy_settings(),
            # Ctrl-C signals the whole foreground process group, Playwright's driver included; by default the
            # driver then closes the browser at once, under the page being rendered. Our shutdown closes it
            # instead, after that page (Scrapy's graceful stop waits for the requests in flight).
            handle_sigint=False,
        )

    def _executable(self) -> str | None:
        """None for Playwright's own download when present, else the system's Chromium; neither: the error."""
        if os.path.exists(self.browser_type.executable_path):
            return None
        found = system_chromium()
        if found is None:
            raise RenderingUnavailable(browser_missing())
        return found

    async def close(self) -> None:
        """Stop Playwright's driver if a render request started it; a crawl that rendered nothing has nothing to
        stop. scrapy-playwright awaits this once, when its handler shuts down, after closing the browser."""
        if self.playwright is not None:
            await super().close()


@dataclass
class PageRendering:
    """One render request's tab: its routes, its bounded settling, and the raw answer to its navigation."""

    timeout_seconds: float
    archive: ArchiveRoute | None = None
    # A live page: every request it makes is downloaded by the crawl (an archive capture is not subject to the
    # site's robots.txt: it comes from the archive). One of the two is given: Chromium fetches nothing itself.
    live: CrawlDownloads | None = None
    not_requested: list[str] = field(default_factory=list)  # the page's requests robots.txt disallows
    raw_body: bytes | None = None
    raw_url: str | None = None
    # What its routes hand the page, bounded by max_page_bytes in all (the archive route's, or one for a live page).
    answers: AnswersTaken = field(init=False)
    _route: LiveRoute | None = field(default=None, repr=False)  # the current tab's (live pages)
    _navigation: Response | None = field(default=None, repr=False)
    _page: Page | None = field(default=None, repr=False)  # the current tab
    _deadline: float = field(default=0.0, repr=False)  # the event loop's time when the current tab's wait is over
    # Why the current tab's page is not taken (its text not shown, or still changing, when its wait ran out), or None.
    unsettled: str | None = None

    def __post_init__(self) -> None:
        if self.archive is not None:
            self.answers = self.archive.answers
        else:
            self.answers = AnswersTaken(self.live.max_bytes if self.live is not None else 0)

    @property
    def redirect(self) -> str | None:
        """The Location of a redirect answering the page's navigation: handed to Scrapy, never followed by
        Chromium."""
        return self._route.redirect if self._route is not None else None

    @property
    def navigation_error(self) -> str | None:
        """Why the route could not fetch the page's navigation."""
        return self._route.navigation_error if self._route is not None else None

    @property
    def navigation_type(self) -> str | None:
        """The Content-Type the page's navigation was answered with, where the route fetched it (live pages)."""
        return self._route.navigation_type if self._route is not None else None

    def meta(self) -> dict[str, Any]:
        """The scrapy-playwright request meta that opens the page in a tab and settles it."""
        from scrapy_playwright.page import PageMethod

        return {
            "playwright": True,
            "playwright_page_init_callback": self.init_page,
            "playwright_page_methods": [PageMethod(self.settle)],
            "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": self.timeout_seconds * 1000},
            # A service worker's requests bypass the page's route (Playwright's documentation of page.route, as of
            # 1.65): Chromium would send them itself. Read when the run's browser context is created.
            "playwright_context_kwargs": {"service_workers": "block"},
            "rendering": self,
        }

    async def init_page(self, page: Page, request: Any) -> None:
        """Route the page's requests (registered after scrapy-playwright's own route, so asked first).

        Each hop of a redirected navigation is a Scrapy request of its own with this same rendering (Scrapy copies
        the request's meta): what one tab learnt is forgotten here. The tab's wait starts now: its navigation
        (``page.goto``'s timeout, started right after this) and its settling are bounded by it together."""
        self._navigation = None
        self._page = page
        self.unsettled = None
        # Every document of the tab watches its text once parsed (a script may load another document in it).
        await page.add_init_script(TEXT_WATCH)
        self._deadline = asyncio.get_running_loop().time() + self.timeout_seconds
        page.on("response", self._remember_navigation)
        if self.archive is not None:
            self.archive.open_tab(self._deadline)
            page.on("close", self.archive.close)  # its downloads end with the tab, as a live page's (below)
            await page.route("**/*", self.archive)
        else:
            assert self.live is not None, "a live page's requests are downloaded by the crawl"
            # Scrapy's headers, as scrapy-playwright would send them on the navigation.
            headers = request.headers.to_unicode_dict()
            navigation = {name: value for name, value in headers.items() if name.lower() not in CRAWL_HEADERS}
            self._route = LiveRoute(
                self.live, self.timeout_seconds, navigation, self.not_requested, self._deadline, self.answers
            )
            # Playwright does not end a route handler when its page closes (as of 1.65: Page.close waits for none,
            # and unroute_all's "ignoreErrors" only silences them): the downloads the handlers wait for are ended
            # here, or a page polling the network would leave its polls to be sent after it (audit 2026-11-28).
            page.on("close", self._route.close)
            await page.route("**/*", self._route)
        # WebSockets are not routed like requests, and Chromium would connect them itself: never connected.
        await page.route_web_socket("**/*", refuse_web_socket)

    def _remember_navigation(self, response: Response) -> None:
        """The first answer to the page itself that is not a redirect (those have no body to keep)."""
        redirect = 300 <= response.status < 400
        if self._navigation is None and not redirect and is_page_navigation(response.request):
            self._navigation = response

    async def settle(self, page: Page) -> None:
        """Wait, within ``timeout_seconds`` in all, for network idle, then shown text, then a text steady for
        :data:`~policy_archive.crawler.settling.QUIET_MILLISECONDS` (:func:`~policy_archive.crawler.settling.settled`);
        keep the raw answer. A page whose network never went idle (some poll it forever) is taken when its text is
        shown and has been steady at the deadline; one still loading without its text, or still changing its text, is
        not taken: :attr:`unsettled` says why. One that loaded everything and showed no text is taken, for extraction
        to refuse as a script shell (naming what robots.txt kept from it)."""
        from playwright.async_api import Error

        if self.redirect is not None:
            return  # nothing to render: the next hop is Scrapy's request, in a tab of its own
        try:
            # A rendering that cannot be taken (too large; from an archive, refused) ends now, not at its wait's end
            await _unless(self.answers.ended, self._settling(page))
        except Error as error:  # the page went away under the wait (its tab or the browser closed)
            self.unsettled = unreadable(self.timeout_seconds, error)
        # The page is taken as it is now: what it still asks for is not sent (its tab closes right after this).
        for route in (self._route, self.archive):
            if route is not None:
                route.close()
        if self._navigation is not None:
            self.raw_url = self._navigation.url
            try:
                self.raw_body = await self._navigation.body()
            except Error as error:  # e.g. a navigation answered by a redirect only
                log.info("rendering %s: no raw body of the navigation (%s)", page.url, error.message)

    async def _settling(self, page: Page) -> None:
        """Wait for the page to settle; :attr:`unsettled` keeps why it did not (None: taken)."""
        self.unsettled = await settled(page, self._deadline, self.timeout_seconds)

    async def close(self) -> None:
        """Close the current tab at once (the run is stopping), and end what it asked for."""
        from playwright.async_api import Error

        for route in (self._route, self.archive):
            if route is not None:
                route.close()
        if self._page is not None and not self._page.is_closed():
            # Closed with its routes in place: unrouted first (page.unroute_all), the tab's requests in the moment
            # before it closes would not be asked of them. Playwright continues those of a closing tab all the
            # same, unrouted; they fail in the browser, which has no network (NO_NETWORK_ARGS).
            try:
                await self._page.close()
            except Error as error:  # the browser went first
                log.info("rendering: tab not closed: %s", error.message)


async def _unless(ended: asyncio.Event, waiting: Coroutine[Any, Any, None]) -> None:
    """Await ``waiting`` unless ``ended`` is set first (then it is cancelled); its error, if it ends with one."""
    task, end = asyncio.ensure_future(waiting), asyncio.ensure_future(ended.wait())
    try:
        await asyncio.wait((task, end), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, end):
            pending.cancel()
    if not task.cancelled() and task.done():
        task.result()


class NavigationRedirectMiddleware:
    """A redirect answering a rendered page's navigation goes the way of a plain fetch's: to Scrapy's
    RedirectMiddleware (a downloader middleware placed after it, so that it sees the response first).

    The route answered the browser without the redirect's Location (``LiveRoute``, crawler/routes.py); it is put
    back on the response here, so the next hop is an ordinary Scrapy request carrying the same rendering: checked
    by the internal-address and robots.txt middlewares (a refusal reads exactly as a plain fetch's), sent in its
    own site's download slot, counted against ``REDIRECT_MAX_TIMES``, listed in ``redirect_urls``, and opened in
    a new tab whose URL — so the page's relative URLs, and the URL recorded — is the hop's own."""

    def process_response(self, request: Any, response: Any) -> Any:
        """The response with the ``Location`` of the redirect that answered its rendered navigation put back (a copy;
        the header replaced if present), for RedirectMiddleware to follow; any other response, rendered or not, as it
        came."""
        rendering = request.meta.get("rendering")
        if not isinstance(rendering, PageRendering) or rendering.redirect is None:
            return response
        headers = response.headers.copy()
        # Its bytes as the site sent them (the route read them as Latin-1): RedirectLocationMiddleware reads them
        # as Scrapy does, UTF-8, and Scrapy's own encoding of a str here would turn a UTF-8 host into another.
        headers["Location"] = rendering.redirect.encode("latin-1")
        return response.replace(headers=headers)
