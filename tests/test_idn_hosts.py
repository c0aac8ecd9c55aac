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
from standin.legal_text import policy_page
from standin.sites import StandinSites
from test_fidelity import catalog_rows, warc_records

from policy_archive.hostnames import HOST_MAX_LENGTH, LABEL_MAX_LENGTH, UnusableHost, ascii_host, ascii_url

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
