"""The address policy of live fetches (crawler/addresses.py): which addresses are internal, which origins the
configuration allows, and the resolver that keeps connections from reaching inside after the check."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
import scrapy
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address

from policy_archive.crawler.addresses import (
    AddressPolicy,
    GuardedResolver,
    PortZeroRefused,
    PrivateAddressMiddleware,
    internal_kind,
    origin_of,
)

LOCAL_USE_NAT64 = "not globally routable (local-use NAT64 range 64:ff9b:1::/48, whose IPv4 address is the network's)"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        # IPv6's deprecated site-local range, fec0::/10 (outside audit 31, F8: it was public to Python's ipaddress).
        ("fec0::1", "site-local"),
        ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local"),
        ("fec0::1%eth0", "site-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "private"),  # Python files 240.0.0.0/4 as private (and reserved): refused either way
        ("100.100.100.200", "not globally routable"),  # carrier-grade NAT; Alibaba Cloud's metadata service
        # 6to4 and Teredo addresses are judged by the IPv4 address inside (outside audit A, F5).
        ("2002:7f00:1::", "loopback (6to4 address of 127.0.0.1)"),
        ("2002:a9fe:a9fe::1", "link-local (6to4 address of 169.254.169.254)"),
        ("2002:0a00:0001:1::5", "private (6to4 address of 10.0.0.1)"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback (Teredo address of 127.0.0.1)"),
        # 6to4 of 93.184.215.14, a public address: as public as it, on every Python (3.11.2, Debian 12's and CI's,
        # files all of 2002::/16 as private, 3.11.7 as global: it was refused on one and not the other).
        ("2002:5db8:d70e::1", None),
        ("2001:0:4136:e378:8000:63bf:a247:28f1", None),  # Teredo: server 65.54.227.120, client 93.184.215.14
        ("2001:0:a00:1:8000:63bf:a247:28f1", "private (Teredo address of 10.0.0.1)"),  # its server inside
        # NAT64 (issue 11): the well-known prefix's last 32 bits are the IPv4 address the translator connects to.
        # Both were "reserved" before (all of ::/8 is, to Python): 64:ff9b::808:808 refused, on IPv6-only networks.
        ("64:ff9b::7f00:1", "loopback (NAT64 address of 127.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "link-local (NAT64 address of 169.254.169.254)"),
        ("64:ff9b::808:808", None),
        # The local-use prefix: where its IPv4 address sits is the network's choice, so refused whatever it carries.
        ("64:ff9b:1::7f00:1", "loopback (NAT64 address of 127.0.0.1)"),
        ("64:ff9b:1:2:3::808:808", LOCAL_USE_NAT64),
        # IPv4-compatible (deprecated, RFC 4291) and SIIT's IPv4-translated form: a tunnel connects to the IPv4 one.
        ("::7f00:1", "loopback (IPv4-compatible address of 127.0.0.1)"),
        ("::808:808", None),
        ("::ffff:0:a9fe:a9fe", "link-local (IPv4-translated address of 169.254.169.254)"),
        ("::ffff:0:808:808", None),
        ("::ffff:8.8.8.8", None),
        # ISATAP (RFC 5214): the interface id ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d carries the IPv4 address a
        # router of the site delivers to, whatever the prefix; a public one leaves the judgement to the prefix.
        ("2606:2800:21f:cb07:0:5efe:a00:1", "private (ISATAP address of 10.0.0.1)"),
        ("2606:2800:21f:cb07:200:5efe:7f00:1", "loopback (ISATAP address of 127.0.0.1)"),
        ("2606:2800:21f:cb07:200:5efe:a9fe:a9fe", "link-local (ISATAP address of 169.254.169.254)"),
        ("fe80::5efe:c0a8:101", "private (ISATAP address of 192.168.1.1)"),
        ("2002:5db8:d70e:1:0:5efe:a00:1", "private (ISATAP address of 10.0.0.1)"),  # behind a public 6to4 prefix
        ("2606:2800:21f:cb07:200:5efe:808:808", None),
        ("2606:2800:21f:cb07:0:5efe:808:808", None),
        ("fe80::200:5efe:808:808", "link-local"),  # a public IPv4 address behind a link-local prefix
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ],
)
def test_internal_addresses_and_their_kind(address, kind):
    assert internal_kind(address) == kind


# --- IPv6 addresses that carry an IPv4 address are judged by it (issue 11) -----------------------------------------

IPV4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
# Internal ranges drawn more often than a uniform draw would (a few in 2**32 otherwise).
IPV4_INSIDE_OFTEN = st.one_of(
    IPV4,
    st.sampled_from(["127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10", "192.168.0.0/16", "0.0.0.0/8"])
    .map(ipaddress.IPv4Network)
    .flatmap(lambda net: st.integers(0, net.num_addresses - 1).map(lambda at: net[at])),
)
BITS = st.integers(0, 2**128 - 1)


def _v6(value: int) -> str:
    return str(ipaddress.IPv6Address(value))


EMBEDDINGS = {
    # form: how an IPv4 address (and free bits the form leaves to anyone) make an IPv6 address of that form
    "IPv4-mapped": lambda ipv4, _bits: _v6(0xFFFF << 32 | int(ipv4)),
    "NAT64": lambda ipv4, _bits: _v6(0x0064FF9B << 96 | int(ipv4)),
    "6to4": lambda ipv4, bits: _v6(0x2002 << 112 | int(ipv4) << 80 | bits & (2**80 - 1)),
    "IPv4-compatible": lambda ipv4, _bits: _v6(int(ipv4)),
    "IPv4-translated": lambda ipv4, _bits: _v6(0xFFFF0000 << 32 | int(ipv4)),
}


@pytest.mark.parametrize("form", list(EMBEDDINGS))
@settings(deadline=None)  # no time limit: the suite runs under heavy load
@given(ipv4=IPV4_INSIDE_OFTEN, bits=BITS)
def test_an_address_carrying_an_ipv4_address_is_internal_exactly_when_that_one_is(form, ipv4, bits):
    address = EMBEDDINGS[form](ipv4, bits)
    kind = internal_kind(str(ipv4))
    carried = internal_kind(address)
    assert (carried is None) == (kind is None), (address, carried)
    if form == "IPv4-mapped":  # an IPv4 address in an IPv6 socket's spelling: judged as it, in its words
        assert carried == kind
    elif kind is not None and int(ipv4) > 1:  # ::, ::1 (IPv4-compatible 0.0.0.0, 0.0.0.1) are judged as themselves
        assert carried == f"{kind} ({form} address of {ipv4})"


@settings(deadline=None)  # no time limit: the suite runs under heavy load
@given(
    client=IPV4_INSIDE_OFTEN, server=IPV4_INSIDE_OFTEN, flags=st.integers(0, 2**16 - 1), port=st.integers(0, 2**16 - 1)
)
def test_a_teredo_address_is_internal_exactly_when_its_client_or_its_server_is(client, server, flags, port):
    # 2001:0000:SERVER:FLAGS:PORT:CLIENT, port and client written with their bits inverted (RFC 4380).
    value = 0x20010000 << 96 | int(server) << 64 | flags << 48 | (port ^ 0xFFFF) << 32 | int(client) ^ 0xFFFFFFFF
    address = _v6(value)
    assert ipaddress.IPv6Address(address).teredo == (server, client)
    expected = internal_kind(str(client)) is not None or internal_kind(str(server)) is not None
    assert (internal_kind(address) is not None) == expected, address


@settings(deadline=None)  # no time limit: the suite runs under heavy load
@given(ipv4=IPV4_INSIDE_OFTEN, network_bits=st.integers(0, 2**48 - 1))
def test_a_local_use_nat64_address_is_always_internal_and_named_by_its_last_32_bits_when_they_are(ipv4, network_bits):
    address = _v6(0x0064FF9B0001 << 80 | network_bits << 32 | int(ipv4))
    kind = internal_kind(str(ipv4))
    assert internal_kind(address) == (LOCAL_USE_NAT64 if kind is None else f"{kind} (NAT64 address of {ipv4})")


@settings(deadline=None)  # no time limit: the suite runs under heavy load
@given(ipv4=IPV4_INSIDE_OFTEN, prefix=st.sampled_from(["2606:2800:21f:cb07::", "2002:5db8:d70e:1::", "fe80::"]))
@pytest.mark.parametrize("bits", [0x0000, 0x0100, 0x0200, 0x0300])  # the interface id's "u" and "g" bits
def test_an_isatap_address_is_internal_when_its_ipv4_address_is_else_as_its_prefix(ipv4, prefix, bits):
    # PREFIX:0000:5efe:a.b.c.d (RFC 5214), "u" and "g" bits as they come: the site's router delivers to a.b.c.d.
    address = _v6(int(ipaddress.IPv6Address(prefix)) | (bits << 16 | 0x5EFE) << 32 | int(ipv4))
    kind = internal_kind(str(ipv4))
    if kind is not None:
        assert internal_kind(address) == f"{kind} (ISATAP address of {ipv4})"
    else:  # judged by its prefix alone, as the same prefix with another interface id is
        assert internal_kind(address) == internal_kind(_v6(int(ipaddress.IPv6Address(prefix)) | 1))


def test_only_the_declared_origins_are_allowed():
    policy = AddressPolicy(frozenset({origin_of("http://127.0.0.1:8080/privacy")}))
    assert policy.allows_url("http://127.0.0.1:8080/other/page")
    assert not policy.allows_url("http://127.0.0.1:8081/privacy")  # another port
    assert not policy.allows_url("https://127.0.0.1:8080/privacy")  # another scheme
    assert policy.refusal("http://127.0.0.1:8081/", ["127.0.0.1"]).startswith("private-address: ")
    assert policy.refusal("http://example.org/", ["93.184.215.14"]) is None
    assert "resolves to 10.0.0.1" in policy.refusal("http://intranet.example/", ["93.184.215.14", "10.0.0.1"])
    assert AddressPolicy(frozenset(), allow_private=True).refusal("http://127.0.0.1:1/", ["127.0.0.1"]) is None
    assert origin_of("https://Example.ORG/x") == ("https", "example.org", 443)


class FakeReactor:
    """A reactor whose name resolver answers a fixed list of addresses (a name rebound to an internal one)."""

    def __init__(self, addresses):
        self.nameResolver = self
        self.addresses = addresses

    def resolveHostName(self, receiver, host, port=0, address_types=None, semantics="TCP"):  # noqa: N802
        receiver.resolutionBegan(object())
        for address in self.addresses:
            receiver.addressResolved(address)
        receiver.resolutionComplete()


class Receiver:
    def __init__(self):
        self.addresses, self.complete = [], False

    def resolutionBegan(self, resolution):  # noqa: N802
        pass

    def addressResolved(self, address):  # noqa: N802
        self.addresses.append(address.host)

    def resolutionComplete(self):  # noqa: N802
        self.complete = True


def test_the_resolver_drops_internal_addresses_unless_the_endpoint_is_declared():
    rebound = [IPv4Address("TCP", "93.184.215.14", 80), IPv4Address("TCP", "127.0.0.1", 80)]
    rebound.append(IPv6Address("TCP", "::1", 80))
    # Connecting to 0.0.0.0 reaches this machine; an IPv4-mapped IPv6 address reaches the IPv4 one.
    rebound += [IPv4Address("TCP", "0.0.0.0", 80), IPv6Address("TCP", "::ffff:169.254.169.254", 80)]
    policy = AddressPolicy(frozenset({origin_of("http://declared.example:8080/")}))
    resolving = FakeReactor(rebound)
    resolver = GuardedResolver(resolving, policy, resolving)
    public_only = Receiver()
    resolver.resolveHostName(public_only, "evil.example", 80)
    assert public_only.addresses == ["93.184.215.14"] and public_only.complete
    # What a connection left with none is told:
    assert resolver.dropped[("evil.example", 80)] == ["127.0.0.1", "::1", "0.0.0.0", "::ffff:169.254.169.254"]
    declared = Receiver()
    resolver.resolveHostName(declared, "declared.example", 8080)
    assert declared.addresses == ["93.184.215.14", "127.0.0.1", "::1", "0.0.0.0", "::ffff:169.254.169.254"]
    other_port = Receiver()
    resolver.resolveHostName(other_port, "declared.example", 8081)
    assert other_port.addresses == ["93.184.215.14"]


# --- port 0 (issue 11) -----------------------------------------------------------------------------------------


def test_port_zero_is_no_declared_origin_and_a_request_to_it_is_refused_before_anything_is_asked():
    # http://127.0.0.1:0/ was read as http://127.0.0.1/'s origin (port 80), allowed wherever that was declared.
    assert origin_of("http://127.0.0.1:0/x") == ("http", "127.0.0.1", 0)
    assert not AddressPolicy(frozenset({origin_of("http://127.0.0.1/")})).allows_url("http://127.0.0.1:0/x")
    for policy in (AddressPolicy(frozenset({origin_of("http://127.0.0.1/")})), AddressPolicy(frozenset(), True)):
        middleware = PrivateAddressMiddleware(policy, lookups=None)  # nothing may be looked up: no lookups to ask
        with pytest.raises(PortZeroRefused) as refused:
            asyncio.run(middleware.process_request(scrapy.Request("http://127.0.0.1:0/x")))
        assert str(refused.value) == (
            "port-zero: http://127.0.0.1:0/x (port 0 is reserved: no server listens on it, so nothing was connected to)"
        )


def test_a_lookup_without_its_port_reaches_inside_only_for_a_proxy():
    # Port 0 is a lookup that does not say its port (Twisted's reactor.resolve: Scrapy's tunnel to a proxy); it once
    # stood for any declared port of the host, so a connection to HOST:0 of a declared host went unchecked.
    inside = [IPv4Address("TCP", "93.184.215.14", 0), IPv4Address("TCP", "127.0.0.1", 0)]
    resolving = FakeReactor(inside)
    declared = frozenset({origin_of("http://declared.example:8080/"), origin_of("http://proxy.example:3128")})
    resolver = GuardedResolver(resolving, AddressPolicy(declared, proxy_hosts=frozenset({"proxy.example"})), resolving)
    for host, expected in [("declared.example", ["93.184.215.14"]), ("proxy.example", ["93.184.215.14", "127.0.0.1"])]:
        receiver = Receiver()
        resolver.resolveHostName(receiver, host, 0)
        assert receiver.addresses == expected and receiver.complete, host
    assert resolver.dropped[("declared.example", 0)] == ["127.0.0.1"]
