"""Internationalised host names: fetched and listed in their IDNA 2008 form, as browsers send them (audit 10).

``straße.example`` is ``xn--strae-oqa.example`` to a browser (UTS #46, non-transitional); IDNA 2003, which Python's
codec and so w3lib (Scrapy) and the archives' key use, makes it ``strasse.example``, another domain. Each test
serves that other domain too, with other text, so a request sent there is recorded as the wrong text.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standin.archive import StandinArchive
from standin.capture import surt
from standin.cli import cli_environment, git, run_cli, run_cli_with_names, write_archive_settings
from standin.hostile import RouteServer
from standin.legal_text import policy_page
from standin.pages import Page, redirect
from standin.sites import StandinSites
from test_fidelity import catalog_rows, warc_records
from test_hostile import SECRET, nothing_recorded_from, tracked_config

from policy_archive.crawler.failures import UnusableLocation
from policy_archive.crawler.middlewares import RedirectLocationMiddleware, redirect_target
from policy_archive.crawler.render import NavigationRedirectMiddleware, PageRendering
from policy_archive.hostnames import HOST_MAX_LENGTH, LABEL_MAX_LENGTH, UnusableHost, ascii_host, ascii_url
from policy_archive.text import unsafe_character

DECLARED = "http://straße.example/privacy"
FETCHED = "http://xn--strae-oqa.example/privacy"
OTHER_DOMAIN = "http://strasse.example/privacy"


def write_service(config: Path, url: str) -> None:
    (config / "services").mkdir(parents=True, exist_ok=True)
    (config / "services" / "strasse.toml").write_text(
        f'name = "Straße"\n[documents.privacy-policy]\nurl = "{url}"\n', encoding="utf-8"
    )


def response_targets(data: Path) -> set[str]:
    """The WARC-Target-URI of every response record kept."""
    return {headers.get_header("WARC-Target-URI") for _, kind, headers, _ in warc_records(data) if kind == "response"}


def test_track_fetches_the_host_browsers_reach_and_records_the_url_fetched(sites: StandinSites, tmp_path: Path) -> None:
    sites.set_page(FETCHED, policy_page("xn--strae-oqa.example", "privacy-policy"))
    sites.set_page(OTHER_DOMAIN, policy_page("strasse.example", "terms-of-service"))
    config, data = tmp_path / "config", tmp_path / "data"
    write_service(config, DECLARED)
    (config / "settings.toml").write_text("[wayback]\ntimeout_seconds = 5\n")
    env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
    result = run_cli_with_names((), config, data, "track", env=env, said=False)
    assert result.returncode == 0, result.stderr
    assert {request.site for request in sites.requests() if request.path != "/robots.txt"} == {"xn--strae-oqa.example"}
    (row,) = catalog_rows(data)
    assert (row["url"], row["fetched_url"]) == (DECLARED, FETCHED)
    assert response_targets(data) == {FETCHED}
    message = git(data / "versions", "log", "-1", "--format=%B", "main")
    assert f"Snapshot-Url: {FETCHED}" in message
    content = git(data / "versions", "show", "main:s/strasse/privacy-policy.md")
    assert "privacy" in content.lower() and "terms of service" not in content.lower()


def test_backfill_lists_and_replays_the_host_as_it_was_captured(
    standin_archive: StandinArchive, tmp_path: Path
) -> None:
    page = "<html><head><title>Datenschutz</title></head><body><main><h1>Datenschutz</h1>{}</main></body></html>"
    right = "<p>" + "Wir verarbeiten Ihre Daten nur zu den genannten Zwecken. " * 20 + "</p>"
    wrong = "<p>" + "Another domain's terms of service, not this one's privacy policy. " * 20 + "</p>"
    standin_archive.add_capture(FETCHED, "20200501120000", page.format(right))
    standin_archive.add_capture(OTHER_DOMAIN, "20200601120000", page.format(wrong))
    config, data = tmp_path / "config", tmp_path / "data"
    write_archive_settings(config, standin_archive.cdx_url, standin_archive.replay_url)
    write_service(config, DECLARED)
    result = run_cli(config, data, "backfill")
    assert result.returncode == 0, result.stderr
    asked = [
        parse_qs(urlsplit(request.path).query)["url"][0]
        for request in standin_archive.requests
        if request.endpoint == "cdx"
    ]
    assert asked and set(asked) == {FETCHED}
    rows = catalog_rows(data)
    assert {row["url"] for row in rows} == {FETCHED}
    assert response_targets(data) == {FETCHED}
    snapshot = f"{standin_archive.replay_url}/20200501120000id_/{FETCHED}"
    assert {row["snapshot_url"] for row in rows} == {snapshot}
    message = git(data / "versions", "log", "-1", "--format=%B", "main")
    assert f"Snapshot-Url: {snapshot}" in message
    content = git(data / "versions", "show", "main:s/strasse/privacy-policy.md")
    assert "genannten Zwecken" in content and "Another domain" not in content


def as_sent(location: str) -> str:
    """``location`` as a server sends it in UTF-8 (``http.server`` writes a header's text as Latin-1)."""
    return location.encode("utf-8").decode("latin-1")


# The same host percent-encoded, as a Location may carry it: WHATWG's host parser decodes it, then makes it ASCII;
# w3lib 2.5.0 passed it on encoded, and the lookup failed under a name no server has.
PERCENT_ENCODED = "http://stra%C3%9Fe.example/privacy"


@pytest.mark.parametrize("location", [DECLARED, PERCENT_ENCODED])
def test_track_follows_a_redirect_to_the_host_browsers_reach(
    sites: StandinSites, tmp_path: Path, location: str
) -> None:
    start = sites.set_page("http://start.example/privacy", redirect(as_sent(location), status=302))
    sites.set_page(FETCHED, policy_page("xn--strae-oqa.example", "privacy-policy"))
    sites.set_page(OTHER_DOMAIN, policy_page("strasse.example", "terms-of-service"))
    config, data = tmp_path / "config", tmp_path / "data"
    write_service(config, start)
    (config / "settings.toml").write_text("[wayback]\ntimeout_seconds = 5\n")
    env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
    result = run_cli_with_names((), config, data, "track", env=env, said=False)
    assert result.returncode == 0, result.stderr
    asked = {request.site for request in sites.requests() if request.path != "/robots.txt"}
    assert asked == {"start.example", "xn--strae-oqa.example"}, asked
    (row,) = catalog_rows(data)
    assert (row["url"], row["fetched_url"]) == (start, FETCHED)
    assert response_targets(data) == {FETCHED}
    content = git(data / "versions", "show", "main:s/strasse/privacy-policy.md")
    assert "privacy" in content.lower() and "terms of service" not in content.lower()


IAM = "/latest/meta-data/iam"


@pytest.mark.parametrize("host", ["straße.example", "stra%C3%9Fe.example"])
def test_a_redirect_to_an_international_name_resolving_inside_is_refused_under_its_ascii_name(
    tmp_path: Path, host: str
) -> None:
    """The guard looks up, and refuses, the name the next hop is sent to: ``xn--strae-oqa.example``, which resolves
    to 127.0.0.1 (``strasse.example``, the name IDNA 2003 gives, resolves to nothing); allowed, the same redirect
    reaches the service under that name."""
    table = ("xn--strae-oqa.example=127.0.0.1",)
    with RouteServer({IAM: Page(body=SECRET, content_type="application/json")}) as secret:
        inside = f"http://{host}:{secret.port}{IAM}"
        with RouteServer({"/privacy": redirect(as_sent(inside), 302)}) as site:
            config = tracked_config(tmp_path / "c1", site.url("/privacy"), "[crawl]\nobey_robots = false\n")
            attacked = run_cli_with_names(table, config, tmp_path / "d1", "track")
            assert secret.paths == [], "the redirect reached 127.0.0.1"
            settings = "[crawl]\nobey_robots = false\nallow_private_addresses = true\n"
            allowed = tracked_config(tmp_path / "c2", site.url("/privacy"), settings)
            control = run_cli_with_names(table, allowed, tmp_path / "d2", "track")
            assert secret.paths == [IAM], control.stderr
    assert attacked.returncode == 1 and "Traceback" not in attacked.stderr, attacked.stderr
    failed = [line for line in attacked.stderr.splitlines() if line.startswith("FAILED")]
    assert failed == [
        f"FAILED acme/privacy-policy: private-address: http://xn--strae-oqa.example:{secret.port}{IAM} "
        "(xn--strae-oqa.example resolves to 127.0.0.1, loopback; set [crawl] allow_private_addresses to allow)"
    ]
    lookups = {line for line in attacked.stderr.splitlines() + control.stderr.splitlines() if line.startswith("LOOKUP")}
    assert lookups == {"LOOKUP xn--strae-oqa.example"}, lookups
    nothing_recorded_from(tmp_path / "d1", SECRET)


def test_a_redirect_to_a_host_that_cannot_be_sent_is_refused_in_words(tmp_path: Path) -> None:
    location = "http://a..ü.example/privacy"
    with RouteServer({"/privacy": redirect(as_sent(location), 302)}) as site:
        config = tracked_config(tmp_path / "config", site.url("/privacy"), "[crawl]\nobey_robots = false\n")
        result = run_cli_with_names((), config, tmp_path / "data", "track")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failed == [
        "FAILED acme/privacy-policy: the redirect's Location names a host that cannot be sent: "
        f"'{location}' (the host 'a..ü.example' is not a valid internationalised name (Empty Label))"
    ], failed
    assert not [line for line in result.stderr.splitlines() if line.startswith("LOOKUP")]


@pytest.mark.parametrize(
    ("location", "target"),
    [
        (DECLARED, FETCHED),
        ("//straße.example:8080/ü", "http://xn--strae-oqa.example:8080/ü"),
        ("http://ＳＴＲＡßE.example/", "http://xn--strae-oqa.example/"),  # full-width letters mapped, as browsers do
        ("/erklärung", "http://start.example/erklärung"),
        ("/x", "http://start.example/x"),
        (PERCENT_ENCODED, FETCHED),  # percent-decoded, then IDNA 2008, as WHATWG's host parser does
        ("//STRA%C3%9FE.example:8080/%C3%BC", "http://xn--strae-oqa.example:8080/%C3%BC"),  # the path stays encoded
        ("http://ex%61mple.test/x", "http://example.test/x"),
        ("http://us%40er@start.example/x", "http://us%40er@start.example/x"),  # user info is no host: as it is
    ],
)
def test_a_redirect_target_has_its_host_as_browsers_send_it(location: str, target: str) -> None:
    assert redirect_target("http://start.example/p", location.encode()) == target


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("http://a%2Fb.example/x", "Codepoint U+002F"),  # a "/" once decoded: no host has it
        ("http://%FF.example/x", "U+FFFD"),  # no UTF-8: replaced, as WHATWG decodes it, and refused
    ],
)
def test_a_percent_encoded_host_that_decodes_to_no_name_is_refused_in_words(location: str, why: str) -> None:
    with pytest.raises(UnusableLocation) as refused:
        redirect_target("http://start.example/p", location.encode())
    said = str(refused.value)
    assert said.startswith(f"the redirect's Location names a host that cannot be sent: '{location}'"), said
    assert why in said, said


@pytest.mark.parametrize(
    "host",
    [
        "ü\x1b[2J\nCaptured-At: 1999.example",  # an ESC sequence and a line break in a name IDNA refuses
        "ü\u202eelpmaxe." + "a" * 300,  # a bidi override, in a name longer than DNS allows
        "ü" * 100_000 + ".example",  # a hundred thousand characters
        "ü." + "\x07" * 5_000 + ".example",
    ],
)
def test_a_hostile_host_is_named_escaped_and_bounded(host: str) -> None:
    # The line goes to the terminal, the journal and the catalog: the host was quoted raw by repr, whole, and idna's
    # reason repeated its label whole again (issue 11, 2026-11-29).
    with pytest.raises(UnusableHost) as unusable:
        ascii_host(host)
    with pytest.raises(UnusableLocation) as refused:
        redirect_target("http://start.example/p", f"http://{host}/x".encode())
    for said in (str(unusable.value), str(refused.value)):
        assert said.isprintable() and unsafe_character(said) is None, said
        assert len(said) < 400, len(said)
    assert str(unusable.value).startswith("the host '")


def test_the_location_scrapy_reads_names_the_ascii_host_rendered_or_not() -> None:
    """A rendered page's navigation redirect is put back on the response in the bytes the site sent (the route read
    them as Latin-1), then made ASCII like a plain fetch's, before Scrapy's RedirectMiddleware reads it."""
    from scrapy import Request
    from scrapy.http import Response

    rendering = PageRendering(5)
    rendering._route = type("Route", (), {"redirect": as_sent(DECLARED)})()  # type: ignore[assignment]
    request = Request("http://start.example/privacy", meta={"rendering": rendering})
    response = Response(request.url, status=302, request=request)
    put_back = NavigationRedirectMiddleware().process_response(request, response)
    assert put_back.headers[b"Location"] == DECLARED.encode()
    followed = RedirectLocationMiddleware().process_response(request, put_back)
    assert followed.headers[b"Location"] == FETCHED.encode()


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("ü" * 70 + ".example", "too long"),  # a label of 77 characters in punycode
        (".".join(["ü" * 20] * 12) + ".example", "too long"),  # labels fit, the name does not
        ("a..ü.example", "not a valid internationalised name"),  # an empty label
    ],
)
def test_validate_refuses_a_host_that_cannot_be_sent(tmp_path: Path, host: str, reason: str) -> None:
    config = tmp_path / "config"
    write_archive_settings(config, "http://127.0.0.1:9/cdx", "http://127.0.0.1:9/web")
    write_service(config, f"http://{host}/privacy")
    result = run_cli(config, tmp_path / "data", "validate")
    assert result.returncode == 2, result.stderr
    assert f"{config / 'services' / 'strasse.toml'}: documents.privacy-policy.url: " in result.stderr
    assert reason in result.stderr.lower() and "so it cannot be fetched" in result.stderr
    assert not (tmp_path / "data").exists()


def test_validate_takes_a_host_that_differs_from_its_idna_2003_form(tmp_path: Path) -> None:
    config = tmp_path / "config"
    write_archive_settings(config, "http://127.0.0.1:9/cdx", "http://127.0.0.1:9/web")
    write_service(config, DECLARED)
    result: subprocess.CompletedProcess[str] = run_cli(config, tmp_path / "data", "validate")
    assert result.returncode == 0, result.stderr


def test_the_standin_archive_keys_hosts_and_paths_as_the_archive_does() -> None:
    assert surt("http://straße.example/privacy") == "example,strasse)/privacy"  # IDNA 2003, as surt does
    assert surt(FETCHED) == "example,xn--strae-oqa)/privacy"
    assert surt("http://Bücher.example/x") == surt("http://xn--bcher-kva.example/x")
    assert surt("http://a.example/erklärung") == surt("http://a.example/erkl%C3%A4rung") == "example,a)/erkl%c3%a4rung"


@given(st.text(min_size=1, max_size=80))
def test_the_conversion_gives_ascii_or_a_clear_error_and_is_idempotent(host: str) -> None:
    try:
        converted = ascii_host(host)
    except UnusableHost as error:
        assert str(error).startswith("the host ")
        return
    assert converted.isascii()
    assert ascii_host(converted) == converted
    labels = converted.removesuffix(".").split(".")
    assert len(converted.removesuffix(".")) <= HOST_MAX_LENGTH
    assert all(len(label) <= LABEL_MAX_LENGTH for label in labels)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs")), min_size=1, max_size=40))
def test_a_url_keeps_all_but_its_host(label: str) -> None:
    url = f"http://user@{label}.example:8080/p?q=1#f"
    try:
        converted = ascii_url(url)
    except UnusableHost:
        return
    assert ascii_url(converted) == converted
    assert (urlsplit(converted).hostname or "").isascii()
    assert converted.startswith("http://user@") and converted.endswith(".example:8080/p?q=1#f")


def test_straße_is_not_strasse() -> None:
    assert ascii_url(DECLARED) == FETCHED
    assert ascii_url("http://bücher.example/") == "http://xn--bcher-kva.example/"
    assert ascii_url(FETCHED) == FETCHED
