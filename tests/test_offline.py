"""The tests' offline guard (tests/offline/offline_guard.py) where ``no_name_server`` cannot reach by itself: in the
Python subprocesses the tests start (the CLI, pywb in its own venv), and in Chromium.

A guarded subprocess here writes its refusals to a file of the test's own (not the session's, which would fail
this very test). Chromium is seen reaching for another host with a listener on 127.0.0.2: a loopback address (the
test stays on this machine) that the guard's resolver rules refuse like any host but 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import offline_guard
import pytest
from standin import pywb
from standin.cli import REPO_ROOT, cli_command, cli_environment, wait_for
from standin.sites import StandinSites
from test_render_e2e import DATA_HELD, assert_no_chromium_left, chromium_processes, in_flight_page

from policy_archive.crawler import render

PROBE = """
import json, socket, sys
said = {"sitecustomize": sys.modules["sitecustomize"].__file__}
try:
    socket.getaddrinfo("policies.example.com", 80)
except OSError as error:
    said["lookup"] = str(error)
try:
    socket.create_connection(("93.184.215.14", 80), timeout=5).close()
except OSError as error:
    said["connect"] = str(error)
said["localhost"] = socket.getaddrinfo("localhost", 80)[0][4][0] in ("127.0.0.1", "::1")
print(json.dumps(said))
"""


def guarded_environment(refusals: Path) -> dict[str, str]:
    return cli_environment(**{offline_guard.VARIABLE: str(refusals)})


def assert_refused(result: subprocess.CompletedProcess[str], refusals: Path) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    said = json.loads(result.stdout)
    assert "offline guard" in said["lookup"] and "offline guard" in said["connect"], said
    assert said["localhost"] is True, "localhost is answered as ever"
    written = refusals.read_text().splitlines()
    assert [line.split(" (pid ")[0] for line in written] == [
        "looked up policies.example.com",
        "connected to 93.184.215.14",
    ], written
    return said


def test_a_subprocess_of_the_tests_neither_looks_up_a_name_nor_leaves_this_machine(tmp_path: Path):
    refusals = tmp_path / "refused"
    command = [sys.executable, "-c", PROBE]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=guarded_environment(refusals))
    assert_refused(result, refusals)


def test_the_command_lines_own_lookup_is_refused_and_reported(tmp_path: Path):
    """The real CLI (``discover --live`` of a name no table answers): its crawl's lookup is refused as a name that
    does not exist, said in the CLI's own words, and written for the session to fail the test with."""
    refusals = tmp_path / "refused"
    (tmp_path / "config").mkdir()
    command = cli_command(tmp_path / "config", tmp_path / "data", "discover", "--live", "http://policies.example/")
    env = guarded_environment(refusals)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=REPO_ROOT)
    assert "UNREADABLE policies.example" in result.stdout + result.stderr, result.stderr
    assert "host not found" in result.stderr, result.stderr
    written = set(line.split(" (pid ")[0] for line in refusals.read_text().splitlines())
    assert written == {"looked up policies.example"}, written


def test_without_the_sessions_variable_the_guard_is_inert(tmp_path: Path):
    env = cli_environment()
    del env[offline_guard.VARIABLE]
    code = "import socket; print(socket.getaddrinfo.__module__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "socket", "the system's getaddrinfo, untouched"


def test_pywbs_own_venv_is_guarded_and_its_python_still_starts_as_it_would(tmp_path: Path):
    try:
        bin_dir = pywb.ensure_installed()
    except pywb.PywbUnavailable as reason:
        pytest.skip(str(reason))
    refusals = tmp_path / "refused"
    python = str(bin_dir / "python")
    env = guarded_environment(refusals)
    result = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60, env=env)
    said = assert_refused(result, refusals)
    # The sitecustomize the guard's hides (Debian's, say) still runs: it is the one Python keeps as its own.
    unguarded = {name: value for name, value in env.items() if name != "PYTHONPATH"}
    code = "import sys; print(getattr(sys.modules.get('sitecustomize'), '__file__', ''))"
    plain = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, env=unguarded)
    hidden = plain.stdout.strip()
    assert said["sitecustomize"] == (hidden or str(Path(offline_guard.HERE) / "sitecustomize.py")), (said, hidden)
    # pywb's wayback patches gevent in first (pywb/apps/cli.py): gevent looks names up with _socket's functions.
    gevent = "from gevent.monkey import patch_all; patch_all()\nimport socket\nsocket.getaddrinfo('pywb.example', 80)"
    patched = subprocess.run([python, "-c", gevent], capture_output=True, text=True, timeout=60, env=env)
    assert "a test may not ask the name server (offline guard)" in patched.stderr, patched.stderr
    assert refusals.read_text().splitlines()[-1].startswith("looked up pywb.example (pid "), refusals.read_text()
    served = subprocess.run([str(bin_dir / "wayback"), "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert served.returncode == 0, served.stderr


def test_the_products_chromium_is_launched_with_the_guards_rules_in_a_subprocess(tmp_path: Path):
    code = "from policy_archive.crawler import render; print(render.CHROMIUM_ARGS[-1])"
    env = guarded_environment(tmp_path / "refused")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == offline_guard.CHROMIUM_ARGS[-1]
    assert set(offline_guard.CHROMIUM_ARGS) <= set(render.CHROMIUM_ARGS), "in this process too (conftest)"


class Listener:
    """A TCP listener on 127.0.0.2 counting the connections made to it (a stand-in for any other host)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.2", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.2:{self.socket.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


@pytest.fixture
def page_reaching_out() -> Iterator[tuple[str, Listener]]:
    """A page on 127.0.0.1 that makes Chromium itself reach for another host (an image, a fetch, a preconnect)."""
    listener = Listener()
    body = (
        f'<!doctype html><title>reaching out</title><link rel="preconnect" href="{listener.url}">'
        f'<p>text</p><img src="{listener.url}/a.png"><script>fetch("{listener.url}/f").catch(() => 0)</script>'
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", listener
    finally:
        server.shutdown()
        server.server_close()
        listener.socket.close()


@pytest.mark.skipif(
    not render.extra_installed() or render.system_chromium() is None,
    reason="needs the browser extra and Chromium (apt-get install chromium; .ci/run installs both)",
)
@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "unguarded"])
def test_chromium_under_the_guard_reaches_nothing_but_127_0_0_1(
    guarded: bool, page_reaching_out: tuple[str, Listener], tmp_path: Path
):
    """With the product's launch arguments as the tests give them, a page on 127.0.0.1 loads and its requests to
    another host never leave Chromium; without the guard's rules the same page does reach that host (so this test
    sees a reach when there is one, and fails if the rules are dropped from the tests' launches)."""
    from playwright.sync_api import sync_playwright

    url, listener = page_reaching_out
    args = [arg for arg in render.CHROMIUM_ARGS if guarded or arg not in offline_guard.CHROMIUM_ARGS]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=render.system_chromium(), headless=True, args=args)
        try:
            page = browser.new_page()
            page.goto(url, wait_until="load")
            # Every request of the page answered or failed: each was tried by then.
            page.wait_for_function("() => performance.getEntriesByType('resource').length >= 2", timeout=30_000)
            page.wait_for_load_state("networkidle", timeout=30_000)
            assert page.title() == "reaching out", "127.0.0.1 is reached"
        finally:
            browser.close()
    if guarded:
        assert listener.connections == 0, "Chromium reached another host"
    else:
        assert listener.connections > 0, "without the rules Chromium does reach 127.0.0.2: the guarded case is a test"


def test_the_guard_is_first_on_a_cli_subprocesss_path():
    assert cli_environment()["PYTHONPATH"].split(":")[:2] == [str(REPO_ROOT / "tests" / "offline"), str(REPO_ROOT)]


@pytest.mark.skipif(
    not render.extra_installed() or render.system_chromium() is None,
    reason="needs the browser extra and Chromium (apt-get install chromium; .ci/run installs both)",
)
def test_the_chromium_a_cli_run_launches_has_the_guards_rules(sites: StandinSites, tmp_path: Path):
    """The real launch: ``track`` renders a page in the CLI's subprocess; while the page waits for its (late) data,
    the browser process Playwright started there has the guard's resolver rules on its command line."""
    config, temporary, env = in_flight_page(sites, tmp_path)
    log_file = tmp_path / "track.log"
    with log_file.open("w") as sink:
        process = subprocess.Popen(cli_command(config, tmp_path / "data", "track"), env=env, stdout=sink, stderr=sink)
        try:
            wait_for(lambda: sites.received("http://spa.test/api/policy.json"), 60, "the rendered page's data request")
            browsers = [command for command in map(command_line, chromium_processes(str(temporary))) if command]
            # The data is held until answered here (a page's time is bounded: render_timeout_seconds from its
            # tab's opening): recorded now, or refused as a shell when a heavy load made it come after the bound.
            DATA_HELD.set()
            status = process.wait(timeout=90)
            assert status == 0 or "javascript-shell" in log_file.read_text(), log_file.read_text()
        finally:
            DATA_HELD.set()
            if process.poll() is None:
                process.kill()
                process.wait()
    # The browser process Playwright launched (its argument for the pipe it drives it through); its children
    # (renderers and the like, with a --type=) rewrite their command line as one string, crash handlers have none.
    main = [command for command in browsers if "--remote-debugging-pipe" in command]
    assert len(main) == 1, browsers
    rules = [argument for argument in main[0] if argument.startswith("--host-resolver-rules=")]
    # The guard's rules, then the product's own (Chromium has no network of its own: render.NO_NETWORK_ARGS).
    # Chromium takes the last of a repeated switch, so the product's, stricter than the guard's, are in force:
    # no name resolves, 127.0.0.1 included (test_render_e2e's test_chromium_reaches_nothing_by_itself).
    assert rules == [*offline_guard.CHROMIUM_ARGS, *render.NO_NETWORK_ARGS[:1]], main
    assert rules[-1] == "--host-resolver-rules=MAP * ~NOTFOUND", main
    assert_no_chromium_left(temporary)


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return []
