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
    commands, y = [], 800.0
    for line in lines:
        if line is None:
            y -= BODY * 0.8
            continue
        text, size, bold = line
        y -= size * 1.3
        for column, cell in enumerate(text.split("\t")):  # a tab: the next cell of a table's row, 200 points on
            escaped = cell.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("•", "\\225")
            font = "F2" if bold else "F1"
            commands.append(f"BT /{font} {size:g} Tf {50 + 200 * column} {y:.1f} Td ({escaped}) Tj ET")
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
