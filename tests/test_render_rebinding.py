"""DNS rebinding against a rendered page: a name that resolves to a public address for the internal-address check
and to 127.0.0.1 for the connection must not let the page's requests (its navigation, each redirect hop, its
scripts and data) reach a service on 127.0.0.1 that the configuration does not name.

The rebinding is stood in for by :mod:`standin.rebinding`: in the process under test, the check's resolver says
``localhost`` is 93.184.215.14 (public); every connection resolves ``localhost`` as the system does (127.0.0.1).
Each case is run twice: as the attack, and with ``allow_private_addresses = true``, where the same page must
reach the same service (so the refusal comes from the guard, not from a name that cannot be reached at all).
Needs Chromium and the ``browser`` extra, as tests/test_render_e2e.py does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from standin.cli import REPO_ROOT
from standin.hostile import RouteServer
from standin.pages import Page, json_data, redirect
from standin.scripted_policy import policy_script, scripted_policy
from standin.sites import StandinSites
from test_render_e2e import DELAYED, environment, failed_lines, sections, version_text, warc_records, write_config

from policy_archive.crawler.render import extra_installed, system_chromium

pytestmark = pytest.mark.skipif(
    not extra_installed() or system_chromium() is None,
    reason="needs the browser extra and Chromium (apt-get install chromium; .ci/run installs both)",
)

PUBLIC = "93.184.215.14"  # what the check is told ``localhost`` is: a global address, never connected to
ALLOW_PRIVATE = "[crawl]\nallow_private_addresses = true\n"


def track_with_rebinding(sites: StandinSites, config: Path, data: Path) -> subprocess.CompletedProcess[str]:
    """``policy-archive track``, with ``localhost`` resolving to a public address for the check only."""
    command = [sys.executable, "-m", "standin.rebinding", f"localhost={PUBLIC}", "--"]
    command += ["--config", str(config), "--data", str(data), "track"]
    env = environment(sites)
    env["PYTHONPATH"] = f"{REPO_ROOT / 'tests'}:{env['PYTHONPATH']}"
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=REPO_ROOT)


def test_a_rendered_page_s_data_on_a_rebinding_name_never_reaches_the_internal_service(
    sites: StandinSites, tmp_path: Path
):
    with RouteServer({"/policy.json": json_data(sections())}) as internal:
        data_url = internal.url("/policy.json", host="localhost")  # not in the configuration
        url = sites.set_page("http://spa.test/privacy", scripted_policy("spa.test Privacy Policy", "/static/app.js"))
        sites.set_page("http://spa.test/static/app.js", policy_script(data_url, 0))

        attacked = track_with_rebinding(sites, write_config(tmp_path / "c1", {"spa": (url, "always")}), tmp_path / "d1")
        assert internal.paths == [], "the page's request connected to 127.0.0.1"
        assert attacked.returncode == 1 and "Traceback" not in attacked.stderr, attacked.stderr
        (failed,) = failed_lines(attacked.stderr)
        assert failed.startswith("FAILED spa/privacy-policy: javascript-shell"), "rendered without the data"

        allowed = write_config(tmp_path / "c2", {"spa": (url, "always")}, ALLOW_PRIVATE)
        control = track_with_rebinding(sites, allowed, tmp_path / "d2")
        assert control.returncode == 0, control.stderr
        assert "/policy.json" in internal.paths and DELAYED in version_text(tmp_path / "d2", "spa")


def test_a_rendered_page_s_data_redirected_to_a_rebinding_name_never_reaches_the_internal_service(
    sites: StandinSites, tmp_path: Path
):
    with RouteServer({"/policy.json": json_data(sections())}) as internal:
        url = sites.set_page("http://spa.test/privacy", scripted_policy("spa.test Privacy Policy", "/static/app.js"))
        sites.set_page("http://spa.test/static/app.js", policy_script("/api/moved.json", 0))
        sites.set_page("http://spa.test/api/moved.json", redirect(internal.url("/policy.json", "localhost"), 302))

        attacked = track_with_rebinding(sites, write_config(tmp_path / "c1", {"spa": (url, "always")}), tmp_path / "d1")
        assert internal.paths == [], "the redirect hop connected to 127.0.0.1"
        assert attacked.returncode == 1 and "Traceback" not in attacked.stderr, attacked.stderr

        allowed = write_config(tmp_path / "c2", {"spa": (url, "always")}, ALLOW_PRIVATE)
        control = track_with_rebinding(sites, allowed, tmp_path / "d2")
        assert control.returncode == 0, control.stderr
        assert "/policy.json" in internal.paths and DELAYED in version_text(tmp_path / "d2", "spa")


SECRET = b'{"AccessKeyId": "ASIA-SECRET"}'


def test_a_rendered_navigation_redirected_to_a_rebinding_name_never_reaches_the_internal_service(
    sites: StandinSites, tmp_path: Path
):
    # render = "always": the hop is Scrapy's request (checked: public), then opened in a tab, whose route fetches it.
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        inside = secret.url("/latest/meta-data/iam", host="localhost")
        url = sites.set_page("http://spa.test/privacy", redirect(inside, status=302))

        data = tmp_path / "d1"
        attacked = track_with_rebinding(sites, write_config(tmp_path / "c1", {"spa": (url, "always")}), data)
        assert secret.paths == [], "the navigation connected to 127.0.0.1"
        assert attacked.returncode == 1 and "Traceback" not in attacked.stderr, attacked.stderr
        (failed,) = failed_lines(attacked.stderr)
        assert failed.startswith(
            "FAILED spa/privacy-policy: could not be fetched for now (run again to retry): rendering failed: "
        ), failed
        assert all(b"ASIA-SECRET" not in payload for _, _, payload, _ in warc_records(data))

        allowed = write_config(tmp_path / "c2", {"spa": (url, "always")}, ALLOW_PRIVATE)
        control = track_with_rebinding(sites, allowed, tmp_path / "d2")
        assert "/latest/meta-data/iam" in secret.paths, control.stderr
