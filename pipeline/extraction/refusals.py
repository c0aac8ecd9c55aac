"""Why a capture holds no document: ``ExtractionRefused`` and the checks that refuse error pages, login walls,
script shells and texts that are no legal document."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from policy_archive.errors import PolicyArchiveError
from policy_archive.pipeline.extraction.refresh import META_REFRESH, meta_refresh
from policy_archive.records import ExtractedDocument
from policy_archive.text import quoted


class ExtractionRefused(PolicyArchiveError):
    """The capture holds no document text that may become a version; ``reason`` is a short machine code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _collapse(text: str) -> str:
    return " ".join(text.split())


NOT_FOUND = re.compile(
    r"\b(?:404|page not found|not found|file not found|no longer available|does not exist|"
    r"seite nicht gefunden|page introuvable|ページが見つかりません)\b",
    re.IGNORECASE,
)
LOGIN_WALL = re.compile(
    r"\b(?:(?:please )?(?:sign|log) ?in(?: to (?:continue|view|access))?|anmelden|connexion|ログイン)\b",
    re.IGNORECASE,
)
JAVASCRIPT_SHELL = "javascript-shell"  # the refusal that a rendering in a browser may overcome
JAVASCRIPT_NEEDED = re.compile(
    r"enable javascript|javascript (?:is )?(?:required|disabled)|requires javascript|turn on javascript",
    re.IGNORECASE,
)
# Words that any privacy policy, terms of service or cookie policy contains, in the languages we meet.
LEGAL_WORDS = re.compile(
    r"privacy|personal (?:data|information)|cookie|terms|conditions|agreement|liabilit|licen[cs]e|"
    r"community (?:guidelines|standards|policies)|politiques? (?:de |d'|en matière)|règles de la communauté|"
    r"imprint|impressum|legal notice|mentions légales|registered office|siège social|handelsregister|"
    r"warrant|datenschutz|personenbezogen|nutzungsbedingungen|vertrag|haftung|"
    r"confidentialit|données personnelles|conditions générales|responsabilit|"
    r"privacidad|datos personales|términos|riservatezza|dati personali|"
    r"個人情報|プライバシー|利用規約|隐私|个人信息|条款",
    re.IGNORECASE,
)
SHORT_PAGE_CHARS = 1500


def refuse_error_pages(page: lxml.html.HtmlElement, title: str, page_url: str) -> None:
    """Error pages, login walls, meta-refresh splash pages and script shells are refused before any content is
    located (``page_url``: the page's own URL, which a relative meta refresh is resolved against)."""
    for dropped in page.xpath("//script | //style | //template"):
        dropped.drop_tree()
    body_text = _collapse(page.text_content())
    is_short = len(body_text) < SHORT_PAGE_CHARS
    headings = " ".join(_collapse(h.text_content()) for h in page.xpath("//h1 | //h2")[:2])
    if is_short and NOT_FOUND.search(f"{title} {headings}"):
        raise ExtractionRefused("not-found", f"the page says it was not found ({title!r})")
    if is_short and page.xpath("//input[@type='password']"):
        raise ExtractionRefused("login-wall", "the page asks for a password")
    if is_short and LOGIN_WALL.fullmatch(title.strip()):
        raise ExtractionRefused("login-wall", f"the page is a sign-in page ({title!r})")
    if is_short and (target := meta_refresh(page, page_url)) is not None:
        # What a browser shows of this capture is the target's page: never this page's few words as a version,
        # never the target fetched from here (pipeline.extraction.refresh).
        raise ExtractionRefused(META_REFRESH, f"a meta refresh to {quoted(target)}, not the document")
    if len(body_text) < 200 and (JAVASCRIPT_NEEDED.search(body_text) or _is_script_mount(page)):
        raise ExtractionRefused(JAVASCRIPT_SHELL, "the page only has text after running its scripts")


def _is_script_mount(page: lxml.html.HtmlElement) -> bool:
    return bool(page.xpath("//body//*[@id='root' or @id='app' or @id='__next' or @id='__nuxt']"))


def checked(document: ExtractedDocument) -> ExtractedDocument:
    if not document.body.strip():
        raise ExtractionRefused("empty", "no text left after extraction")
    if not LEGAL_WORDS.search(document.body) and not LEGAL_WORDS.search(document.title):
        raise ExtractionRefused("not-a-legal-document", "the text mentions no privacy, terms or cookie matter")
    return document
