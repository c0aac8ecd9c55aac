"""Which addresses are internal, and which URLs name one by their host alone: the one classification of the
internal-address rule (issue 11), free of Scrapy and Twisted so that what reads URLs without fetching them
(``discover``'s link chooser, ``import-ota``) uses it too.

The live crawl checks every request on the addresses it connects to (crawler/addresses.py), except the origins
a person wrote in the configuration. A URL that a tool writes into the configuration from content someone else
controls (an archived home page's link or ``<base href>``, a third party's declaration) would get that exemption
without anyone having chosen it (acceptance report 5, finding 2): such a URL is never proposed when its host is
an internal address literal, in any spelling the system's resolver reads (``127.1``, ``2130706433``,
``0x7f.0.0.1``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``), or a name of the local host (``localhost``,
``*.localhost``: RFC 6761) — nor, for ``discover``, a name that resolves to an internal address
(:class:`Proposals`).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from policy_archive.crawler.names import LookupTimedOut, lookup_within
from policy_archive.records import DEFAULT_PORTS

Origin = tuple[str, str, int]

# Lookups of one look_up_all under way at once. Not a thread per name: each lookup under way holds a socket (and two
# threads), and a process commonly gets 1,024 descriptors (ulimit -n); a collection of a few thousand declarations
# would exhaust them, and its lookups would then fail as names without an address. Not few either: a resolver may
# drop queries in a burst and answer them at its retry (glibc: 5 s), so each round of lookups can cost 5-10 s.
# Measured 2026-11-28 on the 374 fetch names of contrib-declarations 0b10dd6, on a resolver without Internet (load
# ~8, 2 CPUs): one at a time 71 s; 32 at once 70 s, 64: 40 s, 128: 30 s, 256: 20 s, all at once 10 s. 256: two rounds
# for such a collection, a quarter of the usual descriptors.
LOOKUPS_AT_ONCE = 256


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an http(s) URL, the port made explicit; None for anything else. A port written
    as 0 stays 0: it is no other origin's (``http://h:0/`` was read as ``http://h/``'s, port 80, and so allowed
    wherever that was declared), and no request to it is made (:func:`port_zero`)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), DEFAULT_PORTS[parts.scheme] if port is None else port


def port_zero(url: str) -> bool:
    """Whether ``url`` names port 0 (``http://host:0/``): TCP's reserved port, on which no server can listen
    (binding to 0 picks another port), so nothing is connected to for it; Twisted would try and Linux would say
    "connection refused", as if a server had."""
    try:
        return urlsplit(url).port == 0
    except ValueError:
        return False


def internal_kind(address: str) -> str | None:
    """Why ``address`` (an IP address as text) is internal — loopback, link-local, site-local, private, multicast,
    reserved, unspecified, or otherwise not globally routable — or None for a public address. An IPv6 address that
    carries an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo, IPv4-compatible or -translated) is judged by it:
    ``loopback (NAT64 address of 127.0.0.1)`` for 64:ff9b::7f00:1, None for 64:ff9b::808:808; one whose interface
    id is ISATAP's is internal when its IPv4 address is, else judged by its prefix."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 scope id (fe80::1%eth0)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 connects to 127.0.0.1
    if isinstance(ip, ipaddress.IPv6Address) and (isatap := _isatap(ip)) is not None:
        # ISATAP (RFC 5214) tunnels IPv6 over the IPv4 network of a site: a router of that site delivers to the
        # IPv4 address in the interface id, whatever the /64 prefix before it (a global one included) says. So an
        # internal IPv4 address there is refused; a public one leaves the judgement to the prefix, as any IPv6
        # address (fe80::5efe:8.8.8.8 is link-local still) (issue 11, 2026-11-29).
        if (kind := internal_kind(str(isatap))) is not None:
            return f"{kind} (ISATAP address of {isatap})"
    if isinstance(ip, ipaddress.IPv6Address) and (embedding := _embedding(ip)) is not None:
        # An address that carries an IPv4 address a host reaches through it (a NAT64 translator, a 6to4 relay, a
        # Teredo or IPv4-compatible tunnel) is judged by that IPv4 address, both ways, the same for every form
        # (issue 11, outside audit A F5, 2026-11-29): 64:ff9b::7f00:1 reaches 127.0.0.1. Not by its IPv6 range,
        # which Python's ipaddress judges differently in each version (3.11.2 files 2002::/16 as private, 3.11.7
        # as global; all of 64:ff9b::/96 is reserved to both, seen 2026-11-29) and which says nothing of where a
        # translator or relay connects.
        form, carried, local_use = embedding
        for ipv4 in carried:
            if (kind := internal_kind(str(ipv4))) is not None:
                return f"{kind} ({form} address of {ipv4})"
        return _LOCAL_USE_NAT64 if local_use else None
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # before private: 169.254.0.0/16 is both
        # fec0::/10, IPv6's first private range (RFC 3513), deprecated by RFC 3879 (2004) but still routed inside
        # networks that kept it: Python's ipaddress files it neither private nor reserved, and global (3.11.7, seen
        # 2026-11-29; outside audit 31, F8).
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        # 100.64.0.0/10 (carrier-grade NAT; Alibaba Cloud's metadata service is 100.100.100.200), 192.0.0.0/24...
        ("not globally routable", not ip.is_global),
    )
    return next((kind for kind, matches in checks if matches), None)


def _embedding(ip: ipaddress.IPv6Address) -> tuple[str, tuple[ipaddress.IPv4Address, ...], bool] | None:
    """The IPv4 addresses ``ip`` carries, if it is of a form that does (its name, the addresses, whether it is of
    the local-use NAT64 range), or None. IPv4-mapped addresses (::ffff:0:0/96) are IPv4 addresses already."""
    value = int(ip)
    low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip in _NAT64_WELL_KNOWN:
        return "NAT64", (low,), False
    if ip in _NAT64_LOCAL_USE:
        return "NAT64", (low,), True
    if ip.sixtofour is not None:
        return "6to4", (ip.sixtofour,), False
    if ip.teredo is not None:
        # Its client (where the relay delivers it) and its server (where a Teredo host sends its first bubble).
        server, client = ip.teredo
        return "Teredo", (client, server), False
    if value >> 32 == 0 and value > 1:  # :: and ::1 are unspecified and loopback as themselves
        return "IPv4-compatible", (low,), False
    if value >> 32 == 0xFFFF0000:  # ::ffff:0:a.b.c.d, SIIT's IPv4-translated form (RFC 2765)
        return "IPv4-translated", (low,), False
    return None


def _isatap(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address in ``ip``'s interface id if it is an ISATAP one (RFC 5214: ``::0:5efe:a.b.c.d``,
    ``::200:5efe:a.b.c.d`` when the IPv4 address is global; its group bit, 0x100, taken as it comes), or None."""
    value = int(ip)
    if (value >> 32) & _ISATAP_MASK != _ISATAP_ID:
        return None
    return ipaddress.IPv4Address(value & 0xFFFFFFFF)


# An ISATAP interface id's upper 32 bits: the IANA OUI 00-00-5E and 0xFE, with the "u" and "g" bits (0x0300....)
# masked, since RFC 5214 sets "u" by where the IPv4 address is unique, not by where it leads.
_ISATAP_ID = 0x00005EFE
_ISATAP_MASK = 0xFCFFFFFF
# RFC 6052's well-known prefix: the IPv4 address is the last 32 bits, always.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 8215's local-use prefix, carved into a network's own translation prefixes of any RFC 6052 length (/48 to /96):
# where the IPv4 address sits in it, and so which one it reaches, is that network's choice, which nothing here knows.
# Refused whatever it seems to carry (IANA: not globally reachable), named by its last 32 bits when they are an
# internal address.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_LOCAL_USE_NAT64 = "not globally routable (local-use NAT64 range 64:ff9b:1::/48, whose IPv4 address is the network's)"


def is_ip_literal(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address rather than a name (an IPv6 zone, ``%eth0``, allowed)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def literal_address(host: str) -> str | None:
    """The IP address ``host`` (a URL's host, brackets off) names by itself, or None for a name: an IPv6 or
    dotted IPv4 address, or any other IPv4 spelling the C library reads as one and so connects to without a
    lookup (inet_aton: ``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``), a final dot allowed."""
    name = host.rstrip(".") if host.endswith(".") and not host.endswith("..") else host
    if is_ip_literal(name):
        return name
    if not name or not all(character.isalnum() or character == "." for character in name):
        return None  # inet_aton reads on past a space: never hand it one
    try:
        return str(ipaddress.IPv4Address(socket.inet_aton(name)))
    except OSError:
        return None


def internal_host(host: str) -> str | None:
    """Why ``host`` names an internal address by itself, without a lookup (``127.0.0.1, loopback``,
    ``2130706433 is 127.0.0.1, loopback``, ``localhost, a name of the local host``), or None."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host}, a name of the local host"
    address = literal_address(host)
    kind = internal_kind(address) if address is not None else None
    if address is None or kind is None:
        return None
    return f"{address}, {kind}" if address == host else f"{host} is {address}, {kind}"


def internal_url(url: str, named: Iterable[str] = ()) -> str | None:
    """Why ``url``, written by a tool from content someone else controls, may not be proposed: its host names an
    internal address (:func:`internal_host`); None when it does not, or when its host and port are those of one of
    the ``named`` URLs, which a person wrote (``discover --live http://127.0.0.1:8080``)."""
    origin = origin_of(url)
    if origin is None or (reason := internal_host(origin[1])) is None:
        return None
    named_endpoints = {named_origin[1:] for named_origin in map(origin_of, named) if named_origin is not None}
    return None if origin[1:] in named_endpoints else reason


class NameAddresses:
    """What the names a run would propose lead to, each looked up once per run (:func:`~crawler.names.lookup_within`,
    at most ``seconds``): an address literal is classified without a lookup, but a public name may resolve to an
    internal address (``127.0.0.1.nip.io``), and written into the configuration it would be exempt from the live
    crawl's check as a declared origin. A name that gives no address (none, or none within the bound) cannot be
    classified: it is kept, and why is kept in ``unresolved`` for the run to say.

    Any thread may ask: a crawl looks names up on threads before its own thread reads the page
    (:meth:`Proposals.looking_up`); a name asked while its lookup is under way waits for that one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.unresolved: dict[str, str] = {}  # host → why its addresses are not known
        self._internal: dict[str, Future[str | None]] = {}  # host → why it is internal, or None
        self._lock = threading.Lock()

    def internal(self, host: str) -> str | None:
        """Why the name ``host`` leads to an internal address (``127.0.0.1.nip.io is 127.0.0.1, loopback``), or
        None: public, or unresolved."""
        with self._lock:
            answer = self._internal.get(host)
            asking = answer is None
            if answer is None:
                answer = self._internal[host] = Future()
        if asking:
            try:
                answer.set_result(self._look_up(host))
            except BaseException as error:  # noqa: BLE001 -- raised to every caller asking for this name
                answer.set_exception(error)
        return answer.result()  # within the bound: the lookup under way is bounded

    def look_up_all(self, hosts: Iterable[str]) -> None:
        """Look up every name of ``hosts`` not known yet, at most :data:`LOOKUPS_AT_ONCE` at once (each on a thread,
        each within the bound), so that :meth:`internal` then answers them at once."""
        waiting = list(dict.fromkeys(hosts))
        taking = threading.Lock()

        def look_up_next() -> None:
            while True:
                with taking:
                    if not waiting:
                        return
                    host = waiting.pop(0)
                try:
                    self.internal(host)
                except Exception:  # noqa: BLE001, S112 -- kept in its answer, raised to whoever asks for the name
                    continue

        threads = [
            threading.Thread(target=look_up_next, name=f"lookups {index}", daemon=True)
            for index in range(min(len(waiting), LOOKUPS_AT_ONCE))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _look_up(self, host: str) -> str | None:
        try:
            found = lookup_within(host, self.seconds)
        except LookupTimedOut as error:
            self.unresolved[host] = str(error)
            return None
        if not found:
            self.unresolved[host] = f"{host} has no address (its DNS lookup found none)"
        kinds = ((sockaddr[0], internal_kind(sockaddr[0])) for _, sockaddr in found)
        return next((f"{host} is {address}, {kind}" for address, kind in kinds if kind), None)


@dataclass(frozen=True)
class Proposals:
    """Which URLs a tool may propose for the configuration (``discover``): none whose host is an internal address,
    by its spelling (:func:`internal_url`) or, for any name but a ``named`` home page's host itself, by what it
    resolves to (``names``; None: names not looked up).

    A name under the named host is looked up like any other (``www.example.org``, ``intranet.example.org`` for
    ``example.org``): that the named site links it says nothing of where it points (``internal.example.org`` →
    10.0.0.5 is an ordinary split-horizon setup, and a subdomain may be a CNAME to a third party), and once
    written with ``--write`` it would be a URL of the configuration. The named host itself is not: the person
    typed it (``discover --live http://intranet.example/`` is intranet use, as the named literal
    ``http://127.0.0.1:8080`` is), and what ``--write`` writes is held to the live crawl's check anyway
    (``written_by``, decision 0009). It is the name that is excepted, on any port: its lookup would give the
    same addresses whatever the port."""

    named: tuple[str, ...] = ()
    names: NameAddresses | None = None

    def refusal(self, url: str) -> str | None:
        """Why ``url`` is never proposed (:func:`internal_host`'s words), or None."""
        if (literal := internal_url(url, self.named)) is not None:
            return literal
        origin = origin_of(url)
        if origin is None or self.names is None or literal_address(origin[1]) is not None:
            return None
        if origin[1] in {named[1] for named in map(origin_of, self.named) if named is not None}:
            return None
        return self.names.internal(origin[1])

    def unresolved(self, url: str | None) -> str | None:
        """Why whether ``url`` leads to an internal address is not known (its name gave no address), or None."""
        origin = origin_of(url) if url else None
        if origin is None or self.names is None:
            return None
        return self.names.unresolved.get(origin[1])

    def collecting(self) -> tuple[Proposals, list[str]]:
        """These proposals with names collected rather than looked up (each said public meanwhile), and the list
        that collects them in the order asked: a reading made with them, then ``names.look_up_all`` of that list,
        finds every name it asks ready when it is made again with these proposals."""
        collected = _CollectedNames(self.names.seconds if self.names else 0)
        return replace(self, names=collected), collected.hosts

    def looking_up(self, read: Callable[[Proposals], object]) -> Callable[[], None] | None:
        """Work for a thread other than the crawl's: ``read`` (a page's reading, made with these proposals) made
        with names collected rather than looked up, then those names looked up all at once, so that the same
        reading made afterwards on the crawl's thread finds every answer ready instead of waiting there for each
        (a page linking two slow names held every other page of the crawl for twice the bound). None when these
        proposals look no name up."""
        names = self.names
        if names is None:
            return None

        def work() -> None:
            collecting, hosts = self.collecting()
            read(collecting)
            names.look_up_all(hosts)

        return work


class _CollectedNames(NameAddresses):
    """The names a reading would look up, kept in the order asked, none looked up (each said public meanwhile)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.hosts: list[str] = []

    def internal(self, host: str) -> str | None:
        self.hosts.append(host)
        return None


# Literal addresses only, no home page named and no lookup: what reads a page's links without proposing them.
LITERALS_ONLY = Proposals()
