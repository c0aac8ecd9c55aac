"""Payload digests as archives list them: the algorithm a listing names and its value, compared with bytes.

A CDX row's digest names the payload of the record it indexes. The Internet Archive writes a bare base32 SHA-1
(``MGIGF4GRGGF5GKV6VNCBAXOE3OR5BTZC``); pywb's indexer copies the record's ``WARC-Payload-Digest`` and drops only a
``sha1:`` label, so a collection crawled by Browsertrix-crawler or written by warcio.js (their default since
2022, as of 2026-11) lists ``sha256:`` and 64 hex digits. WARC 1.1 names the algorithm before a colon and lets
the value be any RFC 4648 encoding; warcio 1.8 reads base32, hex and base64 (``digestverifyingreader.py``). So
a value is read in each of those, in the algorithm its label names, and compared as bytes: never a SHA-1 with a
SHA-256 (acceptance report 7, F2).

An algorithm Python's ``hashlib`` does not give us here, or a value that is no digest of its algorithm in any of
those encodings, cannot be compared: :meth:`PayloadDigest.names` says so (None), never "other bytes".
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass

# Algorithms compared, by the name a label gives once lower-cased without ``-``/``_`` (``SHA-256``, ``sha256``),
# with their digest sizes in bytes. All are in hashlib on every platform (``algorithms_guaranteed``).
ALGORITHMS = {"sha1": 20, "sha256": 32, "sha512": 64, "sha384": 48, "sha224": 28, "md5": 16}
# The Internet Archive's bare digests, and any unlabelled one: SHA-1 (its CDX documentation, as of 2026-11).
UNLABELLED = "sha1"
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_BASE32 = re.compile(r"[A-Za-z2-7]+=*")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+=*|[A-Za-z0-9_-]+=*")


@dataclass(frozen=True, slots=True)
class PayloadDigest:
    """A listed payload digest: ``algorithm`` (lower case, without ``-``: ``sha1``, ``sha256``, or whatever the
    listing named) and ``value`` as written, without its label. ``str()`` is how the catalog keeps it: a SHA-1
    bare, as the Internet Archive writes it and the catalog always kept it; any other ``algorithm:value``."""

    algorithm: str
    value: str

    @classmethod
    @functools.lru_cache(maxsize=4096)
    def parse(cls, text: str) -> PayloadDigest:
        """``sha256:6230…``, ``SHA-1:MGIG…``, ``MGIG…`` (unlabelled: SHA-1) as a digest; never raises. One object
        for each text read recently: a listing's rows of one page share a handful of digests (a million rows of
        one text held a million equal digests, 2026-11-29), and a digest is never changed."""
        label, colon, value = text.partition(":")
        if colon and _LABEL.fullmatch(label):
            return cls(label.lower().replace("-", "").replace("_", ""), value)
        return cls(UNLABELLED, text)

    def __str__(self) -> str:
        label, colon, _ = self.value.partition(":")
        bare = self.algorithm == UNLABELLED and not (colon and _LABEL.fullmatch(label))  # read back as written
        return self.value if bare else f"{self.algorithm}:{self.value}"

    @property
    def expected(self) -> bytes | None:
        """The digest's bytes, or None when they cannot be known: an algorithm not in :data:`ALGORITHMS`, or a
        value that is no digest of its size in hex, base32 or base64 (hex and base32 case-folded, as RFC 4648
        allows; an index may write base32 in lower case: acceptance report 6)."""
        size = ALGORITHMS.get(self.algorithm)
        if size is None:
            return None
        return _decoded(self.value.strip(), size)

    @property
    def base32_sha1(self) -> bool:
        """A SHA-1 written in base32: the only digest compared before 2026-11-28 (then as text, with the bytes'
        base32 SHA-1), and what a ``Payload-Sha1`` trailer holds."""
        value = self.value.strip()
        return self.algorithm == "sha1" and len(value) == 32 and _BASE32.fullmatch(value) is not None

    @property
    def comparable(self) -> bool:
        """Whether the digest's bytes can be known (:attr:`expected` is not None), so :meth:`names` can tell."""
        return self.expected is not None

    def names(self, payload: bytes) -> bool | None:
        """Whether ``payload`` is the bytes this digest names; None when that cannot be told (:attr:`expected`)."""
        expected = self.expected
        if expected is None:
            return None
        return hashlib.new(self.algorithm, payload).digest() == expected

    def of(self, payload: bytes) -> str:
        """``payload``'s digest in this one's algorithm, written as this one is (hex, else base32), for messages:
        what the bytes served have instead. Only for a :attr:`comparable` digest."""
        digest = hashlib.new(self.algorithm, payload).digest()
        value = self.value.strip()
        hexadecimal = len(value) == 2 * len(digest) and _HEX.fullmatch(value)
        return digest.hex() if hexadecimal else base64.b32encode(digest).decode("ascii")

    @property
    def algorithm_name(self) -> str:
        """``SHA-1``, ``SHA-256``, ``MD5``: the algorithm as people write it."""
        return self.algorithm.upper().replace("SHA", "SHA-")

    @property
    def why_not_comparable(self) -> str:
        """Why :meth:`names` cannot tell (for a digest that is not :attr:`comparable`)."""
        if self.algorithm not in ALGORITHMS:
            return f"policy-archive does not compute {self.algorithm or 'that algorithm'} digests"
        size = ALGORITHMS[self.algorithm]
        return f"its value is no {self.algorithm} digest ({size} bytes) in hex, base32 or base64"


def _decoded(value: str, size: int) -> bytes | None:
    """``value`` read as ``size`` bytes in hex, base32 or base64 (padding optional), or None. The encodings of one
    size never have the same length, so at most one can fit."""
    if len(value) == 2 * size and _HEX.fullmatch(value):
        return bytes.fromhex(value)
    unpadded = value.rstrip("=")
    if _BASE32.fullmatch(value) and len(unpadded) == -(-size * 8 // 5):
        try:
            decoded = base64.b32decode(unpadded.upper() + "=" * (-len(unpadded) % 8))
        except binascii.Error:
            decoded = b""
        if len(decoded) == size:
            return decoded
    if _BASE64.fullmatch(value) and len(unpadded) == -(-size * 4 // 3):
        altchars = b"-_" if ("-" in value or "_" in value) else None
        try:
            decoded = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), altchars=altchars, validate=True)
        except binascii.Error:
            return None
        if len(decoded) == size:
            return decoded
    return None
