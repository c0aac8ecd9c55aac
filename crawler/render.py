"""Rendering pages in headless Chromium, the Scrapy way (scrapy-playwright): the one module that knows Playwright.

A render request is an ordinary Scrapy request with ``meta["playwright"]``: it goes through the same scheduler,
download slots (one request at a time per site), robots.txt and AutoThrottle middlewares as a plain fetch, and
scrapy-playwright's download handler opens it in a browser tab instead of over HTTP. What this module adds:

- the browser is found and started only when the first page needs it (:class:`LazyBrowserProvider`): Chromium
  from the operating system's packages or Playwright's own download, launched with flags that keep it off the
  network except for the pages asked for; a missing browser or a missing ``browser`` extra is one line of reason
  for the documents that needed rendering, never an end of the run;
- each tab settles (:meth:`PageRendering.settle`): network idle, then text shown, then a quiet DOM, within one
  bounded wait; the raw bytes of the navigation answer are kept next to the rendered DOM;
- a live page's own navigation is fetched by its route, not by Chromium, one hop at a time: a redirect is handed
  back to Scrapy (:class:`NavigationRedirectMiddleware`), whose next request is checked like a plain fetch's
  redirect (internal addresses, robots.txt, the redirect limit) and rendered in a tab of its own;
- every other request of a live page is held to the crawl's internal-address policy, to the robots.txt of its
  origin (asked of the crawl's own robots.txt middleware; what it disallows is not sent, and named) and to live
  tracking's one request at a time per site, over every tab (:class:`SiteTurns`);
- images, fonts, media and stylesheets are never downloaded; a page rendered from a web archive reaches nothing but the
  archive (:class:`ArchiveRoute`): every request the page makes is answered from the capture's own time in the
  archive, through the archive's rate limiter, and anything leaving the archive is aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import shutil
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from policy_archive.crawler.addresses import DEFAULT_PORTS, AddressPolicy, resolve
from policy_archive.crawler.middlewares import RobotsRule
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.errors import PolicyArchiveError

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Request, Response, Route

log = logging.getLogger(__name__)

# What a user reads when a page needs rendering and it cannot be done: that the page needs a browser, and every
# way to get one (the extra, then Chromium from the system's packages or Playwright's own download).
HOW_TO_GET_CHROMIUM = (
    "Chromium from the system's packages (apt-get install chromium) or Playwright's own (python -m playwright "
    "install chromium)"
)
EXTRA_MISSING = (
    "needs a browser to run its scripts, and the browser extra is not installed: "
    f"pip install 'policy-archive[browser]', then {HOW_TO_GET_CHROMIUM}"
)
BROWSER_MISSING = f"needs a browser to run its scripts, and no Chromium was found: install {HOW_TO_GET_CHROMIUM}"
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
# Never needed for the text: a DOM is extracted, not a layout (scripts still run without the stylesheets).
NOT_DOWNLOADED = frozenset({"image", "font", "media", "stylesheet"})
MAX_REDIRECTS = 10  # of one request a live page makes (Scrapy's REDIRECT_MAX_TIMES is 20; a page's script needs few)
TABS = 4  # tabs open at once over all sites (one per site at a time: the per-site download slot)
SETTLED_TEXT_CHARS = 200  # visible characters that make a page more than a script shell
QUIET_MILLISECONDS = 750  # no DOM change for this long: the page has finished building its text
MAX_ARCHIVE_HOPS = 5


class RenderingUnavailable(PolicyArchiveError):
    """No browser (or no Playwright) to render a page that needs it."""


def extra_installed() -> bool:
    """Whether the ``browser`` extra (scrapy-playwright, Playwright) is importable."""
    return importlib.util.find_spec("scrapy_playwright") is not None


def scrapy_settings(render_timeout_seconds: float) -> dict[str, Any]:
    """What Scrapy needs to send render requests to scrapy-playwright (plain requests still go over HTTP)."""
    if not extra_installed():
        return {}
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
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
        if self.playwright is None:
            await super().start()
        executable = self._executable()
        log.info("starting headless Chromium (%s)", executable or "Playwright's own")
        return await self.browser_type.launch(
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_ARGS),
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
            raise RenderingUnavailable(BROWSER_MISSING)
        return found

    async def close(self) -> None:
        if self.playwright is not None:
            await super().close()


@dataclass
class ArchiveRoute:
    """Answers every request of a page rendered from an archive with the archive's capture of it.

    The page is opened at its original URL, so that its scripts see the origin they were written for, but no
    request reaches the live web: the navigation is answered with ``archive_url`` (the raw capture already
    chosen), every other URL with the source's capture URL of it at the same time (the archive redirects to
    the nearest capture; those redirects are followed here, inside the archive only). Each archive request waits
    for the archive's rate limiter, like the spider's own.
    """

    archive_url: str
    source: ArchiveSource
    timestamp: datetime
    limiter: RateLimiter
    user_agent: str
    refusal: str | None = None  # the archive refused a request (429/503): the rendering is incomplete
    navigation_url: str | None = None  # the archive URL that finally answered the page itself

    async def __call__(self, route: Route, request: Request) -> None:
        if request.resource_type in NOT_DOWNLOADED or self.refusal:
            await route.abort()
            return
        navigation = self.navigation_url is None and _is_page_navigation(request)
        target = self.archive_url if navigation else self._archive_url(request.url)
        response = None
        for _ in range(MAX_ARCHIVE_HOPS):
            await self.limiter.wait_async()
            headers = {**request.headers, "user-agent": self.user_agent}
            response = await route.fetch(url=target, max_redirects=0, headers=headers)
            location = response.headers.get("location")
            if not 300 <= response.status < 400 or not location:
                break
            target = urljoin(target, location)
            if not self.source.contains(target):
                log.warning("rendering %s: redirect out of the archive blocked (%s)", self.archive_url, target)
                await route.abort()
                return
        if response is None or self._refused(response):
            await route.abort()
            return
        if navigation:
            self.navigation_url = target
        await route.fulfill(response=response)

    def _archive_url(self, url: str) -> str:
        return url if self.source.contains(url) else self.source.capture_url(self.timestamp, url)

    def _refused(self, response: Any) -> bool:
        """The archive's own 429/503 (no Memento-Datetime): pause every archive request, fail this rendering."""
        if response.status not in (429, 503) or "memento-datetime" in response.headers:
            return False
        self.limiter.penalize(None)
        self.refusal = f"the archive answered {response.status} to a request of the page"
        return True


@dataclass
class SiteTurns:
    """One request at a time per site for the requests live pages make in the browser, over every tab of the run.

    Live tracking sends one request at a time per site (``CONCURRENT_REQUESTS_PER_DOMAIN = 1``, in Scrapy's
    download slots, keyed by host name as these turns are); the browser asks for a page's scripts and data side by
    side, and pages open in other tabs add theirs (six at a time to one site in tests/test_render_e2e.py without
    the turns). No delay is added between turns (decision 0012: AutoThrottle's delay of a rendered site grows to
    a whole rendering)."""

    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def turn(self, url: str) -> asyncio.Lock:
        """The lock held while a request to ``url``'s site is sent and its answer read."""
        return self._locks.setdefault((urlsplit(url).hostname or "").lower(), asyncio.Lock())


@dataclass
class PageRendering:
    """One render request's tab: its routes, its bounded settling, and the raw answer to its navigation."""

    timeout_seconds: float
    archive: ArchiveRoute | None = None
    # A live page: the live crawler's internal-address policy and robots.txt rules, applied to every request the
    # page makes too (an archive capture is not subject to the site's robots.txt: it comes from the archive).
    addresses: AddressPolicy | None = None
    robots: RobotsRule | None = None
    user_agent: str | None = None  # on the page's own requests that this module sends (live pages)
    turns: SiteTurns | None = None  # the crawl's, shared by every tab: one request at a time per site
    not_requested: list[str] = field(default_factory=list)  # the page's requests robots.txt disallows
    raw_body: bytes | None = None
    raw_url: str | None = None
    # The Location of a redirect answering the page's navigation: handed to Scrapy, never followed by Chromium.
    redirect: str | None = None
    navigation_error: str | None = None  # why the route could not fetch the page's navigation
    _navigation: Response | None = field(default=None, repr=False)
    _navigated: bool = field(default=False, repr=False)  # the tab's first navigation was asked of the route
    _headers: dict[str, str] = field(default_factory=dict, repr=False)  # the render request's, as Scrapy sends them

    def meta(self) -> dict[str, Any]:
        """The scrapy-playwright request meta that opens the page in a tab and settles it."""
        from scrapy_playwright.page import PageMethod

        return {
            "playwright": True,
            "playwright_page_init_callback": self.init_page,
            "playwright_page_methods": [PageMethod(self.settle)],
            "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": self.timeout_seconds * 1000},
            "rendering": self,
        }

    async def init_page(self, page: Page, request: Any) -> None:
        """Route the page's requests (registered after scrapy-playwright's own route, so asked first).

        Each hop of a redirected navigation is a Scrapy request of its own with this same rendering (Scrapy copies
        the request's meta): what one tab learnt is forgotten here."""
        self._navigation, self._navigated, self.redirect, self.navigation_error = None, False, None, None
        # Scrapy's headers, as scrapy-playwright would send them on the navigation; without Accept-Encoding, which
        # Playwright's own fetch then sets to what it decodes (gzip, deflate, br as of 1.65.2; Scrapy may ask zstd).
        headers = request.headers.to_unicode_dict()
        self._headers = {name: value for name, value in headers.items() if name.lower() != "accept-encoding"}
        page.on("response", self._remember_navigation)
        await page.route("**/*", self.archive or self._live_route)
        # WebSockets are not routed like requests: a page from an archive must not open one to the live web.
        if self.archive is not None:
            await page.route_web_socket("**/*", _refuse_web_socket)

    async def _live_route(self, route: Route, request: Request) -> None:
        if request.resource_type in NOT_DOWNLOADED or not await self._may_request(request.url):
            await route.abort()
        elif _is_page_navigation(request) and not self._navigated:
            self._navigated = True
            await self._navigate(route, request)
        else:
            # Scripts, data, frames — and a navigation a script starts later, whose redirects are followed here
            # too (answered at the URL the script asked for: never an unchecked hop, even if not an exact one).
            await self._fetch_checking_redirects(route, request)

    async def _navigate(self, route: Route, request: Request) -> None:
        """Fetch the page's own navigation here, not in Chromium, without following a redirect: Chromium follows a
        navigation's redirect unasked, even the Location of an answer the route fulfils (checked with Playwright
        1.65.2 and Debian's Chromium, 2026-11-27). A redirect is answered without its Location, so the browser
        stays, and is kept in :attr:`redirect` for :class:`NavigationRedirectMiddleware` to hand to Scrapy."""
        from playwright.async_api import Error

        try:
            response = await route.fetch(
                max_redirects=0, headers=self._headers or None, timeout=self.timeout_seconds * 1000
            )
        except Error as error:  # refused, unresolvable, timed out: the reason goes to the user, not net::ERR_FAILED
            self.navigation_error = error.message.strip().splitlines()[0]
            with contextlib.suppress(Error):
                await route.abort()
            return
        location = response.headers.get("location")
        if 300 <= response.status < 400 and location:
            self.redirect = location
            headers = {name: value for name, value in response.headers.items() if name.lower() != "location"}
            await route.fulfill(response=response, headers=headers)
        else:
            await route.fulfill(response=response)

    async def _may_request(self, url: str) -> bool:
        """Whether the page may send a request to ``url``: not to an internal address, not against robots.txt."""
        if self.addresses is not None and (refusal := await _address_refusal(self.addresses, url)):
            log.warning("rendering: request of the page refused: %s", refusal)
            return False
        if not await self._robots_allow(url):
            log.warning("rendering: %s not requested: the site's robots.txt disallows it", url)
            self.not_requested.append(url)
            return False
        return True

    async def _fetch_checking_redirects(self, route: Route, request: Request) -> None:
        """Send one of the page's own requests (a script, data), following its redirects here, each hop held to
        the same rules as the first. Chromium follows a redirect without asking the route again, and does not
        follow a 3xx the route fulfils (both checked with Playwright 1.65.2 and Debian's Chromium, 2026-11-27):
        left to the browser, a public script redirecting to 169.254.169.254 would be fetched."""
        from playwright.async_api import Error

        try:
            if await self._fulfil_following_redirects(route, request):
                return
        except Error as error:  # the request failed, or the browser closed under it (the run stopping)
            log.info("rendering: %s not fetched: %s", request.url, error.message)
            with contextlib.suppress(Error):
                await route.abort()
            return
        log.warning("rendering: %s not requested: more than %d redirects", request.url, MAX_REDIRECTS)
        await route.abort()

    async def _fulfil_following_redirects(self, route: Route, request: Request) -> bool:
        """Fetch ``request`` and each redirect it leads to (if the rules allow the hop), then answer the page with
        the last response. False when the redirects never end; True when answered or refused."""
        headers = {**request.headers, "user-agent": self.user_agent} if self.user_agent else request.headers
        target = request.url
        for _ in range(MAX_REDIRECTS):
            async with self.turns.turn(target) if self.turns else contextlib.nullcontext():
                response = await route.fetch(
                    url=target, max_redirects=0, headers=headers, timeout=self.timeout_seconds * 1000
                )
            location = response.headers.get("location")
            if not 300 <= response.status < 400 or not location:
                await route.fulfill(response=response)
                return True
            target = urljoin(target, location)
            if not await self._may_request(target):
                await route.abort()
                return True
        return False

    async def _robots_allow(self, url: str) -> bool:
        """Whether robots.txt lets the page's request to ``url`` go. A robots.txt still unknown when the page's
        time is up (its origin's download slot busy until then) counts as a no: the page is taken without it."""
        if self.robots is None or urlsplit(url).scheme not in DEFAULT_PORTS:
            return True  # robots.txt not obeyed; data:, blob: and the like stay inside the browser
        try:
            return await asyncio.wait_for(self.robots(url), self.timeout_seconds)
        except TimeoutError:
            log.warning("rendering: robots.txt for %s not known in time: taken as disallowing it", url)
            return False

    def _remember_navigation(self, response: Response) -> None:
        """The first answer to the page itself that is not a redirect (those have no body to keep)."""
        redirect = 300 <= response.status < 400
        if self._navigation is None and not redirect and _is_page_navigation(response.request):
            self._navigation = response

    async def settle(self, page: Page) -> None:
        """Wait, within ``timeout_seconds`` in all, for network idle, shown text and a quiet DOM; keep the raw
        answer. A page still busy at the deadline is taken as it is then (some poll the network forever)."""
        from playwright.async_api import Error

        if self.redirect is not None:
            return  # nothing to render: the next hop is Scrapy's request, in a tab of its own
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_seconds

        def remaining_ms() -> float:
            return max(1.0, (deadline - loop.time()) * 1000)

        try:
            await page.wait_for_load_state("networkidle", timeout=remaining_ms())
            await page.wait_for_function(_TEXT_SHOWN, arg=SETTLED_TEXT_CHARS, timeout=remaining_ms())
            await page.evaluate(_DOM_QUIET, [QUIET_MILLISECONDS, remaining_ms()])
        except Error as error:
            log.info("rendering %s: taking the page as it is after the wait (%s)", page.url, error.message)
        if self._navigation is not None:
            self.raw_url = self._navigation.url
            try:
                self.raw_body = await self._navigation.body()
            except Error as error:  # e.g. a navigation answered by a redirect only
                log.info("rendering %s: no raw body of the navigation (%s)", page.url, error.message)


class NavigationRedirectMiddleware:
    """A redirect answering a rendered page's navigation goes the way of a plain fetch's: to Scrapy's
    RedirectMiddleware (a downloader middleware placed after it, so that it sees the response first).

    The route answered the browser without the redirect's Location (:meth:`PageRendering._navigate`); it is put
    back on the response here, so the next hop is an ordinary Scrapy request carrying the same rendering: checked
    by the internal-address and robots.txt middlewares (a refusal reads exactly as a plain fetch's), sent in its
    own site's download slot, counted against ``REDIRECT_MAX_TIMES``, listed in ``redirect_urls``, and opened in
    a new tab whose URL — so the page's relative URLs, and the URL recorded — is the hop's own."""

    def process_response(self, request: Any, response: Any) -> Any:
        rendering = request.meta.get("rendering")
        if not isinstance(rendering, PageRendering) or rendering.redirect is None:
            return response
        headers = response.headers.copy()
        headers["Location"] = rendering.redirect
        return response.replace(headers=headers)


def _is_page_navigation(request: Request) -> bool:
    """The request for the page itself (not a frame's, not a resource's)."""
    return request.is_navigation_request() and request.frame.parent_frame is None


async def _address_refusal(policy: AddressPolicy, url: str) -> str | None:
    """Why the page's request to ``url`` must not be sent (it would reach an internal address), or None."""
    if policy.allows_url(url):
        return None
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in DEFAULT_PORTS:
        return None  # data:, blob: and the like stay inside the browser
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return policy.refusal(url, await asyncio.to_thread(resolve, parts.hostname, port))


def _refuse_web_socket(web_socket: Any) -> None:
    """Never connected to a server: the page's socket stays open and silent."""


_TEXT_SHOWN = "chars => document.body !== null && document.body.innerText.trim().length >= chars"
_DOM_QUIET = """([quietMs, maxMs]) => new Promise(resolve => {
    let quiet;
    const observer = new MutationObserver(() => { clearTimeout(quiet); quiet = setTimeout(done, quietMs); });
    const cap = setTimeout(done, maxMs);
    function done() { observer.disconnect(); clearTimeout(cap); clearTimeout(quiet); resolve(); }
    observer.observe(document, {subtree: true, childList: true, characterData: true});
    quiet = setTimeout(done, quietMs);
})"""
