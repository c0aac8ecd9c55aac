"""What the network can hold a run with, bounded: an answer's header block, a name lookup that never answers, and
how `track` says whether running again can help (servers on 127.0.0.1; the CLI in a subprocess)."""

from __future__ import annotations

import gzip
import json
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from standin.cli import REPO_ROOT, cli_command, cli_environment, run_cli
from standin.hostile import EndlessBody, EndlessHeaders, RouteServer
from standin.legal_text import policy_page
from standin.pages import Page, not_found, redirect, server_error
from standin.sockets import closed_port
from test_hostile import write_config
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from policy_archive.crawler.failures import HeadersTooLarge, for_now, lasting, plain_reason
from policy_archive.crawler.lookups import Lookups
from policy_archive.crawler.names import LookupTimedOut
from policy_archive.crawler.transport import MAX_HEADER_BYTES, MAX_HEADER_LINES

HEADERS_WORDS = (
    f"the answer's headers are too large: over {MAX_HEADER_LINES:,} lines, more than this client reads"
    " (no setting changes it)"
)


# How `track` says whether running again can help: backfill's words (pipeline/jobs/unverified.py).
FOR_NOW = "could not be fetched for now (run again to retry)"
AS_SERVED = "cannot be fetched as the site serves it (running again alone will not help)"


def track_config(root: Path, documents: dict[str, str], *, timeout_seconds: float = 5) -> Path:
    """One service, ``acme``, with ``documents`` (id → URL), robots.txt not asked (one request per document)."""
    service = 'name = "ACME"\n' + "".join(f'[documents.{d}]\nurl = "{url}"\n' for d, url in documents.items())
    settings = f"[wayback]\ntimeout_seconds = {timeout_seconds}\n[crawl]\nobey_robots = false\n"
    return write_config(root, {"acme": service}, settings)


def failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("FAILED ")]


# --- the header block ------------------------------------------------------------------------------------------


def test_an_answer_whose_headers_never_end_fails_at_the_bound_not_at_the_timeout(tmp_path):
    """200,000 headers, or more: each line is short (Twisted's 16,384-byte line limit never trips), so before the
    bound only the download's timeout ended the answer, all of it read into memory. The timeout here is a minute:
    the reason would say it if the headers were read until then."""
    with EndlessHeaders() as server:
        config = track_config(tmp_path / "config", {"privacy-policy": server.url("/privacy")}, timeout_seconds=60)
        result = run_cli(config, tmp_path / "data", "track")
        assert result.returncode == 1, result.stderr
        assert failed_lines(result.stderr) == [f"FAILED acme/privacy-policy: {AS_SERVED}: {HEADERS_WORDS}"]
        assert "Traceback" not in result.stderr
        assert server.paths == ["/privacy"], "refused at once, not asked again"
    # The client hung up on the answer: it stopped reading a little past the bound (what the socket buffers took
    # in besides: about 1 MB on Linux's loopback), not at the end of what the server would send, which has none.
    assert server.cut_off == 1 and server.sent[0] < 16 * 1024 * 1024, server.sent


def test_a_header_block_too_large_is_said_as_such_and_never_asked_again_as_if_it_could_pass():
    for limit in (f"{MAX_HEADER_LINES:,} lines", f"{MAX_HEADER_BYTES:,} bytes"):
        error = HeadersTooLarge(limit)
        words = plain_reason(error)
        assert words == (
            f"the answer's headers are too large: over {limit}, more than this client reads (no setting changes it)"
        )
        assert lasting(words) and not for_now(error)


# --- track: whether running again can help ------------------------------------------------------------------


def test_track_tells_a_failure_for_now_from_one_a_rerun_cannot_change(tmp_path):
    """A page whose answer cannot be read as the site serves it (headers without end), one whose server is down
    (a connection refused: it may be up at the next run), one refused by our own rules (a redirect to an internal
    address: neither, said as it is), and one fetched: each FAILED line says whether running again can help, in
    backfill's words, and so does the last line."""
    page = policy_page("127.0.0.1", "privacy-policy")
    inside = f"http://127.0.0.1:{closed_port()}/secret"
    with EndlessHeaders() as endless, RouteServer({"/privacy": page, "/moved": redirect(inside)}) as site:
        down = f"http://127.0.0.1:{closed_port()}/terms"
        documents = {
            "privacy-policy": site.url("/privacy"),
            "cookie-policy": endless.url("/cookies"),
            "terms-of-service": down,
            "imprint": site.url("/moved", host="localhost"),
        }
        config = track_config(tmp_path / "config", documents)
        result = run_cli(config, tmp_path / "data", "track")
    assert result.returncode == 1, result.stderr
    failed = failed_lines(result.stderr)
    assert failed[:2] == [
        f"FAILED acme/cookie-policy: {AS_SERVED}: {HEADERS_WORDS}",
        f"FAILED acme/imprint: private-address: {inside} (127.0.0.1, loopback; set [crawl] allow_private_addresses"
        " to allow)",
    ], result.stderr
    refused = "connection refused (asked 3 times)"  # Scrapy's 2 retries
    assert failed[2:] == [f"FAILED acme/terms-of-service: {FOR_NOW}: {refused}"], result.stderr
    assert result.stderr.splitlines()[-1] == (
        "3 documents failed: 1 could not be fetched for now (named above; run again to retry), 1 cannot be"
        " fetched as the site serves it (named above; running again alone will not help), 1 refused (named above)"
    )
    # `status` keeps the words of the last failure, as backfill's.
    status = run_cli(config, tmp_path / "data", "status", "--json")
    reasons = {entry["document"]: entry.get("last_failure") for entry in json.loads(status.stdout)}
    assert reasons["acme/terms-of-service"] == f"{FOR_NOW}: {refused}", reasons


# --- name lookups ------------------------------------------------------------------------------------------------

# More names that never answer than Twisted's pool has threads (10): before lookups were bounded, they held every
# thread, and every other lookup of the run waited behind them.
HUNG = [f"hung-{n}.test" for n in range(12)]


def test_a_compressed_page_over_the_limit_is_said_and_counted_as_an_uncompressed_one(tmp_path):
    """Scrapy's compression middleware refuses a page decompressing past max_page_bytes in its own words (an
    IgnoreRequest "… exceeded DOWNLOAD_MAXSIZE … during decompression"), which track took as a refusal by our rules:
    said as "the download failed (Ignored response …)" and left out of the last line's count (audit 2026-11-28).
    Now gzip and brotli bombs are said as the same page served uncompressed, and counted with it."""
    size = 1_000_000  # decompressed; the limit is 200,000 bytes
    compressor = brotli.Compressor(quality=5)
    routes = {
        "/big": Page(body=b" " * size),
        "/gz": Page(body=gzip.compress(b" " * size), headers=(("Content-Encoding", "gzip"),)),
        "/br": Page(body=compressor.process(b" " * size) + compressor.finish(), headers=(("Content-Encoding", "br"),)),
    }
    with RouteServer(routes) as site:
        documents = {
            "privacy-policy": site.url("/big"),
            "terms-of-service": site.url("/gz"),
            "imprint": site.url("/br"),
        }
        config = track_config(tmp_path / "config", documents)
        with (config / "settings.toml").open("a") as settings:
            settings.write("max_page_bytes = 200000\n")  # the [crawl] table is the file's last
        result = run_cli(config, tmp_path / "data", "track")
    assert result.returncode == 1, result.stderr
    failed = failed_lines(result.stderr)
    limit = "over the limit of 200,000 bytes (setting [crawl] max_page_bytes: raise it to fetch this answer)"
    assert len(failed) == 3, result.stderr
    for line in failed:
        assert line.startswith(
            ("FAILED acme/privacy-policy: ", "FAILED acme/terms-of-service: ", "FAILED acme/imprint: ")
        )
        assert f": {AS_SERVED}: the answer is too large: " in line and line.endswith(limit), line
        assert "DOWNLOAD_MAXSIZE" not in line and "Ignored response" not in line, line
    once = re.compile(r"too large: [\d,]+ bytes received, [\d,]+ bytes or more once decompressed, over the limit")
    decompressed = [line for line in failed if once.search(line)]
    assert len(decompressed) == 2, "\n".join(failed)
    assert result.stderr.splitlines()[-1] == (
        "3 documents failed: 3 cannot be fetched as the site serves them (named above; running again alone will"
        " not help)"
    ), result.stderr


def run_with_hanging_lookups(
    config: Path, data: Path, hosts: list[str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``policy-archive ARGS`` with the lookups of ``hosts`` never answering (tests/standin/hanging_dns.py)."""
    command = [sys.executable, "-m", "standin.hanging_dns", *hosts, "--", *cli_command(config, data, *args)[3:]]
    env = env or cli_environment()
    env["PYTHONPATH"] = f"{REPO_ROOT / 'tests'}:{env['PYTHONPATH']}"
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=REPO_ROOT)


def track_with_hanging_lookups(config: Path, data: Path, hosts: list[str]) -> subprocess.CompletedProcess[str]:
    return run_with_hanging_lookups(config, data, hosts, "track")


def test_a_lookup_that_never_answers_fails_its_document_and_the_run_goes_on(tmp_path):
    """Twelve documents on names whose lookup never returns, one on ``localhost`` (looked up for real, after
    them): each hung one fails with the host and the bound, the other is recorded, the run ends."""
    page = policy_page("localhost", "privacy-policy")
    with RouteServer({"/privacy": page}) as site:
        documents = {f"doc-{n}": f"http://{host}/privacy" for n, host in enumerate(HUNG)}
        documents["privacy-policy"] = site.url("/privacy", host="localhost")
        config = track_config(tmp_path / "config", documents)
        result = track_with_hanging_lookups(config, tmp_path / "data", HUNG)
        assert site.paths == ["/privacy"], result.stderr
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(failed_lines(result.stderr)) == sorted(
        f"FAILED acme/doc-{n}: {FOR_NOW}: DNS lookup of {host} gave no answer within 5 seconds (setting [wayback]"
        " timeout_seconds)"
        for n, host in enumerate(HUNG)
    ), result.stderr
    assert (tmp_path / "data" / "versions" / "a" / "acme" / "privacy-policy.md").exists()
    assert result.stderr.splitlines()[-1] == (
        "12 documents failed: 12 could not be fetched for now (named above; run again to retry)"
    )


class ThreadedClock(Clock):
    """Twisted's fake clock (time moves only when told), taking calls from other threads as a reactor does: kept
    until :meth:`run_from_threads`."""

    def __init__(self) -> None:
        super().__init__()
        self.from_threads: queue.Queue[tuple[Callable[..., object], tuple[object, ...]]] = queue.Queue()

    def callFromThread(self, call: Callable[..., object], *args: object) -> None:  # noqa: N802 -- Twisted's naming
        self.from_threads.put((call, args))

    def run_from_threads(self) -> None:
        """Run the next call a thread handed over (waiting for it: a thread that does not hand one over fails)."""
        call, args = self.from_threads.get(timeout=60)
        call(*args)


def outcome(deferred: Deferred[object]) -> object:
    """What a Deferred has fired with (its exception on failure), or ``None`` if it has not fired."""
    if not deferred.called:
        return None
    result = deferred.result
    return result.value if isinstance(result, Failure) else result


def test_a_lookup_is_given_up_at_the_bound_and_its_name_fails_at_once_until_it_returns():
    """No timing: the bound passes when the fake clock is told, and the blocked lookup returns when let go."""
    clock, release = ThreadedClock(), threading.Event()
    lookups = Lookups(clock, 5)
    blocked = lookups.bounded("hung.example", lambda: release.wait() and ["192.0.2.1"])
    answered = lookups.bounded("fine.example", lambda: ["192.0.2.2"])
    clock.run_from_threads()  # fine.example's answer
    assert outcome(answered) == ["192.0.2.2"] and outcome(blocked) is None
    clock.advance(5)
    words = "DNS lookup of hung.example gave no answer within 5 seconds (setting [wayback] timeout_seconds)"
    assert isinstance(outcome(blocked), LookupTimedOut) and str(outcome(blocked)) == words
    again = lookups.bounded("hung.example", lambda: ["192.0.2.1"])
    assert str(outcome(again)) == words, "no new thread while the first is blocked"
    release.set()
    clock.run_from_threads()  # the blocked lookup returned, after its bound: its answer is not used
    asked = lookups.bounded("hung.example", lambda: ["192.0.2.1"])
    assert outcome(asked) is None, "asked again, on a new thread"
    clock.run_from_threads()
    assert outcome(asked) == ["192.0.2.1"]
    for failed in (blocked, again):
        failed.addErrback(lambda _: None)  # seen: not an unhandled error


# --- the CDX listing's lookup (http.client, outside the crawl) ------------------------------------------------


@pytest.mark.parametrize(
    ("proxy", "hung"),
    [(None, "hung-archive.test"), ("http://hung-proxy.test:3128", "hung-proxy.test")],
    ids=["direct", "through a proxy"],
)
def test_a_listing_whose_lookup_never_answers_fails_its_document_and_the_run_goes_on(tmp_path, proxy, hung):
    """The archive's name (or, through a proxy, the proxy's: the name the connection is made to) never answers:
    the first document's listing fails at the bound with the host and the time, the second at once in the same
    words (its lookup is still blocked), and the run ends with both named."""
    documents = {"privacy-policy": "http://acme.example/privacy", "terms-of-service": "http://acme.example/terms"}
    service = 'name = "ACME"\n' + "".join(f'[documents.{d}]\nurl = "{url}"\n' for d, url in documents.items())
    settings = (
        '[wayback]\ncdx_url = "http://hung-archive.test/cdx"\nreplay_url = "http://hung-archive.test/web"\n'
        "timeout_seconds = 3\nbackoff_seconds = 0\n"
    )
    config = write_config(tmp_path / "config", {"acme": service}, settings)
    env = cli_environment(**({"http_proxy": proxy} if proxy else {}))  # conftest.py clears the machine's proxies
    result = run_with_hanging_lookups(config, tmp_path / "data", [hung], "backfill", env=env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    words = f"DNS lookup of {hung} gave no answer within 3 seconds (setting [wayback] timeout_seconds)"
    assert failed_lines(result.stderr) == [
        f"FAILED acme/{document}: archive listing failed: cannot list the captures of {url}: {words}"
        for document, url in sorted(documents.items())
    ], result.stderr

    discovered = run_with_hanging_lookups(config, tmp_path / "data", [hung], "discover", "acme.example", env=env)
    assert discovered.returncode == 1, discovered.stderr
    assert "Traceback" not in discovered.stderr
    assert failed_lines(discovered.stderr) == [
        f"FAILED acme.example: archive listing failed: cannot list the captures of http://acme.example/: {words}"
    ], discovered.stderr


# --- an answer without a Content-Length over the limit, a page that never answers ---------------------------------


def test_a_page_streaming_past_the_limit_without_a_content_length_is_said_too_large_and_not_asked_again(tmp_path):
    """Audit 10, 2026-11-28: a page sent chunked (no Content-Length) past max_page_bytes was cut by Scrapy 2.19
    with a DownloadCancelledError carrying no text, said "could not be fetched for now: the download failed (no
    details given)" and asked 3 times. It is too large, as a page announcing its size is, and asked once."""
    with EndlessBody() as site:
        config = track_config(tmp_path / "config", {"privacy-policy": site.url("/stream")})
        with (config / "settings.toml").open("a") as settings:
            settings.write("max_page_bytes = 100000\n")  # the [crawl] table is the file's last
        result = run_cli(config, tmp_path / "data", "track")
        paths = list(site.paths)
    assert result.returncode == 1, result.stderr
    (failed,) = failed_lines(result.stderr)
    assert re.fullmatch(
        rf"FAILED acme/privacy-policy: {re.escape(AS_SERVED)}: the answer is too large: 1\d\d,\d\d\d bytes received,"
        r" over the limit of 100,000 bytes \(setting \[crawl\] max_page_bytes: raise it to fetch this answer\)",
        failed,
    ), failed
    assert paths == ["/stream"], "the same answer every time: not asked again"
    assert result.stderr.splitlines()[-1] == (
        "1 document failed: 1 cannot be fetched as the site serves it (named above; running again alone will not help)"
    ), result.stderr


def test_a_page_that_never_answers_says_how_many_times_it_was_asked(tmp_path):
    """Audit 10: a live page timing out said "no complete answer within 30 seconds" after about 96 s, having been
    asked 3 times (Scrapy's RetryMiddleware: RETRY_TIMES 2); it says so now, as an archive's failures do."""
    with EndlessBody() as site:
        config = track_config(tmp_path / "config", {"privacy-policy": site.url("/hang")}, timeout_seconds=1)
        result = run_cli(config, tmp_path / "data", "track")
        paths = list(site.paths)
    assert result.returncode == 1, result.stderr
    assert failed_lines(result.stderr) == [
        f"FAILED acme/privacy-policy: {FOR_NOW}: timeout: no complete answer within 1 second"
        " (setting [wayback] timeout_seconds) (asked 3 times)"
    ], result.stderr
    assert paths == ["/hang"] * 3
    status = run_cli(config, tmp_path / "data", "status", "--json")
    (entry,) = json.loads(status.stdout)
    assert entry["last_failure"].endswith("(asked 3 times)"), entry


def test_the_last_line_counts_every_failed_document_and_a_server_error_says_how_many_times_it_was_asked(tmp_path):
    """Check of 2026-11-29: with a page answering 500 and one never answering, `track` printed two FAILED lines
    and the last line `1 document not fetched: 1 could not be fetched for now`: the 500 (asked 3 times, Scrapy's
    retries) was said `HTTP status 500`, unclassed and uncounted, as a refusal of the page. A site's server error
    is a page not fetched for now, said and counted as a timeout is; a 404 is the site's answer: refused."""
    with RouteServer({"/error": server_error(), "/gone": not_found()}) as site, EndlessBody() as endless:
        documents = {
            "privacy-policy": site.url("/error"),
            "terms-of-service": endless.url("/hang"),
            "cookie-policy": site.url("/gone"),
        }
        config = track_config(tmp_path / "config", documents, timeout_seconds=1)
        result = run_cli(config, tmp_path / "data", "track")
        paths = list(site.paths)
    assert result.returncode == 1, result.stderr
    assert failed_lines(result.stderr) == [
        "FAILED acme/cookie-policy: HTTP status 404",
        f"FAILED acme/privacy-policy: {FOR_NOW}: HTTP status 500 (asked 3 times)",
        f"FAILED acme/terms-of-service: {FOR_NOW}: timeout: no complete answer within 1 second"
        " (setting [wayback] timeout_seconds) (asked 3 times)",
    ], result.stderr
    assert sorted(paths) == ["/error"] * 3 + ["/gone"]
    assert result.stderr.splitlines()[-1] == (
        "3 documents failed: 2 could not be fetched for now (named above; run again to retry), 1 refused (named above)"
    ), result.stderr
    status = run_cli(config, tmp_path / "data", "status", "--json")
    reasons = {entry["document"]: entry.get("last_failure") for entry in json.loads(status.stdout)}
    assert reasons["acme/privacy-policy"] == f"{FOR_NOW}: HTTP status 500 (asked 3 times)", reasons
