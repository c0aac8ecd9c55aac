"""Build the legacy extraction cases: real policy texts rendered into period-typical page layouts.

``python -m benchmarks.legacy_cases [--seeds DIR]`` (re)writes ``tests/fixtures/extraction/<case>/`` with
``page.html`` (the bytes a server would send, in the case's charset), ``expected.md`` (the policy text as
Markdown) and ``case.json`` (URL, content type, selectors, sentences that must and must not appear).

English texts are the five seeds of ``../shared/seeds`` (Princeton "Privacy Policies over Time" extractions);
the French, German and Japanese policies are short texts written for these fixtures. Page furniture (navigation,
cookie notices, footers) uses distinctive sentences so that a leak into the output is detectable.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.shared import REPO_ROOT, SEEDS, require

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "extraction"


@dataclass(frozen=True)
class Block:
    """One block of policy text: ``heading`` (with level), ``paragraph`` or ``list`` (items in ``lines``)."""

    kind: str
    lines: tuple[str, ...]
    level: int = 0


@dataclass(frozen=True)
class Policy:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class CaseSpec:
    """What ``case.json`` holds; ``generic`` is False where no extractor could know which text is meant."""

    case: str
    url: str
    content_type: str
    select: list[str]
    remove: list[str]
    generic: bool
    present: list[str]
    absent: list[str] = field(default_factory=list)
    title: str = ""


# ------------------------------------------------------------------------------------- policy texts

LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
BOLD = re.compile(r"\*\*(.+?)\*\*")
MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def read_seed(path: Path) -> Policy:
    """Blocks of a seed file (provenance line and ``# title`` skipped; empty links and rules dropped)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    title = lines[2].removeprefix("# ").strip()
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", "\n".join(lines[3:])):
        chunk = LINK.sub(lambda match: match.group(0) if match.group(1).strip() else "", chunk)
        chunk = re.sub(r"\*{4,}", "", chunk).strip()
        if not chunk or re.fullmatch(r"[*\s]+", chunk):
            continue
        if chunk.startswith("#"):
            level = len(chunk) - len(chunk.lstrip("#"))
            blocks.append(Block("heading", (" ".join(chunk.lstrip("#").split()),), level))
        elif chunk.lstrip().startswith("* "):
            items = [" ".join(item.split()) for item in re.split(r"(?m)^\s*\* ", chunk) if item.strip()]
            blocks.append(Block("list", tuple(items)))
        else:
            blocks.append(Block("paragraph", (" ".join(chunk.split()),)))
    return Policy(title, tuple(blocks))


def written_policy(title: str, sections: list[tuple[str, list[str]]]) -> Policy:
    blocks: list[Block] = []
    for heading, paragraphs in sections:
        blocks.append(Block("heading", (heading,), 2))
        blocks.extend(Block("paragraph", (paragraph,)) for paragraph in paragraphs)
    return Policy(title, tuple(blocks))


FRENCH = written_policy(
    "Politique de confidentialité – Librairie Étoile",
    [
        ("Qui sommes-nous ?", [
            "La Librairie Étoile SARL, 12 rue des Écoles, 75005 Paris, est responsable du traitement des données "
            "personnelles collectées sur le site www.librairie-etoile.fr.",
            "Nous accordons une grande importance à la protection de votre vie privée et nous nous engageons à "
            "traiter vos données conformément à la loi « Informatique et Libertés » du 6 janvier 1978.",
        ]),
        ("Données collectées", [
            "Lorsque vous passez une commande, nous recueillons vos nom, prénom, adresse postale, adresse "
            "électronique et numéro de téléphone. Ces données sont nécessaires à l'exécution de votre commande.",
            "Nous enregistrons également l'adresse IP de votre ordinateur, le type de navigateur utilisé et les "
            "pages consultées, afin d'améliorer la qualité de nos services.",
        ]),
        ("Utilisation des données", [
            "Vos données servent à traiter vos commandes, à vous informer de leur suivi et, si vous l'avez accepté, "
            "à vous adresser notre lettre d'information mensuelle sur les nouveautés de la librairie.",
            "Nous ne vendons ni ne louons vos données à des tiers. Elles peuvent être transmises à nos prestataires "
            "de livraison et de paiement, uniquement pour l'exécution de votre commande.",
        ]),
        ("Cookies", [
            "Notre site utilise des cookies pour mémoriser le contenu de votre panier et vos préférences de "
            "navigation. Vous pouvez les désactiver dans les réglages de votre navigateur ; certaines fonctions "
            "du site ne seront alors plus disponibles.",
        ]),
        ("Vos droits", [
            "Conformément à l'article 34 de la loi du 6 janvier 1978, vous disposez d'un droit d'accès, de "
            "rectification et de suppression des données qui vous concernent. Pour l'exercer, écrivez-nous à "
            "l'adresse ci-dessus ou à donnees@librairie-etoile.fr.",
            "Dernière mise à jour : 15 septembre 2009.",
        ]),
    ],
)  # fmt: skip

GERMAN = written_policy(
    "Datenschutzerklärung – Müller & Söhne Versand GmbH",
    [
        ("Verantwortliche Stelle", [
            "Verantwortlich für die Erhebung, Verarbeitung und Nutzung Ihrer personenbezogenen Daten ist die "
            "Müller & Söhne Versand GmbH, Hauptstraße 17, 80331 München.",
            "Der Schutz Ihrer Privatsphäre ist uns ein wichtiges Anliegen. Wir behandeln Ihre Daten vertraulich "
            "und entsprechend den gesetzlichen Vorschriften, insbesondere dem Bundesdatenschutzgesetz (BDSG).",
        ]),
        ("Erhebung und Verwendung Ihrer Daten", [
            "Bei einer Bestellung erheben wir Ihren Namen, Ihre Anschrift, Ihre E-Mail-Adresse und Ihre "
            "Bankverbindung. Diese Angaben verwenden wir ausschließlich zur Abwicklung Ihrer Bestellung.",
            "Eine Weitergabe an Dritte erfolgt nur an das mit der Lieferung beauftragte Versandunternehmen und an "
            "das mit der Zahlungsabwicklung beauftragte Kreditinstitut, soweit dies zur Lieferung erforderlich ist.",
        ]),
        ("Protokolldateien", [
            "Bei jedem Zugriff auf unsere Seiten speichert unser Server die Adresse der aufgerufenen Seite, Datum "
            "und Uhrzeit, die übertragene Datenmenge und den verwendeten Browser. Diese Daten werten wir nur "
            "statistisch und anonym aus.",
        ]),
        ("Auskunftsrecht", [
            "Sie haben jederzeit das Recht auf unentgeltliche Auskunft über die zu Ihrer Person gespeicherten "
            "Daten sowie ein Recht auf Berichtigung, Sperrung oder Löschung dieser Daten.",
            "Fragen zum Datenschutz richten Sie bitte an datenschutz@mueller-soehne.de. Stand: März 2004.",
        ]),
    ],
)  # fmt: skip

JAPANESE = written_policy(
    "個人情報保護方針 | さくら通信株式会社",
    [
        ("個人情報の取得について", [
            "さくら通信株式会社（以下「当社」といいます）は、お客様の個人情報を適正かつ公正な手段によって取得いたします。",
            "当社がお客様から取得する個人情報は、氏名、住所、電話番号、電子メールアドレスなどです。",
        ]),
        ("個人情報の利用目的", [
            "取得した個人情報は、お申し込みいただいたサービスの提供、ご請求、お問い合わせへの回答のために利用いたします。",
            "お客様の同意なく、上記の目的以外に個人情報を利用することはございません。",
        ]),
        ("第三者への提供", [
            "当社は、法令に基づく場合を除き、お客様の同意を得ることなく個人情報を第三者に提供いたしません。",
        ]),
        ("お問い合わせ窓口", [
            "個人情報の開示、訂正、削除のご依頼は、当社お客様相談室までご連絡ください。平成十五年四月一日制定。",
        ]),
    ],
)  # fmt: skip

# Terms of service and cookie policy sharing one page with a privacy policy (written for these fixtures).
TERMS = written_policy(
    "Terms of Service",
    [
        ("Acceptance of the Terms", [
            "These Terms of Service govern your access to the Ci platform. By creating an account you accept "
            "these Terms; if you do not accept them, do not use the platform.",
        ]),
        ("Limitation of Liability", [
            "To the maximum extent permitted by law, SMCS shall not be liable for any indirect, incidental or "
            "consequential damages arising out of your use of the platform.",
        ]),
    ],
)  # fmt: skip
COOKIE_POLICY = written_policy(
    "Cookie Policy",
    [
        ("What cookies we set", [
            "We set a session cookie that keeps you signed in and a preference cookie that remembers the layout "
            "you chose for the asset browser. Neither is used for advertising.",
        ]),
    ],
)  # fmt: skip


# ---------------------------------------------------------------------------------- HTML rendering


def inline_html(text: str) -> str:
    """Seed Markdown inline syntax (bold, links, backslash escapes) as HTML: ``\\-`` in a seed is a "-" on the page
    (written raw, the page said "\\-", which the extractor keeps since revision 6)."""
    escaped = html.escape(text, quote=False)
    escaped = BOLD.sub(r"<b>\1</b>", escaped)
    escaped = LINK.sub(lambda match: f'<a href="{html.escape(match.group(2))}">{match.group(1)}</a>', escaped)
    return MARKDOWN_ESCAPE.sub(r"\1", escaped)


def blocks_html(policy: Policy, paragraph: Callable[[str], str] = lambda text: f"<p>{text}</p>") -> str:
    parts = []
    for block in policy.blocks:
        if block.kind == "heading":
            level = min(block.level + 1, 6)
            parts.append(f"<h{level}>{inline_html(block.lines[0])}</h{level}>")
        elif block.kind == "list":
            items = "".join(f"<li>{inline_html(item)}</li>\n" for item in block.lines)
            parts.append(f"<ul>\n{items}</ul>")
        else:
            parts.append(paragraph(inline_html(block.lines[0])))
    return "\n".join(parts)


def br_separated_html(policy: Policy) -> str:
    """1990s style: one ``<font>`` run, headings as bold lines, paragraphs and items split by ``<br>``."""
    parts = []
    for block in policy.blocks:
        if block.kind == "heading":
            parts.append(f"<b>{inline_html(block.lines[0])}</b><br><br>")
        elif block.kind == "list":
            parts.append("".join(f"&middot; {inline_html(item)}<br>\n" for item in block.lines) + "<br>")
        else:
            parts.append(f"{inline_html(block.lines[0])}<br><br>")
    return "\n".join(parts)


def expected_markdown(policy: Policy) -> str:
    parts = []
    for block in policy.blocks:
        if block.kind == "heading":
            parts.append(f"{'#' * min(block.level + 1, 6)} {block.lines[0]}")
        elif block.kind == "list":
            parts.append("\n".join(f"- {item}" for item in block.lines))
        else:
            parts.append(block.lines[0])
    return "\n\n".join(parts) + "\n"


NAV_1999 = """<td width="150" bgcolor="#003366" valign="top"><font face="Verdana" size="1" color="#ffffff">
<a href="/">Home</a><br><a href="/artists/">Artist Directory</a><br><a href="/tours/">Tour Dates &amp; Tickets</a><br>
<a href="/shop/">Online Store</a><br><a href="/jobs/">Careers at the Company</a><br><br>
<b>Search the site:</b><br>Enter a keyword and press Go to search our catalogue.<br></font></td>"""
COOKIE_1999 = """<p><font size="1" color="#666666">This site uses cookies to remember your visit. By continuing
to browse you agree to our use of cookies. <a href="javascript:hideNotice()">OK</a></font></p>"""
FOOTER_1999 = """<tr><td colspan="2" align="center"><font size="1"><a href="/">Home</a>
| <a href="/sitemap">Site Map</a>
| <a href="/contact">Contact Us</a><br>Copyright &copy; 1999-2011 The Company. All rights reserved.</font></td></tr>"""


def table_1999(title: str, content: str, charset: str | None) -> str:
    """``charset=None``: no declaration at all, as on many hand-made pages of the time."""
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return f"""<html><head>{meta}
<title>{html.escape(title)}</title></head>
<body bgcolor="#ffffff" marginwidth="0" marginheight="0">
<table width="760" border="0" cellpadding="0" cellspacing="0">
<tr><td colspan="2"><img src="/images/logo.gif" width="760" height="80" alt="The Company"></td></tr>
<tr>{NAV_1999}
<td class="bodytext" width="610" valign="top"><font face="Verdana, Arial" size="2">
{COOKIE_1999}
{content}
</font></td></tr>
{FOOTER_1999}
</table></body></html>"""


def div_2008(title: str, content: str, meta: str = '<meta charset="utf-8">') -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>{meta}<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/css/style.css" type="text/css" /></head>
<body><div id="wrapper">
<div id="header"><a href="/"><img src="/img/logo.png" alt="Logo" /></a>
<ul id="topnav"><li><a href="/">Home</a></li><li><a href="/features">Features</a></li>
<li><a href="/pricing">Plans &amp; Pricing</a></li><li><a href="/blog">Our Blog</a></li></ul></div>
<div id="main">
<div id="content">
{content}
</div>
<div id="sidebar"><h3>Latest News</h3>
<p>We have just released version 2.0 with faster uploads and a brand new dashboard for all plans.</p>
<h3>Follow us</h3><ul><li><a href="http://twitter.com/x">Twitter</a></li><li><a href="/rss">RSS feed</a></li></ul>
</div></div>
<div id="footer"><p>Site powered by our own cloud. Page generated in 0.042 seconds.</p>
<p><a href="/terms">Terms</a> | <a href="/privacy">Privacy</a> | &copy; 2008 Example Ltd. All rights reserved.</p></div>
</div></body></html>"""


MEGA_FOOTER_2015 = """<footer class="site-footer"><div class="container"><div class="row">
<div class="col-md-3"><h4>Solutions</h4><ul><li><a href="/buy">Buy-side platform</a></li>
<li><a href="/sell">Sell-side platform</a></li><li><a href="/analytics">Analytics suite</a></li></ul></div>
<div class="col-md-3"><h4>Company</h4><ul><li><a href="/about">Leadership team</a></li>
<li><a href="/careers">Open positions worldwide</a></li><li><a href="/press">Press releases</a></li></ul></div>
<div class="col-md-3"><h4>Stay in touch</h4><p>Subscribe to our newsletter for product news and industry insight
delivered monthly to your inbox.</p></div>
<div class="col-md-3"><h4>Offices</h4><p>New York · London · Paris · Sydney · Shanghai</p></div>
</div><p class="legal">© 2015 Mediaocean LLC. All rights reserved. Made with care in New York.</p></div></footer>"""
COOKIE_BANNER_2015 = """<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your experience
on our website and to show you relevant advertising. By using our website you accept our use of cookies.</p>
<button class="btn accept">Accept cookies</button> <a href="/cookie-settings">Manage cookie settings</a></div>"""


def responsive_2015(title: str, content: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><script>window.dataLayer=[];</script></head>
<body class="page-template-default">
<header class="site-header"><a class="logo" href="/">Mediaocean</a>
<nav class="main-navigation" role="navigation"><ul class="menu">
<li><a href="/platform">Platform overview</a></li><li><a href="/customers">Customer stories</a></li>
<li><a href="/insights">Insights &amp; events</a></li><li><a href="/contact">Request a demo</a></li></ul></nav>
</header>
<div class="breadcrumbs"><a href="/">Home</a> › Privacy Policy</div>
<main id="main" class="site-main"><article class="page">
<div class="entry-content">
{content}
</div>
<div class="share-buttons"><a href="https://twitter.com/share">Share on Twitter</a>
<a href="https://www.linkedin.com/shareArticle">Share on LinkedIn</a></div>
</article></main>
{MEGA_FOOTER_2015}
{COOKIE_BANNER_2015}
<script src="/js/app.js"></script></body></html>"""


def multi_document_2012(title: str, documents: list[tuple[str, str, Policy]]) -> str:
    tabs = "".join(f'<li><a href="#{anchor}">{name}</a></li>' for anchor, name, _ in documents)
    sections = "\n".join(
        f'<div class="legal-document" id="{anchor}"><h2>{name}</h2>\n{blocks_html(policy)}\n'
        f'<p class="back-to-top"><a href="#top">Back to top</a></p></div>'
        for anchor, name, policy in documents
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body><div id="top" class="container">
<div class="navbar"><a class="brand" href="/">Ci Media Cloud</a><ul class="nav">
<li><a href="/features">Feature tour</a></li><li><a href="/signup">Start your free trial</a></li></ul></div>
<ul class="legal-tabs">{tabs}</ul>
{sections}
<div class="footer">Sony Media Cloud Services LLC · 2012 · Made in Culver City</div>
</div></body></html>"""


# ------------------------------------------------------------------------------------------- cases

ABSENT_1999 = ["Artist Directory", "Tour Dates", "This site uses cookies", "All rights reserved", "Site Map"]
ABSENT_2008 = ["Plans & Pricing", "Latest News", "version 2.0 with faster uploads", "All rights reserved",
               "Page generated"]  # fmt: skip
ABSENT_2015 = ["Platform overview", "Request a demo", "We use cookies to improve", "Accept cookies",
               "Manage cookie settings", "Subscribe to our newsletter", "Open positions worldwide",
               "All rights reserved", "Share on Twitter", "Leadership team"]  # fmt: skip


@dataclass(frozen=True)
class LegacyCase:
    spec: CaseSpec
    page: bytes
    expected: str


def plain_runs(text: str) -> list[str]:
    """Pieces of a seed line free of Markdown markup, long enough to identify the line."""
    return [run.strip() for run in re.split(r"\*\*|\[|\]\([^)]*\)", text) if len(run.strip()) >= 20]


def first_sentence(policy: Policy) -> str:
    text = next(block.lines[0] for block in policy.blocks if block.kind == "paragraph" and plain_runs(block.lines[0]))
    return plain_runs(text)[0][:60].strip()


def last_sentence(policy: Policy) -> str:
    text = [block.lines[0] for block in policy.blocks if block.kind == "paragraph" and plain_runs(block.lines[0])][-1]
    return plain_runs(text)[-1][-50:].strip()


def build_cases(seeds: Path) -> list[LegacyCase]:
    sony_music, acrcloud, cloudinary, mediaocean, cimedia = (
        read_seed(require(seeds, name, "--seeds")[0])
        for name in (
            "004_adbe0319fe22e364.txt", "001_bab96dcd4987aff5.txt", "002_3b4e935c48569b28.txt",
            "003_202bb5120d012585.txt", "000_8bac8f4253723f4d.txt",
        )
    )  # fmt: skip
    html_type = "text/html"

    def case(name: str, url: str, policy: Policy, page: str, encoding: str, **spec: object) -> LegacyCase:
        present = [first_sentence(policy), last_sentence(policy)]
        spec.setdefault("title", policy.title)
        full = CaseSpec(case=name, url=url, present=present, **spec)  # type: ignore[arg-type]
        return LegacyCase(full, page.encode(encoding, errors="xmlcharrefreplace"), expected_markdown(policy))

    return [
        case("legacy-1999-table-sonymusic", "http://www.sonymusic.com/privacy-policy", sony_music,
             table_1999(sony_music.title, blocks_html(sony_music), "windows-1252"), "cp1252",
             content_type=html_type, select=["td.bodytext"], remove=[], generic=True, absent=ABSENT_1999),
        case("legacy-1999-br-paragraphs-acrcloud", "http://www.acrcloud.com/privacy", acrcloud,
             table_1999(acrcloud.title, br_separated_html(acrcloud), "windows-1252"), "cp1252",
             content_type=html_type, select=["td.bodytext"], remove=[], generic=True, absent=ABSENT_1999),
        case("legacy-2008-div-sidebar-cloudinary", "http://cloudinary.com/privacy", cloudinary,
             div_2008(cloudinary.title, blocks_html(cloudinary)), "utf-8",
             content_type="text/html; charset=utf-8", select=["#content"], remove=[], generic=True,
             absent=ABSENT_2008),
        case("legacy-2015-responsive-mediaocean", "https://www.mediaocean.com/privacy-policy", mediaocean,
             responsive_2015(mediaocean.title, blocks_html(mediaocean)), "utf-8",
             content_type="text/html; charset=UTF-8", select=[".entry-content"], remove=[], generic=True,
             absent=ABSENT_2015),
        case("legacy-2012-multi-document-cimediacloud", "https://auth.cimediacloud.com/legal", cimedia,
             multi_document_2012("Legal | Ci Media Cloud", [("privacy-policy", "Privacy Policy", cimedia),
                                                           ("terms", "Terms of Service", TERMS),
                                                           ("cookies", "Cookie Policy", COOKIE_POLICY)]),
             "utf-8", title="Legal | Ci Media Cloud", content_type=html_type,
             select=["#privacy-policy"], remove=["h2:first-child", ".back-to-top"],
             generic=False, absent=["Limitation of Liability", "We set a session cookie", "Feature tour",
                                    "Back to top", "Made in Culver City"]),
        case("legacy-2004-undeclared-latin1-de", "http://www.mueller-soehne.de/datenschutz.html", GERMAN,
             table_1999(GERMAN.title, blocks_html(GERMAN), None), "latin-1",
             content_type=html_type, select=["td.bodytext"], remove=[], generic=True, absent=ABSENT_1999),
        case("legacy-2009-http-charset-fr", "http://www.librairie-etoile.fr/confidentialite.php", FRENCH,
             div_2008(FRENCH.title, blocks_html(FRENCH), meta=""), "latin-1",
             content_type="text/html; charset=ISO-8859-1", select=["#content"], remove=[], generic=True,
             absent=ABSENT_2008),
        case("legacy-2003-undeclared-shift-jis-ja", "http://www.sakura-tsushin.co.jp/privacy.html", JAPANESE,
             table_1999(JAPANESE.title, blocks_html(JAPANESE), None), "shift_jis",
             content_type=html_type, select=["td.bodytext"], remove=[], generic=True, absent=ABSENT_1999),
    ]  # fmt: skip


def write_fixtures(cases: list[LegacyCase], target: Path) -> None:
    for legacy in cases:
        folder = target / legacy.spec.case
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "page.html").write_bytes(legacy.page)
        (folder / "expected.md").write_text(legacy.expected, encoding="utf-8")
        (folder / "case.json").write_text(json.dumps(asdict(legacy.spec), ensure_ascii=False, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="folder of the seed texts (shared data)")
    parser.add_argument("--out", type=Path, default=FIXTURES, help="fixtures folder to (re)write")
    arguments = parser.parse_args()
    cases = build_cases(arguments.seeds)
    write_fixtures(cases, arguments.out)
    print(f"wrote {len(cases)} cases to {arguments.out}")


if __name__ == "__main__":
    main()
