"""Whether a listed row is a capture of the URL asked for: the archive's key of a URL (its SURT), computed here.

A Wayback-compatible archive files its captures under a canonical key of their URL (the CDX ``urlkey``, a SURT
such as ``com,acrcloud)/privacy``) and answers an exact query (``matchType=exact``, the default of the Internet
Archive's CDX server and of pywb, and what every listing of ours asks) with every row filed under the asked URL's
key. So a row may differ from the asked URL in scheme, a ``www.``/``www1.`` prefix, a default port, user info,
letter case, a trailing slash, percent-escapes, the order of query arguments and a session id — the real answers
recorded in ``tests/fixtures/cdx`` list ``http://www1.nasa.gov:80/`` for ``nasa.gov`` and
``http://thomas.kohl@zew.de/`` for ``zew.de`` — but never in host or path.

:func:`match_key` is that key as the Internet Archive computes it: archive-commons' ``IAURLCanonicalizer``
after its ``GoogleURLCanonicalizer``, whose Python port, the ``surt`` package, pywb uses too (read in surt 0.3.1,
2026-11); ``tests/test_urlkey.py`` checks it against the urlkey of every real row recorded and against ``surt``.
Left out: an IP address written in decimal or octal form (``http://2130706433/``) is not rewritten — archive-commons
turns it into dotted form through a DNS lookup, which this check does not make — so such a URL matches only itself
written alike.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, quote_from_bytes, unquote_to_bytes, urlsplit

from policy_archive.records import DEFAULT_PORTS

# What the canonicaliser leaves unescaped (archive-commons' escapeOnce): printable ASCII but ``#`` and ``%``.
_SAFE = b"!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_WWW = re.compile(rb"www\d*\.")
# Session ids the canonicaliser drops, as archive-commons writes them (URLRegexTransformer, 2026-11): crawlers
# capture a page with the session id its links carried, and the archive files it under the page.
_QUERY_SESSION_IDS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rb"^(.*)(?:jsessionid=[0-9a-z]{32})(?:&(.*))?$",
        rb"^(.*)(?:phpsessid=[0-9a-z]{32})(?:&(.*))?$",
        rb"^(.*)(?:sid=[0-9a-z]{32})(?:&(.*))?$",
        rb"^(.*)(?:aspsessionid[a-z]{8}=[a-z]{24})(?:&(.*))?$",
        rb"^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$",
    )
)
_PATH_SESSION_IDS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rb"^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^?]+\.aspx.*)$",
        rb"^(.*/)(\([0-9a-z]{24}\)/)([^?]+\.aspx.*)$",
    )
)


def match_key(url: str) -> str:
    """The key a Wayback-compatible archive files ``url``'s captures under (a URL without a scheme is http):
    ``https://www.ACRCloud.com:443/Privacy/?b=2&a=1`` → ``com,acrcloud)/privacy?a=1&b=2``."""
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"http://{text}")
    host = b",".join(reversed(_host(parts).split(b".")))
    key = host + _port(parts) + b")" + _path(parts.path) + _query(parts.query)
    return key.decode("ascii")  # escaped: ASCII only


def _host(parts: SplitResult) -> bytes:
    """Lowercased, without user info, international names in their IDNA form, no leading ``www.``/``www1.``."""
    host = _unescaped(parts.hostname or "")
    if not host.isascii():
        try:
            host = host.decode("utf-8", "ignore").encode("idna")
        except UnicodeError:
            pass  # the canonicaliser keeps a name IDNA refuses as it is
    host = _escaped(host.replace(b"..", b".").strip(b".").lower())
    www = _WWW.match(host)
    return host[www.end() :] if www else host


def _port(parts: SplitResult) -> bytes:
    """``:8080``; nothing for the scheme's default port."""
    try:
        port = parts.port
    except ValueError:  # not a number: kept as written, so it matches only itself
        return b":" + _escaped(parts.netloc.rpartition(":")[2].encode("utf-8", "surrogateescape"))
    if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()):
        return b""
    return f":{port}".encode("ascii")


def _path(path: str) -> bytes:
    """Escaped once, dot segments resolved, lowercased, session ids dropped, no trailing slash but ``/``."""
    normal = _escaped(_normal_path(_unescaped(path))).lower()
    for pattern in _PATH_SESSION_IDS:
        if match := pattern.match(normal):
            normal = match[1] + match[3]
    return normal[:-1] if len(normal) > 1 and normal.endswith(b"/") else normal


def _normal_path(path: bytes) -> bytes:
    """``/a/./b/../c//d`` → ``/a/c/d``: archive-commons' ``normalizePath`` (an empty last segment stays)."""
    if not path:
        return b"/"
    kept: list[bytes] = []
    for segment in path.split(b"/")[1:]:
        if segment == b".":
            continue
        if segment == b".." and kept:
            kept.pop()
        else:
            kept.append(segment)
    if not kept:
        return b"/"
    return b"/" + b"".join(segment + b"/" for segment in kept[:-1] if segment) + kept[-1]


def _query(query: str) -> bytes:
    """``?a=1&b=2``: escaped once, session ids dropped, lowercased, arguments sorted; nothing when empty."""
    text = _escaped(_unescaped(query))
    for pattern in _QUERY_SESSION_IDS:
        if match := pattern.match(text):
            text = match[1] + match[2] if match[2] else match[1]
    if not text:
        return b""
    arguments = sorted(tuple(argument.split(b"=", 1)) for argument in text.lower().split(b"&"))
    return b"?" + b"&".join(b"=".join(argument) for argument in arguments)


def _escaped(data: bytes) -> bytes:
    """Every byte outside printable ASCII, and ``#`` and ``%``, escaped (``%E2%80%A2``)."""
    return quote_from_bytes(data, safe=_SAFE).encode("ascii")


def _unescaped(text: str) -> bytes:
    """Percent-escapes decoded until none is left (``%2541`` → ``%41`` → ``A``), as the canonicaliser does."""
    data = text.encode("utf-8", "surrogateescape")
    while (decoded := unquote_to_bytes(data)) != data:
        data = decoded
    return data
