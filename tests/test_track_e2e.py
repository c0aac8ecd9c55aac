"""End to end, as a user runs it: `policy-archive track` against the stand-in live sites, then Git and `status`.

The sites have real-looking names (``acme.test``) and are reached through the stand-in used as an HTTP proxy
(``http_proxy``, which Scrapy honours), so the configuration is what a user would write and Scrapy's per-site
politeness sees distinct sites. The CLI runs in a subprocess: Scrapy's reactor cannot be restarted in one process.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from OpenSSL import SSL
from scrapy.exceptions import IgnoreRequest
from scrapy.settings.default_settings import REDIRECT_MAX_TIMES
from standin.cli import cli_command, cli_environment, git, run_cli_with_names, running
from standin.legal_text import policy_page
from standin.pages import (
    bot_wall,
    empty_page,
    held,
    javascript_shell,
    not_found,
    rate_limited,
    redirect,
    robots_txt,
    server_error,
    slow,
)
from standin.sites import StandinSites
from standin.sockets import closed_port

from policy_archive.crawler.failures import described, plain_reason, redirects_exceeded

UNRESOLVABLE = "nonexistent.invalid"  # .invalid never resolves (RFC 6761): answered "no address" from a table
HEADER = re.compile(
    r"^> \*The following text is extracted and transformed from the (?P<site>\S+) (?P<kind>.+) that was "
    r"retrieved on (?P<day>\d{4}-\d{2}-\d{2}) from \[(?P<text>[^\]]+)\]\((?P<link>[^)]+)\)\.\*$"
)


def write_config(directory: Path, services: dict[str, dict[str, str]], settings: str = "") -> Path:
    """``services``: service id → document id → URL (``select = ["main"]`` for every document)."""
    (directory / "services").mkdir(parents=True)
    (directory / "settings.toml").write_text(f"[wayback]\ntimeout_seconds = 5\n{settings}")
    for service, documents in services.items():
        lines = [f'name = "{service.title()}"']
        for document, url in documents.items():
            lines += [f"[documents.{document}]", f'url = "{url}"', 'select = ["main"]']
        (directory / "services" / f"{service}.toml").write_text("\n".join(lines) + "\n")
    return directory


def cli(sites: StandinSites, config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_environment(
        http_proxy=sites.proxy_url,
        # Direct: the unresolvable host (a real DNS failure), closed local ports, the local webhook receiver.
        no_proxy=f"{UNRESOLVABLE},127.0.0.1,localhost",
    )
    # Names answered from a table (tests/standin/fixed_dns.py) that has none: every name gives no address, as
    # .invalid does from any name server, and none is asked.
    return run_cli_with_names((), config, data, *args, env=env, said=False)


def commits(data: Path) -> list[str]:
    if not (data / "versions").exists():
        return []
    return git(data / "versions", "log", "--reverse", "--format=%H", "main").split()


def failure_lines(stderr: str) -> dict[str, str]:
    """``FAILED doc: reason`` lines of stderr, as document → reason (each document named once)."""
    found = re.findall(r"^FAILED (\S+): (.+)$", stderr, re.M)
    documents = [document for document, _ in found]
    assert len(documents) == len(set(documents)), f"a document reported twice: {stderr}"
    return dict(found)


# --- recording and change detection ---------------------------------------------------------------------------


def test_first_run_records_every_document_then_only_changes_with_conditional_requests(
    sites: StandinSites, tmp_path: Path
) -> None:
    privacy = sites.set_page("http://acme.test/legal/privacy", policy_page("acme.test", "privacy-policy"))
    terms = sites.set_page("http://acme.test/legal/terms", policy_page("acme.test", "terms-of-service"))
    # A moved page: the declared URL answers 301 to the real one, which is followed and recorded.
    moved = sites.set_page("http://beta.test/privacy.html", redirect("http://beta.test/legal/privacy"))
    final = sites.set_page("http://beta.test/legal/privacy", policy_page("beta.test", "privacy-policy"))
    config = write_config(
        tmp_path / "config",
        {"acme": {"privacy-policy": privacy, "terms-of-service": terms}, "beta": {"privacy-policy": moved}},
    )
    data = tmp_path / "data"
    repo = data / "versions"

    before = datetime.now(UTC).replace(microsecond=0)
    first = cli(sites, config, data, "track")
    after = datetime.now(UTC)
    assert first.returncode == 0, first.stderr
    assert failure_lines(first.stderr) == {}
    recorded = commits(data)
    assert len(recorded) == 3
    paths = {
        "a/acme/privacy-policy.md": privacy,
        "a/acme/terms-of-service.md": terms,
        "b/beta/privacy-policy.md": moved,
    }
    for commit in recorded:
        (path,) = git(repo, "show", "--name-only", "--format=", commit).split()
        author, committer, subject = git(repo, "log", "-1", "--format=%aI|%cI|%s", commit).split("|")
        assert author == committer
        captured = datetime.fromisoformat(author)
        assert before <= captured <= after, "dated at the fetch time"
        assert subject.startswith("First record of ")
        message = git(repo, "log", "-1", "--format=%B", commit)
        assert "Source: live" in message
        assert f"Captured-At: {captured.strftime('%Y-%m-%dT%H:%M:%SZ')}" in message
        assert re.search(r"^Payload-Sha1: [A-Z2-7]{32}$", message, re.M)
        assert message.rstrip().endswith("Stated-Date: 2026-01-01"), "the page's 'Last updated: January 01, 2026'"
        header, blank, title = git(repo, "show", f"{commit}:{path}").splitlines()[:3]
        match = HEADER.match(header)
        assert match, header
        assert match["day"] == captured.date().isoformat()
        assert match["text"] == match["link"] == paths[path]
        assert (blank, title[:2]) == ("", "# ")
    moved_commit = git(repo, "log", "-1", "--format=%B", "main", "--", "b/beta/privacy-policy.md")
    assert f"Snapshot-Url: {final}" in moved_commit, "the redirect's target is recorded"
    assert [r.status for r in sites.requests("beta.test") if r.path != "/robots.txt"] == [301, 200]

    # One page changes: exactly one new commit, for that page; the others cost a conditional request and a 304.
    sites.clear_log()
    sites.change_page(terms, policy_page("acme.test", "terms-of-service", revision=1).body)
    second = cli(sites, config, data, "track")
    assert second.returncode == 0, second.stderr
    new = commits(data)[3:]
    assert len(new) == 1
    assert git(repo, "show", "--name-only", "--format=", new[0]).split() == ["a/acme/terms-of-service.md"]
    assert "\nStated-Date: 2026-01-02\n" in git(repo, "log", "-1", "--format=%B", new[0])
    assert git(repo, "log", "-1", "--format=%s", new[0]) == "Record new changes of Acme Terms of Service\n"
    diff = git(repo, "diff", f"{new[0]}~1", new[0], "--", "a/acme/terms-of-service.md")
    assert "Last updated: January 02, 2026" in diff
    unchanged = sites.requests("acme.test", "/legal/privacy") + sites.requests("beta.test", "/legal/privacy")
    assert [(r.status, r.conditional) for r in unchanged] == [(304, True), (304, True)]
    (changed,) = sites.requests("acme.test", "/legal/terms")
    assert changed.if_none_match and changed.if_modified_since and changed.status == 200
    assert parsedate_to_datetime(changed.if_modified_since) <= datetime.now(UTC)

    # Nothing changes: no commit, every document request conditional and answered 304.
    sites.clear_log()
    third = cli(sites, config, data, "track")
    assert third.returncode == 0, third.stderr
    assert len(commits(data)) == 4
    document_requests = [r for r in sites.requests() if r.path not in ("/robots.txt", "/privacy.html")]
    assert [(r.status, r.conditional) for r in document_requests] == [(304, True)] * 3

    # New bytes, same text (only the cookie banner outside <main> differs): fetched in full, but no commit.
    sites.clear_log()
    page = policy_page("acme.test", "privacy-policy").body.replace(b"We use cookies.", b"We use some cookies.")
    sites.change_page(privacy, page)
    fourth = cli(sites, config, data, "track")
    assert fourth.returncode == 0, fourth.stderr
    assert [r.status for r in sites.requests("acme.test", "/legal/privacy")] == [200]
    assert len(commits(data)) == 4

    # Politeness held in every run (the log is cleared between runs; the last run is checked here).
    assert sites.max_in_flight("acme.test") == 1
    assert all(r.user_agent and r.user_agent.startswith("policy-archive/") for r in sites.requests())


def test_one_request_at_a_time_per_site(sites: StandinSites, tmp_path: Path) -> None:
    """Six documents of one site, each answered slowly: Scrapy must never ask that site two things at once,
    while two other sites are fetched in parallel."""
    documents: dict[str, dict[str, str]] = {}
    for site in ("acme", "beta", "gamma"):
        for number in range(1, 3 if site != "acme" else 7):
            # Named as terms, so each page's title names legal matter: a 5 KB page of the generated text names it
            # once or not at all, and "doc 4" alone is no legal document (extractor revision 25).
            page = slow(policy_page(f"{site}.test", f"terms-{number}", size=5_000), 0.2)
            url = sites.set_page(f"http://{site}.test/legal/terms-{number}", page)
            documents.setdefault(site, {})[f"terms-{number}"] = url
    config = write_config(tmp_path / "config", documents)
    result = cli(sites, config, tmp_path / "data", "track")
    assert result.returncode == 0, result.stderr
    assert len(commits(tmp_path / "data")) == 10
    for site in ("acme.test", "beta.test", "gamma.test"):
        assert sites.max_in_flight(site) == 1, site
    acme = sorted(sites.requests("acme.test"), key=lambda r: r.started)
    assert all(later.started >= earlier.finished for earlier, later in zip(acme, acme[1:], strict=False))


def test_retry_after_is_honoured(sites: StandinSites, tmp_path: Path) -> None:
    url = sites.set_page(
        "http://acme.test/legal/privacy",
        rate_limited(policy_page("acme.test", "privacy-policy"), retry_after_seconds=2, times=1),
    )
    config = write_config(tmp_path / "config", {"acme": {"privacy-policy": url}})
    result = cli(sites, config, tmp_path / "data", "track")
    assert result.returncode == 0, result.stderr
    refused, answered = sites.requests("acme.test", "/legal/privacy")
    assert (refused.status, answered.status) == (429, 200)
    assert answered.started - refused.finished >= 1.9, "asked again only after Retry-After"
    assert len(commits(tmp_path / "data")) == 1


# --- failures ---------------------------------------------------------------------------------------------------


def test_failing_documents_are_reported_counted_and_do_not_stop_the_others(sites: StandinSites, tmp_path: Path) -> None:
    sites.add_site("acme.test", disallow=["/internal/"])
    good = sites.set_page("http://acme.test/legal/privacy", policy_page("acme.test", "privacy-policy"))
    terms = sites.set_page("http://acme.test/legal/terms", policy_page("acme.test", "terms-of-service"))
    sites.set_page("http://broken.test/loop/b", redirect("http://broken.test/loop/a", status=301))
    chain = [f"http://broken.test/hop/{n}" for n in range(REDIRECT_MAX_TIMES + 3)]  # a longer chain than Scrapy follows
    for here, there in zip(chain, chain[1:], strict=False):
        sites.set_page(here, redirect(there, status=302))
    failing = {
        "not-found": (sites.set_page("http://broken.test/404", not_found()), "HTTP status 404"),
        "server-error": (sites.set_page("http://broken.test/500", server_error()), "HTTP status 500"),
        "bot-wall": (sites.set_page("http://broken.test/wall", bot_wall()), "HTTP status 403"),
        "empty": (sites.set_page("http://broken.test/empty", empty_page()), "empty"),
        "javascript": (sites.set_page("http://broken.test/app", javascript_shell()), "javascript"),
        "robots": (
            sites.set_page("http://acme.test/internal/policy", policy_page("acme.test", "cookie-policy")),
            "robots.txt: disallows http://acme.test/internal/policy for this crawler (setting [crawl] obey_robots)",
        ),
        "redirect-loop": (
            sites.set_page("http://broken.test/loop/a", redirect("/loop/b", status=302)),
            "redirect-loop: http://broken.test/loop/a → http://broken.test/loop/b → http://broken.test/loop/a "
            f"(stopped after {REDIRECT_MAX_TIMES} redirects)",
        ),
        "long-chain": (
            chain[0],
            f"too-many-redirects: more than {REDIRECT_MAX_TIMES} redirects from {chain[0]} "
            f"(last: {chain[REDIRECT_MAX_TIMES]})",
        ),
        "too-large": (
            sites.set_page("http://broken.test/huge", policy_page("broken.test", "huge", size=300_000)),
            "over the limit of 200,000 bytes",
        ),
        "dns": (f"http://{UNRESOLVABLE}/privacy", "DNS"),
        # https to a port that speaks plain HTTP (the stand-in's own): OpenSSL's reason (3.x: "wrong version
        # number"), not pyOpenSSL's Python list of triples.
        "tls": (f"{sites.proxy_url.replace('http:', 'https:')}/privacy", "the TLS handshake failed ("),
        "refused": (f"http://127.0.0.1:{closed_port()}/privacy", "refused"),
    }
    services = {
        "acme": {"privacy-policy": good, "terms-of-service": terms},
        "broken": {name: url for name, (url, _) in failing.items()},
    }
    config = write_config(tmp_path / "config", services, "[crawl]\nmax_page_bytes = 200_000\n")
    # Refused as a shell whether or not a browser is installed (with one, ``auto`` would render it first:
    # tests/test_render_e2e.py and tests/test_render_unavailable.py cover those paths).
    broken = config / "services" / "broken.toml"
    app = f'url = "{failing["javascript"][0]}"\n'
    broken.write_text(broken.read_text().replace(app, app + 'render = "never"\n'))
    # The terms page exists but nothing in it matches the declared selector.
    with (config / "services" / "acme.toml").open("a") as declarations:
        declarations.write('[documents.cookie-policy]\nurl = "http://acme.test/legal/terms"\nselect = ["#policy"]\n')
    data = tmp_path / "data"

    for _ in range(2):
        result = cli(sites, config, data, "track")
        assert result.returncode == 1, result.stderr
        reported = failure_lines(result.stderr)
        expected = {f"broken/{name}" for name in failing} | {"acme/cookie-policy"}
        assert set(reported) == expected, result.stderr
        for name, (_, reason) in failing.items():
            assert reason.lower() in reported[f"broken/{name}"].lower(), (name, reported[f"broken/{name}"])
        for document, reason in reported.items():  # our words, never Python's (IgnoreRequest, [('SSL ...)])
            assert not re.search(r"\b[A-Z]\w*(Error|Request|Exception|Failure)\b|\[\(", reason), (document, reason)
        assert "#policy" in reported["acme/cookie-policy"]
        assert len(commits(data)) == 2, "the two good documents, recorded once"
        files = git(data / "versions", "ls-files").split()
        assert files == ["a/acme/privacy-policy.md", "a/acme/terms-of-service.md"]

    assert not sites.requests("acme.test", "/internal/policy"), "robots.txt disallows it"
    status = cli(sites, config, data, "status")
    assert status.returncode == 0, status.stderr
    rows = {line.split()[0]: line for line in status.stdout.splitlines() if "/" in line.split()[0]}
    for document in expected:
        failures = rows[document].split()[5:]  # after versions, last capture, last fetched, last change
        assert failures[0] == "2", rows[document]  # consecutive failures, counted across the two runs
    assert rows["acme/privacy-policy"].split()[1] == "1"  # versions
    assert rows["acme/privacy-policy"].split()[-1] == "0"

    # The page comes back: the count starts again from zero.
    sites.set_page(failing["not-found"][0], policy_page("broken.test", "not-found"))
    cli(sites, config, data, "track", "broken/not-found")
    status = cli(sites, config, data, "status")
    row = next(line for line in status.stdout.splitlines() if line.startswith("broken/not-found "))
    assert row.split()[1] == "1" and row.split()[-1] == "0", row


# --- notifications ----------------------------------------------------------------------------------------------


class Webhook:
    """A local webhook receiver: keeps every POSTed JSON body; answers ``status``."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(json.loads(body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/policy-archive"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    receiver = Webhook()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_webhook_gets_the_summary_of_runs_with_changes_and_its_failure_does_not_fail_the_run(
    sites: StandinSites, tmp_path: Path, webhook: Webhook
) -> None:
    privacy = sites.set_page("http://acme.test/legal/privacy", policy_page("acme.test", "privacy-policy"))
    terms = sites.set_page("http://acme.test/legal/terms", policy_page("acme.test", "terms-of-service"))
    config = write_config(
        tmp_path / "config",
        {"acme": {"privacy-policy": privacy, "terms-of-service": terms}},
        f'[schedule]\nwebhook_url = "{webhook.url}"\n',
    )
    data = tmp_path / "data"
    first = cli(sites, config, data, "track")
    assert first.returncode == 0, first.stderr
    (summary,) = webhook.received
    changes = {change["document"]: change for change in summary["changes"]}  # type: ignore[attr-defined]
    assert set(changes) == {"acme/privacy-policy", "acme/terms-of-service"}
    assert {change["commit"] for change in changes.values()} == set(commits(data))
    assert all(change["lines_removed"] == 0 and change["lines_added"] > 10 for change in changes.values())
    assert "2 documents changed" in str(summary["text"])

    sites.change_page(terms, policy_page("acme.test", "terms-of-service", revision=1).body)
    second = cli(sites, config, data, "track")
    assert second.returncode == 0, second.stderr
    (change,) = webhook.received[1]["changes"]  # type: ignore[misc]
    assert change["document"] == "acme/terms-of-service"
    assert change["commit"] == commits(data)[-1]
    assert change["date"] == git(data / "versions", "log", "-1", "--format=%aI").strip().replace("+00:00", "Z")
    assert change["lines_added"] >= 1 and change["lines_removed"] >= 1

    third = cli(sites, config, data, "track")
    assert third.returncode == 0 and len(webhook.received) == 2, "no changes, nothing posted"

    webhook.status = 500
    sites.change_page(privacy, policy_page("acme.test", "privacy-policy", revision=1).body)
    failing_hook = cli(sites, config, data, "track")
    assert failing_hook.returncode == 0, failing_hook.stderr
    assert len(webhook.received) == 3
    assert "webhook" in failing_hook.stderr and "500" in failing_hook.stderr
    assert "/hooks/policy-archive" not in failing_hook.stderr, "webhook paths often hold a secret"
    assert len(commits(data)) == 4


# --- stopping ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_the_request_on_the_wire_and_sends_no_other(
    sites: StandinSites, tmp_path: Path, signum: signal.Signals
) -> None:
    # One site, three documents: one request at a time, so two wait in the site's download slot while the first
    # is answered. The site holds every answer until the test has seen the run react to the signal.
    release = threading.Event()
    kinds = ("privacy-policy", "terms-of-service", "cookie-policy")
    urls = {
        kind: sites.set_page(f"http://slow.test/{kind}", held(policy_page("slow.test", kind, size=5_000), release))
        for kind in kinds
    }
    config = write_config(tmp_path / "config", {"slow": urls})
    data, output = tmp_path / "data", tmp_path / "track.log"

    command = cli_command(config, data, "track")
    with running(command, output, env=cli_environment(http_proxy=sites.proxy_url), terminal_sigint=True) as run:
        try:
            run.wait_for(lambda: sum(sites.received(url) for url in urls.values()) == 1, "the first page's request")
            run.send_signal(signum)
            run.wait_for_output("stopping:", "the run to stop sending")
            release.set()
            status = run.ended()
        finally:
            release.set()

    text = output.read_text(errors="replace")
    assert "Traceback" not in text
    assert "stopping: 1 request already sent finishes; no other is sent" in text, text
    (first,) = [kind for kind in kinds if sites.received(urls[kind])]
    assert [r.path for r in sites.requests("slow.test") if r.path != "/robots.txt"] == [f"/{first}"]
    assert status == 1, text
    assert failure_lines(text) == {
        f"slow/{kind}": "not fetched: the run was stopped" for kind in kinds if kind != first
    }, text
    # The last line (the one `schedule` logs) counts them and says the stop, by its signal.
    assert text.rstrip().splitlines()[-1] == (
        f"2 documents failed: 2 not fetched, the run was stopped by {signum.name} (named above; run again to fetch"
        " them)"
    ), text
    assert len(commits(data)) == 1, "the page on the wire was finished and recorded"
    assert git(data / "versions", "ls-files").split() == [f"s/slow/{first}.md"]


# --- a run killed before it recorded its versions ------------------------------------------------------------------


def live_capture_times(data: Path, document: str) -> list[str]:
    """The catalog's live captures of ``document`` (``2026-11-28T18:54:04Z``), in order; none while the catalog
    is not made yet (read beside a running writer: read-only, waiting for its write lock to go)."""
    path = data / "catalog.sqlite3"
    if not path.exists():
        return []
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as connection:
            rows = connection.execute(
                "SELECT captured_at FROM captures WHERE document = ? AND source = 'live' ORDER BY captured_at",
                (document,),
            ).fetchall()
    except sqlite3.OperationalError:  # the tables are not made yet
        return []
    return [at for (at,) in rows]


def history(data: Path) -> list[str]:
    """``commit date subject file`` of every commit of ``main``, oldest first."""
    log = git(data / "versions", "log", "--reverse", "--format=%H %cI %s", "--name-only", "main")
    lines = [line for line in log.splitlines() if line]  # each commit: its line, then its one file
    return [f"{header} {path}" for header, path in zip(lines[::2], lines[1::2], strict=True)]


def killed_before_recording(
    sites: StandinSites, tmp_path: Path, settings: str = "", said_running: list[str] | None = None
) -> tuple[Path, Path, str, threading.Event]:
    """A `track` killed with SIGKILL once the privacy policy's page is kept (WARC file, catalog row) and before
    any version is saved: the terms are held on the wire by their site, so the crawl cannot have ended (the
    versions are saved after it). Returns the configuration, the data directory, the policy's URL and the
    terms' release; ``said_running`` gets the line `status` gives of the run before the kill, with its PID."""
    release = threading.Event()
    privacy = sites.set_page("http://acme.test/legal/privacy", policy_page("acme.test", "privacy-policy"))
    terms = sites.set_page("http://slow.test/terms", held(policy_page("slow.test", "terms-of-service"), release))
    services = {"acme": {"privacy-policy": privacy}, "slow": {"terms": terms}}
    config = write_config(tmp_path / "config", services, settings)
    data = tmp_path / "data"
    track = cli_command(config, data, "track")
    with running(track, tmp_path / "killed-track.log", env=cli_environment(http_proxy=sites.proxy_url)) as run:
        run.wait_for(lambda: len(live_capture_times(data, "acme/privacy-policy")) == 1, "the policy's capture")
        run.wait_for(lambda: sites.received(terms) == 1, "the terms' request")
        if said_running is not None:
            said_running += [cli(sites, config, data, "status").stdout.splitlines()[1], str(run.process.pid)]
        run.stop(signal.SIGKILL)
    release.set()
    # Nothing saved: no commit, and no ledger either (tests/test_versions.py covers a kill during a save).
    assert git(data / "versions", "rev-list", "--all") == "", "the kill came after the versions were saved"
    return config, data, privacy, release


def test_a_track_killed_before_recording_has_its_captures_recorded_first_by_the_next_run(
    sites: StandinSites, tmp_path: Path, webhook: Webhook
) -> None:
    """Audit 9, F1: the killed run's text is a version dated when it was captured, although the page changed
    before the next run; the history is then what `reextract --rebuild` makes from the same captures."""
    hook = f'[schedule]\nwebhook_url = "{webhook.url}"\n'
    config, data, privacy, _ = killed_before_recording(sites, tmp_path, hook)
    assert webhook.received == []
    (killed_capture,) = live_capture_times(data, "acme/privacy-policy")
    sites.change_page(privacy, policy_page("acme.test", "privacy-policy", revision=1).body)

    rerun = cli(sites, config, data, "track")
    assert rerun.returncode == 0, rerun.stderr
    first, second = live_capture_times(data, "acme/privacy-policy")
    assert first == killed_capture
    recorded = history(data)
    policy = [entry for entry in recorded if entry.endswith("a/acme/privacy-policy.md")]
    # The killed run's text, dated when it was captured, then the change the rerun found against it.
    assert [entry.split()[1] for entry in policy] == [datetime.fromisoformat(at).isoformat() for at in (first, second)]
    assert "First record of" in policy[0] and "Record new changes of" in policy[1]
    assert len(recorded) == 3  # and the terms, never answered to the killed run, once
    said = re.search(
        r"^repaired: the `track` run of (\S+) was stopped before recording its versions: (.*)$", rerun.stderr, re.M
    )
    assert said is not None, rerun.stderr
    assert said.group(2) == "1 version recorded now from its kept captures, each dated when it was captured"
    # The webhook hears of the killed run's version too (compared with nothing before it), then of the change.
    (summary,) = webhook.received
    posted = [(change["document"], change["commit"], change["lines_removed"]) for change in summary["changes"]]  # type: ignore[attr-defined]
    first_commit, second_commit = (entry.split()[0] for entry in policy)
    assert posted[0] == ("acme/privacy-policy", first_commit, 0)
    # The rerun's own changes come in the order of their captures, and the two pages are fetched at once.
    own = sorted(posted[1:])
    assert own[0][:2] == ("acme/privacy-policy", second_commit) and own[0][2] > 0
    assert [change[0] for change in own[1:]] == ["slow/terms"]
    # Only the killed run's version is said to be recorded late, in the changes and in the text.
    assert [change.get("recovered") for change in summary["changes"]] == [True, None, None]  # type: ignore[attr-defined]
    late = summary["changes"][0]  # type: ignore[index]
    said_late = f"acme/privacy-policy (+{late['lines_added']} -0; captured {first} by a killed track run, recorded only"
    assert f"{said_late} now)" in str(summary["text"])
    assert str(summary["text"]).count("killed") == 1

    rebuilt = cli(sites, config, data, "reextract", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert history(data) == recorded, rebuilt.stderr
    assert "0 commits rewritten" in rebuilt.stderr


def test_repair_records_what_a_killed_track_kept_and_says_so(sites: StandinSites, tmp_path: Path) -> None:
    said_running: list[str] = []
    config, data, _, _ = killed_before_recording(sites, tmp_path, said_running=said_running)
    (captured,) = live_capture_times(data, "acme/privacy-policy")
    running, pid = said_running
    assert re.fullmatch(rf"run track \S+ → still running \(PID {pid}\)", running), running
    # Killed: said so, with what it left and what records it.
    killed_status = cli(sites, config, data, "status").stdout.splitlines()[1]
    assert killed_status == (
        f"{running.partition(' → ')[0]} → never finished (killed, or the machine stopped); its 1 kept capture is not "
        "recorded yet: run `policy-archive repair` to record it (any writing command does it first)"
    )

    repaired = cli(sites, config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert re.fullmatch(
        r"repaired: the `track` run of \S+ was stopped before recording its versions: 1 version recorded now from "
        r"its kept captures, each dated when it was captured\n",
        repaired.stderr,
    ), repaired.stderr
    (entry,) = history(data)
    assert entry.split()[1] == datetime.fromisoformat(captured).isoformat()
    assert entry.endswith("a/acme/privacy-policy.md")
    status = cli(sites, config, data, "status").stdout.splitlines()
    assert re.fullmatch(
        r"run track \S+ → exit 1: stopped before recording its versions: `repair` recorded 1 version from its "
        r"captures at \S+",
        status[2],
    ), status
    again = cli(sites, config, data, "repair")
    assert again.returncode == 0 and again.stderr == f"{data}: nothing to repair\n", again.stderr
    assert history(data) == [entry]


def test_repair_posts_to_the_webhook_the_versions_of_a_killed_track_it_records(
    sites: StandinSites, tmp_path: Path, webhook: Webhook
) -> None:
    """A killed `track` never posted its changes: the command recording them does, as `track` would have, each
    said to be recorded late; the next `track` (the page unchanged) posts nothing more, and a webhook that fails
    is one note, not a failure of the repair."""
    config, data, _, _ = killed_before_recording(sites, tmp_path, f'[schedule]\nwebhook_url = "{webhook.url}"\n')
    (captured,) = live_capture_times(data, "acme/privacy-policy")
    assert webhook.received == []

    repaired = cli(sites, config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "1 version recorded now from its kept captures" in repaired.stderr
    assert "webhook" not in repaired.stderr, repaired.stderr
    (entry,) = history(data)
    (summary,) = webhook.received
    (change,) = summary["changes"]  # type: ignore[misc]
    assert change == {
        "document": "acme/privacy-policy",
        "date": captured,
        "lines_added": change["lines_added"],
        "lines_removed": 0,
        "commit": entry.split()[0],
        "recovered": True,
    }
    assert change["lines_added"] > 10
    assert summary["text"] == (
        f"policy-archive: 1 document changed: acme/privacy-policy (+{change['lines_added']} -0; captured {captured} "
        "by a killed track run, recorded only now)"
    )

    # The next track compares the page with that version: unchanged, so nothing is posted for it again; only the
    # terms (never answered to the killed run) are new, posted as any change.
    rerun = cli(sites, config, data, "track")
    assert rerun.returncode == 0, rerun.stderr
    assert len(webhook.received) == 2
    assert [(c["document"], "recovered" in c) for c in webhook.received[1]["changes"]] == [("slow/terms", False)]  # type: ignore[attr-defined]
    assert "killed" not in str(webhook.received[1]["text"])


def test_a_failing_webhook_does_not_fail_the_repair_recording_a_killed_track(
    sites: StandinSites, tmp_path: Path, webhook: Webhook
) -> None:
    config, data, _, _ = killed_before_recording(sites, tmp_path, f'[schedule]\nwebhook_url = "{webhook.url}"\n')
    webhook.status = 500
    repaired = cli(sites, config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert len(history(data)) == 1 and len(webhook.received) == 1
    assert re.search(r"^repaired: webhook: webhook http://127\.0\.0\.1:\d+ answered HTTP 500", repaired.stderr, re.M)
    assert "/hooks/policy-archive" not in repaired.stderr, "webhook paths often hold a secret"


def test_captures_an_older_release_left_unrecorded_are_inserted_at_their_dates(
    sites: StandinSites, tmp_path: Path
) -> None:
    """Before 2026-11-28 the next `track` ignored a killed run's captures and recorded its own: the killed run's
    row stays in the catalog without an exit status, so the next command records them, inserted before the
    later versions (their commits re-chained), giving the history `reextract --rebuild` gives."""
    config, data, privacy, _ = killed_before_recording(sites, tmp_path)
    sites.change_page(privacy, policy_page("acme.test", "privacy-policy", revision=1).body)
    catalog = data / "catalog.sqlite3"

    def runs(statement: str) -> None:
        with closing(sqlite3.connect(catalog)) as connection, connection:
            connection.execute(statement)

    # As an older release left it: the killed run looked at by no one, then a run recording its own captures.
    runs("UPDATE runs SET exit_status = 1, summary = 'hidden'")
    assert cli(sites, config, data, "track").returncode == 0
    runs("UPDATE runs SET exit_status = NULL, summary = NULL WHERE summary = 'hidden'")
    # That run started in the second of the killed run's capture (a restart at once, an idle machine), made so
    # rather than raced for: its captures are told from the killed run's by the catalog's ids, not by that second
    # (before 2026-11-29 the capture was missed, CI of 2367f01: "nothing to repair").
    (killed_capture, _) = live_capture_times(data, "acme/privacy-policy")
    runs(f"UPDATE runs SET started_at = '{killed_capture}' WHERE id = (SELECT MAX(id) FROM runs)")
    assert len(history(data)) == 2

    repaired = cli(sites, config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "1 version recorded now from its kept captures" in repaired.stderr
    recorded = history(data)
    first, second = live_capture_times(data, "acme/privacy-policy")
    policy = [entry.split()[1] for entry in recorded if entry.endswith("a/acme/privacy-policy.md")]
    assert policy == [datetime.fromisoformat(at).isoformat() for at in (first, second)]
    rebuilt = cli(sites, config, data, "reextract", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert history(data) == recorded


def lose_the_catalog(data: Path) -> None:
    """The catalog deleted (a disk, a hand): the next writing command re-indexes the WARC files, and the runs are
    gone with it."""
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (data / name).unlink(missing_ok=True)


LEFT_AFTER_REINDEX = re.compile(
    r"^repaired: 1 kept live capture holds a text no version records, captured by a `track` run killed before "
    r"recording it \(the lost catalog's runs said which\): acme/privacy-policy \((\S+)\); `policy-archive reextract "
    r"--rebuild acme/privacy-policy` records it, each dated when it was captured \(no other command does\)$",
    re.M,
)


def test_after_the_catalog_is_lost_repair_names_the_killed_tracks_texts_and_the_command_recording_them(
    sites: StandinSites, tmp_path: Path
) -> None:
    """A catalog re-indexed from the WARC files has no runs: which captures a killed `track` left is not known,
    and the re-index judged none of them against the history, so `repair` records nothing; it names each live text
    no version holds and the command that records it, which then does."""
    config, data, _, _ = killed_before_recording(sites, tmp_path)
    (captured,) = live_capture_times(data, "acme/privacy-policy")
    lose_the_catalog(data)

    repaired = cli(sites, config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "re-indexed from 1 WARC file" in repaired.stderr, repaired.stderr
    said = LEFT_AFTER_REINDEX.search(repaired.stderr)
    assert said is not None and said.group(1) == captured, repaired.stderr
    assert git(data / "versions", "rev-list", "--all") == "", "repair recorded it"

    rebuilt = cli(sites, config, data, "reextract", "--rebuild", "acme/privacy-policy")
    assert rebuilt.returncode == 0, rebuilt.stderr
    (entry,) = history(data)
    assert entry.split()[1] == datetime.fromisoformat(captured).isoformat()
    assert entry.endswith("a/acme/privacy-policy.md")
    # Lost again: every live text is now a version's, so nothing is named.
    lose_the_catalog(data)
    again = cli(sites, config, data, "repair")
    assert again.returncode == 0 and "no version records" not in again.stderr, again.stderr


def test_after_the_catalog_is_lost_track_records_its_own_and_names_the_killed_runs_text(
    sites: StandinSites, tmp_path: Path
) -> None:
    """The next `track` records the page as it is now, compared with the versions Git holds; the killed run's
    text (the page changed since) is named with the command inserting it at its date, as an uninterrupted pair
    of runs would have recorded it."""
    config, data, privacy, _ = killed_before_recording(sites, tmp_path)
    (killed,) = live_capture_times(data, "acme/privacy-policy")
    sites.change_page(privacy, policy_page("acme.test", "privacy-policy", revision=1).body)
    lose_the_catalog(data)

    tracked = cli(sites, config, data, "track")
    assert tracked.returncode == 0, tracked.stderr
    said = LEFT_AFTER_REINDEX.search(tracked.stderr)
    assert said is not None and said.group(1) == killed, tracked.stderr
    _, now = live_capture_times(data, "acme/privacy-policy")
    policy = [entry for entry in history(data) if entry.endswith("a/acme/privacy-policy.md")]
    assert [entry.split()[1] for entry in policy] == [datetime.fromisoformat(now).isoformat()]

    rebuilt = cli(sites, config, data, "reextract", "--rebuild", "acme/privacy-policy")
    assert rebuilt.returncode == 0, rebuilt.stderr
    policy = [entry for entry in history(data) if entry.endswith("a/acme/privacy-policy.md")]
    assert [entry.split()[1] for entry in policy] == [datetime.fromisoformat(at).isoformat() for at in (killed, now)]
    lose_the_catalog(data)
    again = cli(sites, config, data, "repair")
    assert again.returncode == 0 and "no version records" not in again.stderr, again.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_while_the_crawl_starts_names_every_document_not_fetched(
    sites: StandinSites, tmp_path: Path, signum: signal.Signals
) -> None:
    """Audit 2026-11-28 F2: a SIGTERM while `track` started (`schedule`'s stop, systemd's) killed it (exit 143, its
    run left "did not finish"); a Ctrl-C printed click's `Aborted!`. The signal is sent when Scrapy says it started
    (--verbose). The site's robots.txt is held until then: a crawl already running (a loaded machine) has asked for
    it and no page, and the pages waiting for it are not sent after the stop, so the outcome is the same."""
    release = threading.Event()
    sites.set_page("http://early.test/robots.txt", held(robots_txt(), release))
    urls = {kind: sites.set_page(f"http://early.test/{kind}", policy_page("early.test", kind))
            for kind in ("privacy-policy", "terms-of-service")}  # fmt: skip
    config = write_config(tmp_path / "config", {"early": urls})
    data = tmp_path / "data"
    command = cli_command(config, data, "track", "--verbose")
    try:
        with running(
            command, tmp_path / "track.log", env=cli_environment(http_proxy=sites.proxy_url), terminal_sigint=True
        ) as run:
            run.wait_for(lambda: re.search(r"Scrapy \S+ started", run.output()) is not None, "Scrapy to start")
            run.send_signal(signum)
            release.set()
            status = run.ended()
            text = run.output()
    finally:
        release.set()

    assert status == 1, text
    assert "Traceback" not in text and "Aborted!" not in text
    assert failure_lines(text) == {f"early/{kind}": "not fetched: the run was stopped" for kind in urls}, text
    assert git(data / "versions", "ls-files") == "", "nothing recorded"
    shown = subprocess.run(
        cli_command(config, data, "status"), capture_output=True, text=True, env=cli_environment(), timeout=120
    ).stdout
    assert f"→ exit 1: 0 versions recorded, 2 documents failed, stopped by {signum.name}" in shown, shown


def test_redirect_chains_and_unknown_failures_are_said_in_our_words() -> None:
    """The wordings the CLI tests above do not reach: a page redirecting to itself, a loop of more URLs than are
    named, and a failure of a kind not met yet (a sentence with what the error says, never its class)."""
    assert (
        redirects_exceeded(["http://a.test/p"] * 3)
        == "redirect-loop: http://a.test/p redirects to itself (stopped after 2 redirects)"
    )
    loop = [f"http://a.test/{n}" for n in range(5)]
    assert redirects_exceeded(["http://a.test/start", *loop, loop[0]]) == (
        "redirect-loop: http://a.test/0 redirects back to itself through 4 other URLs (stopped after 6 redirects)"
    )
    assert described(IgnoreRequest("Filtered offsite request")) == "the download failed (Filtered offsite request)"
    assert described(ValueError()) == "the download failed (no details given)"
    assert plain_reason(SSL.Error([("SSL routines", "", "certificate verify failed")])) == (
        "the TLS handshake failed (certificate verify failed)"
    )
