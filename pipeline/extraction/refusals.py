"""Why a capture holds no document: ``ExtractionRefused`` and the checks that refuse error pages, login walls,
script shells and texts that are no legal document."""

from __future__ import annotations

import itertools
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
# Words that any privacy policy, terms of service or cookie policy contains (privacy, personal data, terms,
# conditions, cookies), in the languages we meet: English, French, German, Spanish, Italian, Catalan, Portuguese,
# Dutch, Romanian, Polish, Czech, Slovak, Slovenian, Croatian, Serbian, Bulgarian, Hungarian, the Baltic languages,
# Turkish, Swedish, Danish, Norwegian, Finnish, Indonesian, Malay, Vietnamese, Russian, Ukrainian, Greek, Arabic,
# Persian, Hebrew, Hindi, Thai, Korean, Japanese and Chinese. Stems, so that inflections and compounds match
# ("prywatności", "Integritetspolicy", "персональных данных"); and no \b: in Devanagari and Thai a vowel sign is
# not \w, so \b falls inside words. Each stem is a legal word, not a common one ("dan* osobow", not "osobow",
# which is also a passenger car's "osobowy"; "خصوصية", not "خصوص", the Persian "regarding"). Pages are NFC
# (normalize), and so is this pattern (tests/test_extract_languages.py checks it).
LEGAL_WORDS = re.compile(
    r"privacy|personal (?:data|information)|cookie|terms|conditions|agreement|liabilit|licen[cs]e|"
    r"community (?:guidelines|standards|policies)|politiques? (?:de |d'|en matière)|règles de la communauté|"
    r"gemeinschaftsrichtlinien|community-richtlinien|"
    r"imprint|impressum|legal notice|mentions légales|registered office|siège social|handelsregister|"
    r"warrant|datenschutz|personenbezogen|nutzungsbedingungen|vertrag|haftung|"
    r"confiden[tțţ]ialit|données personnelles|conditions générales|responsabilit|"
    r"privacidad|datos personales|términos|riservatezza|dati personali|termini e condizioni|condizioni d'uso|"
    r"privadesa|dades personals|privacidade|dados pessoais|termos|"
    r"persoonsgegevens|voorwaarden|"
    r"caracter personal|date(?:le|lor)? personale|termeni|"
    r"prywatno|dan(?:e|ych|ymi|ym) osobow|regulamin|"
    r"soukromí|súkromi|osobn\w* (?:údaj|poda[ct])|podmínk|podmienk|zasebnost|osebn\w* podat|privatnost|"
    r"ličn\w* poda[ct]|"
    r"adatvédel|személyes adat|felhasználási feltétel|szerződési feltétel|"
    r"privatumo|asmens duomen|privātum|personas dat|privaatsus|isikuandme|"
    r"gizlilik|kişisel veri|çerez|koşulları|sözleşme|"
    r"integritet|personuppgift|villkor|privatliv|personoplysning|personopplysning|persondata|personvern|vilkår|"
    r"tietosuoja|yksityisyy|henkilöti|käyttöeh|eväste|"
    r"privasi|data pribadi|data peribadi|ketentuan|"
    r"quyền riêng tư|bảo mật|dữ liệu cá nhân|thông tin cá nhân|điều khoản|"
    r"конфиденциальн|персональн\w* дан|соглашени|условия (?:использования|пользования|обслуживания)|"
    r"конфіденційн|угод[аи] користувача|умови (?:використання|користування)|"
    r"поверителност|личн\w* данни|личн\w* пода[тц]|приватност|"
    r"απ[οό]ρρ[ηή]τ|προσωπικ\w*(?: σας)? δεδομ[εέ]ν|[οό]ρ(?:οι|ους|ων) χρ[ηή]σης|"
    r"خصوصية|بيانات\S* الشخصية|معلومات\S* الشخصية|الشروط والأحكام|شروط الاستخدام|"
    r"حر[یي]م خصوص[یي]|(?:اطلاعات|داده\S*) شخص[یي]|شرایط استفاده|قوانین و مقررات|"
    r"פרטיות|תנאי (?:ה)?שימוש|מידע אישי|"
    r"गोपनीयता|निजता|व्यक्तिगत (?:डेटा|जानकारी)|नियम (?:और|एवं) शर्त|"
    r"ความเป็นส่วนตัว|ข้อมูลส่วนบุคคล|ข้อกำหนด|"
    r"개인\s?정보|약관|쿠키|"
    r"個人情報|プライバシー|利用規約|隐私|隱私|个人信息|個人資料|条款|條款",
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


# A legal word the text holds once, in passing, is no evidence: an EPA "Help finding information" signpost page
# (152 words) reached by an archived redirect chain was recorded as the site's privacy policy because it offers an
# "index of terms and topics" (outside audit of 2026-11-29). So one mention is enough only in a short text (a notice
# of under IN_PASSING_WORDS words naming its matter) or in the title or a heading (a Markdown heading or a paragraph
# wholly in bold, the legacy pages' heading); a longer text needs two. Every page kept before this rule is kept by
# it — the benchmark sets, the seeds, the fixtures and the extraction tests (measured, decision 0002): what they
# have and the signpost lacks is a second mention or a titled matter, not a density (a terms page of the tests
# names "terms" 4 times in 1,900 words).
HEADING_LINES = re.compile(r"(?m)^(?:#{1,6} +(?P<heading>.+)|\*\*(?P<bold>.+)\*\*|__(?P<underscored>.+)__)$")
IN_PASSING_WORDS = 100


def checked(document: ExtractedDocument) -> ExtractedDocument:
    """``document`` itself when it may be a legal text; raises :class:`ExtractionRefused` ``empty`` when its body is
    blank, ``not-a-legal-document`` when neither its body nor its title has a word of :data:`LEGAL_WORDS` (in any of
    the languages listed there), or when the body of a text of :data:`IN_PASSING_WORDS` words or more has one only
    once, and its title and headings none."""
    if not document.body.strip():
        raise ExtractionRefused("empty", "no text left after extraction")
    if LEGAL_WORDS.search(document.title) or any(LEGAL_WORDS.search(line) for line in _headings(document.body)):
        return document
    found = [match.group() for match in itertools.islice(LEGAL_WORDS.finditer(document.body), 2)]
    if not found:
        raise ExtractionRefused("not-a-legal-document", "the text mentions no privacy, terms or cookie matter")
    words = len(document.body.split())
    if len(found) == 1 and words >= IN_PASSING_WORDS:
        raise ExtractionRefused(
            "not-a-legal-document",
            f"the text mentions legal matter only in passing ({quoted(found[0])}, once in {words} words; "
            "no legal word in its title or headings)",
        )
    return document


def _headings(markdown: str) -> list[str]:
    """The text of ``markdown``'s headings and of its paragraphs wholly in bold."""
    return [next(text for text in match.groups() if text) for match in HEADING_LINES.finditer(markdown)]
