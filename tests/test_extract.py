"""Extraction: golden legacy fixtures (present and absent text), charsets, PDFs, refusals, stability."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.extraction import similarity
from policy_archive.config.declarations import selector_error
from policy_archive.pipeline.commands.cli import main
from policy_archive.pipeline.extraction.extract import EXTRACTOR, ExtractionRefused, extract
from policy_archive.records import ExtractionRules

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
CASES = sorted(FIXTURES.glob("*/case.json"))
POLICY_PARAGRAPH = (
    "We collect your name and email address when you register, and we use this personal information only to "
    "provide the service and to answer your requests. "
)


def load_case(case_file: Path) -> tuple[dict, bytes, str]:
    spec = json.loads(case_file.read_text(encoding="utf-8"))
    return spec, (case_file.parent / "page.html").read_bytes(), (case_file.parent / "expected.md").read_text("utf-8")


def html_page(body: str, title: str = "Privacy Policy", head: str = "") -> bytes:
    return f"<html><head>{head}<title>{title}</title></head><body>{body}</body></html>".encode()


# ------------------------------------------------------------------------------------ golden fixtures


@pytest.mark.parametrize("case_file", CASES, ids=lambda path: path.parent.name)
def test_declared_selectors_give_the_policy_text(case_file: Path) -> None:
    spec, page, expected = load_case(case_file)
    rules = ExtractionRules(tuple(spec["select"]), tuple(spec["remove"]))
    document = extract(page, spec["url"], rules, spec["content_type"])
    assert similarity(document.body, expected) >= 0.995
    assert document.title == spec["title"]
    for sentence in spec["present"]:
        assert sentence in document.body
    for sentence in spec["absent"]:
        assert sentence not in document.body


@pytest.mark.parametrize("case_file", [c for c in CASES if load_case(c)[0]["generic"]], ids=lambda p: p.parent.name)
def test_generic_extraction_finds_the_policy_and_drops_page_furniture(case_file: Path) -> None:
    spec, page, expected = load_case(case_file)
    document = extract(page, spec["url"], ExtractionRules(), spec["content_type"])
    assert similarity(document.body, expected) >= 0.93
    for sentence in spec["present"]:
        assert sentence in document.body
    for sentence in spec["absent"]:
        assert sentence not in document.body


def test_extraction_is_byte_stable_across_runs() -> None:
    spec, page, _ = load_case(FIXTURES / "legacy-2015-responsive-mediaocean" / "case.json")
    outputs = {extract(page, spec["url"], ExtractionRules(), spec["content_type"]).body for _ in range(3)}
    assert len(outputs) == 1


def test_volatile_page_parts_do_not_change_the_body() -> None:
    body = f"<main><h1>Privacy Policy</h1><p>{POLICY_PARAGRAPH}</p>"
    body += "<p>See our <a href='/terms;jsessionid=%s'>terms</a>.</p>"
    first = extract(
        html_page(body % "A1B2" + "<p>Page generated at 10:01:02</p></main>"), "http://x.com/p", ExtractionRules()
    )
    second = extract(
        html_page(body % "C3D4" + "<p>Page generated at 11:13:14</p></main>"), "http://x.com/p", ExtractionRules()
    )
    assert first.body == second.body
    assert "[terms](http://x.com/terms)" in first.body


def test_markdown_structure_headings_lists_links_emphasis() -> None:
    body = (
        "<article><h2>Your <a href='#rights'>rights</a></h2><p>We <b>never</b> sell <i>personal information</i>.</p>"
        "<ul><li>Access</li><li>Deletion<ul><li>within 30 days</li></ul></li></ul>"
        f"<p>{POLICY_PARAGRAPH}<a href='mailto:privacy@x.com'>Contact us</a></p></article>"
    )
    markdown = extract(html_page(body), "https://x.com/privacy", ExtractionRules()).body
    assert "## Your rights" in markdown
    assert "We **never** sell *personal information*." in markdown
    assert "- Access\n- Deletion\n  - within 30 days" in markdown
    assert "[Contact us](mailto:privacy@x.com)" in markdown


def test_br_separated_paragraphs_become_paragraphs() -> None:
    body = f"<td>Privacy Policy<br><br>{POLICY_PARAGRAPH}<br><br>Second paragraph about cookies.<br>Line two.</td>"
    markdown = extract(html_page(f"<table><tr>{body}</tr></table>"), "http://x.com/", ExtractionRules()).body
    assert markdown.startswith("Privacy Policy\n\nWe collect")
    assert "\n\nSecond paragraph about cookies.\nLine two.\n" in markdown


def test_cookie_policy_text_about_cookies_is_kept() -> None:
    body = (
        "<div id='content'><h1>Cookie Policy</h1><p>Our website uses cookies to distinguish you from other users. "
        "You can block cookies in your browser settings.</p>"
        f"<p>{POLICY_PARAGRAPH}</p></div>"
        "<div class='cookie-notice'>We use cookies. <a href='#'>Accept</a></div>"
    )
    markdown = extract(html_page(body, "Cookie Policy"), "http://x.com/", ExtractionRules(("#content",))).body
    assert "Our website uses cookies to distinguish you" in markdown
    assert "We use cookies." not in markdown


# ------------------------------------------------------------------------------------------- charsets


def test_http_charset_wins_over_meta() -> None:
    page = html_page(f"<p>Données personnelles. {POLICY_PARAGRAPH}</p>", head='<meta charset="utf-8">')
    latin1 = page.decode("utf-8").encode("latin-1")
    document = extract(latin1, "http://x.fr/", ExtractionRules(), "text/html; charset=ISO-8859-1")
    assert "Données personnelles." in document.body


def test_windows_1252_meta_gives_curly_quotes_and_dashes() -> None:
    text = f"<p>The \u201cSite\u201d \u2013 our privacy policy. {POLICY_PARAGRAPH}</p>"
    page = html_page(text, head='<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">')
    document = extract(page.decode("utf-8").encode("cp1252"), "http://x.com/", ExtractionRules(), "text/html")
    assert "The \u201cSite\u201d \u2013 our privacy policy." in document.body


def test_undeclared_iso_8859_1_is_read_as_western() -> None:
    spec, page, _ = load_case(FIXTURES / "legacy-2004-undeclared-latin1-de" / "case.json")
    assert b"charset" not in page
    document = extract(page, spec["url"], ExtractionRules())
    assert "Müller & Söhne Versand GmbH, Hauptstraße 17, 80331 München." in document.body
    assert document.title == "Datenschutzerklärung – Müller & Söhne Versand GmbH"


def test_undeclared_shift_jis_is_detected() -> None:
    spec, page, _ = load_case(FIXTURES / "legacy-2003-undeclared-shift-jis-ja" / "case.json")
    assert b"charset" not in page
    document = extract(page, spec["url"], ExtractionRules())
    assert "個人情報を適正かつ公正な手段によって取得いたします。" in document.body
    assert document.title == "個人情報保護方針 | さくら通信株式会社"


# ------------------------------------------------------------------------------------------------ PDF


def minimal_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A one-page PDF with a Helvetica text layer, offsets computed so that strict readers accept it."""
    commands = " ".join(f"({line}) Tj T*" for line in lines)
    stream = f"BT /F1 11 Tf 14 TL 50 780 Td {commands} ET".encode("latin-1")
    info = f"<< /Title ({title}) >>" if title else "<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info.encode("latin-1"),
    ]
    return pdf_of(objects)


def test_pdf_is_extracted_to_paragraphs() -> None:
    pdf = minimal_pdf(
        ["This privacy policy explains how we use", "your personal information.", "", "We never sell your data."],
        title="Example Privacy Policy",
    )
    document = extract(pdf, "https://x.com/privacy.pdf", ExtractionRules(), "application/pdf")
    assert document.title == "Example Privacy Policy"
    assert document.body == (
        "This privacy policy explains how we use your personal information.\n\nWe never sell your data.\n"
    )


def test_pdf_is_recognised_by_its_magic_bytes() -> None:
    pdf = minimal_pdf(["Terms of service: you agree to these terms."])
    document = extract(pdf, "https://x.com/terms", ExtractionRules(), "application/octet-stream")
    assert document.title == "Terms of service: you agree to these terms."


def test_unreadable_pdf_is_refused() -> None:
    with pytest.raises(ExtractionRefused) as refused:
        extract(b"%PDF-1.4\nthis is not a pdf", "https://x.com/p.pdf", ExtractionRules(), "application/pdf")
    assert refused.value.reason == "pdf-unreadable"


# ------------------------------------------------------------------------------------------- refusals

REFUSALS = [
    ("empty", b"   ", "text/html"),
    ("empty", html_page("<div> </div>"), "text/html"),
    ("not-found", html_page("<h1>Page not found</h1><p>Sorry, try the search.</p>", "404 Not Found"), "text/html"),
    ("login-wall", html_page("<form><input name=u><input type=password name=p></form><p>Privacy</p>", "Sign in"), None),
    ("javascript-shell", html_page("<div id='root'></div><noscript>Please enable JavaScript.</noscript>"), None),
    (
        "not-a-legal-document",
        html_page(f"<p>{'Our spring sale has started, shoes are half price. ' * 20}</p>", "Shop"),
        None,
    ),
    ("unsupported-type", b"\x89PNG\r\n\x1a\n", "image/png"),
]


@pytest.mark.parametrize(
    ("reason", "page", "content_type"), REFUSALS, ids=[r[0] + str(i) for i, r in enumerate(REFUSALS)]
)
def test_pages_without_a_document_are_refused(reason: str, page: bytes, content_type: str | None) -> None:
    with pytest.raises(ExtractionRefused) as refused:
        extract(page, "https://x.com/privacy", ExtractionRules(), content_type)
    assert refused.value.reason == reason
    assert refused.value.detail


def test_selector_matching_nothing_is_refused() -> None:
    page = html_page(f"<div id='content'><p>{POLICY_PARAGRAPH}</p></div>")
    with pytest.raises(ExtractionRefused) as refused:
        extract(page, "https://x.com/", ExtractionRules(select=("#policy",)))
    assert refused.value.reason == "selector-matched-nothing"


def test_selector_error_reports_invalid_selectors() -> None:
    assert selector_error("div.content > p") is None
    assert selector_error("#main, article") is None
    assert selector_error("div[").startswith("invalid CSS selector 'div[': ")
    assert selector_error("div >> p").startswith("invalid CSS selector")
    # valid CSS that cssselect cannot apply (acceptance report 6): said so, not called invalid
    for supported_elsewhere in ("p::before", ".x:nth-of-type(2)", "main > .container:first-of-type"):
        assert f"{supported_elsewhere!r} is not supported by the selector engine" in selector_error(supported_elsewhere)
    assert selector_error("p:nth-of-type(2)") is None


def test_extract_names_a_selector_the_engine_does_not_implement_once(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(html_page(f"<main><p class='x'>{POLICY_PARAGRAPH}</p></main>"))
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "none"), "extract", str(page), "--select", ".x:nth-of-type(1)"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "policy-archive: CSS selector '.x:nth-of-type(1)' is not supported by the selector engine (cssselect): "
        "*:nth-of-type() is not implemented\n"
    )


# ----------------------------------------------------------------------------------------------- title


SEVERAL = (
    "<main><h2>Terms of Service</h2><p>You agree to these terms and conditions when you use the service.</p>"
    f"<h2>Privacy Policy</h2><p>{POLICY_PARAGRAPH}</p></main>"
)


def run_extract(tmp_path: Path, body: bytes, *options: str) -> tuple[int, str, str]:
    path = tmp_path / "page.html"
    path.write_bytes(body)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none"), "extract", *options, str(path)])
    return result.exit_code, result.stdout, result.stderr


def test_extract_json_of_a_refused_page_prints_the_refusal_as_json(tmp_path: Path) -> None:
    """Audit of 2026-11-29: a JSON consumer got nothing on stdout for a refused page; now an object saying why."""
    status, stdout, stderr = run_extract(tmp_path, html_page(SEVERAL, "Legal"), "--json", "--type", "cookie-policy")
    assert status == 1
    fields = json.loads(stdout)
    assert fields["refused"]["reason"] == "several-documents"
    assert "declare `select`" in fields["refused"]["detail"]
    assert {key: fields[key] for key in ("title", "markdown", "stated_date", "dropped", "hard")} == {
        "title": None,
        "markdown": None,
        "stated_date": None,
        "dropped": [],
        "hard": None,
    }
    assert stderr.startswith("policy-archive: ") and "not recorded: several-documents: " in stderr
    assert stderr.count("\n") == 1
    status, stdout, stderr = run_extract(tmp_path, html_page(SEVERAL, "Legal"), "--json", "--max-bytes", "10")
    assert status == 1 and json.loads(stdout)["refused"] == {
        "reason": "too-large",
        "detail": "over the limit of 10 bytes (--max-bytes)",
    }
    assert "not recorded: too large: over the limit of 10 bytes" in stderr
    # Without --json stdout stays empty; with it, a page extracted says "refused": null.
    assert run_extract(tmp_path, html_page(SEVERAL, "Legal"), "--type", "cookie-policy")[:2] == (1, "")
    status, stdout, _ = run_extract(tmp_path, html_page(SEVERAL, "Legal"), "--json", "--type", "privacy-policy")
    assert status == 0 and json.loads(stdout)["refused"] is None


@pytest.mark.parametrize("given", ["Privacy", "privacy_policy", "-x", "", "p" * 101])
def test_extract_refuses_a_type_no_document_id_could_be(tmp_path: Path, given: str) -> None:
    status, stdout, stderr = run_extract(tmp_path, html_page(SEVERAL, "Legal"), f"--type={given}")
    assert (status, stdout) == (2, "")
    assert stderr.count("\n") == 1 and "a document type is a document id" in stderr
    assert "recognised: privacy-policy, terms-of-service, cookie-policy, imprint" in stderr


def test_extract_takes_any_document_id_as_type_and_says_when_its_headings_are_unknown(tmp_path: Path) -> None:
    # Backfill and track pass the document id, any slug: extract does as they do, and says what follows.
    status, stdout, stderr = run_extract(tmp_path, html_page(SEVERAL, "Legal"), "--type", "developer-terms")
    assert (status, stdout) == (1, "")
    assert stderr.startswith("policy-archive: note: --type developer-terms: no headings recognised for it")
    assert "not recorded: several-documents" in stderr
    status, stdout, stderr = run_extract(tmp_path, html_page(f"<main><p>{POLICY_PARAGRAPH}</p></main>"), "--type=x")
    assert status == 0 and POLICY_PARAGRAPH.strip() in stdout and "note: --type x:" in stderr
    assert run_extract(tmp_path, html_page(SEVERAL, "Legal"), "--type", "imprint")[2].count("note:") == 0


def test_title_falls_back_to_first_heading_then_untitled() -> None:
    page = f"<html><body><h1>  Terms  of Use </h1><p>{POLICY_PARAGRAPH}</p></body></html>".encode()
    assert extract(page, "http://x.com/", ExtractionRules()).title == "Terms of Use"
    page = f"<html><body><p>{POLICY_PARAGRAPH}</p></body></html>".encode()
    assert extract(page, "http://x.com/", ExtractionRules()).title == "Untitled"


def test_extractor_names_our_revision_and_the_installed_libraries() -> None:
    assert EXTRACTOR.startswith("policy-archive-extract ")
    assert f"lxml {version('lxml')}" in EXTRACTOR
    assert f"pypdf {version('pypdf')}" in EXTRACTOR


def pdf_of(objects: list[bytes]) -> bytes:
    """A PDF file of ``objects`` (1: the catalog, 6: the document information), with its cross-reference table."""
    output = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref_at = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(output)
