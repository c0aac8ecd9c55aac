"""An archive that goes away in the middle of a run: after its listings were read (every replay refused), or part
of the way through them; backfill and discover alike stop asking it soon, say so in one line, name what they left,
and a rerun once it answers finishes the work (crawler/reach.py).

The stand-in archive goes away from inside its own answer to a chosen request (``when_asked``, ``go_away``): its
listening socket and the connections kept alive are closed before that answer reaches the client, so every later
request is refused, whatever the load.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import write_archive_settings
from standin.moving_site import build
from standin.sockets import closed_port
from test_backfill_resilience import (
    ALPHA,
    BETA,
    GAMMA,
    V1,
    V2,
    V3,
    add_history,
    cli,
    commits,
    declaration,
    failures,
    write_config,
)
from test_discover import run_discover

from policy_archive.crawler.reach import UNREACHABLE_AFTER

DELTA = "https://delta.example/privacy"
TEXTS = {ALPHA: [V1, V2], BETA: [V1, V3], GAMMA: [V2, V3], DELTA: [V1, V3]}
NAMES = {ALPHA: "alpha", BETA: "beta", GAMMA: "gamma", DELTA: "delta"}
PER_TEXT = 6  # 12 captures a document: a backfill that asked each of them would be plain to see
# The replay log line of a capture asked again after its connection was refused (crawler/middlewares.py).
REFUSED_REPLAY = re.compile(r"failed \(connection refused\) for the capture of (\S+ at \S+): asking again")


def archive_of(urls: list[str]) -> StandinArchive:
    """A stand-in archive (not started) holding the histories of ``urls``, the same every time it is made."""
    archive = StandinArchive()
    for url in urls:
        add_history(archive, url, TEXTS[url], PER_TEXT)
    return archive


def configured(directory: Path, cdx: StandinArchive, replay: StandinArchive, urls: list[str]) -> Path:
    """A configuration listing from ``cdx`` and replaying from ``replay`` (the same archive, or another host)."""
    config = write_config(directory, cdx, {NAMES[url]: declaration(url) for url in urls})
    settings = config / "settings.toml"
    settings.write_text(settings.read_text().replace(cdx.replay_url, replay.replay_url))
    return config


def unreachable_line(stderr: str) -> str:
    (line,) = [line for line in stderr.splitlines() if " unreachable: " in line and line.startswith("archive ")]
    return line


def not_fetched(name: str, archive: str) -> str:
    return (
        f"FAILED {name}/privacy-policy: not fetched: the archive {archive} is unreachable (connection refused): run"
        " again once it answers"
    )


def test_an_archive_gone_once_listed_stops_the_fetching_after_one_replays_attempts(tmp_path: Path) -> None:
    """The listing works; the archive is gone before the first replay. Until 2026-11-29 the replays did not count:
    every capture of every document was asked 3 times (108 refused replays here, each pair `backoff_seconds` apart)
    and each document ended "could not be fetched for now". Now the crawl stops once one replay was refused at each
    of its attempts with no answer between, as a listing does: no other capture asked, one line, each document
    named, exit 1; the rerun backfills them all."""
    urls = [ALPHA, BETA, GAMMA]
    archive = archive_of(urls).start()
    port = int(archive.base_url.rsplit(":", 1)[1])
    config = configured(tmp_path / "config", archive, archive, urls)
    archive.when_asked("gamma.example", archive.go_away)  # its answer to the last listing is its last

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    dead = f"127.0.0.1:{port}"
    assert unreachable_line(result.stderr) == (
        f"archive {dead} unreachable: connection refused, {UNREACHABLE_AFTER} requests in a row; the run stopped"
        " asking it (3 listed documents not fetched); run again once it answers: what was fetched is kept"
    )
    assert failures(result.stderr) == [not_fetched(NAMES[url], dead) for url in urls]
    listed = PER_TEXT * 2 * len(urls)
    assert result.stderr.splitlines()[-1].startswith(
        f"{listed} captures not verified: {listed} not examined, the run was stopped by the archive being unreachable"
        " (run again to continue)"
    )
    # Only the captures the strategy asked for first were ever sent: none was handed back but the one whose third
    # refusal ended the crawl, so no search went on around it; each asked at most UNREACHABLE_AFTER times.
    asked = REFUSED_REPLAY.findall(result.stderr)
    assert len(set(asked)) < listed / 2, result.stderr
    assert max(asked.count(url) for url in asked) <= UNREACHABLE_AFTER - 1
    assert commits(tmp_path / "data") == []

    again = archive_of(urls).start(port=port)  # the archive answers again, where it was
    try:
        rerun = cli(config, tmp_path / "data")
    finally:
        again.stop()
    assert rerun.returncode == 0, rerun.stderr
    paths = sorted(line.split()[-1] for line in commits(tmp_path / "data"))
    assert paths == sorted(f"{NAMES[url][0]}/{NAMES[url]}/privacy-policy.md" for url in urls for _ in range(2))


def test_an_archive_gone_part_of_the_way_through_the_listings_is_asked_nothing_more(tmp_path: Path) -> None:
    """Alpha and beta are listed, then the archive goes away: delta's listing fails it after its attempts, gamma is
    not listed (the documents go in name order), and alpha and beta, listed, are not fetched from the archive that
    serves their replays too (nothing recorded on no evidence); each named, one line, exit 1 (README, Being gentle
    with the archive)."""
    urls = [ALPHA, BETA, GAMMA, DELTA]
    archive = archive_of(urls).start()
    dead = archive.base_url.removeprefix("http://")
    config = configured(tmp_path / "config", archive, archive, urls)
    archive.when_asked("beta.example", archive.go_away)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert unreachable_line(result.stderr) == (
        f"archive {dead} unreachable: connection refused, {UNREACHABLE_AFTER} requests in a row; the run stopped"
        " asking it (1 more document not listed, 2 listed documents not fetched); run again once it answers: what"
        " was fetched is kept"
    )
    assert failures(result.stderr) == [
        f"FAILED delta/privacy-policy: archive listing failed: cannot list the captures of {DELTA}: the archive"
        f" {dead} is unreachable (connection refused, {UNREACHABLE_AFTER} requests in a row)",
        f"FAILED gamma/privacy-policy: not listed: the archive {dead} is unreachable (connection refused): run again"
        " once it answers",
        not_fetched("alpha", dead),
        not_fetched("beta", dead),
    ]
    assert not REFUSED_REPLAY.search(result.stderr), "no replay asked of it"
    assert commits(tmp_path / "data") == []


def test_documents_listed_before_the_listing_host_went_away_are_recorded_from_the_replay_host(
    tmp_path: Path,
) -> None:
    """The listing and the replays served by two hosts: the listing host gone after alpha and beta were listed,
    those two are fetched from the replay host and recorded; delta fails its listing, gamma is not listed; exit 1."""
    urls = [ALPHA, BETA, GAMMA, DELTA]
    listing, replays = archive_of(urls).start(), archive_of(urls).start()
    try:
        dead = listing.base_url.removeprefix("http://")
        config = configured(tmp_path / "config", listing, replays, urls)
        listing.when_asked("beta.example", listing.go_away)

        result = cli(config, tmp_path / "data")
    finally:
        replays.stop()

    assert result.returncode == 1, result.stderr
    assert unreachable_line(result.stderr) == (
        f"archive {dead} unreachable: connection refused, {UNREACHABLE_AFTER} requests in a row; the run stopped"
        " asking it (1 more document not listed); run again once it answers: what was fetched is kept"
    )
    assert [line.split(":")[0] for line in failures(result.stderr)] == [
        "FAILED delta/privacy-policy",
        "FAILED gamma/privacy-policy",
    ]
    paths = sorted(line.split()[-1] for line in commits(tmp_path / "data"))
    assert paths == ["a/alpha/privacy-policy.md"] * 2 + ["b/beta/privacy-policy.md"] * 2


# --- discover ------------------------------------------------------------------------------------------------

DOMAINS = ("one.example", "two.example", "three.example")


def discover_list(config: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return run_discover(config, data, "discover", *DOMAINS, "--write", timeout=300)


def test_discover_against_an_unreachable_archive_asks_it_one_domains_attempts(tmp_path: Path) -> None:
    """A list of domains, the archive refusing every connection: the first domain's listing fails after its
    attempts, the others are not asked for at all and are named, one line says why, exit 1 (before, each domain's
    listing was asked again, one refused connection after another)."""
    dead = f"127.0.0.1:{closed_port()}"
    config = write_archive_settings(tmp_path / "config", f"http://{dead}/cdx/search/cdx", f"http://{dead}/web")

    result = discover_list(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert failures(result.stderr) == [
        f"FAILED one.example: archive listing failed: cannot list the captures of http://one.example/: the archive"
        f" {dead} is unreachable (connection refused, {UNREACHABLE_AFTER} requests in a row)",
        *(
            f"FAILED {domain}: not searched: the archive {dead} is unreachable (connection refused): run again once"
            " it answers"
            for domain in DOMAINS[1:]
        ),
    ]
    assert unreachable_line(result.stderr) == (
        f"archive {dead} unreachable: connection refused, {UNREACHABLE_AFTER} requests in a row; the run stopped"
        " asking it (2 more domains not searched); run again once it answers: what was read is kept"
    )
    assert result.stderr.splitlines()[-1] == "3 domains: 0 declarations written, 0 unsure, 3 failed"
    assert len(re.findall("pausing all requests", result.stderr)) == UNREACHABLE_AFTER - 1, "one domain's attempts"


def test_discover_stops_asking_an_archive_gone_in_the_middle_of_a_list(tmp_path: Path) -> None:
    """The first domain searched and written; the archive goes away as it answers the second domain's listing: that
    domain's home pages are refused, and once one was refused at each of its attempts the search stops (it is not
    declared from what little was read), the third is not searched; each named, one line, exit 1. The rerun, the
    archive back where it was, finishes the list, the first domain not searched again."""
    archive = StandinArchive()
    for domain in DOMAINS:
        build(archive, step_days=90, domain=domain)
    archive.start()
    port = int(archive.base_url.rsplit(":", 1)[1])
    dead = f"127.0.0.1:{port}"
    config = write_archive_settings(tmp_path / "config", archive.cdx_url, archive.replay_url)
    archive.when_asked("two.example", archive.go_away)

    result = discover_list(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (config / "services" / "one.example.toml").is_file()
    (two, three) = failures(result.stderr)
    assert re.fullmatch(
        rf"FAILED two\.example: search not finished: the archive {re.escape(dead)} is unreachable \(connection"
        r" refused\): run again once it answers \(0 home-page captures read and kept\)",
        two,
    ), two
    assert three == (
        f"FAILED three.example: not searched: the archive {dead} is unreachable (connection refused): run again once"
        " it answers"
    )
    assert unreachable_line(result.stderr) == (
        f"archive {dead} unreachable: connection refused, {UNREACHABLE_AFTER} requests in a row; the run stopped"
        " asking it (2 more domains not searched); run again once it answers: what was read is kept"
    )
    assert not (config / "services" / "two.example.toml").exists()

    again = StandinArchive()
    for domain in DOMAINS:
        build(again, step_days=90, domain=domain)
    again.start(port=port)
    try:
        rerun = discover_list(config, tmp_path / "data")
    finally:
        again.stop()
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(path.name for path in (config / "services").glob("*.toml")) == [f"{d}.toml" for d in sorted(DOMAINS)]
    assert not any("one.example" in request.path for request in again.requests), "finished by the first run"
