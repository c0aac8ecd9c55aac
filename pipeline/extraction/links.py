"""Which link of a home page leads to its privacy policy (or terms, cookie policy, imprint): candidates by text, URL.

As the Princeton "Privacy Policies over Time" crawl did (2021), a home page is read for the link whose text or
URL names the document, in English, French, German and Spanish; a link in the footer (``<footer>``, or an
element whose id/class says footer) weighs more than one in the body, where news items and blog posts also
mention privacy. Scores add up: text naming the document (exactly, or containing the words but none of another
page's, such as "settings", in text or URL: SECONDARY_WORDS), the URL path naming it, the footer. For a cookie
policy, a link whose text names the privacy policy ("Privacy & Cookies") comes after every link that does not
(:data:`SHARED_LINKS`).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html

from policy_archive.crawler.hosts import LITERALS_ONLY, Proposals
from policy_archive.pipeline.extraction.decode import decode_html
from policy_archive.pipeline.extraction.dropped import TOO_DEEP
from policy_archive.pipeline.extraction.normalize import SESSION_PATH
from policy_archive.pipeline.extraction.parse import parse_html
from policy_archive.pipeline.extraction.refresh import meta_refresh
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.records import DEFAULT_PORTS
from policy_archive.text import counted, safe_url

# Link texts, lowercased and without accents. Exact matches score more than texts that merely contain them.
TEXTS: dict[str, tuple[str, ...]] = {
    "privacy-policy": (
        "privacy", "privacy policy", "privacy notice", "privacy statement", "privacy & cookies",
        "privacy and cookies", "privacy center", "privacy centre", "your privacy", "data protection",
        "politique de confidentialite", "confidentialite", "vie privee", "donnees personnelles",
        "protection des donnees", "datenschutz", "datenschutzerklarung", "datenschutzhinweise",
        "privacidad", "politica de privacidad", "aviso de privacidad", "proteccion de datos",
    ),
    "terms-of-service": (
        "terms", "terms of service", "terms of use", "terms and conditions", "terms & conditions",
        "conditions of use", "user agreement", "legal terms", "conditions generales", "conditions d'utilisation",
        "conditions generales d'utilisation", "cgu", "nutzungsbedingungen", "agb",
        "allgemeine geschaftsbedingungen", "terminos", "terminos y condiciones", "condiciones de uso",
        "terminos de uso",
    ),
    # The publisher's legal notice (EU e-commerce law: France's LCEN, Germany's TMG/DDG, Spain's LSSI), never the
    # terms: "Mentions légales" beside "CGU" is another page (outside audit B, 2026-11-29).
    "imprint": (
        "imprint", "impressum", "legal notice", "legal notices", "site notice", "mentions legales",
        "informations legales", "aviso legal", "nota legal",
    ),
    "cookie-policy": (
        "cookies", "cookie policy", "cookie notice", "use of cookies", "politique de cookies",
        "politique relative aux cookies", "gestion des cookies", "cookie-richtlinie", "cookie richtlinie",
        "cookie-hinweise", "politica de cookies", "uso de cookies",
    ),
}  # fmt: skip
# Words of a URL path that name the document.
URL_WORDS: dict[str, tuple[str, ...]] = {
    "privacy-policy": ("privacy", "datenschutz", "confidentialite", "confidentialité", "privacidad", "vie-privee"),
    "terms-of-service": ("terms", "tos", "conditions", "nutzungsbedingungen", "agb", "terminos", "cgu", "legal"),
    "cookie-policy": ("cookie", "cookies"),
    "imprint": ("imprint", "impressum", "mentions-legales", "mentionslegales", "legal-notice", "aviso-legal"),
}
EXACT_TEXT, PARTIAL_TEXT, URL_MATCH, FOOTER = 4.0, 2.0, 2.0, 2.5
# Words (lowercased, no accents; parts of words too, for German compounds) that make a link naming the document,
# by its text or URL path, another page: its settings, choices, preferences or health data. Beside the policy, modern
# footers link "Your Privacy Choices" (California's CCPA regulations, 2023), "Consumer Health Data Privacy Policy"
# (Washington's My Health My Data Act, 2024), "Datenschutz-Einstellungen", "Paramètres de confidentialité",
# "Configuración de privacidad" (acceptance report 4, finding 3): such a link is not the document's, so it no
# longer rivals the policy's own link. A link whose text is an exact name (TEXTS, such as "gestion des cookies")
# is never lowered.
SECONDARY_WORDS = (
    "choice", "setting", "preference", "manage", "opt out", "opt-out", "do not sell", "health",
    "parametre", "reglage", "choix", "gerer", "gestion", "sante",
    "einstellung", "praferenz", "verwalt", "gesundheit",
    "configuracion", "preferencia", "ajuste", "opcion", "administrar", "salud",
)  # fmt: skip
# A link whose text names another document too leads to that document, which may hold the sought one as a section:
# "Privacy & Cookies", "Datenschutz und Cookies" is the privacy policy (it names the privacy policy in TEXTS), whose
# cookie section many sites write instead of a cookie policy (pipeline.extraction.documents.PARTS). For the sought
# type it counts (it may be all the page gives), but after every link that does not name the other document,
# however they score, and never as their rival; when it is the best link, the choice says so (``also_names``).
SHARED_LINKS = {"cookie-policy": "privacy-policy"}
# "Read our privacy policy" names the document; "New privacy rules for online shops in 2015" is a news item.
PARTIAL_TEXT_MAX_WORDS = 5
# A second candidate within this share of the best score makes the choice unsure.
UNSURE_SHARE = 0.75
_FOOTER_HINT = re.compile(r"foot", re.IGNORECASE)
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# A session id in a link's query: one page, whose links carry a new value on every visit (PHP's
# session.use_trans_sid, Java servlets' URL rewriting), so one era per home-page capture unless dropped. The
# Internet Archive's canonicaliser drops these (archive-commons' URLRegexTransformer as ported in the ``surt``
# package 0.3.1, read 2026-11: jsessionid, phpsessid, sid of 32 letters or digits, ASPSESSIONIDxxxxxxxx of 24
# letters, cfid with cftoken), and files such captures under the page without them. Ours: those names and a
# few more of the same kind (sessionid, session_id, sessid, osCommerce's oscsid, Zen Cart's zenid), with a value
# of at least 10 letters or digits (an optional ``.route`` suffix, as Tomcat's jvmRoute): PHP's ids are 22 to
# 256 characters (session.sid_length, PHP 7.1+), shorter home-made ones exist, and a short value is more likely
# the page's own id (PHP-Nuke's ``article.php?sid=123`` is a story). cfid and cftoken go together, any value.
_SESSION_PARAMETER = re.compile(
    r"(?:jsessionid|phpsessid|sid|sessionid|session_id|sessid|oscsid|zenid|aspsessionid[a-z]{8})"
    r"=[0-9a-z]{10,}(?:\.[0-9a-z_-]+)?",
    re.IGNORECASE,
)
_COLDFUSION_SESSION = ("cfid", "cftoken")


@dataclass(frozen=True)
class Candidate:
    """A link that may lead to the document: its address as discovery keeps it (:func:`link_url`), its accessible
    name, its score (text and URL words, plus a bonus in a footer; no unit: it means something only beside other
    links' scores, the best first and its rivals within :data:`UNSURE_SHARE` of it), whether it lies in a
    footer, and the other document type its text names too (:data:`SHARED_LINKS`: "Privacy & Cookies" sought
    as a cookie policy), which puts it after the links that name only the sought one."""

    url: str
    text: str
    score: float
    in_footer: bool
    also_names: str | None = None

    @property
    def rank(self) -> tuple[bool, float, str]:
        """The order of candidates, best first: a link naming only the document before one naming another too,
        then the higher score, then the URL (so that ties order the same on every run)."""
        return self.also_names is not None, -self.score, self.url


@dataclass(frozen=True)
class LinkChoice:
    """The link a page gives to the document: ``best`` (None: no link found) and ``rivals`` close to it."""

    best: Candidate | None
    rivals: tuple[Candidate, ...] = ()
    # No link found in a frameset (or iframe-only) page: its frames' URLs; in a page that is a meta refresh
    # (``refresh``), the one page it leads to, whose links a browser shows instead.
    frames: tuple[str, ...] = ()
    refresh: bool = False
    iframes: tuple[str, ...] = ()  # no link found in a page with links of its own: its shown iframes, not read
    # Why no link is taken when every link naming the document is on an internal address (crawler.hosts).
    refused: str | None = None


def fold(text: str) -> str:
    """Lowercase, accents off, spaces collapsed: ``Politique de confidentialité`` → ``politique de confidentialite``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.lower().replace("’", "'").split())


def link_url(url: str) -> str | None:
    """A link's address as discovery keeps it, on a fresh run and when a saved state is read again alike (RFC
    3986 §6.2.2–6.2.3): no fragment; scheme and host in lower case; no default port (``:80``, ``:443``); ``/``
    for an empty path; percent-escapes in upper case, those of unreserved characters (letters, digits, ``-._~``)
    decoded; unsafe and whitespace characters percent-encoded as a browser sends them (``safe_url``); no session
    id (``;jsessionid=…`` in the path, ``?PHPSESSID=…`` and the like in the query: :data:`_SESSION_PARAMETER`).
    So ``HTTPS://Example.org:443/Privacy%7epolicy#top`` is ``https://example.org/Privacy~policy``. None: not an
    http(s) address (``mailto:``, a port out of range or 0, ``http://[x``), or one with ``user:password@``, which no
    service file may declare."""
    try:
        parts = urlsplit(safe_url(url.strip()))
        port = parts.port
    except ValueError:  # urllib refuses an unclosed IPv6 bracket, a port that is no number or out of range
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc or port == 0:
        return None
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        netloc += f":{port}"
    path = _PERCENT_ESCAPE.sub(_normal_escape, SESSION_PATH.sub("", parts.path)) or "/"
    query = _PERCENT_ESCAPE.sub(_normal_escape, _without_session_id(parts.query))
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _without_session_id(query: str) -> str:
    """The query without its session-id arguments (:data:`_SESSION_PARAMETER`), the others as written."""
    arguments = query.split("&") if query else []
    names = {argument.partition("=")[0].lower() for argument in arguments}
    coldfusion = names.issuperset(_COLDFUSION_SESSION)
    return "&".join(
        argument
        for argument in arguments
        if not _SESSION_PARAMETER.fullmatch(argument)
        and not (coldfusion and argument.partition("=")[0].lower() in _COLDFUSION_SESSION)
    )


def _normal_escape(escape: re.Match[str]) -> str:
    character = chr(int(escape.group(1), 16))
    return character if character in _UNRESERVED else escape.group().upper()


def url_key(url: str) -> str:
    """What makes two links the same page for discovery: no scheme, no ``www.``, no fragment, no trailing slash;
    a port other than the scheme's default kept (``http://host:8443/p`` is another server than ``http://host/p``,
    ``http://host:80/p`` the same page). ``url`` is a link as :func:`link_url` spells it (its port a number)."""
    parts = urlsplit(url)
    host = re.sub(r"^www\d*\.", "", (parts.hostname or "").lower())
    if ":" in host:  # an IPv6 address, bracketed so that its port stays apart
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host += f":{parts.port}"
    return f"{host}{parts.path.rstrip('/') or '/'}" + (f"?{parts.query}" if parts.query else "")


def _in_footer(element: lxml.html.HtmlElement) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag == "footer" or _FOOTER_HINT.search(f"{ancestor.get('id', '')} {ancestor.get('class', '')}"):
            return True
    return False


def _score(document_type: str, text: str, url: str) -> tuple[float, float]:
    """(text score, URL score) of one link; nothing for a link to another page (:data:`SECONDARY_WORDS`)."""
    folded = fold(text)
    texts = TEXTS.get(document_type, (fold(document_type.replace("-", " ")),))
    path = fold(urlsplit(url).path)
    if folded in texts:
        text_score = EXACT_TEXT
    elif any(word in folded or word in path for word in SECONDARY_WORDS) or _imprint(document_type, folded, path):
        return 0.0, 0.0
    elif (
        folded
        and len(folded.split()) <= PARTIAL_TEXT_MAX_WORDS
        and any(re.search(rf"\b{re.escape(t)}\b", folded) for t in texts)
    ):
        text_score = PARTIAL_TEXT
    else:
        text_score = 0.0
    words = URL_WORDS.get(document_type, tuple(document_type.split("-")))
    return text_score, URL_MATCH if any(word in path for word in words) else 0.0


def _imprint(document_type: str, folded: str, path: str) -> bool:
    """Whether a link sought as another document leads to the imprint: its text names it exactly, or its URL path
    does ("/mentions-legales" holds the terms' URL word "legal")."""
    return document_type != "imprint" and (folded in TEXTS["imprint"] or any(w in path for w in URL_WORDS["imprint"]))


def _also_names(document_type: str, text: str) -> str | None:
    """The other document a link's text names, whose page may hold the sought one (:data:`SHARED_LINKS`), or None."""
    other = SHARED_LINKS.get(document_type)
    folded = fold(text)
    if other is None or not folded:
        return None
    return other if any(re.search(rf"\b{re.escape(name)}\b", folded) for name in TEXTS[other]) else None


def document_base(root: lxml.html.HtmlElement, page_url: str) -> str:
    """What the page's links resolve against, as a browser resolves them (HTML's "document base URL"): the first
    ``<base>`` with an ``href``, itself resolved against the page's URL (``<base href="/">`` on ``/en/`` makes
    ``privacy`` mean ``/privacy``); the page's URL when there is none or it is no http(s) address."""
    for base in root.iter("base"):
        if (href := base.get("href")) is None:
            continue
        try:
            resolved = urljoin(page_url, href.strip())
        except ValueError:  # urljoin splits the href first: an unclosed IPv6 bracket
            return page_url
        return resolved if urlsplit(resolved).scheme in ("http", "https") else page_url
    return page_url


def candidates(body: bytes, content_type: str | None, base_url: str, document_type: str) -> list[Candidate]:
    """Every link of the page that names the document, best first (one per distinct target page). Refused
    ``too-deep`` when the parser stopped before the page's end: the links it did not read (the footer comes
    last) may be the ones that count, so what it read cannot say which link the page gives."""
    root = _read(body, content_type)
    return [] if root is None else _candidates(root, document_base(root, base_url), document_type)


def _read(body: bytes, content_type: str | None) -> lxml.html.HtmlElement | None:
    """The page's tree (None: no document at all); refused ``too-deep`` as :func:`candidates` says."""
    try:
        parsed = parse_html(decode_html(body, content_type))
    except ExtractionRefused:  # no document at all: no link
        return None
    if (unread := parsed.unread_reason()) is not None:
        raise ExtractionRefused(TOO_DEEP, unread)
    return parsed.root


def _candidates(root: lxml.html.HtmlElement, base_url: str, document_type: str) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        if (url := _resolved(base_url, href)) is None:
            continue
        text = accessible_name(anchor)
        text_score, url_score = _score(document_type, text, url)
        footer = _in_footer(anchor)
        if not text_score and not (url_score and footer):  # a URL word in the body (a blog post) is not enough
            continue
        score = text_score + url_score + (FOOTER if footer else 0.0)
        candidate = Candidate(url, text, score, footer, _also_names(document_type, text))
        key = url_key(url)
        if key not in found or candidate.rank[:2] < found[key].rank[:2]:  # a tie keeps the first link of the page
            found[key] = candidate
    return sorted(found.values(), key=lambda c: c.rank)


def _resolved(base_url: str, href: str) -> str | None:
    """``href`` made absolute and spelled as discovery keeps it (:func:`link_url`), percent-encoded as a browser
    sends it: an href may hold a space, ESC or a bidi control, which neither a service file's url (the loader
    refuses them) nor a line on stderr may. None: no http(s) address."""
    try:
        return link_url(urljoin(base_url, href))
    except ValueError:  # urljoin splits the href first: an unclosed IPv6 bracket
        return None


def accessible_name(anchor: lxml.html.HtmlElement) -> str:
    """A link's text as a browser names it (WAI-ARIA's accessible name, simplified): its ``aria-label``, else its
    text with each image's ``alt`` in place (``<a><img alt="Privacy Policy"></a>``, the table layouts of
    1999–2005), else its ``title``; whitespace collapsed."""
    label = " ".join((anchor.get("aria-label") or "").split())
    return label or " ".join("".join(_name_parts(anchor)).split()) or anchor.get("title", "")


def _name_parts(element: lxml.html.HtmlElement) -> Iterator[str]:
    yield element.text or ""
    for child in element:
        if child.tag == "img":
            yield f" {child.get('alt') or ''} "
        elif isinstance(child.tag, str):  # not a comment or a processing instruction
            yield from _name_parts(child)
        yield child.tail or ""


def choose_link(
    body: bytes,
    content_type: str | None,
    base_url: str,
    document_type: str,
    proposals: Proposals = LITERALS_ONLY,
) -> LinkChoice:
    """The page's link to the document; rivals when another page's link scores nearly as well; the frames of a
    frameset page (or of a page that only shows iframes), whose links are in them; the page a meta refresh leads
    to when the page gives no link (a splash page: a browser shows the target's links) (raises
    ``ExtractionRefused`` as :func:`candidates` does).

    A link whose host is an internal address (``http://127.0.0.1:8080/``, ``http://169.254.169.254/…`` by way of
    a ``<base href>``, ``http://localhost/``) is no candidate: what ``discover`` proposes is written into the
    configuration, whose origins the live crawl may reach inside (crawler/hosts.py); only a link to a host and port
    of the home page a person named is taken, and a link to another name is looked up when ``proposals`` looks
    names up (``127.0.0.1.nip.io``). When such links were the only ones, ``refused`` says so."""
    root = _read(body, content_type)
    if root is None:
        return LinkChoice(None)
    base_url = document_base(root, base_url)
    everything = _candidates(root, base_url, document_type)
    refusals = {candidate.url: proposals.refusal(candidate.url) for candidate in everything}
    found = [candidate for candidate in everything if refusals[candidate.url] is None]
    if everything and not found:
        return LinkChoice(None, refused=_internal_only(everything, refusals))
    if not found and (refresh := meta_refresh(root, base_url)) is not None and (target := link_url(refresh)):
        return LinkChoice(None, frames=(target,), refresh=True)
    if not found:
        return _framed(root, base_url)
    return _best_of(found)


def _best_of(found: Sequence[Candidate]) -> LinkChoice:
    """The first of ``found`` (sorted by :attr:`Candidate.rank`), and as its rivals the others of its kind (naming
    another document too, or not) within :data:`UNSURE_SHARE` of its score."""
    best, *others = found
    rivals = (c for c in others if c.also_names == best.also_names and c.score >= best.score * UNSURE_SHARE)
    return LinkChoice(best, tuple(rivals))


def _internal_only(links: Sequence[Candidate], refusals: dict[str, str | None]) -> str:
    first = links[0]
    more = f" (and {counted(len(links) - 1, 'other')})" if len(links) > 1 else ""
    return (
        f"its link naming the document is to an internal address, never proposed: {first.url}"
        f" ({refusals[first.url]}){more}"
    )


def _framed(root: lxml.html.HtmlElement, base_url: str) -> LinkChoice:
    """No link found: the frames whose pages hold the page's links, a frameset's ``<frame>``s or, in a page with
    no link at all, its shown ``<iframe>``s (a page that only frames another, as registrars' "masked forwarding"
    serves). Not an iframe in ``<noscript>`` (a tag manager's, shown only without JavaScript) nor a hidden or
    0/1-pixel one. A page with links of its own is not read through its iframes, only says it shows them: there
    they are most often another site's widget (a video, a map, a social network's box with its own privacy link),
    which would give the other site's policy, and each would cost a request of every capture read."""
    frames = list(root.iter("frame"))
    iframes = [frame for frame in root.iter("iframe") if _shown(frame)]
    if frames or not any(anchor.get("href") for anchor in root.iter("a")):
        return LinkChoice(None, frames=_sources(frames or iframes, base_url))
    return LinkChoice(None, iframes=_sources(iframes, base_url))


def _sources(frames: Sequence[lxml.html.HtmlElement], base_url: str) -> tuple[str, ...]:
    sources = (frame.get("src", "").strip() for frame in frames)
    return tuple(dict.fromkeys(url for src in sources if src and (url := _resolved(base_url, src))))


def _shown(iframe: lxml.html.HtmlElement) -> bool:
    style = "".join((iframe.get("style") or "").lower().split())
    tiny = any((iframe.get(side) or "").strip() in ("0", "1", "0px", "1px") for side in ("width", "height"))
    hidden = iframe.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style
    return not (tiny or hidden or any(parent.tag == "noscript" for parent in iframe.iterancestors()))


def merged(choices: Sequence[LinkChoice]) -> LinkChoice:
    """The link several pages shown as one give (a frameset's frames): the best of their best links, and every
    link of theirs close to it as a rival (each choice keeps those close to its own best, so none is missed)."""
    links = (link for choice in choices for link in (choice.best, *choice.rivals) if link is not None)
    found: dict[str, Candidate] = {}
    for link in sorted(links, key=lambda c: c.rank):
        found.setdefault(url_key(link.url), link)  # one per target page, its best
    return _best_of(list(found.values())) if found else LinkChoice(None)
