"""`discover` on the link shapes acceptance report 4 found (2026-11-28): session ids in links, ``<base href>``,
secondary privacy links beside the policy's, image links and framesets. End to end through the CLI on the
stand-in archive; the link chooser's scoring called directly."""

from __future__ import annotations

import json
import random
import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest
from standin.archive import StandinArchive
from standin.cli import cli_environment, run_cli, write_archive_settings
from standin.pages import Page
from standin.sites import StandinSites

from policy_archive.pipeline.extraction.links import choose_link, link_url, url_key
from policy_archive.pipeline.jobs.home_pages import Sighting

MOVE = date(2014, 1, 10)


def write_settings(tmp_path, archive: StandinArchive):
    config = tmp_path / "config"
    write_archive_settings(config, archive.cdx_url, archive.replay_url)
    return config


def footer_page(*links: tuple[str, str], head: str = "") -> str:
    anchors = " | ".join(f"<a href='{href}'>{text}</a>" for href, text in links)
    return (
        f"<html><head>{head}<title>Tienda</title></head><body><main><h1>Tienda</h1></main>"
        f"<footer class='site-footer'><p>{anchors}</p></footer></body></html>"
    )


def build_session_history(archive: StandinArchive, domain: str, parameter: str) -> date:
    """The audit's es-tienda.test: until :data:`MOVE` the policy link carries ``parameter`` with a new value on
    every capture (every 30 days from 2011-03-01), then ``/privacidad``. Returns the last day of the first era."""
    values = random.Random(1)
    day, last = date(2011, 3, 1), date(2011, 3, 1)
    while day <= date(2016, 5, 1):
        if day < MOVE:
            link = (f"/politica-privacidad.php?{parameter}={values.getrandbits(128):032x}", "Política de privacidad")
            last = day
        else:
            link = ("/privacidad", "Aviso de privacidad")
        page = footer_page(("/aviso-legal.php", "Aviso legal"), link, ("/cookies.php", "Política de cookies"))
        archive.add_capture(f"http://{domain}/", day.strftime("%Y%m%d120000"), page)
        day += timedelta(days=30)
    return last


def test_links_differing_only_by_a_session_id_are_one_era_declared_without_it(tmp_path, standin_archive):
    last = build_session_history(standin_archive, "es-tienda.test", "PHPSESSID")
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "es-tienda.test", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "UNSURE" not in result.stderr and "PHPSESSID" not in result.stdout
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "http://es-tienda.test/privacidad"
    assert document["history"] == [
        {"url": "http://es-tienda.test/politica-privacidad.php", "valid_until": last.isoformat()}
    ]
    # Two eras: the grid and the bisection around the one move, not every capture (63 listed).
    assert standin_archive.counts()["replay"] < 25


def test_one_capture_eras_whose_links_differ_only_in_an_unknown_query_value_are_unsure(tmp_path, standin_archive):
    """The safety net: a per-visit value under a name discovery does not know is reported, never printed as fact."""
    build_session_history(standin_archive, "churn.test", "visit")
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "churn.test", timeout=300)
    assert result.returncode == 1, result.stderr
    unsure = [line for line in result.stderr.splitlines() if line.startswith("UNSURE churn.test")]
    assert len(unsure) >= 3
    assert all("one-capture eras in a row whose links differ only in their query" in line for line in unsure)
    assert "/privacidad" not in "".join(unsure)  # the era after the move is sure


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("http://shop.test:8443/privacy", "http://shop.test/privacy", False),  # another server
        ("https://shop.test:8443/privacy", "https://shop.test:9443/privacy", False),
        ("http://[2001:db8::1]:8080/privacy", "http://[2001:db8::1]/privacy", False),
        ("https://www.shop.test:8443/privacy/", "http://shop.test:8443/privacy", True),
        ("http://shop.test:80/privacy", "https://shop.test:443/privacy", True),  # each its scheme's default port
    ],
)
def test_a_port_other_than_the_default_makes_another_page(first, second, same):
    assert (url_key(first) == url_key(second)) is same
    assert (url_key(link_url(first)) == url_key(link_url(second))) is same


def test_the_same_path_on_another_port_is_a_rival_not_the_same_link():
    page = footer_page(("http://shop.test:8443/privacy", "Privacy Policy"), ("/privacy", "Privacy Policy")).encode()
    choice = choose_link(page, None, "http://shop.test/", "privacy-policy")
    assert {choice.best.url, *(rival.url for rival in choice.rivals)} == {
        "http://shop.test/privacy",
        "http://shop.test:8443/privacy",
    }


def test_a_policy_moved_to_another_port_is_a_new_era(tmp_path, standin_archive):
    day = date(2012, 1, 1)
    while day <= date(2016, 1, 1):
        href = "/privacy" if day < MOVE else "http://port.test:8443/privacy"
        standin_archive.add_capture("http://port.test/", day.strftime("%Y%m%d120000"), footer_page((href, "Privacy")))
        day += timedelta(days=60)
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "port.test", timeout=300)
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "http://port.test:8443/privacy"
    assert [entry["url"] for entry in document["history"]] == ["http://port.test/privacy"]


@pytest.mark.parametrize(
    ("href", "declared"),
    [
        ("/p.php?PHPSESSID=cd613e30d8f16adf91b7584a2265b1f5", "/p.php"),
        ("/p.php?lang=es&sid=1e2feb8941&page=2", "/p.php?lang=es&page=2"),
        ("/privacy.jsp;jsessionid=0A1B2C3D4E5F60718293A4B5C6D7E8F9.node1", "/privacy.jsp"),
        ("/privacy.jsp;jsessionid=0A1B2C3D4E5F60718293A4B5C6D7E8F9?x=1", "/privacy.jsp?x=1"),
        ("/privacy.asp?ASPSESSIONIDQADCTQRB=KHLBJPLBHKHJGDOBNPDFMKDD", "/privacy.asp"),
        ("/privacy.cfm?CFID=123456&CFTOKEN=78901234&lang=en", "/privacy.cfm?lang=en"),
        ("/privacy.php?osCsid=6a1b7cdd5e6f7a8b9c0d1e2f3a4b5c6d", "/privacy.php"),
        ("/index.php?sessionid=AbCdEf0123456789", "/index.php"),
        # A short value is the page's own id (PHP-Nuke's article.php?sid=123), a lone cfid no ColdFusion session.
        ("/article.php?sid=123", "/article.php?sid=123"),
        ("/privacy.cfm?cfid=12", "/privacy.cfm?cfid=12"),
        ("/page.php?id=privacy", "/page.php?id=privacy"),
    ],
)
def test_a_link_is_kept_without_its_session_id(href, declared):
    assert link_url(f"http://shop.test{href}") == f"http://shop.test{declared}"
    page = footer_page((href, "Privacy Policy")).encode()
    assert choose_link(page, None, "http://shop.test/", "privacy-policy").best.url == f"http://shop.test{declared}"


def test_links_resolve_against_the_base_href_as_a_browser_resolves_them(tmp_path, standin_archive):
    """The audit's base-shop.test: the home page is an archived 302 to /en/, whose ``<base href='/'>`` makes its
    footer's ``privacy`` mean /privacy, the only URL the policy is captured at."""
    page = footer_page(("about", "About"), ("privacy", "Privacy Policy"), head="<base href='/'>")
    day = date(2018, 1, 1)
    while day <= date(2020, 1, 1):
        stamp = day.strftime("%Y%m%d10")
        standin_archive.add_capture("http://base-shop.test/", f"{stamp}0000", status=302,
                                    location="http://base-shop.test/en/")  # fmt: skip
        standin_archive.add_capture("http://base-shop.test/en/", f"{stamp}0030", page)
        day += timedelta(days=60)
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "base-shop.test", timeout=300)
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "http://base-shop.test/privacy" and "history" not in document


@pytest.mark.parametrize(
    ("head", "declared"),
    [
        # A 2000s CMS (osCommerce, Joomla 1.x): an absolute base, the page deeper (the audit's base_href.py).
        ("<base href='http://www.shop.example/'>", "http://www.shop.example/privacy.html"),
        ("<base href='../'>", "http://www.shop.example/privacy.html"),
        ("<base href='//cdn.shop.example/site/'>", "http://cdn.shop.example/site/privacy.html"),
        # The first base with an href counts; one with only a target, or no http(s) address, does not.
        ("<base target='_top'><base href='/a/'><base href='/b/'>", "http://www.shop.example/a/privacy.html"),
        ("<base href='javascript:void(0)'>", "http://www.shop.example/en/privacy.html"),
        ("<base href='http://[x/'>", "http://www.shop.example/en/privacy.html"),
        ("", "http://www.shop.example/en/privacy.html"),
    ],
)
def test_the_first_base_href_is_what_links_resolve_against(head, declared):
    page = footer_page(("about.html", "About"), ("privacy.html", "Privacy Policy"), head=head).encode()
    choice = choose_link(page, "text/html", "http://www.shop.example/en/index.php", "privacy-policy")
    assert choice.best.url == declared


def footer(*links: tuple[str, str]) -> bytes:
    """The audit's link_choices.py footers: a ``<div class="footer">``, a heading in the body."""
    anchors = " | ".join(f'<a href="{href}">{text}</a>' for href, text in links)
    return f'<html><body><main><h1>Home</h1></main><div class="footer">{anchors}</div></body></html>'.encode()


@pytest.mark.parametrize(
    ("links", "policy"),
    [
        ([("/legal/privacy", "Privacy Policy"), ("/privacy/your-choices", "Your Privacy Choices"),
          ("/terms", "Terms of Use")], "/legal/privacy"),
        ([("/privacy", "Privacy Notice"), ("/privacy/consumer-health-data", "Consumer Health Data Privacy Policy")],
         "/privacy"),
        ([("/confidentialite", "Politique de confidentialité"),
          ("/confidentialite/parametres", "Paramètres de confidentialité")], "/confidentialite"),
        ([("/datenschutz", "Datenschutz"), ("/datenschutz-einstellungen", "Datenschutz-Einstellungen")],
         "/datenschutz"),
        ([("/datenschutz", "Datenschutz"), ("/einstellungen", "Datenschutzeinstellungen")], "/datenschutz"),
        ([("/privacidad", "Política de privacidad"), ("/privacidad/configuracion", "Configuración de privacidad")],
         "/privacidad"),
        # The audit's en-shop.test from 2023-07: an absolute policy link, the choices link after it.
        ([("https://www.example.com/privacy", "Privacy"), ("/privacy-choices", "Your Privacy Choices")], "/privacy"),
        # A partial name of the policy still outranks a settings page.
        ([("/privacy-settings", "Privacy Settings"), ("/legal/p", "Read our privacy policy")], "/legal/p"),
    ],
)  # fmt: skip
def test_a_settings_choices_or_health_data_link_beside_the_policy_leaves_no_doubt(links, policy):
    choice = choose_link(footer(*links), "text/html", "https://www.example.com/", "privacy-policy")
    assert choice.best.url == "https://www.example.com" + policy and not choice.rivals, choice


def test_real_doubt_stays_reported_and_an_exact_name_is_never_lowered():
    base = "https://www.example.com/"
    two = footer(("/a/privacy", "Privacy Policy"), ("/b/privacy", "Privacy Policy"), ("/c", "Your Privacy Choices"))
    choice = choose_link(two, "text/html", base, "privacy-policy")
    assert choice.rivals and {choice.best.url, *(rival.url for rival in choice.rivals)} == {
        base + "a/privacy",
        base + "b/privacy",
    }
    # "Gestion des cookies" names the cookie policy exactly: a secondary word does not lower an exact name.
    cookies = footer(("/confidentialite", "Confidentialité"), ("/cookies", "Gestion des cookies"))
    assert choose_link(cookies, "text/html", base, "cookie-policy").best.url == base + "cookies"
    # A settings page is no link to the document, by its text or its URL.
    settings = footer(("/about", "About"), ("/privacy-settings", "Privacy Settings"), ("/privacy-choices", "More"))
    assert choose_link(settings, "text/html", base, "privacy-policy").best is None


TABLE_HOME = (
    "<html><body><table><tr><td>Welcome</td></tr><tr><td class='bottom'><a href='/about.html'><img src='a.gif' "
    "alt='About us'></a> <a href='/privacy.html'><img src='p.gif' alt='Privacy Policy'></a></td></tr></table>"
    "</body></html>"
)
FRAMESET_HOME = (
    "<html><head><title>Shop</title></head><frameset rows='90%,10%'><frame src='main.html'>"
    "<frame src='bottom.html'></frameset></html>"
)


def test_an_image_link_is_named_by_its_alt(tmp_path, standin_archive):
    for year in (2001, 2002, 2003):
        standin_archive.add_capture("http://table.test/", f"{year}0101000000", TABLE_HOME)
    config = write_settings(tmp_path, standin_archive)
    table = run_cli(config, tmp_path / "data", "discover", "table.test")
    assert table.returncode == 0, table.stderr
    assert tomllib.loads(table.stdout)["documents"]["privacy-policy"]["url"] == "http://table.test/privacy.html"
    assert "linked as 'Privacy Policy'" in table.stdout


def test_a_frameset_home_page_is_read_through_its_frames_captured_at_its_time(tmp_path, standin_archive):
    """frames.test: a frameset home page 2001–2004 whose footer frame links the policy, then a page of its own;
    the frames are asked of the archive at the home page's time, one level, through the same source."""
    news = "<html><body><h1>News</h1><p><a href='/blog/privacy'>New privacy rules</a></p></body></html>"
    bottom = "<html><body><a href='/about.html'>About</a> | <a href='/privacy.html'>Privacy Policy</a></body></html>"
    for year in (2001, 2002, 2003, 2004):
        standin_archive.add_capture("http://frames.test/", f"{year}0101000000", FRAMESET_HOME)
        standin_archive.add_capture("http://frames.test/main.html", f"{year}0101000500", news)
        standin_archive.add_capture("http://frames.test/bottom.html", f"{year}0101001000", bottom)
    for year in (2005, 2006):
        page = footer_page(("/legal/privacy", "Privacy Policy"))
        standin_archive.add_capture("http://frames.test/", f"{year}0101000000", page)
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "frames.test")
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "http://frames.test/legal/privacy"
    assert document["history"] == [{"url": "http://frames.test/privacy.html", "valid_until": "2004-01-01"}]
    frames = [r for r in standin_archive.requests if r.endpoint == "replay" and "frames.test/" in r.path]
    assert any("main.html" in r.path for r in frames) and any("bottom.html" in r.path for r in frames)


def test_a_frameset_whose_frames_cannot_be_read_is_named_among_the_captures_not_read(tmp_path, standin_archive):
    """Never a silent "no link": frames not archived, or archived only years away, are each a reason."""
    for year in (2001, 2002):
        standin_archive.add_capture("http://frames.test/", f"{year}0101000000", FRAMESET_HOME)
    standin_archive.add_capture("http://frames.test/bottom.html", "20090101000000", "<a href='/p'>Privacy</a>")
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "frames.test")
    assert result.returncode == 1 and result.stdout == ""
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED frames.test")]
    assert "no home-page capture could be read (2 tried: " in failed, failed
    assert "frameset: no frame could be read (http://frames.test/main.html: not fetched: " in failed, failed
    assert "http://frames.test/bottom.html: its nearest capture is 2557 days from the home page's" in failed


@pytest.mark.parametrize(
    ("anchor", "name"),
    [
        ("<a href='/p'><img src='p.gif' alt='Privacy Policy'></a>", "Privacy Policy"),
        ("<a href='/p'><img src='i.gif' alt=''> Privacy <b>Policy</b><!-- old --></a>", "Privacy Policy"),
        ("<a href='/p'><span><img alt='Privacy'></span><img alt='Policy'></a>", "Privacy Policy"),
        ("<a href='/p' aria-label='Privacy Policy'><svg></svg></a>", "Privacy Policy"),
        ("<a href='/p' title='Privacy Policy'><img src='p.gif'></a>", "Privacy Policy"),
    ],
)
def test_a_links_text_is_its_accessible_name(anchor, name):
    page = f"<html><body><footer>{anchor}</footer></body></html>".encode()
    choice = choose_link(page, "text/html", "https://www.example.com/", "privacy-policy")
    assert choice.best is not None and choice.best.text == name


def test_a_frameset_page_names_its_frames_its_noframes_unread_as_a_browser_with_frames_does():
    base = "https://www.example.com/en/"
    choice = choose_link(FRAMESET_HOME.encode(), "text/html", base, "privacy-policy")
    assert choice.best is None and choice.frames == (base + "main.html", base + "bottom.html")
    # HTML parses <noframes> as raw text where frames are shown: its links are not the page's.
    noframes = FRAMESET_HOME.replace(
        "</frameset>", "<noframes><body><a href='/privacy.html'>Privacy Policy</a></body></noframes></frameset>"
    )
    assert choose_link(noframes.encode(), "text/html", base, "privacy-policy") == choice
    linked = "<html><body><iframe src='ad.html'></iframe><footer><a href='/p'>Privacy</a></footer></body></html>"
    assert choose_link(linked.encode(), "text/html", base, "privacy-policy").frames == ()


@pytest.mark.parametrize(
    ("links", "cookie_policy"),
    [
        # The combined link scores more (footer, URL naming cookies), yet the cookie policy's own link is taken.
        ([("/privacy-and-cookies", "Privacy & Cookies"), ("/legal/cookies", "Cookies")], "/legal/cookies"),
        ([("/privacy-cookies", "Privacy and Cookie Policy"), ("/c", "Cookie Notice")], "/c"),
        ([("/datenschutz-cookies", "Datenschutz und Cookies"), ("/cookie-richtlinie", "Cookie-Richtlinie")],
         "/cookie-richtlinie"),
        ([("/confidentialite", "Confidentialité et cookies"), ("/cookies", "Politique de cookies")], "/cookies"),
        # A link whose URL alone names cookies, its text the privacy policy, is the privacy policy's too.
        ([("/privacy-cookies", "Privacy Policy"), ("/legal/cookies", "Cookies")], "/legal/cookies"),
    ],
)  # fmt: skip
def test_a_privacy_and_cookies_link_is_never_preferred_to_the_cookie_policys_own(links, cookie_policy):
    base = "https://www.example.com"
    choice = choose_link(footer(*links), "text/html", base + "/", "cookie-policy")
    assert choice.best.url == base + cookie_policy and choice.best.also_names is None, choice
    assert not choice.rivals, choice  # the privacy policy's link is no rival of the cookie policy's


def test_a_cookie_link_in_the_body_is_still_preferred_to_a_privacy_and_cookies_link_in_the_footer():
    page = (
        b"<html><body><main><p>See our <a href='/cookies'>cookie policy</a>.</p></main>"
        b"<footer><a href='/privacy-and-cookies'>Privacy &amp; Cookies</a></footer></body></html>"
    )
    choice = choose_link(page, None, "https://www.example.com/", "cookie-policy")
    assert choice.best.url == "https://www.example.com/cookies" and not choice.rivals


def test_a_privacy_and_cookies_link_still_names_the_privacy_policy():
    for text in ("Privacy & Cookies", "Privacy and Cookie Policy", "Datenschutz und Cookies"):
        page = footer(("/about", "About"), ("/p", text), ("/cookies", "Cookie Policy"))
        choice = choose_link(page, "text/html", "https://www.example.com/", "privacy-policy")
        assert choice.best.url == "https://www.example.com/p" and choice.best.also_names is None, text


def test_a_privacy_and_cookies_link_alone_is_the_cookie_policys_link_said_unsure(tmp_path, standin_archive):
    only = footer_page(("/about", "About"), ("/privacy-and-cookies", "Privacy & Cookies"))
    choice = choose_link(only.encode(), None, "https://www.example.com/", "cookie-policy")
    assert choice.best.url == "https://www.example.com/privacy-and-cookies"
    assert choice.best.also_names == "privacy-policy" and not choice.rivals
    own = footer_page(("/privacy-and-cookies", "Privacy & Cookies"), ("/cookies", "Cookie Policy"))
    for stamp, page in (("20150101000000", only), ("20160101000000", only), ("20170101000000", own)):
        standin_archive.add_capture("http://shared.test/", stamp, page)
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "shared.test", "--type", "cookie-policy")
    assert result.returncode == 1, result.stderr  # a person should look at the first era
    (unsure,) = [line for line in result.stderr.splitlines() if line.startswith("UNSURE shared.test")]
    assert unsure.startswith("UNSURE shared.test 2015-01-01 … 2016-01-01: http://shared.test/privacy-and-cookies")
    assert "its link's text names the privacy-policy too and no link names this document alone" in unsure
    document = tomllib.loads(result.stdout)["documents"]["cookie-policy"]
    assert document["url"] == "http://shared.test/cookies"
    assert document["history"] == [{"url": "http://shared.test/privacy-and-cookies", "valid_until": "2016-01-01"}]
    assert "— UNSURE: its link's text names the privacy-policy too" in result.stdout


def test_a_state_file_keeps_that_a_link_names_the_privacy_policy_too():
    """A resumed run's eras are a fresh run's: the sighting keeps it; one saved before it was noted names nothing."""
    sighting = Sighting(datetime(2015, 1, 1, tzinfo=UTC), "http://shared.test/p", "Privacy & Cookies",
                        also_names="privacy-policy")  # fmt: skip
    assert Sighting.from_json(json.loads(json.dumps(sighting.to_json()))) == sighting
    saved = {key: value for key, value in sighting.to_json().items() if key != "also_names"}
    assert Sighting.from_json(saved).also_names is None


# Outside audit B (2026-11-29), finding 2: "Mentions légales" was no imprint link (FAILED, no link found) and, for the
# terms, as likely as "CGU".
IMPRINT_FOOTERS = [
    ([("/about", "About"), ("/imprint", "Imprint")], "/imprint"),
    ([("/legal/notice", "Legal notice"), ("/privacy", "Privacy")], "/legal/notice"),
    ([("/cgu", "CGU"), ("/mentions-legales", "Mentions légales")], "/mentions-legales"),
    ([("/infos", "MENTIONS LEGALES"), ("/confidentialite", "Confidentialité")], "/infos"),
    ([("/agb", "AGB"), ("/impressum", "Impressum"), ("/datenschutz", "Datenschutz")], "/impressum"),
    ([("/aviso-legal", "Aviso legal"), ("/privacidad", "Privacidad")], "/aviso-legal"),
]


@pytest.mark.parametrize(("links", "imprint"), IMPRINT_FOOTERS)
def test_the_imprint_is_found_by_its_name_in_english_french_german_and_spanish(links, imprint):
    choice = choose_link(footer(*links), "text/html", "https://www.example.com/", "imprint")
    assert choice.best.url == "https://www.example.com" + imprint and not choice.rivals, choice


@pytest.mark.parametrize(
    ("links", "terms"),
    [
        ([("/cgu", "CGU"), ("/mentions-legales", "Mentions légales")], "/cgu"),
        ([("/legal/cgu", "Conditions générales d'utilisation"), ("/legal/mentions", "Mentions légales")],
         "/legal/cgu"),
        ([("/agb", "AGB"), ("/impressum", "Impressum")], "/agb"),
        ([("/terminos", "Términos y condiciones"), ("/legal", "Aviso legal")], "/terminos"),
        ([("/legal/imprint", "Legal"), ("/legal/terms", "Terms of Use")], "/legal/terms"),
    ],
)  # fmt: skip
def test_an_imprint_link_is_never_the_terms_link_nor_its_rival(links, terms):
    choice = choose_link(footer(*links), "text/html", "https://www.example.com/", "terms-of-service")
    assert choice.best.url == "https://www.example.com" + terms and not choice.rivals, choice


def test_an_imprint_alone_gives_the_terms_no_link():
    # "/mentions-legales" holds "legal", a word of the terms' URLs: the imprint's own URL words outweigh it.
    for links in ([("/mentions-legales", "Mentions légales")], [("/mentions-legales", "Informations")]):
        assert choose_link(footer(*links), "text/html", "https://www.example.com/", "terms-of-service").best is None


def test_live_discover_proposes_the_mentions_legales_as_the_imprint_and_the_cgu_as_the_terms(tmp_path):
    """The audit's command: ``discover --live --type imprint`` on a French home page."""
    with StandinSites() as sites:
        footer_links = "<a href='/cgu'>CGU</a> | <a href='/mentions-legales'>Mentions l\u00e9gales</a>"
        page = f"<html><body><main><h1>Boutique</h1></main><footer>{footer_links}</footer></body></html>"
        sites.set_page("http://boutique.test/", Page(body=page.encode(), content_type="text/html; charset=utf-8"))
        config = tmp_path / "config"
        (config / "services").mkdir(parents=True)
        env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
        proposed = {}
        for document_type in ("imprint", "terms-of-service"):
            command = ("discover", "http://boutique.test", "--live", "--type", document_type)
            result = run_cli(config, tmp_path / "data", *command, env=env)
            assert result.returncode == 0, result.stderr
            assert "UNSURE" not in result.stdout, result.stdout
            proposed[document_type] = tomllib.loads(result.stdout)["documents"][document_type]["url"]
    assert proposed == {
        "imprint": "http://boutique.test/mentions-legales",
        "terms-of-service": "http://boutique.test/cgu",
    }
