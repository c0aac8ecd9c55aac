"""`discover` over a list of domains: unattended, each failure one line, one service file per domain, resumable."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from standin.archive import StandinArchive
from standin.cli import REPO_ROOT, WAIT_SECONDS, names_command, names_environment, wait_for
from standin.moving_site import TrueEra, build
from test_discover import SITE_NAMES, run_discover, write_settings

from policy_archive.config.declarations import load_service
from policy_archive.config.settings import load_config
from policy_archive.crawler.sources.base import LISTING_ATTEMPTS
from policy_archive.pipeline.commands.discovery import HOST_NAME

STEP_DAYS = 45  # home-page captures every 45 days: ~100 per 12-year history, enough for three eras


def eras_declared(service_file: Path) -> list[tuple[str, str]]:
    """(url, valid_until) of each history entry, then (url, "") for the current URL."""
    (declaration,) = load_service(service_file)
    return eras_declared_of(declaration)


def truth_of(eras: list[TrueEra]) -> list[tuple[str, str]]:
    return [(era.url, era.last_day.isoformat()) for era in eras[:-1]] + [(eras[-1].url, "")]


def failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("FAILED")]


def cdx_asked_for(archive: StandinArchive, domain: str) -> int:
    return len([r for r in archive.requests if r.endpoint == "cdx" and domain in r.path])


def test_one_domains_failure_never_stops_the_others(tmp_path, standin_archive):
    archive = standin_archive
    truth = {domain: build(archive, step_days=STEP_DAYS, domain=domain) for domain in ("one.example", "two.example")}
    archive.add_capture("https://nolinks.example/", "20150101000000", "<html><body><a href='/x'>x</a></body></html>")
    config = write_settings(tmp_path / "config", archive)
    # The first listing asked, broken.example's, answers 500 at every attempt (each after the archive's pause).
    archive.refuse_next(LISTING_ATTEMPTS, status=500, endpoint="cdx")
    domains = ("broken.example", "one.example", "empty.example", "nolinks.example", "two.example")
    result = run_discover(config, tmp_path / "data", "discover", *domains, "--write", timeout=300)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    broken, *others = failed_lines(result.stderr)
    assert re.fullmatch(
        re.escape(
            "FAILED broken.example: archive listing failed: cannot list the captures of http://broken.example/: "
            f"{archive.cdx_url.split('/')[2]} answered 500 Internal Server Error (asked {LISTING_ATTEMPTS} times; gave"
            " up: a run started within "
        )
        + r"\d+ s first waits for the archive's pause to end\)",
        broken,
    ), broken
    assert others == [
        "FAILED empty.example: the archive lists no capture of its home page",
        "FAILED nolinks.example: no privacy-policy link found on 1 home-page capture",
    ]
    assert result.stderr.splitlines()[-1] == "5 domains: 2 declarations written, 0 unsure, 3 failed"
    assert "discover: 5/5 domains (100 %)" in result.stderr  # the progress line counts domains
    services = config / "services"
    assert sorted(path.name for path in services.iterdir()) == ["one.example.toml", "two.example.toml"]
    for domain, eras in truth.items():
        assert eras_declared(services / f"{domain}.toml") == truth_of(eras)
        assert f"wrote {services / domain}.toml" in result.stdout
    assert len(load_config(config).documents) == 2
    # A list shows per-domain detail (unreadable captures, counts) only with --verbose.
    assert "UNREADABLE" not in result.stderr


def test_a_list_file_with_comments_and_stdin_write_into_an_output_directory(tmp_path, standin_archive):
    archive = standin_archive
    one = build(archive, step_days=STEP_DAYS, domain="one.example")
    two = build(archive, step_days=STEP_DAYS, domain="two.example")
    config = write_settings(tmp_path / "config", archive)
    listing = tmp_path / "domains.txt"
    listing.write_text("# sites to review\n\nhttps://One.example/   # the shop\n  \n# two.example\n", encoding="utf-8")
    result = run_discover(
        config, tmp_path / "data", "discover", "--from", str(listing), "--output", str(tmp_path / "out")
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "1 domain: 1 declaration written, 0 unsure, 0 failed"
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["one.example.toml"]
    assert eras_declared(tmp_path / "out" / "one.example.toml") == truth_of(one)
    assert not any((config / "services").iterdir())

    arguments = ("discover", "two.example", "--from", "-", "--output", "out", "-v")
    piped = subprocess.run(
        names_command(SITE_NAMES, config, tmp_path / "data", *arguments, said=False),
        input="one.example\n", capture_output=True, text=True, timeout=300, env=names_environment(), cwd=tmp_path,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    # one.example was written by the first run with the same period and file: skipped without a request.
    assert (
        piped.stderr.splitlines()[-1] == "2 domains: 2 declarations written (1 by an earlier run), 0 unsure, 0 failed"
    )
    assert eras_declared(tmp_path / "out" / "two.example.toml") == truth_of(two)
    assert "UNREADABLE two.example " in piped.stderr and "two.example: " in piped.stderr  # --verbose: the detail


def test_an_existing_service_file_refuses_that_domain_only(tmp_path, standin_archive):
    archive = standin_archive
    build(archive, step_days=STEP_DAYS, domain="one.example")
    two = build(archive, step_days=STEP_DAYS, domain="two.example")
    config = write_settings(tmp_path / "config", archive)
    kept = config / "services" / "one.example.toml"
    kept.write_text('name = "One, written by hand"\n[documents.privacy-policy]\nurl = "https://one.example/p"\n')
    result = run_discover(config, tmp_path / "data", "discover", "one.example", "two.example", "--write", timeout=300)

    assert result.returncode == 1, result.stderr
    assert failed_lines(result.stderr) == [
        f"FAILED one.example: {kept} already declares privacy-policy (use --force to replace the file)"
    ]
    assert result.stderr.splitlines()[-1] == "2 domains: 1 declaration written, 0 unsure, 1 failed"
    assert "written by hand" in kept.read_text()
    assert cdx_asked_for(archive, "one.example") == 0  # refused before any request
    assert eras_declared(config / "services" / "two.example.toml") == truth_of(two)

    forced = run_discover(
        config, tmp_path / "data", "discover", "one.example", "two.example", "--write", "--force", "-q"
    )
    assert forced.returncode == 0, forced.stderr
    # --quiet: no progress, the summary stays (it is the run's result).
    assert forced.stderr.splitlines() == ["2 domains: 2 declarations written, 0 unsure, 0 failed"]
    assert "written by hand" not in kept.read_text()


def test_usage_errors_of_a_list_are_one_line_and_exit_2(tmp_path, standin_archive):
    config = write_settings(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    listing = tmp_path / "domains.txt"
    listing.write_bytes(b"one.example\n\xff\xfeexample.org\n")  # Latin-1 or UTF-16, not UTF-8: no line is sure
    junk = "a.example/" + "x" * 10_000 + "\x1b[31m"
    (tmp_path / "bad-line.txt").write_text("example.org/privacy\n", encoding="utf-8")
    cases = {
        ("a.example", "b.example", "--write", "--service", "x"): "--service names the service of one DOMAIN",
        ("a.example", "b.example"): "add --write (config/services/) or --output DIR",
        ("a.example", "b.example", "--live"): "add --write (config/services/) or --output DIR",
        ("a.example", "b.example", "--write", "--live", "--since", "2020-01-01"): "--live reads today's home page",
        ("--from", str(listing), "--write"): f"{listing} is not UTF-8 text (invalid start byte: byte 0xff); save the"
        " list as UTF-8",
        ("--from", str(tmp_path / "bad-line.txt"), "a.example"): "add --write (config/services/) or --output DIR",
        (junk, "--write"): "DOMAIN must be a host name such as example.org or bücher.example (optionally :PORT), got "
        f"'{junk[:80]}…'",
        ("--from", str(tmp_path / "empty.txt"), "--write"): "No such file or directory",
        (): "no domain to search",
    }
    for arguments, message in cases.items():
        result = run_discover(config, data, "discover", *arguments)
        assert result.returncode == 2, (arguments, result.stderr)
        assert message in result.stderr, (arguments, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1 or result.stderr.startswith("Usage:")  # ours, or click's
        assert len(result.stderr) < 300 and "\x1b" not in result.stderr  # a DOMAIN's quote is bounded, escaped
    assert not data.exists() and not standin_archive.requests


def test_bad_lines_of_a_list_are_named_once_each_and_the_good_lines_searched(tmp_path, standin_archive):
    """The researcher's list of 500 domains with a few typing mistakes: each named with its line, bounded and
    escaped; every other domain searched and written; exit 1 and the last line say how many lines were bad."""
    archive = standin_archive
    good = [f"site{number}.example" for number in range(3)]
    page = "<html><body><footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    for domain in good:
        archive.add_capture(f"https://{domain}/", "20150101000000", page)
    long_line = "https://www.example.org/legal/" + "privacy-" * 2_000
    long_label, long_name = "x" * 64 + ".example", "a." * 127 + "example"  # RFC 1035: 63 a label, 253 a name
    lines = [
        "# sites to review", good[0], "example.org/privacy   # a page, not a domain", good[1], long_line,
        "exa\x1bmple\u202e.org", "", "two words.example", good[2], long_label, long_name,
    ]  # fmt: skip
    listing = tmp_path / "domains.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write_settings(tmp_path / "config", archive)
    result = run_discover(config, tmp_path / "data", "discover", "--from", str(listing), "--write")

    assert result.returncode == 1, result.stderr
    host_name = "not a host name such as example.org or bücher.example (optionally :PORT)"
    assert failed_lines(result.stderr) == [
        f"FAILED {listing}:3: {host_name}: 'example.org/privacy'",
        f"FAILED {listing}:5: a line longer than 4,096 bytes (not read further): '{long_line[:80]}…'",
        f"FAILED {listing}:6: {host_name}: 'exa\\x1bmple\\u202e.org'",
        f"FAILED {listing}:8: {host_name}: 'two words.example'",
        f"FAILED {listing}:10: {host_name}: '{long_label}'",
        f"FAILED {listing}:11: {host_name}: '{long_name[:80]}…'",
    ]
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "3 domains: 3 declarations written, 0 unsure, 0 failed, 6 lines of the list not a domain"
    )
    services = config / "services"
    assert sorted(path.name for path in services.iterdir()) == [f"{domain}.toml" for domain in good]
    for domain in good:
        assert eras_declared(services / f"{domain}.toml") == [(f"https://{domain}/privacy", "")]

    # Only bad lines: each named, nothing searched, exit 1 (a usage error is a list with no line at all).
    listing.write_text("example.org/privacy\n", encoding="utf-8")
    archive.clear_log()
    only_bad = run_discover(config, tmp_path / "data", "discover", "--from", str(listing), "--write")
    assert only_bad.returncode == 1, only_bad.stderr
    assert only_bad.stderr.splitlines() == [
        f"FAILED {listing}:1: {host_name}: 'example.org/privacy'",
        "0 domains: 0 declarations written, 0 unsure, 0 failed, 1 line of the list not a domain",
    ]
    assert not archive.requests


def test_a_list_line_is_read_4096_bytes_at_most_and_the_others_searched(tmp_path, standin_archive):
    """A list holding a line of megabytes (a file saved with no newline, a paste gone wrong): that line is one
    FAILED line, quoted bounded, its rest skipped unread; a long comment is a comment; the other lines searched."""
    good = ["site0.example", "site1.example"]
    page = "<html><body><footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    for domain in good:
        standin_archive.add_capture(f"https://{domain}/", "20150101000000", page)
    listing = tmp_path / "domains.txt"
    with listing.open("wb") as out:
        out.write(f"{good[0]}\n".encode())
        out.write(b"x" * 5_000_000 + b"\n")
        out.write(b"# " + b"a long note " * 1_000 + b"\n")  # a comment past the bound: still a comment
        out.write(f"{good[1]}   # {'more ' * 1_000}\n".encode())
        out.write("é".encode() * 2_000_000)  # the last line, no newline; the bound falls inside an "é"
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_discover(config, tmp_path / "data", "discover", "--from", str(listing), "--write")

    assert result.returncode == 1, result.stderr
    too_long = "a line longer than 4,096 bytes (not read further)"
    assert failed_lines(result.stderr) == [
        f"FAILED {listing}:2: {too_long}: '{'x' * 80}…'",
        f"FAILED {listing}:5: {too_long}: '{'é' * 80}…'",
    ]
    assert result.stderr.splitlines()[-1] == (
        "2 domains: 2 declarations written, 0 unsure, 0 failed, 2 lines of the list not a domain"
    )
    services = config / "services"
    assert sorted(path.name for path in services.iterdir()) == [f"{domain}.toml" for domain in good]


def test_a_list_saved_with_lone_cr_or_crlf_line_ends_is_read_line_by_line(tmp_path, standin_archive):
    """A list saved by an old Mac editor (lines end with a lone CR) or on Windows (CR LF): each line is its own
    line, numbered as an editor numbers it, bounded as any line (a long one is one FAILED line, not the file)."""
    good = [f"site{number}.example" for number in range(4)]
    page = "<html><body><footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    for domain in good:
        standin_archive.add_capture(f"https://{domain}/", "20150101000000", page)
    mac, windows = tmp_path / "mac.txt", tmp_path / "windows.txt"
    mac.write_bytes(f"# old Mac list\r{good[0]}\rnot a host\r".encode() + b"z" * 10_000 + f"\r\r{good[1]}".encode())
    windows.write_bytes(f"{good[2]}\r\n# a comment\r\n\r\n{good[3]}   # the shop\r\n".encode())
    config = write_settings(tmp_path / "config", standin_archive)
    for listing, domains in ((mac, good[:2]), (windows, good[2:])):
        result = run_discover(config, tmp_path / "data", "discover", "--from", str(listing), "--write")
        written = f"{len(domains)} domains: {len(domains)} declarations written, 0 unsure, 0 failed"
        if listing == mac:
            assert result.returncode == 1, result.stderr
            assert failed_lines(result.stderr) == [
                f"FAILED {mac}:3: not {HOST_NAME}: 'not a host'",
                f"FAILED {mac}:4: a line longer than 4,096 bytes (not read further): '{'z' * 80}…'",
            ]
            assert result.stderr.splitlines()[-1] == f"{written}, 2 lines of the list not a domain"
        else:
            assert result.returncode == 0, result.stderr
            assert result.stderr.splitlines()[-1] == written
        for domain in domains:
            assert eras_declared(config / "services" / f"{domain}.toml") == [(f"https://{domain}/privacy", "")]
    assert len(list((config / "services").iterdir())) == 4


def start_cli(config: Path, data: Path, *args: str) -> subprocess.Popen[str]:
    """The CLI as started from a terminal, where SIGINT is not ignored (a CI job may inherit it ignored)."""
    return subprocess.Popen(
        names_command(SITE_NAMES, config, data, *args, said=False),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=names_environment(),
        cwd=REPO_ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_list_resumes_where_it_stopped(tmp_path, standin_archive, signum):
    archive = standin_archive
    domains = ("one.example", "two.example", "three.example")
    truth = {domain: build(archive, step_days=STEP_DAYS, domain=domain) for domain in domains}
    config = write_settings(tmp_path / "config", archive)
    data = tmp_path / "data"
    # The signal is sent by the archive when two.example's 20th replay request arrives: the same point of the run
    # whatever the load, with at least 12 of its captures answered before (8 requests at a time).
    started = threading.Event()
    pids: list[int] = []

    def interrupt() -> None:
        started.wait(60)
        os.kill(pids[0], signum)

    archive.when_asked("id_/https://www.two.example/", interrupt, nth=20)
    run = start_cli(config, data, "discover", *domains, "--write")
    pids.append(run.pid)
    started.set()
    _, stderr = run.communicate(timeout=WAIT_SECONDS)

    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert failed_lines(stderr) == ["FAILED two.example: interrupted before its search was complete: run again to "
                                    "continue (what was read is kept)"]  # fmt: skip
    assert stderr.splitlines()[-1] == (
        "3 domains: 1 declaration written, 0 unsure, 1 failed, 1 not searched (interrupted: run again to continue)"
    )
    services = config / "services"
    assert [path.name for path in services.iterdir()] == ["one.example.toml"]
    assert cdx_asked_for(archive, "three.example") == 0
    state = json.loads((data / "discovery" / "two.example.privacy-policy.json").read_text())
    read_before = {sighting["timestamp"] for sighting in state["sightings"]}
    assert read_before and "finished" not in state
    # Requests cut by the stop are not kept as unreadable captures: the rerun asks for them again.
    assert not [s for s in state["sightings"] if (s["unreadable"] or "").startswith("not fetched")], state

    archive.clear_log()
    rerun = run_discover(config, data, "discover", *domains, "--write", timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stderr.splitlines()[-1] == (
        "3 domains: 3 declarations written (1 by an earlier run), 0 unsure, 0 failed"
    )
    assert cdx_asked_for(archive, "one.example") == 0  # finished: skipped without a request
    asked_again = [r.path for r in archive.requests if r.endpoint == "replay" and "two.example" in r.path]
    stamps = {f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z" for ts in
              (path.split("/web/")[1][:14] for path in asked_again)}  # fmt: skip
    assert not stamps & read_before, "a home-page capture read before the interruption was read again"
    for domain, eras in truth.items():
        assert eras_declared(services / f"{domain}.toml") == truth_of(eras)
    # Audit 5 #10: the file says what was found, not how many captures this search happened to read (a resumed
    # search reads others than a fresh one): a fresh search of the same archive writes the same file.
    fresh = run_discover(config, tmp_path / "fresh-data", "discover", "two.example", "--output", tmp_path / "fresh")
    assert fresh.returncode == 0, fresh.stderr
    written = (services / "two.example.toml").read_text(encoding="utf-8")
    assert (tmp_path / "fresh" / "two.example.toml").read_text(encoding="utf-8") == written
    assert "captures read" not in written


def test_ctrl_c_stops_a_list_of_failing_domains_at_the_next_domain(tmp_path, standin_archive):
    # No domain has a capture: each is one listing and no replay request, all inside one callback of the crawl,
    # where Scrapy's own stop cannot run. The signal comes while the second listing is being answered.
    config = write_settings(tmp_path / "config", standin_archive)
    domains = [f"d{n}.example" for n in range(1, 7)]
    started = threading.Event()
    pids: list[int] = []

    def interrupt() -> None:
        started.wait(60)
        os.kill(pids[0], signal.SIGINT)

    standin_archive.when_asked("d2.example", interrupt)
    run = start_cli(config, tmp_path / "data", "discover", *domains, "--write")
    pids.append(run.pid)
    started.set()
    _, stderr = run.communicate(timeout=WAIT_SECONDS)

    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert [cdx_asked_for(standin_archive, domain) for domain in domains] == [1, 1, 0, 0, 0, 0]
    nothing = "the archive lists no capture of its home page"
    assert failed_lines(stderr) == [f"FAILED d1.example: {nothing}", f"FAILED d2.example: {nothing}"]
    assert stderr.splitlines()[-1] == (
        "6 domains: 0 declarations written, 0 unsure, 2 failed, 4 not searched (interrupted: run again to continue)"
    )


def test_a_second_document_type_is_added_to_each_service_file_keeping_what_is_there(tmp_path, standin_archive):
    archive = standin_archive
    for domain in ("one.example", "two.example"):
        build(archive, step_days=STEP_DAYS, domain=domain)
    config = write_settings(tmp_path / "config", archive)
    data = tmp_path / "data"
    assert run_discover(config, data, "discover", "one.example", "two.example", "--write", timeout=300).returncode == 0
    edited = config / "services" / "one.example.toml"
    edited.write_text(edited.read_text().replace('name = "one.example"', '# checked by hand\nname = "One"'))

    terms = run_discover(
        config, data, "discover", "one.example", "two.example", "--write", "--type", "terms-of-service"
    )
    assert terms.returncode == 0, terms.stderr
    assert terms.stderr.splitlines()[-1] == "2 domains: 2 declarations written, 0 unsure, 0 failed"
    for domain in ("one.example", "two.example"):
        declared = {d.document_id: d for d in load_service(config / "services" / f"{domain}.toml")}
        assert sorted(declared) == ["privacy-policy", "terms-of-service"]
        assert declared["terms-of-service"].url == f"https://www.{domain}/terms"
    assert edited.read_text().startswith('# checked by hand\nname = "One"\n')

    # --force would drop the other document: refused, the file kept.
    forced = run_discover(config, data, "discover", "one.example", "--write", "--force", "--type", "terms-of-service")
    assert forced.returncode == 2 and "also declares privacy-policy: --force would drop it" in forced.stderr
    assert "# checked by hand" in edited.read_text()


def test_a_list_rerun_searches_again_a_domain_whose_file_no_longer_declares_the_document(tmp_path, standin_archive):
    archive = standin_archive
    truth = {domain: build(archive, step_days=STEP_DAYS, domain=domain) for domain in ("one.example", "two.example")}
    config = write_settings(tmp_path / "config", archive)
    data = tmp_path / "data"
    assert run_discover(config, data, "discover", "one.example", "two.example", "--write", timeout=300).returncode == 0
    one = config / "services" / "one.example.toml"
    one.write_text('name = "One"\n[documents.imprint]\nurl = "https://www.one.example/imprint"\n')
    archive.clear_log()

    rerun = run_discover(config, data, "discover", "one.example", "two.example", "--write", timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert (
        rerun.stderr.splitlines()[-1] == "2 domains: 2 declarations written (1 by an earlier run), 0 unsure, 0 failed"
    )
    assert [cdx_asked_for(archive, domain) for domain in ("one.example", "two.example")] == [1, 0]
    assert archive.counts()["replay"] == 0  # what one.example's home pages showed is in its state file
    declared = {d.document_id: d for d in load_service(one)}
    assert sorted(declared) == ["imprint", "privacy-policy"]
    assert eras_declared_of(declared["privacy-policy"]) == truth_of(truth["one.example"])


def eras_declared_of(declaration) -> list[tuple[str, str]]:
    return [(entry.url, entry.valid_until.isoformat()) for entry in declaration.history] + [(declaration.url, "")]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_crawl_starts_leaves_every_domain_not_searched(tmp_path, standin_archive, signum):
    """Audit 2026-11-28 F2: a signal before the crawl ran killed `discover` (SIGTERM, exit 143) or printed click's
    `Aborted!` (Ctrl-C), without its summary. Sent when --verbose says Scrapy started; the listings are held until
    then."""
    domains = ("one.example", "two.example")
    for domain in domains:
        build(standin_archive, step_days=STEP_DAYS, domain=domain)
    config = write_settings(tmp_path / "config", standin_archive)
    errors = tmp_path / "stderr"
    standin_archive.hold("cdx")  # a crawl already running when the signal came lists nothing before it
    with errors.open("w") as sink:
        run = subprocess.Popen(
            names_command(SITE_NAMES, config, tmp_path / "data", "discover", *domains, "--write", "--verbose"),
            stdout=subprocess.DEVNULL,
            stderr=sink,
            env=names_environment(),
            cwd=REPO_ROOT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        scrapy_started = re.compile(r"Scrapy \S+ started")
        wait_for(lambda: scrapy_started.search(errors.read_text()) is not None, WAIT_SECONDS, "Scrapy to start")
        run.send_signal(signum)
        standin_archive.release("cdx")
        status = run.wait(timeout=WAIT_SECONDS)
    finally:
        standin_archive.release("cdx")
        if run.poll() is None:
            run.kill()
            run.wait()
    stderr = errors.read_text()

    assert status == 1, stderr
    assert "Traceback" not in stderr and "Aborted!" not in stderr
    # Not searched, both; or, had the crawl begun on a loaded machine, the first one's listing held at the signal
    # and that domain failed "interrupted": no domain is searched to its end either way.
    assert re.fullmatch(
        r"2 domains: 0 declarations written, 0 unsure, (0 failed, 2|1 failed, 1) not searched"
        r" \(interrupted: run again to continue\)",
        stderr.splitlines()[-1],
    ), stderr
    assert not (config / "services").exists() or list((config / "services").iterdir()) == []


def test_a_list_resumed_after_the_service_id_left_out_www_keeps_the_file_it_wrote(tmp_path, standin_archive):
    """Review 2026-11-29: a run before the default service id left out ``www.`` wrote ``www.acme.test.toml`` and
    marked the domain finished there; resumed, the target was ``acme.test.toml``, so the domain was searched again
    and its page declared under a second service beside the first."""
    page = "<html><body><footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    standin_archive.add_capture("https://www.acme.test/", "20150101000000", page)
    two = build(standin_archive, step_days=STEP_DAYS, domain="two.example")
    config = write_settings(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    services = config / "services"
    services.mkdir(parents=True, exist_ok=True)
    earlier = services / "www.acme.test.toml"
    earlier.write_text('name = "www.acme.test"\n[documents.privacy-policy]\nurl = "https://www.acme.test/privacy"\n')
    mark = {"file": str(earlier.resolve()), "since": None, "until": None, "unsure": False, "live": False}
    (data / "discovery").mkdir(parents=True)
    state = data / "discovery" / "www.acme.test.privacy-policy.json"
    state.write_text(json.dumps({"document_type": "privacy-policy", "sightings": [], "finished": mark}))

    rerun = run_discover(config, data, "discover", "www.acme.test", "two.example", "--write", timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(path.name for path in services.iterdir()) == ["two.example.toml", "www.acme.test.toml"]
    assert cdx_asked_for(standin_archive, "acme.test") == 0  # finished: skipped without a request
    assert (
        f"www.acme.test: written by an earlier run to {earlier.resolve()}, named before the default service id left"
        " out www. (acme.test): kept there, not searched again"
    ) in rerun.stderr.splitlines()
    summary = "2 domains: 2 declarations written (1 by an earlier run), 0 unsure, 0 failed"
    assert rerun.stderr.splitlines()[-1] == summary
    assert eras_declared(services / "two.example.toml") == truth_of(two)
    assert len(load_config(config).same_pages()) == 0
