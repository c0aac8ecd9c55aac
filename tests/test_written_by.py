"""A URL a tool wrote into the configuration (``discover --write``, ``import-ota``) gets no private-address exemption.

The exemption of DESIGN.md's security rule is for origins a person wrote. ``discover`` and ``import-ota`` take their
URLs from pages and declarations other people control, and a name public when it was looked up can point inside
when it is fetched (acceptance report 6, F-a1 (ii): DNS rebinding after discovery). So the files they write mark
each document ``written_by = "..."``, and ``track`` holds its URLs to the rule as it holds a redirect; a person who
deletes the line makes them their own, and the exemption is back. Offline: each command's name lookups are answered
from a table (tests/standin/fixed_dns.py), a different one for the run that writes and for the run that tracks.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from standin.cli import EVERY_NAME_PUBLIC, run_cli, run_cli_with_names, write_archive_settings
from standin.hostile import RouteServer
from standin.legal_text import policy_page
from standin.pages import Page
from test_discover_links import footer_page
from test_hostile import write_config

from policy_archive.config.checks import ConfigError
from policy_archive.config.settings import load_config

POLICY = "/privacy"
INSIDE = ("policy.later.test=127.0.0.1",)  # the name, pointed inside once the URL is written


def track_inside(config: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return run_cli_with_names(INSIDE, config, data, "track")


def assert_refused_then_fetched_once_the_line_is_deleted(
    service_file: Path, writer: str, secret: RouteServer, tmp_path: Path
) -> None:
    """``track`` of the written file is refused ``private-address`` and reaches nothing; with the ``written_by``
    line deleted (a person's choice), the same file is fetched and its version recorded."""
    config = service_file.parent.parent
    written = service_file.read_text()
    assert f'\nwritten_by = "{writer}"\n' in written, written
    assert "no private-address\n# exemption for its URLs" in written, written
    assert run_cli(config, tmp_path / "d0", "validate").returncode == 0

    refused = track_inside(config, tmp_path / "d1")
    assert secret.paths == [], refused.stderr
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    url = f"http://policy.later.test:{secret.port}{POLICY}"
    (failed,) = [line for line in refused.stderr.splitlines() if line.startswith("FAILED")]
    assert failed.endswith(f": private-address: {url} (policy.later.test resolves to 127.0.0.1, loopback; set "
                           "[crawl] allow_private_addresses to allow)"), failed  # fmt: skip

    service_file.write_text(written.replace(f'written_by = "{writer}"\n', ""))
    fetched = track_inside(config, tmp_path / "d2")
    assert fetched.returncode == 0, fetched.stderr
    assert secret.paths == ["/robots.txt", POLICY]
    assert "1 fetched, 1 version recorded" in fetched.stderr, fetched.stderr


def test_discover_writes_a_name_public_then_track_refuses_it_pointed_inside_until_a_person_deletes_the_line(
    tmp_path,
):
    with RouteServer({POLICY: policy_page("Shop", "privacy-policy", size=5_000)}) as secret:
        link = f"http://policy.later.test:{secret.port}{POLICY}"
        home = footer_page(("/about", "About"), (link, "Privacy Policy")).encode()
        with RouteServer({"/": Page(body=home)}) as site:
            config = write_config(tmp_path / "config", {}, "[wayback]\ntimeout_seconds = 5\n")
            public = ("policy.later.test=93.184.216.34",)
            live = ("discover", "--live", site.url("/"), "--service", "shop", "--write")
            discovered = run_cli_with_names(public, config, tmp_path / "data", *live)
            assert discovered.returncode == 0, discovered.stderr
            assert secret.paths == []  # discover reads the home page only
            service_file = config / "services" / "shop.toml"
            declared = tomllib.loads(service_file.read_text())["documents"]["privacy-policy"]
            assert declared == {"written_by": "discover", "url": link}
            assert_refused_then_fetched_once_the_line_is_deleted(service_file, "discover", secret, tmp_path)


def test_import_ota_writes_a_name_public_then_track_refuses_it_pointed_inside_until_a_person_deletes_the_line(
    tmp_path,
):
    with RouteServer({POLICY: policy_page("Shop", "privacy-policy", size=5_000)}) as secret:
        source = tmp_path / "declarations"
        source.mkdir()
        terms = {"Privacy Policy": {"fetch": f"http://policy.later.test:{secret.port}{POLICY}", "select": ["main"]}}
        (source / "Shop.json").write_text(json.dumps({"name": "Shop", "terms": terms}))
        config = write_config(tmp_path / "config", {}, "[wayback]\ntimeout_seconds = 5\n")
        imported = run_cli_with_names(EVERY_NAME_PUBLIC, config, tmp_path / "data", "import-ota", str(source))
        assert imported.returncode == 0, imported.stderr
        service_file = config / "services" / "shop.toml"
        assert_refused_then_fetched_once_the_line_is_deleted(service_file, "import-ota", secret, tmp_path)


def test_a_document_discover_adds_to_a_persons_file_is_marked_alone_and_loses_the_exemption_alone(tmp_path):
    """``declared_origins``: the person's URLs and the archive endpoints, not the tool-written document's."""
    config = write_archive_settings(tmp_path / "config", "http://127.0.0.1:9/cdx", "http://127.0.0.1:9/web")
    person = 'name = "Intranet"\n[documents.terms-of-service]\nurl = "http://127.0.0.1:8080/terms"\n'
    tool = '[documents.privacy-policy]\nwritten_by = "discover"\nurl = "http://policy.intranet.test/privacy"\n'
    history = '[[documents.privacy-policy.history]]\nurl = "http://old.intranet.test/p"\nvalid_until = 2020-01-01\n'
    (config / "services" / "intranet.toml").write_text(f"{person}\n{tool}{history}")

    loaded = load_config(config)
    assert {d.document_id: d.written_by for d in loaded.documents} == {
        "terms-of-service": None,
        "privacy-policy": "discover",
    }
    assert loaded.declared_origins() == (
        "http://127.0.0.1:8080/terms",
        "http://127.0.0.1:9/cdx",
        "http://127.0.0.1:9/web",
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"me"', 'must be one of "discover", "import-ota" (delete the line to declare the URLs yourself), got \'me\''),
        ('"discover\\u001b"', "must be one of"),
        ("true", "must be one of"),
    ],
)
def test_validate_names_file_and_key_of_a_written_by_it_does_not_know(tmp_path, value, reason):
    service = f'name = "Shop"\n[documents.privacy-policy]\nwritten_by = {value}\nurl = "http://shop.test/p"\n'
    config = write_config(tmp_path / "config", {"shop": service})
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert raised.value.key == "documents.privacy-policy.written_by"
    assert reason in raised.value.reason
    result = run_cli(config, tmp_path / "data", "validate")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "shop.toml: documents.privacy-policy.written_by: " in result.stderr
