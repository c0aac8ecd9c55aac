"""DNS rebinding against a plain live fetch: a name that resolves to a public address when it is checked and to
127.0.0.1 when it is connected to must never reach a service on 127.0.0.1 that the configuration does not name.

The check (crawler/addresses.py ``PrivateAddressMiddleware``) and the connection resolve a name each, so between the
two the answer can change; the connection's resolver (``GuardedResolver``) drops internal addresses itself, so the
address connected to is an address checked, and a connection left with none fails as ``private-address`` in the
check's words. Offline, two ways: a name answering a public address to its first lookup and 127.0.0.1 to the next
(tests/standin/fixed_dns.py), and ``localhost`` said public to the check only (tests/standin/rebinding.py), where
the connection resolves it as the system does. Each with ``allow_private_addresses = true`` as the control: the
same redirect then reaches the same service, so the refusal comes from the guard.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from standin.cli import REPO_ROOT, cli_command, cli_environment, run_cli_with_names
from standin.hostile import RouteServer
from standin.pages import Page, redirect
from test_hostile import SECRET, nothing_recorded_from, tracked_config, write_config

PUBLIC = "93.184.215.14"  # a global address, never connected to
IAM = "/latest/meta-data/iam"
NO_ROBOTS = "[crawl]\nobey_robots = false\n"  # the page's own request is then the first to the name
ALLOW_PRIVATE = "[crawl]\nobey_robots = false\nallow_private_addresses = true\n"


def failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("FAILED")]


def run_rebinding_check(answers: str, config: Path, data: Path) -> subprocess.CompletedProcess[str]:
    """``policy-archive track`` with the check's lookups answered by ``answers`` (``HOST=ADDRESS``) only."""
    command = [sys.executable, "-m", "standin.rebinding", answers, "--", *cli_command(config, data, "track")[3:]]
    env = cli_environment()
    env["PYTHONPATH"] = f"{REPO_ROOT / 'tests'}:{env['PYTHONPATH']}"
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=REPO_ROOT)


def test_a_name_rebound_between_the_check_and_the_connection_never_reaches_the_internal_service(tmp_path):
    with RouteServer({IAM: Page(body=SECRET, content_type="application/json")}) as secret:
        inside = f"http://rebound.test:{secret.port}{IAM}"
        with RouteServer({"/privacy": redirect(inside, 302)}) as site:
            table = (f"rebound.test={PUBLIC}|127.0.0.1",)
            config = tracked_config(tmp_path / "c1", site.url("/privacy"), NO_ROBOTS)
            attacked = run_cli_with_names(table, config, tmp_path / "d1", "track")
            assert secret.paths == [], "the connection reached 127.0.0.1"

            # Nothing checked: the first lookup is the connection's (its public answer would leave this machine).
            allowed = tracked_config(tmp_path / "c2", site.url("/privacy"), ALLOW_PRIVATE)
            control = run_cli_with_names(("rebound.test=127.0.0.1",), allowed, tmp_path / "d2", "track")
            assert secret.paths == [IAM], control.stderr

    assert attacked.returncode == 1 and "Traceback" not in attacked.stderr, attacked.stderr
    assert failed_lines(attacked.stderr) == [
        f"FAILED acme/privacy-policy: private-address: {inside} (rebound.test resolves to 127.0.0.1, loopback; "
        "set [crawl] allow_private_addresses to allow)"
    ]
    # The check's lookup (public) and the connection's (127.0.0.1), which was refused, not asked again.
    assert attacked.stderr.splitlines().count("LOOKUP rebound.test") == 2, attacked.stderr
    nothing_recorded_from(tmp_path / "d1", SECRET)


def test_a_name_public_to_the_check_only_never_reaches_the_internal_service_robots_txt_included(tmp_path):
    with RouteServer({IAM: Page(body=SECRET, content_type="application/json")}) as secret:
        inside = secret.url(IAM, host="localhost")
        with RouteServer({"/privacy": redirect(inside, 302)}) as site:
            config = tracked_config(tmp_path / "c1", site.url("/privacy"))  # robots.txt obeyed: asked first
            attacked = run_rebinding_check(f"localhost={PUBLIC}", config, tmp_path / "d1")
            assert secret.paths == [], "a connection reached 127.0.0.1"

            settings = "[crawl]\nallow_private_addresses = true\n"
            control = run_rebinding_check(
                f"localhost={PUBLIC}", tracked_config(tmp_path / "c2", site.url("/privacy"), settings), tmp_path / "d2"
            )
            assert secret.paths == ["/robots.txt", IAM], control.stderr

    assert attacked.returncode == 1 and "Traceback" not in attacked.stderr, attacked.stderr
    (failed,) = failed_lines(attacked.stderr)
    assert failed.startswith(f"FAILED acme/privacy-policy: private-address: {inside} (localhost resolves to "), failed
    assert "loopback; set [crawl] allow_private_addresses to allow)" in failed
    nothing_recorded_from(tmp_path / "d1", SECRET)


def test_a_first_request_to_a_name_rebound_after_its_check_never_reaches_the_internal_service(tmp_path):
    """Not a redirect: the document's own URL, written by a tool (``written_by``, so not exempt), on a name public
    to the check and 127.0.0.1 to the connection. With the line deleted (a person's URL, exempt) the same name is
    fetched: the refusal is the guard's, not a failure to connect."""
    with RouteServer({IAM: Page(body=SECRET, content_type="application/json")}) as secret:
        url = f"http://rebound.test:{secret.port}{IAM}"
        service = f'name = "ACME"\n[documents.privacy-policy]\nwritten_by = "discover"\nurl = "{url}"\n'
        settings = f"[wayback]\ntimeout_seconds = 5\n{NO_ROBOTS}"
        config = write_config(tmp_path / "c1", {"acme": service}, settings)
        table = (f"rebound.test={PUBLIC}|127.0.0.1",)
        attacked = run_cli_with_names(table, config, tmp_path / "d1", "track")
        assert secret.paths == [], "the connection reached 127.0.0.1"

        persons = write_config(tmp_path / "c2", {"acme": service.replace('written_by = "discover"\n', "")}, settings)
        # Nothing checked: the first lookup is the connection's (its public answer would leave this machine).
        control = run_cli_with_names(("rebound.test=127.0.0.1",), persons, tmp_path / "d2", "track")
        assert secret.paths == [IAM], control.stderr

    assert attacked.returncode == 1 and "Traceback" not in attacked.stderr, attacked.stderr
    assert failed_lines(attacked.stderr) == [
        f"FAILED acme/privacy-policy: private-address: {url} (rebound.test resolves to 127.0.0.1, loopback; "
        "set [crawl] allow_private_addresses to allow)"
    ]
    assert attacked.stderr.splitlines().count("LOOKUP rebound.test") == 2, attacked.stderr
    nothing_recorded_from(tmp_path / "d1", SECRET)
