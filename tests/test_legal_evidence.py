"""Whether a text is a legal document at all: a legal word met once, in passing, in a longer text is no evidence
(outside audit of 2026-11-29: an EPA signpost page offering an "index of terms and topics" was recorded as a
privacy policy); one in the title or a heading is, and so are two mentions, or one in a short notice."""

from __future__ import annotations

import pytest

from policy_archive.pipeline.extraction.extract import ExtractionRefused, extract
from policy_archive.pipeline.extraction.refusals import IN_PASSING_WORDS
from policy_archive.records import ExtractionRules

URL = "https://example.org/legal"
FILLER = "We want to help you find what you are looking for on this website today. "  # 15 words, no legal word


def page(title: str, body: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><main>{body}</main></body></html>".encode()


def words(count: int) -> str:
    """``count`` words or a few more of text naming no legal matter."""
    return FILLER * (count // 15 + 1)


@pytest.mark.parametrize("rules", [ExtractionRules(), ExtractionRules(select=("main",))], ids=["generic", "declared"])
def test_one_legal_word_in_passing_in_a_longer_text_is_refused(rules: ExtractionRules) -> None:
    body = f"<h1>Help</h1><p>{words(IN_PASSING_WORDS)} Browse our index of terms and topics.</p>"
    with pytest.raises(ExtractionRefused) as refused:
        extract(page("Help finding information", body), URL, rules, "text/html")
    assert refused.value.reason == "not-a-legal-document"
    assert "only in passing ('terms', once in " in refused.value.detail
    assert "no legal word in its title or headings" in refused.value.detail


@pytest.mark.parametrize(
    ("title", "body"),
    [
        # the matter named by the title, a heading, a paragraph wholly in bold (legacy pages' headings)
        ("Legal notice", f"<p>{words(300)} See our terms.</p>"),
        ("Help", f"<h2>Our privacy commitments</h2><p>{words(300)}</p>"),
        ("Help", f"<p><b>ACME PRIVACY POLICY</b></p>{f'<p>{words(30)}</p>' * 10}"),
        # two mentions, of one word or of two
        ("Help", f"<p>{words(300)} These terms apply. Read the terms.</p>"),
        ("Help", f"<p>{words(300)} These terms apply. We use cookies.</p>"),
        # one mention in a short notice
        ("Contact", "<p>ACME GmbH, Musterstraße 1, 10115 Berlin. Handelsregister: Amtsgericht Berlin HRB 12345.</p>"),
    ],
    ids=["title", "heading", "bold-line", "twice", "two-words", "short-notice"],
)
def test_a_legal_text_is_kept(title: str, body: str) -> None:
    document = extract(page(title, body), URL, ExtractionRules(), "text/html")
    assert document.body.strip()


def test_a_short_imprint_is_a_document() -> None:
    """An imprint (a known type) is short and names its matter in its heading, often only there."""
    body = (
        "<h1>Impressum</h1><p>ACME GmbH<br>Musterstraße 1<br>10115 Berlin</p><p>Geschäftsführer: Erika Muster</p>"
        "<p>Telefon: +49 30 1234567<br>E-Mail: info@acme.example</p><p>USt-IdNr.: DE123456789</p>"
    )
    document = extract(page("ACME", body), URL, ExtractionRules(), "text/html", document_type="imprint")
    assert "Musterstraße 1" in document.body


def test_german_community_guidelines_are_named_by_their_title() -> None:
    """LoveScout24's community guidelines (OTA benchmark) name their matter only in their title and once in 1,399
    words ("Nutzungsbedingungen"): the German word for community guidelines is a legal word."""
    body = f"<p>{words(300)} Siehe unsere Nutzungsbedingungen.</p>"
    document = extract(page("LoveScout24-Gemeinschaftsrichtlinien", body), URL, ExtractionRules(), "text/html")
    assert document.title == "LoveScout24-Gemeinschaftsrichtlinien"
