"""PDF extraction: headings and lists recovered from fonts and line starts, and a PDF of several legal documents
cut to the declared one or refused as the same page in HTML is (audit 2026-11-29, finding 5)."""

from __future__ import annotations

import pytest
from test_extract import pdf_of

from policy_archive.pipeline.extraction.extract import PDF_REMEDY, ExtractionRefused, extract
from policy_archive.records import ExtractionRules

# A line: its text, its font size, and whether it is bold; None is a blank line (half a line's space more).
Line = tuple[str, float, bool] | None
BODY = 11.0


def styled_pdf(lines: list[Line], title: str | None = None) -> bytes:
    """A one-page PDF setting each line (its cells, split at tabs) on its own baseline in Helvetica or
    Helvetica-Bold (WinAnsi, so "\\225" is a bullet), at the line's size, 1.3 sizes below the line before;
    offsets computed so strict readers accept it. Pure bytes: no PDF library needed to write it."""
    pieces, y = [], 800.0
    for line in lines:
        if line is None:
            y -= BODY * 0.8
            continue
        text, size, bold = line
        y -= size * 1.3
        for column, cell in enumerate(text.split("\t")):  # a tab: the next cell of a table's row, 200 points on
            pieces.append((cell, size, bold, 50.0 + 200 * column, y))
    return placed_pdf(pieces, title)


# A piece of text: its text, size, boldness, and where it starts on the page (x, and y from the page's foot).
Piece = tuple[str, float, bool, float, float]


def placed_pdf(pieces: list[Piece], title: str | None = None) -> bytes:
    """A one-page PDF drawing each piece where it says, in the order given (as a table is drawn: cell by cell)."""
    commands = []
    for text, size, bold, x, y in pieces:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("•", "\\225")
        font = "F2" if bold else "F1"
        commands.append(f"BT /{font} {size:g} Tf {x:.1f} {y:.1f} Td ({escaped}) Tj ET")
    stream = "\n".join(commands).encode("latin-1")
    info = f"<< /Title ({title}) >>" if title else "<< >>"
    font = "<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 7 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        (font % "Helvetica").encode(),
        info.encode("latin-1"),
        (font % "Helvetica-Bold").encode(),
    ]
    return pdf_of(objects)


def body(text: str) -> Line:
    return (text, BODY, False)


LEGAL = [
    ("Legal", 22.0, True),
    ("Terms of Service", 16.0, True),
    body("By using Example you agree to these terms. You must be"),
    body("16 or older to use the service."),
    None,
    body("We may suspend accounts that break these terms."),
    ("Privacy Policy", 16.0, True),
    body("We collect:"),
    body("• your email address;"),
    body("• your usage data."),
    ("Your rights", 13.0, True),
    body("You can access and delete your personal data."),
]


def pdf_extract(pdf: bytes, document_type: str, title: str | None = None):  # noqa: ANN201 - ExtractedDocument
    return extract(pdf, "https://x.test/legal.pdf", ExtractionRules(), "application/pdf", document_type=document_type)


def test_pdf_of_several_documents_is_cut_to_the_declared_one() -> None:
    pdf = styled_pdf(LEGAL, title="Legal")
    terms = pdf_extract(pdf, "terms-of-service")
    assert terms.title == "Legal"
    assert terms.body == (
        "## Terms of Service\n\nBy using Example you agree to these terms. You must be 16 or older to use the"
        " service.\n\nWe may suspend accounts that break these terms.\n"
    )
    assert [(d.reason, d.sample) for d in terms.dropped] == [("other-document", "Privacy Policy")]
    privacy = pdf_extract(pdf, "privacy-policy")
    assert privacy.body == (
        "## Privacy Policy\n\nWe collect:\n\n- your email address;\n- your usage data.\n\n### Your rights\n\n"
        "You can access and delete your personal data.\n"
    )


def test_pdf_without_title_cut_to_one_document_is_titled_by_it() -> None:
    privacy = pdf_extract(styled_pdf(LEGAL), "privacy-policy")
    assert privacy.title == "Privacy Policy"
    assert privacy.body.startswith("We collect:\n\n- your email address;")  # the heading is the title


def test_pdf_of_several_documents_without_the_declared_one_is_refused_as_the_page_is() -> None:
    html = (
        b"<html><head><title>Legal</title></head><body><h1>Legal</h1><h2>Terms of Service</h2>"
        b"<p>By using Example you agree to these terms.</p><h2>Privacy Policy</h2>"
        b"<p>We collect your personal data.</p></body></html>"
    )
    with pytest.raises(ExtractionRefused) as as_page:
        extract(html, "https://x.test/legal", ExtractionRules(), "text/html", document_type="imprint")
    with pytest.raises(ExtractionRefused) as as_pdf:
        pdf_extract(styled_pdf(LEGAL, title="Legal"), "imprint")
    assert as_pdf.value.reason == as_page.value.reason == "several-documents"
    # The page's reason; the remedy is the PDF's own: `select` does not apply to one.
    assert as_page.value.detail.endswith("; declare `select` for this document")
    reason = as_page.value.detail.removesuffix("; declare `select` for this document")
    assert as_pdf.value.detail == f"{reason}; {PDF_REMEDY}"


STRUCTURED = [
    ("Privacy Policy", 18.0, True),
    body("Example Ltd"),  # short: ends its block, and no heading
    body("Last updated: 1 May 2024"),
    body("1. Introduction"),
    body("This policy says what we do with the personal data you give"),
    body("us and why we may do it, for as long as you use the service."),
    ("Data we collect", BODY, True),
    body("We collect the following data when you open an account with"),
    body("us or write to us:"),
    body("1. your name;"),
    body("2. your email address."),
    body("DEFINITIONS"),
    body("Personal data means any information about you, as set out in"),
    body("- the law of the country you live in and the rules made under"),
    body("it, and the rules that the courts apply to it, as in section"),
    body("3. Of the Act says."),
    body("THE SERVICE IS PROVIDED AS IS AND WITHOUT WARRANTY OF ANY KIND"),
    body("WHATSOEVER, TO THE EXTENT THE LAW OF YOUR COUNTRY ALLOWS IT."),
    body("Cookies"),
    body("We set cookies of two kinds on the devices you use to read us:"),
    body("- strictly necessary cookies, and"),
    body("\u2022 analytics cookies."),
    ("Cookie\tPurpose", BODY, True),  # a table's header row: no heading
    body("sid\tsession"),
]


def test_pdf_headings_and_lists_are_recovered_and_ordinary_lines_stay_text() -> None:
    document = pdf_extract(styled_pdf(STRUCTURED), "privacy-policy")
    assert document.title == "Privacy Policy"
    assert document.body == (
        "Example Ltd\n\nLast updated: 1 May 2024\n\n"
        "## 1. Introduction\n\n"
        "This policy says what we do with the personal data you give us and why we may do it, for as long as you"
        " use the service.\n\n"
        "## Data we collect\n\n"
        "We collect the following data when you open an account with us or write to us:\n\n"
        "1. your name;\n2. your email address.\n\n"
        "## DEFINITIONS\n\n"
        # Lines wrapped before "- " or "3. " are text (the line before them ends no sentence, and is full).
        "Personal data means any information about you, as set out in - the law of the country you live in and the"
        " rules made under it, and the rules that the courts apply to it, as in section 3. Of the Act says.\n\n"
        # Two lines in capitals: a paragraph, no heading.
        "THE SERVICE IS PROVIDED AS IS AND WITHOUT WARRANTY OF ANY KIND WHATSOEVER, TO THE EXTENT THE LAW OF YOUR"
        " COUNTRY ALLOWS IT.\n\n"
        # Alone, but neither larger, bold, numbered nor in capitals: text.
        "Cookies\n\n"
        "We set cookies of two kinds on the devices you use to read us:\n\n"
        "- strictly necessary cookies, and\n- analytics cookies.\n\n"
        "Cookie Purpose\n\nsid session\n"
    )


def test_pdf_extraction_is_stable() -> None:
    pdf = styled_pdf(STRUCTURED + LEGAL[1:])
    first = pdf_extract(pdf, "privacy-policy")
    assert pdf_extract(pdf, "privacy-policy") == first


def test_pdf_heading_wrapped_onto_two_lines_is_one_heading() -> None:
    pdf = styled_pdf(
        [
            ("Terms and Conditions of", 16.0, True),
            ("Example Services", 16.0, True),
            body("You agree to these terms when you use the service."),
            None,
            ("Changes", 16.0, True),
            None,  # set apart from the heading before: another heading
            ("Termination", 16.0, True),
            body("We may end this agreement at any time, with notice."),
        ]
    )
    terms = pdf_extract(pdf, "terms-of-service")
    assert terms.title == "Terms and Conditions of Example Services"  # no metadata title: the first heading
    assert terms.body == (
        "You agree to these terms when you use the service.\n\n"
        "# Changes\n\n# Termination\n\nWe may end this agreement at any time, with notice.\n"
    )


def paragraph(y: float, *lines: str) -> list[Piece]:
    return [(text, 12.0, False, 33.7, y - 13.5 * index) for index, text in enumerate(lines)]


# Tables as Chromium 156 prints them (``--print-to-pdf``, 2026-11-29; the places below are those pypdf read from
# its print of a page holding Buffer's sub-processor and retention tables): a header row of bold ``<th>`` centred
# over its columns, rows set left; and rows whose cells wrap, drawn cell by cell, each cell's lines down from the
# row's top and the next cell's back up beside them (a cell's last line in capitals, as Maiia's "TBNO INVEST").
TABLES: list[Piece] = [
    ("Privacy Policy", 24.0, True, 33.7, 736.5),
    *paragraph(704.3, "This section lists the providers we share personal data with and how long", "we keep it."),
    ("Sub-processors", 18.0, True, 33.7, 657.0),
    ("Provider", 12.0, True, 96.8, 626.0),
    ("Service", 12.0, True, 246.5, 626.0),
    ("Location", 12.0, True, 327.4, 626.0),
    ("Amazon Web Services (AWS), Inc", 12.0, False, 36.0, 609.5),
    ("Cloud (hosting) service", 12.0, False, 205.8, 609.5),
    ("USA", 12.0, False, 327.4, 609.5),
    ("Anthropic", 12.0, False, 36.0, 593.0),
    ("Artificial Intelligence", 12.0, False, 205.8, 593.0),
    ("USA", 12.0, False, 327.4, 593.0),
    *paragraph(565.3, "We review this list whenever we add a provider, and we tell you before a new one", "starts."),
    ("Retention", 18.0, True, 33.7, 510.0),
    ("Type", 12.0, True, 70.7, 478.0),
    ("Record", 12.0, True, 203.4, 478.0),
    ("Period", 12.0, True, 353.4, 478.0),
    ("Customer data", 12.0, False, 36.0, 450.0),
    ("(non-sensitive)", 12.0, False, 36.0, 436.5),
    ("Current customer", 12.0, False, 194.8, 450.0),
    ("(free account)", 12.0, False, 194.8, 436.5),
    ("Indefinitely", 12.0, False, 353.4, 450.0),
    ("Billing records kept by", 12.0, False, 36.0, 410.0),
    ("EXAMPLE LTD", 12.0, False, 36.0, 396.5),
    ("Former customer", 12.0, False, 194.8, 410.0),
    ("Ten years", 12.0, False, 353.4, 410.0),
    *paragraph(380.0, "We keep data no longer than the table above says, unless the law requires us to", "keep it."),
]


def test_a_pdf_tables_header_row_and_row_headers_are_text_not_headings() -> None:
    document = pdf_extract(placed_pdf(TABLES), "privacy-policy")
    assert document.title == "Privacy Policy"
    headings = [line for line in document.body.splitlines() if line.startswith("#")]
    assert headings == ["## Sub-processors", "## Retention"], document.body
    for text in ("Provider Service Location", "Type Record Period", "Customer data", "EXAMPLE LTD"):
        assert f"\n\n{text}" in document.body
