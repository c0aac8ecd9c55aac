"""Host names as they go on the wire: an internationalised name in its ASCII (punycode) form, as browsers send it.

The one place a host is converted (the ``idna`` package lives behind this module). Browsers follow UTS #46 with
IDNA 2008, non-transitional: ``straße.example`` → ``xn--strae-oqa.example``. Python's own ``idna`` codec is
IDNA 2003, which maps ``ß`` to ``ss`` and so names another domain, ``strasse.example``; w3lib 2.5.0's
``safe_url_string``, which Scrapy applies to every request URL, uses that codec (read 2026-11), and so fetched
``strasse.example`` for a configured ``straße.example`` (audit 10). So every URL of ours is made ASCII here before
Scrapy or an archive's listing sees it: Scrapy then leaves its host alone. A name that cannot go on the wire — IDNA
refuses it (an empty label, a space, a disallowed character) or it is longer than DNS allows (RFC 1035: 63
octets a label, 253 the name in its dotted form), ASCII or not — is an :class:`UnusableHost`.

A host written percent-encoded (``http://stra%C3%9Fe.example/``, which a redirect's Location may carry) is read as
the WHATWG URL Standard reads it (host parsing, as of 2026-11): percent-decoded, the bytes read as UTF-8, then the
name converted as above, so it goes where browsers go (``xn--strae-oqa.example``). w3lib 2.5.0 passed it on
encoded, and its lookup failed under a name no server has.

IDNA's rule of where a name may hold a zero width joiner or non-joiner (:func:`joiner_in_context`) is read here
too, for the service names of the configuration (policy_archive/text.py).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import idna

from policy_archive.errors import PolicyArchiveError

HOST_MAX_LENGTH = 253  # RFC 1035's limit on a name in its dotted form (without a trailing dot)
LABEL_MAX_LENGTH = 63  # RFC 1035's limit on one label


class UnusableHost(PolicyArchiveError, ValueError):
    """A host name that cannot be sent: ``str(error)`` says why, naming it (a ValueError too, as ``urlsplit``'s
    refusals of a URL are)."""


def ascii_host(host: str) -> str:
    """``host`` as sent on the wire: an ASCII name unchanged (letter case kept), another with every label in its
    IDNA 2008 form after UTS #46 mapping (``Straße.example`` → ``xn--strae-oqa.example``; ``。`` and full-width
    letters are mapped too); a percent-encoded one decoded first (``stra%C3%9Fe.example``, as WHATWG's host
    parser reads it: UTF-8, a byte that is none replaced, which IDNA then refuses). Raises :class:`UnusableHost` for a
    name IDNA refuses (``%2F`` decoded is a ``/``) or longer than DNS allows."""
    converted = host
    decoded = unquote(host, errors="replace")  # WHATWG: percent-decode, then UTF-8 decode without BOM (replacing)
    if not decoded.isascii() or decoded != host:
        try:
            converted = idna.encode(decoded, uts46=True).decode("ascii")
        except UnicodeError as error:  # idna.IDNAError is one; so is a label punycode makes too long
            said = _said(str(error))  # idna's reason repeats the label, whole
            raise UnusableHost(f"the host {_quoted(host)} is not a valid internationalised name ({said})") from None
    name = converted.removesuffix(".")  # the root's dot is no part of the name's length
    if len(name) > HOST_MAX_LENGTH:
        raise UnusableHost(f"the host {_quoted(host)} is longer than {HOST_MAX_LENGTH} characters in its ASCII form")
    if any(len(label) > LABEL_MAX_LENGTH for label in name.split(".")):
        raise UnusableHost(
            f"the host {_quoted(host)} has a label longer than {LABEL_MAX_LENGTH} characters in ASCII form"
        )
    return converted


def _quoted(host: str) -> str:
    """``host`` as a message names it: escaped and bounded (:func:`~policy_archive.text.quoted`). A host comes from
    a redirect's Location, a page's link, a third party's declaration: it may hold an ESC, a newline or a bidi
    override and be a megabyte long, and the line naming it goes to the terminal, the journal, the catalog."""
    from policy_archive.text import quoted  # text imports this module (joiner_in_context): read when used

    return quoted(host)


def _said(reason: str) -> str:
    """Another library's reason (idna's, urllib's), which may repeat the host whole: escaped and bounded."""
    from policy_archive.text import clipped  # as in _quoted

    return clipped(reason)


def ascii_url(url: str) -> str:
    """``url`` with its host as :func:`ascii_host` gives it, everything else as written (user info, port, path,
    query); a URL whose host is ASCII already is returned as it is, so this is idempotent. Raises
    :class:`UnusableHost` as :func:`ascii_host` does, and for a host ``urlsplit`` refuses."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # a netloc with characters NFKC turns into "/", "?", "#", "@" or ":"
        raise UnusableHost(f"the URL's host cannot be read ({_said(str(error))})") from None
    if parts.netloc.isascii() and "%" not in parts.netloc:
        ascii_host(parts.hostname or "")  # the lengths are checked all the same
        return url
    user, at, place = parts.netloc.rpartition("@")
    host, colon, port = place.rpartition(":") if ":" in place else (place, "", "")
    netloc = f"{user}{at}{ascii_host(host)}{colon}{port}"
    return url.replace(parts.netloc, netloc, 1)  # not urlunsplit, which drops an empty "?" or "#"


# How far either side of a joiner its context is read: idna refuses a label over 1,024 characters, and the rule needs
# only the nearest letter that is not transparent (a run of combining marks longer than this is refused).
_JOINER_CONTEXT = 200


def joiner_in_context(text: str, at: int) -> bool:
    """Whether the zero width non-joiner or joiner at ``text[at]`` stands where IDNA 2008 lets a name hold it (RFC
    5892 Appendix A.1 and A.2, ContextJ; idna's ``valid_contextj``): right after a virama (canonical combining class
    9: Devanagari ``\\u0915\\u094d\\u200d\\u0937``, a half form), or, the non-joiner only, between a letter that joins
    on its left and one that joins on its right, transparent marks aside (Joining_Type L or D, then R or D: Persian
    ``\\u0645\\u06cc\\u200c\\u062e\\u0648\\u0627\\u0647\\u0645``). Not between emoji (a family's ZWJ sequence) nor
    Latin letters, where a joiner shows nothing, or shows only in some fonts. False for any other character, and
    for a context holding a code point this Python does not know."""
    start = max(0, at - _JOINER_CONTEXT)
    try:
        return idna.core.valid_contextj(text[start : at + _JOINER_CONTEXT + 1], at - start)
    except ValueError:  # idna.IDNAError is one; so is an unnamed neighbour's combining class
        return False
