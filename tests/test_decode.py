"""Charset decoding (pipeline/extraction/decode.py): the browser's order, and undeclared legacy pages."""

from policy_archive.pipeline.extraction.decode import decode_html

FRENCH = (
    "<p>Voilà notre politique de confidentialité : à partir du 3 mars, les données personnelles sont traitées "
    "là où c'est nécessaire. Déjà reçu, élève, très, où, ça.</p>"
)
POLISH = (
    "<p>Polityka prywatności: dane osobowe są przetwarzane zgodnie z prawem. Łódź, Gdańsk, Kraków, źródło, "
    "większość, zażółć gęślą jaźń.</p>"
)


def test_undeclared_french_latin1_is_read_as_western() -> None:
    # charset-normalizer alone guesses cp1257/cp1250 for this text ("à" would come out as "ŕ").
    page = f"<html><body>{FRENCH * 3}</body></html>".encode("latin-1")
    assert FRENCH in decode_html(page, None)


def test_undeclared_central_european_page_keeps_its_code_page() -> None:
    page = f"<html><body>{POLISH * 4}</body></html>".encode("cp1250")
    assert POLISH in decode_html(page, "text/html")


def test_byte_order_mark_wins_over_http_header_and_meta() -> None:
    page = b"\xef\xbb\xbf<html><head><meta charset='iso-8859-1'></head><body><p>caf\xc3\xa9</p></body></html>"
    text = decode_html(page, "text/html; charset=iso-8859-1")
    assert "<p>café</p>" in text
    assert not text.startswith("\ufeff")


def test_iso_8859_1_label_means_windows_1252() -> None:
    page = "<p>\u201cquoted\u201d \u2013 dash</p>".encode("cp1252")
    assert "\u201cquoted\u201d \u2013 dash" in decode_html(page, "text/html; charset=ISO-8859-1")


def test_undeclared_utf8_is_utf8() -> None:
    page = f"<html><body>{FRENCH}</body></html>".encode()
    assert FRENCH in decode_html(page, None)


def test_meta_naming_utf16_on_bytes_without_bom_means_utf8() -> None:
    # WHATWG's prescan: a <meta> read as ASCII bytes cannot be UTF-16, so UTF-16LE/BE become UTF-8 (audit
    # 2026-11-28: w3lib read such a page as UTF-16 and the policy came out as CJK noise, not-a-legal-document).
    for label in ("utf-16", "UTF-16LE", "utf-16be"):
        page = f"<html><head><meta charset='{label}'></head><body>{FRENCH}</body></html>".encode()
        assert FRENCH in decode_html(page, None), label
        assert FRENCH in decode_html(page, "text/html"), label


def test_utf16_with_a_bom_or_from_http_stays_utf16() -> None:
    page = f"<html><head><meta charset='utf-16'></head><body>{FRENCH}</body></html>"
    assert FRENCH in decode_html(page.encode("utf-16"), None)  # BOM first
    assert FRENCH in decode_html(page.encode("utf-16-le"), "text/html; charset=utf-16le")


RUSSIAN = "<p>Политика конфиденциальности: персональные данные обрабатываются в соответствии с законом.</p>"


def test_meta_naming_x_user_defined_means_windows_1252() -> None:
    # WHATWG's prescan reads a <meta> naming x-user-defined as windows-1252 (audit 2026-11-28: w3lib 2.5 knows no
    # such label, so the page went to detection: UTF-8 bytes read as UTF-8, Cyrillic-looking bytes as cp1251).
    quoted = "<p>\u201cquoted\u201d \u2013 caf\u00e9 \u20ac</p>"
    metas = (
        "<meta charset='x-user-defined'>",
        '<meta charset="X-User-Defined">',
        '<meta http-equiv="Content-Type" content="text/html; charset=x-user-defined">',
    )
    for meta in metas:
        page = f"<html><head>{meta}</head><body>{quoted}</body></html>".encode("cp1252")
        assert quoted in decode_html(page, None), meta
        assert quoted in decode_html(page, "text/html"), meta
        utf8 = f"<html><head>{meta}</head><body>{FRENCH}</body></html>".encode()
        assert FRENCH.encode().decode("cp1252", "replace") in decode_html(utf8, None), meta  # as a browser shows it
        cyrillic = f"<html><head>{meta}</head><body>{RUSSIAN * 3}</body></html>".encode("cp1251")
        assert RUSSIAN.encode("cp1251").decode("cp1252") in decode_html(cyrillic, None), meta


def test_x_user_defined_only_where_the_prescan_reads_a_declaration() -> None:
    # A commented-out <meta>, a <meta> without charset or pragma, a declaration before it, an HTTP charset, or
    # the words in the text: the page is decoded as before.
    body = f"<body>{FRENCH}<p>x-user-defined</p></body></html>"
    for head in (
        "<!-- <meta charset='x-user-defined'> -->",
        "<meta content='text/html; charset=x-user-defined'>",
        "<meta charset='utf-8'><meta charset='x-user-defined'>",
        "",
    ):
        page = f"<html><head>{head}</head>{body}".encode()
        assert FRENCH in decode_html(page, None), head
    page = f"<html><head><meta charset='x-user-defined'></head>{body}".encode()
    assert FRENCH in decode_html(page, "text/html; charset=utf-8")
    assert FRENCH in decode_html(b"\xef\xbb\xbf" + page, None)


def test_http_charset_naming_x_user_defined_means_windows_1252() -> None:
    """Read as the <meta> naming it is (revision 15): before, w3lib ignored the header's unknown label, so the page's
    <meta> or detection decided (UTF-8 bytes read as UTF-8, Cyrillic-looking bytes as cp1251). The header wins over
    a <meta>, as any HTTP charset does; a byte-order mark wins over both."""
    quoted = "<p>\u201cquoted\u201d \u2013 caf\u00e9 \u20ac</p>"
    headers = (
        "text/html; charset=x-user-defined",
        'text/html; charset="X-User-Defined"',
        "text/html;charset=x-user-defined ",
    )
    for header in headers:
        assert quoted in decode_html(f"<html><body>{quoted}</body></html>".encode("cp1252"), header), header
        utf8 = f"<html><head><meta charset='utf-8'></head><body>{FRENCH}</body></html>".encode()
        assert FRENCH.encode().decode("cp1252", "replace") in decode_html(utf8, header), header
        cyrillic = f"<html><body>{RUSSIAN * 3}</body></html>".encode("cp1251")
        assert RUSSIAN.encode("cp1251").decode("cp1252") in decode_html(cyrillic, header), header
        assert FRENCH in decode_html(b"\xef\xbb\xbf" + utf8, header), header


def test_x_user_defined_elsewhere_in_the_header_is_no_charset() -> None:
    """Only the header's charset parameter counts, as w3lib reads it: the label in another parameter, or after a
    charset that is named first, leaves the page to its <meta> and detection as before."""
    page = f"<html><head><meta charset='utf-8'></head><body>{FRENCH}</body></html>".encode()
    for header in (
        'text/html; profile="x-user-defined"',
        "text/html; charset=utf-8; charset=x-user-defined",
        "text/html; x-user-defined",
    ):
        assert FRENCH in decode_html(page, header), header
