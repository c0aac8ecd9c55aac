"""Name lookups bounded in time, each on a thread of its own: a lookup that never answers fails its request only.

Twisted resolves a name with the system's ``getaddrinfo`` on the reactor's thread pool (10 threads: Scrapy 2.19's
``REACTOR_THREADPOOL_MAXSIZE``), and nothing bounded a lookup's time here: Scrapy's ``DNS_TIMEOUT`` applies only to
its ``CachingThreadedResolver`` (an ``IResolverSimple``, as of 2.19), not to the ``IHostnameResolver`` a live crawl
installs (crawler/addresses.py ``GuardedResolver``) nor to the internal-address check's own lookup. A lookup that
never returns (a name server that does not answer) held a pool thread for good; ten of them, and every later lookup
of the run, and so every fetch, waited behind them.

Here every lookup runs on a daemon thread of its own (a thread blocked in ``getaddrinfo`` cannot be stopped; a daemon
thread does not keep the process from exiting once the run is done) and is given ``DNS_TIMEOUT`` seconds (Scrapy's
setting, which crawler/settings.py sets to ``[wayback] timeout_seconds``). Past it the lookup fails with
:class:`LookupTimedOut`, whose words name the host and the time: the document's failure, and the run goes on.
While that lookup is still blocked, another of the same name fails at once with the same words (no thread more).
A name's addresses are kept for the run, as Scrapy's DNS cache keeps them.

:class:`LookupMiddleware` looks a request's host up before the request is sent, so that a lookup that does not
answer fails its request with those words (at the connection, it could only fail as "no address"), and the
connection then finds the answer kept by :class:`BoundedResolver`, its name resolver. The call to the system's
resolver, the words of a lookup past its bound and the bounded lookup outside the reactor (the CDX listing) are in
crawler/names.py, which needs neither Scrapy nor Twisted: a command that only reads the archive's listing
configuration (export, report, verify) does not load them.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

from policy_archive.crawler import names
from policy_archive.crawler.names import Found, LookupTimedOut

T = TypeVar("T")
TIMEOUT_SETTING = "DNS_TIMEOUT"  # Scrapy's name for it


class Lookups:
    """Every name lookup of one crawl: each on a daemon thread, bounded by ``seconds``; answers kept for the run."""

    def __init__(self, reactor: Any, seconds: float):
        self.reactor = reactor
        self.seconds = seconds
        self._found: dict[str, Found] = {}
        self._blocked: Counter[str] = Counter()  # lookups past their bound and not returned yet, by name

    def addresses(self, host: str) -> Deferred[Found]:
        """The addresses of ``host`` (empty when it does not resolve), or a :class:`LookupTimedOut` failure."""
        if host in self._found:
            return succeed(self._found[host])
        found = self.bounded(host, lambda: names.system_lookup(host))
        found.addCallback(self._keep, host)
        return found

    def _keep(self, found: Found, host: str) -> Found:
        if found:  # a name that did not resolve is asked again next time, as Scrapy's DNS cache does (2.19)
            self._found[host] = found
        return found

    def bounded(self, host: str, call: Callable[[], T]) -> Deferred[T]:
        """``call()`` (a lookup of ``host``) on a thread of its own, failing with :class:`LookupTimedOut` once the
        bound has passed, or at once while another lookup of ``host`` is still blocked past it."""
        if self._blocked[host]:
            return fail(LookupTimedOut(host, self.seconds))
        result: Deferred[T] = Deferred()
        expired = False

        def give_up() -> None:
            nonlocal expired
            expired = True
            self._blocked[host] += 1
            result.errback(LookupTimedOut(host, self.seconds))

        timer = self.reactor.callLater(self.seconds, give_up)

        def returned(value: T | None, error: BaseException | None) -> None:
            if expired:
                self._blocked[host] -= 1
                return
            timer.cancel()
            if error is None:
                result.callback(value)
            else:
                result.errback(error)

        def run() -> None:
            try:
                value = call()
            except BaseException as error:  # noqa: BLE001 -- handed to the reactor's thread, raised there
                self.reactor.callFromThread(returned, None, error)
            else:
                self.reactor.callFromThread(returned, value, None)

        threading.Thread(target=run, name=f"lookup {host}", daemon=True).start()
        return result


_SHARED: dict[int, Lookups] = {}


def lookups_of(reactor: Any, settings: Any) -> Lookups:
    """The crawl's lookups, shared by its resolver and its middlewares (one crawl per process: crawler/runner.py),
    bounded by Scrapy's ``DNS_TIMEOUT``."""
    if id(reactor) not in _SHARED:
        _SHARED[id(reactor)] = Lookups(reactor, settings.getfloat(TIMEOUT_SETTING))
    return _SHARED[id(reactor)]


def crawl_lookups(settings: Any) -> Lookups:
    """The crawl's lookups, for a middleware: made once Scrapy has installed the reactor (importing it earlier
    would install another)."""
    from twisted.internet import reactor

    return lookups_of(reactor, settings)


class LookupMiddleware:
    """Look a request's host up before it is sent, within the bound (not when a proxy resolves it: Scrapy's
    HttpProxyMiddleware, before this one, has set ``proxy``)."""

    def __init__(self, lookups: Lookups):
        self.lookups = lookups

    @classmethod
    def from_crawler(cls, crawler: Any) -> LookupMiddleware:
        """The middleware of a crawl, on the crawl's shared lookups."""
        return cls(crawl_lookups(crawler.settings))

    async def process_request(self, request: Any) -> None:
        """Look the request's host up (within ``DNS_TIMEOUT`` seconds) before it is sent, unless a proxy will; a
        lookup past its bound raises :class:`~policy_archive.crawler.names.LookupTimedOut`, failing the request with
        its words."""
        host = urlparse_cached(request).hostname
        if host and not request.meta.get("proxy"):
            await maybe_deferred_to_future(self.lookups.addresses(host))


# --- the resolver the connections use ----------------------------------------------------------------------


@implementer(IHostResolution)
class Resolution:
    """What a resolution receiver is told of a lookup begun: its name (Twisted's ``IHostResolution``)."""

    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # nor can Twisted's own resolutions be cancelled (HostResolution, Twisted 26.10)
        """Always raises ``NotImplementedError``: a lookup blocked on its thread cannot be stopped."""
        raise NotImplementedError


@implementer(IHostnameResolver)
class BoundedResolver:
    """Twisted's name resolver (``getaddrinfo``), its lookups made by :class:`Lookups`: bounded, off the reactor's
    pool, kept for the run. A lookup that failed or gave no answer in time resolves to no address (Twisted then
    fails the connection as a DNS lookup error); the request's own lookup, made first, has said why.

    Scrapy's ``TWISTED_DNS_RESOLVER`` of an archive crawl; a live crawl's ``GuardedResolver`` wraps it."""

    def __init__(self, reactor: Any, lookups: Lookups):
        self.reactor = reactor
        self.lookups = lookups

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> BoundedResolver:
        """The resolver of a crawl, on the crawl's shared lookups."""
        # Scrapy passes the CrawlerProcess here, whose settings are the crawl's (scrapy.crawler, 2.19).
        return cls(reactor, lookups_of(reactor, crawler.settings))

    def install_on_reactor(self) -> None:
        """Make this the reactor's name resolver (what Scrapy calls on ``TWISTED_DNS_RESOLVER``)."""
        self.reactor.installNameResolver(self)

    def resolveHostName(  # noqa: N802 -- Twisted's interface
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        """Resolve ``hostName`` through :class:`Lookups`, telling ``resolutionReceiver`` each address of the wanted
        types (IPv4 and IPv6 when none are named); a lookup that fails or times out completes with no address."""
        resolution = Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        wanted = tuple(addressTypes) if addressTypes else (IPv4Address, IPv6Address)

        def deliver(found: Found) -> None:
            for family, sockaddr in found:
                address = _address(family, sockaddr, portNumber, transportSemantics)
                if address is not None and isinstance(address, wanted):
                    resolutionReceiver.addressResolved(address)

        looked_up = self.lookups.addresses(hostName)
        looked_up.addCallbacks(deliver, lambda _failure: None)
        looked_up.addBoth(lambda _: resolutionReceiver.resolutionComplete())
        return resolution


def _address(family: int, sockaddr: tuple[Any, ...], port: int, semantics: str) -> IAddress | None:
    """The Twisted address of one getaddrinfo answer, at ``port`` (as Twisted's own GAIResolver makes it)."""
    if family == socket.AF_INET:
        return IPv4Address(semantics, sockaddr[0], port)
    if family == socket.AF_INET6:
        return IPv6Address(semantics, sockaddr[0], port, *sockaddr[2:])
    return None
