"""No live fetch to an internal address (issue 11: server-side request forgery).

A tracked page is controlled by someone else: its redirect, or a public name that resolves inside, must not make
policy-archive fetch the cloud metadata service (169.254.169.254) or a service on localhost and record its answer.
Every live request is checked on the addresses it would connect to, in two places that share one policy:

- :class:`PrivateAddressMiddleware` (a downloader middleware, so it sees every request, each redirect hop and
  robots.txt included) refuses a literal internal IP and a name resolving to one, with reason ``private-address``;
- :class:`GuardedResolver` (Scrapy's ``TWISTED_DNS_RESOLVER``) drops internal addresses from every name resolution
  the connection itself makes, so a name that resolves to a public address for the check and to an internal one
  for the connection (DNS rebinding), or to both at once, still cannot connect inside: the address connected to is
  the one checked, by the resolver that hands it to the connection. A connection left with no address then fails
  as ``private-address`` in the check's words (:class:`DroppedAddressMiddleware`), not as a name not found.

Which addresses are internal is :mod:`crawler.hosts`'s to say. Origins (scheme, host, port) written in the
configuration are the operator's choice and allowed, and so are the proxies named by the environment
(``http_proxy``...), through which the connection then goes: a name the proxy resolves for us (one we cannot
resolve ourselves) is left to the proxy.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

from policy_archive.crawler import names
from policy_archive.crawler.hosts import Origin, internal_kind, is_ip_literal, origin_of, port_zero
from policy_archive.crawler.lookups import (
    BoundedResolver,
    Lookups,
    Resolution,
    crawl_lookups,
    lookups_of,
)
from policy_archive.errors import PolicyArchiveError
from policy_archive.records import DEFAULT_PORTS

log = logging.getLogger(__name__)

PRIVATE_ADDRESS = "private-address"
PORT_ZERO = "port-zero"
# Scrapy settings that carry the policy from policy-archive's configuration to the middleware and the resolver.
ALLOWED_ORIGINS_SETTING = "POLICY_ARCHIVE_ALLOWED_ORIGINS"
ALLOW_PRIVATE_SETTING = "POLICY_ARCHIVE_ALLOW_PRIVATE_ADDRESSES"


class PrivateAddressRefused(IgnoreRequest, PolicyArchiveError):
    """A live request refused because it would connect to an internal address; ``str()`` is the reason (an
    IgnoreRequest for Scrapy, which then calls the request's errback without logging an error)."""


class PortZeroRefused(IgnoreRequest, PolicyArchiveError):
    """A live request refused because its URL names port 0, on which no server can listen
    (:func:`~policy_archive.crawler.hosts.port_zero`): said, not attempted; ``str()`` is the reason."""

    def __init__(self, url: str):
        super().__init__(
            f"{PORT_ZERO}: {url} (port 0 is reserved: no server listens on it, so nothing was connected to)"
        )


def environment_proxies() -> list[str]:
    """The proxies the environment names (``http_proxy``, ``https_proxy``...): Scrapy connects through them."""
    return [url for scheme, url in urllib.request.getproxies().items() if scheme in DEFAULT_PORTS]


@dataclass(frozen=True)
class AddressPolicy:
    """Which internal endpoints a live crawl may reach: those of the declared origins (and proxies), or all."""

    allowed_origins: frozenset[Origin]
    allow_private: bool = False
    # The proxies' hosts: the one endpoint a connection is made to whose port its name lookup does not say.
    proxy_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Any) -> AddressPolicy:
        """From Scrapy settings (see :func:`crawler.settings.scrapy_settings`)."""
        proxies = [origin for origin in map(origin_of, environment_proxies()) if origin is not None]
        declared = [origin for origin in map(origin_of, settings.getlist(ALLOWED_ORIGINS_SETTING)) if origin]
        hosts = frozenset(host for _, host, _ in proxies)
        return cls(frozenset([*declared, *proxies]), settings.getbool(ALLOW_PRIVATE_SETTING), hosts)

    def allows_url(self, url: str) -> bool:
        """Whether ``url`` may be fetched whatever its host resolves to: private addresses are allowed, or its origin
        is declared (or a proxy's)."""
        return self.allow_private or origin_of(url) in self.allowed_origins

    def allows_endpoint(self, host: str, port: int) -> bool:
        """Whether a connection to ``host`` at ``port`` may reach any of its addresses. Port 0 is a lookup that
        does not say its port: Twisted's host-only lookup (``reactor.resolve``), which Scrapy 2.19 makes only
        for its tunnel to an ``https_proxy`` given by name (``TCP4ClientEndpoint``); so only a proxy's host is
        allowed then. It once stood for any declared port of the host, and a request to ``http://HOST:0/`` on a
        declared host got its internal addresses unchecked (:class:`PortZeroRefused` now stops it before)."""
        host = host.lower()
        if self.allow_private:
            return True
        if port == 0:
            return host in self.proxy_hosts
        return any(
            host == allowed_host and port == allowed_port for _, allowed_host, allowed_port in self.allowed_origins
        )

    def refusal(self, url: str, addresses: Iterable[str]) -> str | None:
        """The reason a request to ``url`` connecting to one of ``addresses`` is refused, or None."""
        if self.allows_url(url):
            return None
        for address in addresses:
            if kind := internal_kind(address):
                host = urlsplit(url).hostname or ""
                where = address if host == address else f"{host} resolves to {address}"
                return f"{PRIVATE_ADDRESS}: {url} ({where}, {kind}; set [crawl] allow_private_addresses to allow)"
        return None


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (blocking; run on a thread of crawler/lookups.py). Empty when it does
    not resolve."""
    return [str(sockaddr[0]) for _, sockaddr in names.system_lookup(host)]


# --- the check of every request ----------------------------------------------------------------------------


class PrivateAddressMiddleware:
    """Refuse, before it is sent, a live request whose host is or resolves to an internal address.

    Scrapy sends every request through the downloader middlewares, the requests RedirectMiddleware makes for each
    hop and RobotsTxtMiddleware's robots.txt requests included, so each hop is checked on its own."""

    def __init__(self, policy: AddressPolicy, lookups: Lookups):
        self.policy = policy
        self.lookups = lookups

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateAddressMiddleware:
        """The middleware of a crawl, with the crawl's address policy and its bounded lookups."""
        return cls(AddressPolicy.from_settings(crawler.settings), crawl_lookups(crawler.settings))

    async def process_request(self, request: Any) -> None:
        """Let ``request`` through, or raise :class:`PrivateAddressRefused` when its host is, or resolves to, an
        internal address it may not reach, and :class:`PortZeroRefused` when it names port 0, whatever the policy.
        The lookup is bounded like every lookup of the crawl
        (:class:`~policy_archive.crawler.names.LookupTimedOut` past it)."""
        if port_zero(request.url):  # a redirect's Location may name it; the configuration may not (config/checks)
            raise PortZeroRefused(request.url)
        if self.policy.allows_url(request.url):
            return
        parts = urlparse_cached(request)
        host = parts.hostname or ""
        if is_ip_literal(host):
            addresses = [host]
        else:  # bounded in time like every lookup; ``resolve`` read at each call (tests/standin/rebinding.py)
            addresses = await maybe_deferred_to_future(self.lookups.bounded(host, lambda: resolve(host)))
        if reason := self.policy.refusal(request.url, addresses):
            raise PrivateAddressRefused(reason)


# --- the resolver the connections use ----------------------------------------------------------------------


@implementer(IHostnameResolver)
class GuardedResolver:
    """The crawl's name resolver (crawler/lookups.py: bounded in time), minus the internal addresses of endpoints
    that are not allowed.

    Installed through Scrapy's ``TWISTED_DNS_RESOLVER`` (``DNS_RESOLVER`` before 2.19), it answers every
    resolution a connection makes — also for literal IP hosts, which Twisted's HostnameEndpoint resolves too.
    A name left with no address fails as a DNS lookup error, so nothing connects inside."""

    def __init__(self, reactor: Any, policy: AddressPolicy, original: IHostnameResolver):
        self.reactor = reactor
        self.policy = policy
        self.original = original
        # The internal addresses dropped, by endpoint (host, port): what a connection left with none is told.
        self.dropped: dict[tuple[str, int], list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        """The resolver of a live crawl: a :class:`~policy_archive.crawler.lookups.BoundedResolver` on the crawl's
        lookups, guarded by its address policy."""
        # Scrapy passes the CrawlerProcess here, whose settings are the crawl's (scrapy.crawler, 2.19).
        original = BoundedResolver(reactor, lookups_of(reactor, crawler.settings))
        return cls(reactor, AddressPolicy.from_settings(crawler.settings), original)

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
        """Resolve ``hostName`` for a connection: all its addresses for an allowed endpoint, else only the public
        ones, the internal ones noted in :attr:`dropped` for :class:`DroppedAddressMiddleware`."""
        if self.policy.allows_endpoint(hostName, portNumber):
            return self.original.resolveHostName(
                resolutionReceiver, hostName, portNumber, addressTypes, transportSemantics
            )
        dropped = self.dropped.setdefault((hostName.lower(), portNumber), [])
        receiver = _FilteringReceiver(resolutionReceiver, hostName, dropped)
        self.original.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)
        return Resolution(hostName)


@provider(IResolutionReceiver)
class _FilteringReceiver:
    def __init__(self, receiver: IResolutionReceiver, host: str, dropped: list[str]):
        self.receiver = receiver
        self.host = host
        self.dropped = dropped

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        kind = internal_kind(getattr(address, "host", ""))
        if kind is None:
            self.receiver.addressResolved(address)
        else:
            log.info("%s: not connecting to %s (%s: %s)", PRIVATE_ADDRESS, self.host, address.host, kind)
            if address.host not in self.dropped:
                self.dropped.append(address.host)

    def resolutionComplete(self) -> None:  # noqa: N802
        self.receiver.resolutionComplete()


class DroppedAddressMiddleware:
    """A connection that found no address because :class:`GuardedResolver` dropped the internal ones fails as
    ``private-address``, in the words of the check (``HOST resolves to 127.0.0.1, loopback``): Twisted says only
    that the lookup gave no result, which the page's failure line would read as a name not found.

    Placed above Scrapy's RetryMiddleware (550): ``process_exception`` is called from the highest priority down,
    so the refusal is made before a retry would ask again (and the refusal, an IgnoreRequest, is not retried)."""

    def __init__(self, policy: AddressPolicy, reactor: Any):
        self.policy = policy
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Any) -> DroppedAddressMiddleware:
        """The middleware of a crawl, with its address policy and the reactor whose resolver it reads."""
        from twisted.internet import reactor  # installed by Scrapy by now; importing it earlier would install another

        return cls(AddressPolicy.from_settings(crawler.settings), reactor)

    def process_exception(self, request: Any, exception: Exception) -> None:
        """Raise :class:`PrivateAddressRefused` when a lookup failure (no proxy) came from :class:`GuardedResolver`
        dropping the host's internal addresses; otherwise None, leaving the failure to the next middlewares."""
        # The resolver is read now: Scrapy installs it when the crawl starts, after the middlewares are made.
        resolver = self.reactor.nameResolver
        if not isinstance(exception, CannotResolveHostError | DNSLookupError) or request.meta.get("proxy"):
            return
        if not isinstance(resolver, GuardedResolver) or (origin := origin_of(request.url)) is None:
            return
        if (dropped := resolver.dropped.get(origin[1:])) and (reason := self.policy.refusal(request.url, dropped)):
            raise PrivateAddressRefused(reason)
