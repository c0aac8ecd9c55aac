"""A real pywb 2.x with its default settings, started by the tests: backfill works with
``cdx_url = "http://HOST:PORT/COLL/cdx"`` and ``replay_url = "http://HOST:PORT/COLL"`` and nothing else.

The collection is built from a WARC written here (warcio) with ``wb-manager``; ``wayback`` serves it on a
free 127.0.0.1 port. Skipped, with the reason, only where pywb cannot be installed (see ``standin/pywb.py``).
"""

from __future__ import annotations

import tomllib
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from standin import pywb
from standin.cli import git, run_cli
from test_backfill_e2e import V1, V2, page
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.sources import ListingClient, ListingParseError, Pywb, WaybackMachine, archive_source
from policy_archive.crawler.sources.cdx import read_page

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


def write_warc(path: Path) -> Path:
    """Response records of the site's URL and home page, dated at their capture times, as a crawler would have
    stored them."""
    records = [(URL, moment, page(text, number)) for number, (moment, text) in enumerate(CAPTURES)]
    records += [(HOME, moment, home_page(link)) for moment, link in HOME_CAPTURES]
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, moment, text in sorted(records, key=lambda record: record[1]):
            body = text.encode("utf-8")
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": moment.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
    return path


@pytest.fixture(scope="module")
def pywb_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a running pywb holding the collection ``policies``."""
    try:
        bin_dir = pywb.ensure_installed()
        root = tmp_path_factory.mktemp("pywb")
        pywb.build_collection(bin_dir, root, COLLECTION, [write_warc(root / "policy.warc.gz")])
        server = pywb.serve(bin_dir, root, COLLECTION)
        base = server.__enter__()
    except pywb.PywbUnavailable as reason:
        pytest.skip(f"pywb {pywb.PYWB_VERSION} is not available here: {reason}")
    try:
        yield base
    finally:
        server.__exit__(None, None, None)


def settings_for(base: str) -> WaybackSettings:
    return WaybackSettings(cdx_url=f"{base}/{COLLECTION}/cdx", replay_url=f"{base}/{COLLECTION}", timeout_seconds=10)


@pytest.fixture
def client(tmp_path: Path) -> ListingClient:
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3", "pywb", "cdx", float("inf"), backoff_seconds=0)
    return ListingClient(limiter, "policy-archive/test")


def test_pywb_default_answers_are_read(pywb_base: str) -> None:
    # pywb's default dialect (CDXJ), as the issue found it: "22 fields instead of 7" before.
    with urllib.request.urlopen(f"{pywb_base}/{COLLECTION}/cdx?url={URL}", timeout=10) as answer:
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
    result = run_cli(config, tmp_path / "data", "discover", "acrcloud.com", timeout=300)
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    last_old = max(moment for moment, link in HOME_CAPTURES if link == OLD_URL)
    assert document["url"] == URL
    assert document["history"] == [{"url": OLD_URL, "valid_until": last_old.date().isoformat()}]
