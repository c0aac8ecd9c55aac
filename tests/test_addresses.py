"""The address policy of live fetches (crawler/addresses.py): which addresses are internal, which origins the
configuration allows, and the resolver that keeps connections from reaching inside after the check."""

from __future__ import annotations

import ipaddress

import pytest
from twisted.internet.address import IPv4Address, IPv6Address

from policy_archive.crawler.addresses import AddressPolicy, GuardedResolver, internal_kind, origin_of


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
        # 6to4 of 93.184.215.14, a public address: judged as IPv6 then, which Python's ipaddress files as private in
        # 3.11.2 (Debian 12's, CI's) and as global in 3.11.7 (seen 2026-11-29): refused on the safe side there.
        ("2002:5db8:d70e::1", "private" if ipaddress.ip_address("2002:5db8:d70e::1").is_private else None),
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ],
)
def test_internal_addresses_and_their_kind(address, kind):
    assert internal_kind(address) == kind


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
