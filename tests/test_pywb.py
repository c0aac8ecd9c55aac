"""A real pywb 2.x with its default settings, started by the tests: backfill works with
``cdx_url = "http://HOST:PORT/COLL/cdx"`` and ``replay_url = "http://HOST:PORT/COLL"`` and nothing else.

The collection is built from a WARC written here (warcio) with ``wb-manager``; ``wayback`` serves it on a
free 127.0.0.1 port. Skipped, with the reason, only where pywb cannot be installed (see ``standin/pywb.py``).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import subprocess
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path

import pytest
from standin import https_move, pywb
from standin.archive import StandinArchive
from standin.capture import StandinCapture
from standin.cli import WAIT_SECONDS, git, run_cli, run_cli_with_names
from standin.scripted_policy import archive_scripted_policy
from standin.sites import StandinSites
from test_archive_encodings import kept_payloads
from test_backfill_e2e import V1, V2, page
from test_backfill_resilience import V2 as TWIN_V2
from test_backfill_resilience import declaration
from test_backfill_resilience import page as twin_page
from test_discover import SITE_NAMES
from test_fidelity import DOC, catalog_rows, configured, redirected_history, warc_records
from test_fidelity import TARGET as FIDELITY_TARGET
from test_fidelity import URL as FIDELITY_URL
from test_redirect_chains import chain
from test_render_e2e import DELAYED, add_spa, sections, version_text
from test_render_e2e import environment as render_environment
from test_render_e2e import run_cli as run_render_cli
from test_render_e2e import write_config as write_render_config
from test_twin_revisits import twin_history
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.render import extra_installed, system_chromium
from policy_archive.crawler.sources import ListingClient, ListingParseError, Pywb, WaybackMachine, archive_source
from policy_archive.crawler.sources.base import ListingTooLarge
from policy_archive.crawler.sources.cdx_rows import RowError, read_page
from policy_archive.pipeline.jobs.served_bytes import CHUNKS_JOINED
from policy_archive.records import iso_z, parse_wayback_timestamp, payload_sha1

URL = "https://www.acrcloud.com/privacy"
COLLECTION = "policies"
FIRST = datetime(2017, 1, 3, 10, 20, 30, tzinfo=UTC)
GDPR = datetime(2018, 5, 28, 8, 0, 7, tzinfo=UTC)
# Two texts: v1 from 2017-01-03 (five captures), the GDPR text from 2018-05-28 (three captures).
CAPTURES = [(FIRST + timedelta(days=60 * i), V1) for i in range(5)] + [
    (GDPR + timedelta(days=30 * i), V2) for i in range(3)
]

# The site's home page, for `discover`: it linked an older policy URL until the GDPR text moved to URL.
HOME = "https://www.acrcloud.com/"
OLD_URL = "https://www.acrcloud.com/legal/privacy.html"
HOME_CAPTURES = [(moment + timedelta(hours=1), OLD_URL if moment < GDPR else URL) for moment, _ in CAPTURES]


def home_page(link: str) -> str:
    return f"<html><body><main>ACRCloud</main><footer><a href='{link}'>Privacy Policy</a></footer></body></html>"


# A second collection, of a site whose policy and home page moved through archived redirects, which pywb's `id_`
# replay gives with the Location the site sent (a site URL, not one of the collection's: checked with pywb 2.10,
# 2026-11). The policy: v1, then an archived 301 at MOVED_AT to the new URL, whose first capture (the GDPR text) is
# at MOVED_TEXT. The home page linked /privacy.html until 2017, then redirected to /en/ (a relative Location) whose
# page links /en/privacy. A third home page stopped being readable in 2018 (a script-built page: no link at all).
MOVED = "moved"
SITE = "https://www.site.org"
MOVED_URL, MOVED_TARGET = f"{SITE}/privacy", f"{SITE}/legal/privacy"
MOVED_FIRST = datetime(2017, 1, 5, 12, tzinfo=UTC)
MOVED_AT = datetime(2018, 5, 26, tzinfo=UTC)
MOVED_TEXT = datetime(2018, 5, 28, 8, 0, 7, tzinfo=UTC)
HOME_YEARS, MOVED_YEARS = range(2012, 2018), range(2018, 2023)
SHELL_HOME = "https://www.shell.example/"
SHELL_PAGE = "<html><body><div id='app'></div><script src='/app.js'></script></body></html>"

Record = tuple[str, datetime, int, str | bytes, list[tuple[str, str]]]


def new_year(year: int, minute: int = 0) -> datetime:
    return datetime(year, 1, 1, 12, minute, tzinfo=UTC)


def moved_records() -> list[Record]:
    records: list[Record] = [
        (MOVED_URL, MOVED_FIRST, 200, page(V1, 100), []),
        (MOVED_URL, MOVED_AT, 301, "", [("Location", MOVED_TARGET)]),
        (MOVED_TARGET, MOVED_TEXT, 200, page(V2, 101), []),
        (MOVED_URL, datetime(2018, 10, 1, 12, tzinfo=UTC), 200, page(V2, 102), []),
    ]
    for year in HOME_YEARS:
        records.append((f"{SITE}/", new_year(year), 200, home_page("/privacy.html"), []))
        records.append((SHELL_HOME, new_year(year), 200, home_page("/privacy"), []))
    for year in MOVED_YEARS:
        records.append((f"{SITE}/", new_year(year), 301, "", [("Location", "/en/")]))
        records.append((f"{SITE}/en/", new_year(year, 5), 200, home_page("/en/privacy"), []))
        records.append((SHELL_HOME, new_year(year), 200, SHELL_PAGE, []))
    return records


def write_warc(path: Path, records: list[Record] | None = None) -> Path:
    """Response records (by default the site's URL and home page), dated at their capture times, as a crawler
    would have stored them."""
    if records is None:
        records = [(URL, moment, 200, page(text, number), []) for number, (moment, text) in enumerate(CAPTURES)]
        records += [(HOME, moment, 200, home_page(link), []) for moment, link in HOME_CAPTURES]
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, moment, status, text, extra in sorted(records, key=lambda record: record[1]):
            body = text if isinstance(text, bytes) else text.encode("utf-8")
            headers = [("Content-Type", "text/html; charset=utf-8"), *extra, ("Content-Length", str(len(body)))]
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                http_headers=StatusAndHeaders(f"{status} {HTTPStatus(status).phrase}", headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": moment.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
    return path


@dataclass(frozen=True)
class RunningPywb:
    bin_dir: Path
    root: Path  # where its collections are: one added while it runs is served at once
    base: str


@pytest.fixture(scope="module")
def pywb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPywb]:
    """A running pywb holding the collections ``policies`` and ``moved``."""
    try:
        bin_dir = pywb.ensure_installed()
        root = tmp_path_factory.mktemp("pywb")
        pywb.build_collection(bin_dir, root, COLLECTION, [write_warc(root / "policy.warc.gz")])
        pywb.build_collection(bin_dir, root, MOVED, [write_warc(root / "moved.warc.gz", moved_records())])
        server = pywb.serve(bin_dir, root, COLLECTION)
        base = server.__enter__()
    except pywb.PywbUnavailable as reason:
        pytest.skip(f"pywb {pywb.PYWB_VERSION} is not available here: {reason}")
    try:
        yield RunningPywb(bin_dir, root, base)
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def pywb_base(pywb_server: RunningPywb) -> str:
    """``http://127.0.0.1:PORT`` of the running pywb."""
    return pywb_server.base


def settings_for(base: str) -> WaybackSettings:
    return WaybackSettings(cdx_url=f"{base}/{COLLECTION}/cdx", replay_url=f"{base}/{COLLECTION}", timeout_seconds=10)


def config_for(directory: Path, base: str, collection: str, services: dict[str, str]) -> Path:
    """A configuration reading the collection with pywb's defaults only (DESIGN.md), and these service files."""
    config = directory / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{base}/{collection}/cdx"\nreplay_url = "{base}/{collection}"\n'
    )
    for name, text in services.items():
        (config / "services" / f"{name}.toml").write_text(text)
    return config


@pytest.fixture
def client(tmp_path: Path) -> ListingClient:
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3", "pywb", "cdx", float("inf"), backoff_seconds=0)
    return ListingClient(limiter, "policy-archive/test")


def test_pywb_default_answers_are_read(pywb_base: str) -> None:
    # pywb's default dialect (CDXJ), as the issue found it: "22 fields instead of 7" before.
    with urllib.request.urlopen(f"{pywb_base}/{COLLECTION}/cdx?url={URL}", timeout=WAIT_SECONDS) as answer:
        refs = read_page(answer.read().decode("utf-8"), resume_keys=False).refs
    assert [ref.timestamp for ref in refs] == [moment for moment, _ in CAPTURES]
    assert {ref.url for ref in refs} == {URL} and all(ref.status == 200 and ref.digest for ref in refs)


def test_the_source_lists_a_period_in_pages_and_keeps_the_to_bound(pywb_base: str, client: ListingClient) -> None:
    source = archive_source(settings_for(pywb_base))
    assert isinstance(source, Pywb)
    assert [ref.timestamp for ref in source.list_captures(URL, client)] == [moment for moment, _ in CAPTURES]
    since, until = FIRST + timedelta(days=100), GDPR + timedelta(days=1)
    paged = Pywb(settings_for(pywb_base), page_size=2).list_captures(URL, client, since, until)
    assert [ref.timestamp for ref in paged] == [moment for moment, _ in CAPTURES if since <= moment <= until]


def test_read_the_internet_archive_way_pywb_lists_short_listings_and_fails_long_ones_loudly(
    pywb_base: str, client: ListingClient
) -> None:
    # What happens to a pywb whose cdx_api_endpoint is not /COLL/cdx (README, known limits).
    settings = settings_for(pywb_base)
    listed = WaybackMachine(settings).list_captures(URL, client)
    assert [ref.timestamp for ref in listed] == [moment for moment, _ in CAPTURES]
    with pytest.raises(ListingParseError, match="without a resume key"):
        WaybackMachine(settings, page_size=3).list_captures(URL, client)


def test_pywb_drops_the_internet_archive_field_names_so_its_query_sends_no_fl(pywb_base: str) -> None:
    """Why the Internet Archive's query sends no ``fl`` (crawler/sources/wayback.py): pywb 2.10 names its fields
    ``url``/``mime``/``status`` and leaves out of its CDXJ rows the names it does not know, so a pywb read the
    Internet Archive's way (the test above) would lose every row's original URL. If this fails, pywb learnt the
    names: the decision (docs/decisions/0007, amended 2026-11-28) can be looked at again."""
    fields = "urlkey,timestamp,original,mimetype,statuscode,digest,length"
    with urllib.request.urlopen(f"{pywb_base}/{COLLECTION}/cdx?url={URL}&fl={fields}", timeout=WAIT_SECONDS) as answer:
        text = answer.read().decode("utf-8")
    first = json.loads(text.splitlines()[0].split(" ", 2)[2])
    assert set(first) == {"digest", "length"}
    with pytest.raises(RowError, match="original URL"):
        read_page(text, resume_keys=True)


def test_backfill_through_the_cli_against_pywb(pywb_base: str, tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{pywb_base}/{COLLECTION}/cdx"\nreplay_url = "{pywb_base}/{COLLECTION}"\n'
    )
    (config / "services" / "acrcloud.toml").write_text(
        f'name = "ACRCloud"\n[documents.privacy-policy]\nurl = "{URL}"\nremove = ["footer", "nav"]\n'
    )
    result = run_cli(config, tmp_path / "data", "backfill", "acrcloud/privacy-policy", timeout=300)
    assert result.returncode == 0, result.stderr
    log = git(tmp_path / "data" / "versions", "log", "--reverse", "--format=%aI %cI", "main").splitlines()
    assert log == [f"{moment.isoformat()} {moment.isoformat()}" for moment in (FIRST, GDPR)]
    message = git(tmp_path / "data" / "versions", "log", "-1", "--format=%B", "main")
    assert f"Snapshot-Url: {pywb_base}/{COLLECTION}/{GDPR:%Y%m%d%H%M%S}id_/{URL}" in message


def test_discover_through_the_cli_against_pywb(pywb_base: str, tmp_path: Path) -> None:
    """The archive-source seam: `discover` lists and reads the home page's captures in pywb as in the Wayback
    Machine (pywb's CDX matches http://acrcloud.com/ to https://www.acrcloud.com/ as the Internet Archive's does)."""
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{pywb_base}/{COLLECTION}/cdx"\nreplay_url = "{pywb_base}/{COLLECTION}"\n'
    )
    # Its links are to www.acrcloud.com, a name under the one named: looked up, answered here from a table.
    table = ("www.acrcloud.com=93.184.216.34",)
    result = run_cli_with_names(table, config, tmp_path / "data", "discover", "acrcloud.com", said=False)
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    last_old = max(moment for moment, link in HOME_CAPTURES if link == OLD_URL)
    assert document["url"] == URL
    assert document["history"] == [{"url": OLD_URL, "valid_until": last_old.date().isoformat()}]


SITE_SERVICE = f'name = "Site"\n[documents.privacy-policy]\nurl = "{MOVED_URL}"\nremove = ["footer", "nav"]\n'


def test_an_archived_redirect_in_pywb_dates_the_change_at_its_target(pywb_base: str, tmp_path: Path) -> None:
    """DESIGN.md (Fidelity): the capture reached through the archived 301 is dated at its target's memento, and
    named by it; pywb gives the site's own Location, followed inside the collection."""
    config = config_for(tmp_path, pywb_base, MOVED, {"site": SITE_SERVICE})
    data = tmp_path / "data"
    result = run_cli(config, data, "backfill", "--strategy", "all", timeout=300)
    assert result.returncode == 0, result.stderr
    log = git(data / "versions", "log", "--reverse", "--format=%aI %cI", "main").splitlines()
    assert log == [f"{moment.isoformat()} {moment.isoformat()}" for moment in (MOVED_FIRST, MOVED_TEXT)]
    message = git(data / "versions", "log", "-1", "--format=%B", "main")
    assert f"Snapshot-Url: {pywb_base}/{MOVED}/{MOVED_TEXT:%Y%m%d%H%M%S}id_/{MOVED_TARGET}" in message
    assert "redirect leaves the archive" not in run_cli(config, data, "status").stdout


def test_discover_follows_archived_redirects_in_pywb(pywb_base: str, tmp_path: Path) -> None:
    """Issue 15: the home page's archived 301 (a relative Location, as the site sent it) is followed to the page
    it led to, whose link is the policy of that era."""
    config = config_for(tmp_path, pywb_base, MOVED, {})
    result = run_cli(config, tmp_path / "data", "discover", "www.site.org", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "UNREADABLE" not in result.stderr and "UNSURE" not in result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == f"{SITE}/en/privacy"
    last_old = new_year(HOME_YEARS[-1]).date().isoformat()
    assert document["history"] == [{"url": f"{SITE}/privacy.html", "valid_until": last_old}]


def test_discover_is_unsure_of_a_link_not_seen_for_years(pywb_base: str, tmp_path: Path) -> None:
    """Issue 15: home-page captures that could not be read for years after the last link seen leave that link
    unsure (exit 1), never declared today's URL on no evidence."""
    config = config_for(tmp_path, pywb_base, MOVED, {})
    result = run_cli(config, tmp_path / "data", "discover", "www.shell.example", timeout=300)
    assert result.returncode == 1, result.stderr
    last_seen, last_unread = new_year(HOME_YEARS[-1]).date(), new_year(MOVED_YEARS[-1]).date()
    unsure = [line for line in result.stderr.splitlines() if line.startswith("UNSURE www.shell.example")]
    assert len(unsure) == 1 and f"no home-page capture after {last_seen} could be read" in unsure[0]
    assert f"unreadable ones until {last_unread}" in unsure[0]
    assert tomllib.loads(result.stdout)["documents"]["privacy-policy"]["url"] == "https://www.shell.example/privacy"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def location_of(url: str) -> str | None:
    """The ``Location`` pywb answers for ``url``, not followed."""
    try:
        urllib.request.build_opener(_NoRedirects).open(url, timeout=WAIT_SECONDS)
    except urllib.error.HTTPError as answer:
        return answer.headers.get("Location")
    return None


def test_our_warcs_replay_their_redirects_inside_a_pywb_collection(
    pywb_server: RunningPywb, standin_archive: StandinArchive, tmp_path: Path
) -> None:
    """Issue 10 ("standard, replayable WARCs"): the WARCs of a backfill from a Wayback-style archive (which
    rewrites an archived redirect's Location into its own capture URL) loaded into pywb: the redirect leads to the
    target inside that collection, and a backfill from it dates the versions as the first backfill did."""
    t1, t2, _ = redirected_history(standin_archive)
    first = configured(standin_archive, tmp_path / "first")
    assert (done := run_cli(*first, "backfill", DOC, "--strategy", "all", timeout=300)).returncode == 0, done.stderr
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "ours", sorted((first[1] / "captures").glob("*.gz")))
    ours = f"{pywb_server.base}/ours"
    assert location_of(f"{ours}/{t1}mp_/{FIDELITY_URL}") == f"{ours}/{t1}mp_/{FIDELITY_TARGET}"
    assert location_of(f"{ours}/{t1}id_/{FIDELITY_URL}") == FIDELITY_TARGET

    config = config_for(tmp_path / "again", pywb_server.base, "ours", {"example": declaration(FIDELITY_URL)})
    data = tmp_path / "again" / "data"
    again = run_cli(config, data, "backfill", DOC, "--strategy", "all", timeout=300)
    assert again.returncode == 0, again.stderr
    dates = [git(where / "versions", "log", "--reverse", "--format=%aI %cI", "main") for where in (first[1], data)]
    assert dates[0] == dates[1] and len(dates[0].splitlines()) == 2
    message = git(data / "versions", "log", "-1", "--format=%B", "main")
    assert f"Snapshot-Url: {ours}/{t2}id_/{FIDELITY_TARGET}" in message


def test_a_site_moved_to_https_and_www_in_pywb_as_in_the_stand_in(pywb_server: RunningPywb, tmp_path: Path) -> None:
    """Acceptance report 4, finding 8: pywb 2.10 never replays an archived redirect to its own key (http://shop.test/
    → https://www.shop.test/) but the nearest other capture, at once (``ResponseLoader.raise_on_self_redirect``);
    the stand-in redirects there, as the Wayback Machine does (standin/archive_replay.py). `discover` and
    `backfill` give the same eras and versions against pywb as against the stand-in (tests/test_discover.py,
    tests/test_backfill_e2e.py), with nothing unreadable."""
    captures, truth = https_move.history(lambda changed, n: page(V2 if changed else V1, n))
    records: list[Record] = [
        (held.url, parse_wayback_timestamp(held.timestamp), held.status or 200, held.body.decode(),
         [("Location", held.target)] if held.target else [])
        for held in captures
    ]  # fmt: skip
    warc = write_warc(tmp_path / "https-move.warc.gz", records)
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "https-move", [warc])
    collection = f"{pywb_server.base}/https-move"
    self_redirect = next(held for held in captures if held.status == 301)
    replay = f"{collection}/{self_redirect.timestamp}id_/{self_redirect.url}"
    answer = urllib.request.urlopen(replay, timeout=WAIT_SECONDS)
    served_at = http_date_of(self_redirect, https_move.PAIR_GAP)
    assert (answer.status, answer.headers["Memento-Datetime"]) == (200, served_at), "the page, 5 s later"

    service = f'name = "Shop"\n[documents.privacy-policy]\nurl = "{https_move.HTTPS_SITE}/privacy"\n'
    config = config_for(tmp_path, pywb_server.base, "https-move", {"shop": service + 'remove = ["footer", "nav"]\n'})
    data = tmp_path / "data"
    discovered = run_cli_with_names(SITE_NAMES, config, data, "discover", https_move.DOMAIN, said=False)
    assert discovered.returncode == 0 and "UNREADABLE" not in discovered.stderr, discovered.stderr
    history = tomllib.loads(discovered.stdout)["documents"]["privacy-policy"]["history"]
    assert [entry["valid_until"] for entry in history] == [truth.old_link_last_day.isoformat()]
    backfilled = run_cli(config, data, "backfill", timeout=300)
    assert backfilled.returncode == 0, backfilled.stderr
    dates = git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()
    assert dates == [moment.isoformat() for moment in truth.first_texts]
    # Acceptance report 5, finding 5: what pywb serves for an http row is the https capture (its Link header's
    # original), filed and linked under that URL at its memento time, never as a 200 of the http URL, which the
    # archive holds only as a 301 from the move on.
    pages = [
        (headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"))
        for _, kind, headers, http in warc_records(data)
        if kind == "response" and http.get_statuscode() == "200"
    ]
    assert pages and all(url == moved_url(date.fromisoformat(when[:10])) for url, when in pages), pages
    snapshots = re.findall(
        r"^Snapshot-Url: (.+)$", git(data / "versions", "log", "--reverse", "--format=%B", "main"), re.MULTILINE
    )
    assert snapshots == [
        f"{collection}/{moment:%Y%m%d%H%M%S}id_/{moved_url(moment.date())}" for moment in truth.first_texts
    ]


def moved_url(day: date) -> str:
    """The URL that served shop.test's policy page on ``day``: http before the move, https and www after it."""
    return (
        f"http://{https_move.DOMAIN}/privacy" if day < https_move.MOVED_TO_HTTPS else f"{https_move.HTTPS_SITE}/privacy"
    )


def http_date_of(capture: StandinCapture, later: timedelta) -> str:
    """The ``Memento-Datetime`` of the capture ``later`` than ``capture``."""
    return format_datetime(parse_wayback_timestamp(capture.timestamp) + later, usegmt=True)


def cdx_rows(collection: str, url: str) -> list[tuple[datetime, str, int | None]]:
    """(time, original URL, status) of each row pywb's CDX server lists for ``url`` (its default CDXJ)."""
    with urllib.request.urlopen(f"{collection}/cdx?url={url}", timeout=WAIT_SECONDS) as answer:
        refs = read_page(answer.read().decode("utf-8"), resume_keys=False).refs
    return [(ref.timestamp, ref.url, ref.status) for ref in refs]


def test_our_warcs_of_a_redirect_chain_are_found_by_each_site_url_in_pywb(
    pywb_server: RunningPywb, standin_archive: StandinArchive, tmp_path: Path
) -> None:
    """Issue 10 with a chain of 6 redirects inside a Wayback-style archive (three archived hops, each reached through
    one of the archive's own to a nearby memento): loaded into pywb, each hop and the final page is listed by its
    site URL at its memento time, the archive's own redirects are not, each hop replays its Location as the site
    sent it, and a backfill from the collection dates the versions as the first backfill did."""
    standin_archive.add_capture(FIDELITY_URL, f"{FIRST:%Y%m%d%H%M%S}", page(V1, "first"))
    built = chain(standin_archive, 3, listed=FIRST + timedelta(days=30))
    first = configured(standin_archive, tmp_path / "first")
    assert (done := run_cli(*first, "backfill", DOC, "--strategy", "all", timeout=300)).returncode == 0, done.stderr
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "chain", sorted((first[1] / "captures").glob("*.gz")))
    collection = f"{pywb_server.base}/chain"

    listed = [(FIDELITY_URL, FIRST, 200)]  # the policy's first capture, then the chain's archived hops and page
    for url, moment, status in [*listed, *built.hops, (built.final, built.served, 200)]:
        assert (moment, url, status) in cdx_rows(collection, url), f"{url} at {moment} is found by its URL"
    urls = [url for url, _, _ in built.hops] + [built.final]
    assert sum(len(cdx_rows(collection, url)) for url in urls) == 5
    for (url, moment, _), target in zip(built.hops, urls[1:], strict=True):
        assert location_of(f"{collection}/{moment:%Y%m%d%H%M%S}id_/{url}") == target

    config = config_for(tmp_path / "again", pywb_server.base, "chain", {"example": declaration(FIDELITY_URL)})
    data = tmp_path / "again" / "data"
    again = run_cli(config, data, "backfill", DOC, "--strategy", "all", timeout=300)
    assert again.returncode == 0, again.stderr
    dates = [git(where / "versions", "log", "--reverse", "--format=%aI %cI", "main") for where in (first[1], data)]
    assert dates[0] == dates[1] and dates[0].splitlines()[-1].startswith(built.served.isoformat())


def test_a_key_held_only_as_self_redirects_fails_in_words_in_pywb(pywb_server: RunningPywb, tmp_path: Path) -> None:
    """A page the archive holds only as the site's 301 from http://shop.test/privacy to https://www.shop.test/privacy
    (its own key): pywb 2.10 has no other capture to serve and answers 400 "Self Redirect" without a
    Memento-Datetime (the stand-in replays the redirect as it is, which leads back to itself:
    tests/test_redirect_chains.py). Either way every capture is refused with its reason, and the run fails."""
    moments = [https_move.FIRST + timedelta(days=30 * n) for n in range(3)]
    http_url, https_url = f"http://{https_move.DOMAIN}/privacy", f"{https_move.HTTPS_SITE}/privacy"
    records: list[Record] = [(http_url, moment, 301, "", [("Location", https_url)]) for moment in moments]
    warc = write_warc(tmp_path / "self-redirects.warc.gz", records)
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "self-redirects", [warc])
    collection = f"{pywb_server.base}/self-redirects"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{collection}/{moments[0]:%Y%m%d%H%M%S}id_/{http_url}", timeout=WAIT_SECONDS)
    assert refused.value.code == 400 and "Memento-Datetime" not in refused.value.headers
    assert "Self Redirect" in refused.value.read().decode("utf-8")

    service = f'name = "Shop"\n[documents.privacy-policy]\nurl = "{https_url}"\n'
    config = config_for(tmp_path, pywb_server.base, "self-redirects", {"shop": service})
    result = run_cli(config, tmp_path / "data", "backfill", timeout=300)
    assert result.returncode == 1, result.stderr
    assert "FAILED shop/privacy-policy: no version: 3 captures listed, all refused (3 not-archived)" in result.stderr
    reason = "refused: not-archived: the archive answered 400 without a Memento-Datetime"
    assert all(f"shop/privacy-policy: capture {moment:%Y%m%d%H%M%S} {reason}" in result.stderr for moment in moments)


FAR_TEXT = "This text was archived years away from the redirect that leads to it."


def test_a_redirect_target_archived_years_away_gives_no_version_in_pywb(
    pywb_server: RunningPywb, tmp_path: Path
) -> None:
    """Acceptance report 5, finding 3, as found with pywb 2.10 (which serves a redirect's target from its nearest
    memento, however far): back.test's 2022 redirect to a target captured only in 2017, and fwd.test's 2020
    redirect to a target captured only in 2023, between captures of the URL's own texts. Each is refused in words
    (decision 0008); the versions are the URL's own, in order, and Git's head is the URL's last text."""

    def at(year: int, month: int = 1) -> datetime:
        return datetime(year, month, 1, tzinfo=UTC)

    records: list[Record] = [
        ("http://back.test/privacy", at(2019), 200, page(V1, "a"), []),
        ("http://back.test/privacy", at(2020), 200, page(V2, "b"), []),
        ("http://back.test/privacy", at(2022), 301, "", [("Location", "http://back.test/legal/privacy")]),
        ("http://back.test/legal/privacy", at(2017, 6), 200, page([*V2, FAR_TEXT], "ancient"), []),
        ("http://fwd.test/privacy", at(2019), 200, page(V1, "c"), []),
        ("http://fwd.test/privacy", at(2020), 302, "", [("Location", "/new-privacy")]),
        ("http://fwd.test/privacy", at(2021), 200, page(V2, "d"), []),
        ("http://fwd.test/privacy", at(2022), 200, page(V2, "e"), []),
        ("http://fwd.test/new-privacy", at(2023, 6), 200, page([*V2, FAR_TEXT], "future"), []),
    ]
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "far", [write_warc(tmp_path / "far.warc.gz", records)])
    services = {
        name: f'name = "{name}"\n[documents.privacy-policy]\nurl = "http://{name}.test/privacy"\n'
        for name in ("back", "fwd")
    }
    config = config_for(tmp_path, pywb_server.base, "far", services)
    data = tmp_path / "data"
    result = run_cli(config, data, "backfill", "--strategy", "all", timeout=300)
    assert result.returncode == 0, result.stderr
    refused = "refused: archived at another time: the redirect's target was archived only"
    assert (
        f"back/privacy-policy: capture 20220101000000 {refused} 1675 days earlier (2017-06-01T00:00:00Z)"
        in result.stderr
    )
    assert (
        f"fwd/privacy-policy: capture 20200101000000 {refused} 1247 days later (2023-06-01T00:00:00Z)" in result.stderr
    )
    for name, dates in (("back", [at(2019), at(2020)]), ("fwd", [at(2019), at(2021)])):
        log = json.loads(run_cli(config, data, "log", f"{name}/privacy-policy", "--json").stdout)
        assert sorted(version["date"] for version in log) == [iso_z(moment) for moment in dates], log
    head = git(data / "versions", "show", "main:f/fwd/privacy-policy.md")
    assert FAR_TEXT not in head and "(May 25th 2018)" in head, head


def test_payloads_recorded_gzipped_are_versions_in_pywb(pywb_server: RunningPywb, tmp_path: Path) -> None:
    """Acceptance report 6, F-b1: a policy and a home page recorded as sites send them to a crawler taking gzip
    (``Content-Encoding: gzip``, the gzip bytes in the WARC, which pywb's CDX digest names). pywb 2.10 serves them
    decoded to a client not taking gzip (whose SHA-1 is then not the digest): the replays ask for the recorded
    coding, the WARC keeps the bytes as served, the texts are extracted decoded, versions dated at their captures,
    ``verify`` passes; ``discover`` reads the gzipped home pages' links."""
    policy, home = "http://gz.test/privacy", "http://gz.test/"
    moments = [new_year(year) for year in (2019, 2020, 2021)]
    texts = [V1, V2, V2]
    encoded = {
        moment: gzip.compress(page(text, n).encode("utf-8"), mtime=0)
        for n, (moment, text) in enumerate(zip(moments, texts, strict=True))
    }
    gzipped = [("Content-Encoding", "gzip")]
    records: list[Record] = [(policy, moment, 200, body, gzipped) for moment, body in encoded.items()]
    records += [
        (home, moment + timedelta(hours=1), 200, gzip.compress(home_page("/privacy").encode("utf-8")), gzipped)
        for moment in moments
    ]
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "gz", [write_warc(tmp_path / "gz.warc.gz", records)])
    replay = f"{pywb_server.base}/gz/{moments[0]:%Y%m%d%H%M%S}id_/{policy}"
    with urllib.request.urlopen(replay, timeout=WAIT_SECONDS) as answer:  # pywb's answer to a client not taking gzip
        assert answer.headers["X-Archive-Orig-Content-Encoding"] == "gzip" and answer.read() == gzip.decompress(
            encoded[moments[0]]
        )

    config = config_for(
        tmp_path, pywb_server.base, "gz", {"gz": f'name = "gz"\n[documents.privacy-policy]\nurl = "{policy}"\n'}
    )
    data = tmp_path / "data"
    result = run_cli(config, data, "backfill", "--strategy", "all", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    log = json.loads(run_cli(config, data, "log", "gz/privacy-policy", "--json").stdout)
    assert sorted(version["date"] for version in log) == [iso_z(moment) for moment in moments[:2]], log
    assert kept_payloads(data) == {iso_z(moment): ("gzip", body) for moment, body in encoded.items()}
    verified = run_cli(config, data, "verify", timeout=300)
    assert verified.returncode == 0, verified.stderr
    assert "2/2 versions verified" in verified.stdout + verified.stderr

    discovered = run_cli(config, tmp_path / "discovered", "discover", "gz.test", timeout=300)
    assert discovered.returncode == 0, discovered.stderr
    assert tomllib.loads(discovered.stdout)["documents"]["privacy-policy"]["url"] == policy


def heritrix_chunks(entity: bytes, size: int = 700) -> bytes:
    """``entity`` in chunks as a site sent it and Heritrix recorded it (size lines and all, then the last chunk)."""
    pieces = [entity[at : at + size] for at in range(0, len(entity), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def write_heritrix_warc(path: Path, records: list[tuple[str, datetime, bytes, str]]) -> Path:
    """Response records written as Heritrix writes a ``Transfer-Encoding: chunked`` response: the chunks as
    recorded, no Content-Length, and a ``WARC-Payload-Digest`` over the chunks (``"chunks"``, Heritrix's own) or
    over the entity (``"entity"``, other crawlers'), which pywb's index lists as the CDX digest."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, moment, entity, digest_over in records:
            chunks = heritrix_chunks(entity)
            digested = chunks if digest_over == "chunks" else entity
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked")]
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(chunks),
                length=len(chunks),  # with a length warcio keeps the digest given, as Heritrix computed it
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                warc_headers_dict={
                    "WARC-Date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "WARC-Payload-Digest": f"sha1:{payload_sha1(digested)}",
                },
            )
            writer.write_record(record)
    return path


def test_captures_recorded_chunked_are_versions_in_pywb(pywb_server: RunningPywb, tmp_path: Path) -> None:
    """Issue 10, a Heritrix-style collection: every record kept ``Transfer-Encoding: chunked``. pywb 2.10 serves its
    entity (``X-Archive-Orig-Transfer-Encoding: chunked``) in every mode. Where the digest is the entity's, the
    captures are versions dated at them with the right text, kept as the entity; where it is over the chunks as
    recorded, which the replay does not show, they are versions too, kept as the entity served with a note that
    the digest could not be compared (pywb dates each by its Memento-Datetime at the listed time); their
    ``Payload-Sha1`` is the entity's, and ``verify`` agrees."""
    moments = [new_year(year) for year in (2019, 2020, 2021)]
    texts = [V1, V1, V2]
    sites = {"entity": "http://entity.test/privacy", "chunks": "http://chunks.test/privacy"}
    entities = {
        (over, moment): page(text, n).encode("utf-8")
        for over in sites
        for n, (moment, text) in enumerate(zip(moments, texts, strict=True))
    }
    records = [(sites[over], moment, entity, over) for (over, moment), entity in entities.items()]
    warc = write_heritrix_warc(tmp_path / "heritrix.warc.gz", records)
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "heritrix", [warc])
    cdx = f"{pywb_server.base}/heritrix/cdx?url={sites['chunks']}"
    with urllib.request.urlopen(cdx, timeout=WAIT_SECONDS) as answer:
        (first, *_) = read_page(answer.read().decode("utf-8"), resume_keys=False).refs
    assert str(first.digest) == payload_sha1(heritrix_chunks(entities["chunks", moments[0]]))
    with urllib.request.urlopen(
        f"{pywb_server.base}/heritrix/{moments[0]:%Y%m%d%H%M%S}id_/{sites['chunks']}"
    ) as answer:
        assert answer.headers["X-Archive-Orig-Transfer-Encoding"] == "chunked"
        assert answer.read() == entities["chunks", moments[0]]  # the entity: the chunks are not shown

    services = {over: f'name = "{over}"\n[documents.privacy-policy]\nurl = "{url}"\n' for over, url in sites.items()}
    config = config_for(tmp_path, pywb_server.base, "heritrix", services)
    data = tmp_path / "data"
    result = run_cli(config, data, "backfill", "--strategy", "all", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    chunks_log = json.loads(run_cli(config, data, "log", "chunks/privacy-policy", "--json").stdout)
    assert [(version["date"], version["note"]) for version in chunks_log] == [
        (iso_z(moment), CHUNKS_JOINED) for moment in (moments[0], moments[2])
    ]
    text = git(data / "versions", "show", "main:c/chunks/privacy-policy.md")
    assert V2[-1] in text and "\n0\n" not in text
    trailers = git(data / "versions", "log", "--format=%(trailers:key=Payload-Sha1,valueonly)", "main").split()
    assert {payload_sha1(entities["chunks", moment]) for moment in (moments[0], moments[2])} <= set(trailers)
    verified = run_cli(config, data, "verify", timeout=300)
    assert verified.returncode == 0, verified.stderr
    assert "4/4 versions verified" in verified.stdout + verified.stderr
    log = json.loads(run_cli(config, data, "log", "entity/privacy-policy", "--json").stdout)
    assert sorted(version["date"] for version in log) == [iso_z(moment) for moment in (moments[0], moments[2])]
    text = git(data / "versions", "show", "main:e/entity/privacy-policy.md")
    assert V2[-1] in text and "\n0\n" not in text
    kept = kept_payloads(data)
    assert {date: payload for date, (_, payload) in kept.items()} == {
        iso_z(moment): entities["entity", moment] for moment in moments
    }

    unchecked = tmp_path / "unchecked"
    config = config_for(unchecked, pywb_server.base, "heritrix", {"chunks": services["chunks"]})
    with (config / "settings.toml").open("a") as settings:
        settings.write("check_digests = false\n")
    result = run_cli(config, unchecked / "data", "backfill", "--strategy", "all", timeout=300)
    assert result.returncode == 0, result.stderr
    log = json.loads(run_cli(config, unchecked / "data", "log", "chunks/privacy-policy", "--json").stdout)
    assert sorted(version["date"] for version in log) == [iso_z(moment) for moment in (moments[0], moments[2])]
    assert {version["note"] for version in log} == {None}  # no digest compared


def test_our_warcs_of_chunks_kept_as_recorded_replay_their_entity_in_pywb(
    pywb_server: RunningPywb, standin_archive: StandinArchive, tmp_path: Path
) -> None:
    """A capture kept as its recorded chunks (an archive passing them on, the digest theirs) is written as the
    crawler wrote it, ``Transfer-Encoding: chunked``: loaded into pywb, it is indexed under its digest and replayed
    as its entity, the page the site sent."""
    moment = new_year(2019)
    entity = page(V1, 0).encode("utf-8")
    held = standin_archive.add_capture(FIDELITY_URL, f"{moment:%Y%m%d%H%M%S}", entity, chunked="chunks")
    first = configured(standin_archive, tmp_path / "first")
    assert (done := run_cli(*first, "backfill", DOC, "--strategy", "all", timeout=300)).returncode == 0, done.stderr
    pywb.build_collection(
        pywb_server.bin_dir, pywb_server.root, "ours-chunked", sorted((first[1] / "captures").glob("*.gz"))
    )
    ours = f"{pywb_server.base}/ours-chunked"
    with urllib.request.urlopen(f"{ours}/cdx?url={FIDELITY_URL}", timeout=WAIT_SECONDS) as answer:
        (ref,) = read_page(answer.read().decode("utf-8"), resume_keys=False).refs
    assert str(ref.digest) == held.digest == payload_sha1(held.recorded)
    with urllib.request.urlopen(f"{ours}/{moment:%Y%m%d%H%M%S}id_/{FIDELITY_URL}", timeout=WAIT_SECONDS) as answer:
        assert answer.read() == entity


DOM_TEXT = "A third paragraph came in 2021."


def test_a_response_and_the_resource_of_its_rendered_dom_at_one_second_in_pywb(
    pywb_server: RunningPywb, tmp_path: Path
) -> None:
    """An outside audit (2026-11-28): a rendered capture was kept (until that day's amendment of decision 0012) as a
    ``response`` and the ``resource`` record of its DOM filed at one URL and second, and pywb lists both there (the
    resource without a status) and serves one for the second; such WARCs, and other tools', are still met. The row
    it serves gives the version; the other is refused once, in words; nothing is "interrupted", and a rerun is
    stable."""
    policy = "http://dom.test/privacy"
    moments = [new_year(year) for year in (2019, 2020, 2021)]
    records: list[Record] = [
        (policy, moment, 200, page(text, n), [])
        for n, (moment, text) in enumerate(zip(moments, [V1, V2, [*V2, DOM_TEXT]], strict=True))
    ]
    path = write_warc(tmp_path / "dom.warc.gz", records)
    dom = page(V2, "rendered").encode("utf-8")
    with path.open("ab") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(
            writer.create_warc_record(
                policy,
                "resource",
                payload=BytesIO(dom),
                warc_content_type="text/html; charset=utf-8",
                warc_headers_dict={"WARC-Date": moments[1].strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
        )
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "dom", [path])
    rows = cdx_rows(f"{pywb_server.base}/dom", policy)
    assert len([row for row in rows if row[0] == moments[1]]) == 2, rows

    config = config_for(
        tmp_path, pywb_server.base, "dom", {"dom": f'name = "dom"\n[documents.privacy-policy]\nurl = "{policy}"\n'}
    )
    data = tmp_path / "data"
    for strategy in ("all", "bisect"):
        result = run_cli(config, data, "backfill", "--strategy", strategy, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "interrupted" not in result.stderr
        refused = [line for line in result.stderr.splitlines() if f"capture {moments[1]:%Y%m%d%H%M%S} refused" in line]
        assert len(refused) == (1 if strategy == "all" else 0), result.stderr
        assert all("another capture at this second" in line for line in refused)
        log = json.loads(run_cli(config, data, "log", "dom/privacy-policy", "--json").stdout)
        assert sorted(version["date"] for version in log) == [iso_z(moment) for moment in moments]
    status = run_cli(config, data, "status")
    assert "not examined" not in status.stdout and "backfill failed" not in status.stdout, status.stdout


@pytest.mark.skipif(
    not extra_installed() or system_chromium() is None,
    reason="needs the browser extra and Chromium (apt-get install chromium; .ci/run installs both)",
)
def test_a_rendered_capture_of_our_warcs_replays_its_raw_response_in_pywb(
    pywb_server: RunningPywb, sites: StandinSites, standin_archive: StandinArchive, tmp_path: Path
) -> None:
    """Issues 10 and 14: a capture rendered from the archive is kept as its raw ``response`` and the ``resource`` of
    its rendered DOM. Loaded into pywb, the page's URL and second list one row, the response's (status 200, the raw
    bytes' digest), and replay the raw bytes the archive held, not the DOM (before 2026-11-28 the DOM was filed
    under the page's URL, and pywb served it for that second); the DOM is listed and replayed under
    ``urn:rendered:URL``. Our own commands still read the DOM back: ``reextract`` finds the text unchanged and
    ``verify`` checks the version; a backfill from that collection finds one capture at the second."""
    url = add_spa(sites, "spa.test")
    shell = sites.page(url).body
    moment = "20200101000000"  # when archive_scripted_policy archives the page
    settings = archive_scripted_policy(standin_archive, sites, "spa.test", shell, sections(revision=1))
    config = write_render_config(tmp_path / "config", {"spa": (url, "auto")}, settings=settings)
    data = tmp_path / "data"
    result = run_render_cli(config, data, "backfill", "--strategy", "all", env=render_environment(sites))
    assert result.returncode == 0, result.stderr
    assert DELAYED in version_text(data, "spa"), "the version's text is the rendered DOM's"

    pywb.build_collection(
        pywb_server.bin_dir, pywb_server.root, "ours-rendered", sorted((data / "captures").glob("*.gz"))
    )
    ours = f"{pywb_server.base}/ours-rendered"
    at = parse_wayback_timestamp(moment)
    with urllib.request.urlopen(f"{ours}/cdx?url={url}", timeout=WAIT_SECONDS) as answer:
        refs = read_page(answer.read().decode("utf-8"), resume_keys=False).refs
    assert [(ref.timestamp, ref.status, str(ref.digest)) for ref in refs] == [(at, 200, payload_sha1(shell))]
    with urllib.request.urlopen(f"{ours}/{moment}id_/{url}", timeout=WAIT_SECONDS) as answer:
        assert answer.read() == shell, "the raw response the archive held, not the rendered DOM"
        assert answer.headers["Memento-Datetime"] == format_datetime(at, usegmt=True)
    rendered = f"urn:rendered:{url}"
    with urllib.request.urlopen(f"{ours}/cdx?url={rendered}&output=json", timeout=WAIT_SECONDS) as answer:
        (row,) = [json.loads(line) for line in answer.read().decode("utf-8").splitlines() if line.strip()]
    assert (row["url"], row["timestamp"], row["mime"]) == (rendered, moment, "text/html")
    with urllib.request.urlopen(f"{ours}/{moment}id_/{rendered}", timeout=WAIT_SECONDS) as answer:
        assert DELAYED.encode() in answer.read(), "the rendered DOM, found by its own name"

    before = git(data / "versions", "log", "--format=%H", "main").split()
    again = run_render_cli(config, data, "reextract", env=render_environment(sites))
    assert again.returncode == 0, again.stderr
    assert git(data / "versions", "log", "--format=%H", "main").split() == before, "the DOM read back, text unchanged"
    verified = run_render_cli(config, data, "verify", env=render_environment(sites))
    assert verified.returncode == 0, verified.stderr
    assert "1/1 versions verified" in verified.stdout + verified.stderr

    # A backfill from the collection of our WARCs (never rendering: the page's script is not in it) meets one
    # capture at the second, the raw shell, refused as such; not two rows at one second.
    replayed = config_for(
        tmp_path / "from-pywb",
        pywb_server.base,
        "ours-rendered",
        {"spa": f'name = "Spa"\n[documents.privacy-policy]\nurl = "{url}"\nrender = "never"\n'},
    )
    from_pywb = run_cli(replayed, tmp_path / "from-pywb" / "data", "backfill", "--strategy", "all", timeout=300)
    assert "another capture at this second" not in from_pywb.stderr, from_pywb.stderr
    assert "javascript-shell" in from_pywb.stderr, from_pywb.stderr


def test_our_revisit_of_a_twin_dating_a_version_replays_in_pywb(
    pywb_server: RunningPywb, standin_archive: StandinArchive, tmp_path: Path
) -> None:
    """A version dated at a capture never fetched, known through its twin (same listed digest), is kept as a
    revisit record (identical-payload-digest) of the twin's response: pywb replays it at its own time with the
    twin's payload, and a backfill from a collection of our WARCs dates every version as the first backfill did
    (an outside audit, 2026-11-28: before, those versions moved to the twin's later date)."""
    moments = twin_history(standin_archive)
    first = configured(standin_archive, tmp_path / "first")
    assert (done := run_cli(*first, "backfill", DOC, timeout=300)).returncode == 0, done.stderr
    pywb.build_collection(
        pywb_server.bin_dir, pywb_server.root, "ours-twins", sorted((first[1] / "captures").glob("*.gz"))
    )
    ours = f"{pywb_server.base}/ours-twins"
    with urllib.request.urlopen(f"{ours}/{moments[2]}id_/{FIDELITY_URL}", timeout=WAIT_SECONDS) as answer:
        assert answer.read() == twin_page(TWIN_V2, "c").encode("utf-8")
        assert answer.headers["Memento-Datetime"] == format_datetime(parse_wayback_timestamp(moments[2]), usegmt=True)

    config = config_for(tmp_path / "again", pywb_server.base, "ours-twins", {"example": declaration(FIDELITY_URL)})
    data = tmp_path / "again" / "data"
    for strategy in ("bisect", "all"):
        again = run_cli(config, data, "backfill", DOC, "--strategy", strategy, timeout=300)
        assert again.returncode == 0, again.stderr
        dates = [git(where / "versions", "log", "--reverse", "--format=%aI", "main") for where in (first[1], data)]
        assert dates[0] == dates[1] and len(dates[0].splitlines()) == 2, dates


ACRCLOUD_SERVICE = f'name = "ACRCloud"\n[documents.privacy-policy]\nurl = "{URL}"\nremove = ["footer", "nav"]\n'
BLOCKED = "blocked"


def acl(server: RunningPywb, *command: str) -> None:
    """``wb-manager acl COMMAND`` on the collection ``blocked`` (pywb's access rules, its ``acl/`` directory)."""
    done = subprocess.run(
        [str(server.bin_dir / "wb-manager"), "acl", command[0], BLOCKED, *command[1:]],
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_captures_pywb_access_rules_block_are_refused_from_the_listing_and_asked_again_once_allowed(
    pywb_server: RunningPywb, client: ListingClient, tmp_path: Path
) -> None:
    """Outside audit 5, item 1: a collection whose access rules block the policy URL still lists every capture,
    each row saying ``"access": "block"``, and answers each replay 451. The rows are refused from the listing, none
    asked for, as a lasting refusal (the same on the next run, never "for now"); once the rule is lifted, the next
    backfill finds the versions."""
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, BLOCKED, [write_warc(tmp_path / "blocked.warc.gz")])
    acl(pywb_server, "add", URL, "block")
    base = pywb_server.base
    settings = WaybackSettings(cdx_url=f"{base}/{BLOCKED}/cdx", replay_url=f"{base}/{BLOCKED}", timeout_seconds=10)
    listed = Pywb(settings).list_captures(URL, client)
    assert [(ref.timestamp, ref.blocked) for ref in listed] == [(moment, True) for moment, _ in CAPTURES]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/{BLOCKED}/{FIRST:%Y%m%d%H%M%S}id_/{URL}", timeout=WAIT_SECONDS)
    assert refused.value.code == 451, "what a replay of a blocked capture answers (crawler/sources/base.py)"

    config = config_for(tmp_path, base, BLOCKED, {"acrcloud": ACRCLOUD_SERVICE})
    data = tmp_path / "data"
    doc = "acrcloud/privacy-policy"
    for _ in range(2):
        result = run_cli(config, data, "backfill", doc, timeout=300)
        assert result.returncode == 1, result.stderr
        failed = (
            f"FAILED {doc}: no version: {len(CAPTURES)} captures listed, all refused"
            f" ({len(CAPTURES)} listed as blocked by the archive's access rules)"
        )
        assert failed in result.stderr.splitlines(), result.stderr
        assert f"backfill: 0 captures examined, {len(CAPTURES)} captures listed" in result.stderr, "none asked for"
        assert "for now" not in result.stderr and "--retry-refused" not in result.stderr
        rows = catalog_rows(data)
        assert {(row["outcome"], row["fetched_status"], row["warc_file"]) for row in rows} == {("refused", None, None)}
        assert {row["reason"] for row in rows} == {
            "listed as blocked by the archive's access rules: not asked for (every backfill reads the listing again)"
        }

    acl(pywb_server, "remove", URL)
    allowed = run_cli(config, data, "backfill", doc, timeout=300)
    assert allowed.returncode == 0, allowed.stderr
    log = git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()
    assert log == [moment.isoformat() for moment in (FIRST, GDPR)]


def test_the_rows_pywb_repeats_at_a_page_boundary_are_neither_counted_nor_listed_twice(
    pywb_base: str, client: ListingClient
) -> None:
    """Outside audit 5, item 2: pywb pages by time, each page from the last second seen, which it lists again. A
    listing of exactly ``max_listing_rows`` captures passes (15,000 captures failed as "15,001 rows in 2 pages"),
    one more does not, and no row comes twice from the source."""
    exact = dataclasses.replace(settings_for(pywb_base), max_listing_rows=len(CAPTURES))
    paged = Pywb(exact, page_size=5)
    assert [ref.timestamp for ref in paged.list_captures(URL, client)] == [moment for moment, _ in CAPTURES]
    rows = list(Pywb(settings_for(pywb_base), page_size=3).rows(URL, client, None, None))
    assert [ref.timestamp for ref in rows] == [moment for moment, _ in CAPTURES], "each row once"
    short = dataclasses.replace(exact, max_listing_rows=len(CAPTURES) - 1)
    with pytest.raises(ListingTooLarge, match=f"{len(CAPTURES):,} rows in 2 pages"):
        Pywb(short, page_size=5).list_captures(URL, client)


def test_discover_asks_nothing_of_home_pages_pywb_access_rules_block(pywb_server: RunningPywb, tmp_path: Path) -> None:
    """pywb lists the home page's captures before 2018 as ``"access": "block"`` (an access rule dated by ``before``,
    as pywb 2.10 reads it): discover never asks for them (before 2026-11-29 it did, each answered 451), says each
    the search came to among those it could not read, with why, and declares what the captures it may read link."""
    collection = "blocked-home"
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, collection, [write_warc(tmp_path / "home.warc.gz")])
    subprocess.run(
        [str(pywb_server.bin_dir / "wb-manager"), "acl", "add", "--exact-match", collection, HOME, "block"],
        cwd=pywb_server.root, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    rules = pywb_server.root / "collections" / collection / "acl" / "access-rules.aclj"
    rules.write_text(rules.read_text().replace('"access": "block"', '"access": "block", "before": "20180101000000"'))
    config = config_for(tmp_path, pywb_server.base, collection, {})

    result = run_cli_with_names(("www.acrcloud.com=93.184.216.34",), config, tmp_path / "data", "discover",
                                "acrcloud.com", said=False)  # fmt: skip

    assert "Traceback" not in result.stderr
    assert "451" not in result.stderr, "no blocked capture asked for"
    unreadable = [line for line in result.stderr.splitlines() if line.startswith("UNREADABLE ")]
    blocked = [moment for moment, link in HOME_CAPTURES if link == OLD_URL]
    assert unreadable and all(
        line.endswith(": listed as blocked by the archive's access rules: not asked for") for line in unreadable
    ), result.stderr
    assert {line.split()[2].rstrip(":") for line in unreadable} <= {iso_z(moment) for moment in blocked}
    assert tomllib.loads(result.stdout)["documents"]["privacy-policy"]["url"] == URL
