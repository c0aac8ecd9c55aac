"""Which addresses are internal, and which URLs name one by their host alone: the one classification of the
internal-address rule (issue 11), free of Scrapy and Twisted so that what reads URLs without fetching them
(``discover``'s link chooser, ``import-ota``) uses it too.

The live crawl checks every request on the addresses it connects to (crawler/addresses.py), except the origins
a person wrote in the configuration. A URL that a tool writes into the configuration from content someone else
controls (an archived home page's link or ``<base href>``, a third party's declaration) would get that exemption
without anyone having chosen it (acceptance report 5, finding 2): such a URL is never proposed when its host is
an internal address literal, in any spelling the system's resolver reads (``127.1``, ``2130706433``,
``0x7f.0.0.1``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``), or a name of the local host (``localhost``,
``*.localhost``: RFC 6761).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from policy_archive.records import DEFAULT_PORTS

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an http(s) URL, the port made explicit; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def internal_kind(address: str) -> str | None:
    """Why ``address`` (an IP address as text) is internal — loopback, link-local, private, multicast, reserved,
    unspecified, or otherwise not globally routable — or None for a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 scope id (fe80::1%eth0)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 connects to 127.0.0.1
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # before private: 169.254.0.0/16 is both
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        # 100.64.0.0/10 (carrier-grade NAT; Alibaba Cloud's metadata service is 100.100.100.200), 192.0.0.0/24...
        ("not globally routable", not ip.is_global),
    )
    return next((kind for kind, matches in checks if matches), None)


def is_ip_literal(host: str) -> bool:
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
