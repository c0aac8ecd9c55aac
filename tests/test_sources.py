"""The archive-source seam: which source serves an archive, its capture URLs, every row dialect, and answers
that are cut short, too large or too slow (a listing is complete or an error)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from standin.archive import StandinArchive
from standin.capture import surt
from standin.cli import run_cli

from policy_archive.config.settings import ARCHIVE_APIS, QUERY_KEYS_SET, WaybackSettings
from policy_archive.crawler.ratelimit import RateLimiter, parse_retry_after
from policy_archive.crawler.sources import (
    SOURCES,
    ArchiveSource,
    ListingClient,
    ListingParseError,
    ListingTooLarge,
    ListingUnavailable,
    Pywb,
    WaybackMachine,
    archive_source,
)
from policy_archive.crawler.sources.cdx import CdxRequester, query_url
from policy_archive.crawler.sources.cdx_rows import CdxPage, RowError, read_page
from policy_archive.crawler.sources.wayback import original_of, snapshot_link
from policy_archive.digests import PayloadDigest
from policy_archive.listed import listed
from policy_archive.records import CaptureRef

POLICY = "https://www.acrcloud.com/privacy"
RECORDED = json.loads((Path(__file__).parent / "fixtures" / "cdx" / "recorded-listings.json").read_text())

# Rows the Wayback Machine lists for one URL (tests/test_urlkey.py checks every recorded real row).
VARIANTS = (
    POLICY,
    "http://acrcloud.com/privacy",
    "http://www.acrcloud.com:80/privacy/",
    "https://www2.ACRCloud.com:443/Privacy",
    "http://user@acrcloud.com/privacy#top",
)


@pytest.fixture
def client(tmp_path: Path) -> ListingClient:
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3", "test", "cdx", float("inf"), backoff_seconds=0)
    return ListingClient(limiter, "policy-archive/test")


# --- which source, and its capture URLs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cdx_url", "kind"),
    [
        ("https://web.archive.org/cdx/search/cdx", WaybackMachine),
        ("http://127.0.0.1:8080/my-coll/cdx", Pywb),
        ("http://127.0.0.1:8080/my-coll/cdx/", Pywb),
        ("https://archive.example.org/wayback/cdx/search/cdx", WaybackMachine),
        ("https://archive.example.org/cdx-server", WaybackMachine),
    ],
)
def test_the_source_is_chosen_by_the_cdx_endpoint(cdx_url: str, kind: type) -> None:
    assert type(archive_source(WaybackSettings(cdx_url=cdx_url))) is kind


@pytest.mark.parametrize(
    ("cdx_url", "api", "kind"),
    [
        ("http://127.0.0.1:8080/coll/cdx-index", "pywb", Pywb),  # pywb with another cdx_api_endpoint
        ("http://127.0.0.1:8080/coll/cdx", "wayback", WaybackMachine),  # an archive copying the IA at /COLL/cdx
        ("http://127.0.0.1:8080/coll/cdx", "auto", Pywb),
    ],
)
def test_api_names_the_source_whatever_the_endpoint(cdx_url: str, api: str, kind: type) -> None:
    assert type(archive_source(WaybackSettings(cdx_url=cdx_url, api=api))) is kind


def test_every_archive_api_the_configuration_accepts_is_a_source() -> None:
    assert sorted(source.name for source in SOURCES) == sorted(api for api in ARCHIVE_APIS if api != "auto")


def test_capture_urls_are_built_and_read_back_in_one_place() -> None:
    source = archive_source(WaybackSettings(replay_url="https://web.archive.org/web/"))
    moment = datetime(2018, 6, 29, 16, 24, 26, tzinfo=UTC)
    url = source.capture_url(moment, POLICY)
    assert url == "https://web.archive.org/web/20180629162426id_/https://www.acrcloud.com/privacy"
    assert source.locate(url) == (moment, POLICY)
    assert source.contains(url) and not source.contains(POLICY)
    assert source.locate("https://web.archive.org/web/notatimestamp/x") is None
    assert original_of(url) == POLICY and original_of(POLICY) == POLICY
    # The seeds' header link: the original percent-encoded inside the replay URL.
    assert snapshot_link(url) == "https://web.archive.org/web/20180629162426id_/https%3A//www.acrcloud.com/privacy"


def test_pywb_captures_replay_under_the_collection() -> None:
    source = archive_source(
        WaybackSettings(cdx_url="http://127.0.0.1:8080/c/cdx", replay_url="http://127.0.0.1:8080/c")
    )
    moment = datetime(2018, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert source.capture_url(moment, POLICY) == f"http://127.0.0.1:8080/c/20180102030405id_/{POLICY}"


@pytest.mark.parametrize("kind", [WaybackMachine, Pywb])
def test_the_query_keys_a_listing_sets_are_those_the_configuration_refuses_in_cdx_url(
    kind: type[ArchiveSource], client: ListingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.settings.QUERY_KEYS_SET (config cannot import the sources) lists every key each listing sends: a
    ``cdx_url`` carrying one is refused by ``validate`` (outside audit A, 2026-11-29: a second ``url=``)."""
    sent: set[str] = set()
    answers = iter([CdxPage((), "resume-key"), CdxPage((), None)])

    def page(self: CdxRequester, params: list[tuple[str, str]], page_number: int, *, resume_keys: bool) -> CdxPage:
        sent.update(name for name, _ in params)
        return next(answers, CdxPage((), None))

    monkeypatch.setattr(CdxRequester, "page", page)
    since, until = datetime(2018, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC)
    list(kind(WaybackSettings(cdx_url="http://127.0.0.1:9/coll/cdx")).rows(POLICY, client, since, until))
    assert sent == set(QUERY_KEYS_SET[kind.name])


def test_query_strings_are_encoded_and_added_to_the_endpoints_own_query() -> None:
    url = query_url("http://h:1/coll/cdx?matchType=exact", [("url", "https://a.b/p?x=1&y=2"), ("to", "20181231")])
    assert url.count("?") == 1
    assert parse_qs(urlsplit(url).query) == {
        "matchType": ["exact"],
        "url": ["https://a.b/p?x=1&y=2"],
        "to": ["20181231"],
    }


# --- every dialect of rows -------------------------------------------------------------------------------


def recorded_page(name: str, index: int = 0) -> str:
    return RECORDED["listings"][name]["pages"][index]["body"]


def as_json_array(text: str) -> str:
    """The same page as the Internet Archive's ``output=json`` writes it."""
    page = read_page(text, resume_keys=True)
    names = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    rows = [line.split(" ") for line in text.split("\n\n")[0].splitlines()]
    tail = [[], [page.resume_key]] if page.resume_key else []
    return json.dumps([names, *rows, *tail])


def as_pywb(text: str, *, cdxj: bool) -> str:
    """The same rows as pywb writes them: CDXJ (its default) or JSON lines (``output=json``), ``sha1:`` digests."""
    lines = []
    for line in text.split("\n\n")[0].splitlines():
        urlkey, timestamp, original, mime, status, digest, length = line.split(" ")
        fields = {"url": original, "mime": mime, "status": status, "digest": f"sha1:{digest}", "length": length}
        if cdxj:
            lines.append(f"{urlkey} {timestamp} {json.dumps(fields)}")
        else:
            lines.append(json.dumps({"urlkey": urlkey, "timestamp": timestamp, **fields}))
    return "".join(line + "\n" for line in lines)


@pytest.mark.parametrize("name", ["cnn-multipage", "energystar-repeats"])
def test_every_dialect_of_a_real_page_reads_the_same(name: str) -> None:
    text = recorded_page(name)
    expected = read_page(text, resume_keys=True)
    assert expected.refs and all(isinstance(ref, CaptureRef) for ref in expected.refs)
    assert read_page(as_json_array(text), resume_keys=True) == expected
    for cdxj in (True, False):
        assert read_page(as_pywb(text, cdxj=cdxj), resume_keys=False).refs == expected.refs


def test_a_real_resume_key_is_read_from_text_and_json() -> None:
    text = recorded_page("cnn-multipage")
    key = read_page(text, resume_keys=True).resume_key
    assert key == RECORDED["listings"]["cnn-multipage"]["pages"][1]["resume_key"]
    assert read_page(as_json_array(text), resume_keys=True).resume_key == key


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ('com,acrcloud)/privacy 20180101000000 {"url": "-", "mime": "text/html", "status": "200"}', "original URL"),
        ('{"urlkey": "x", "timestamp": "20180101000000", "mime": "text/html"}', "original URL"),
        ("com,acrcloud)/privacy 2018010100000 https://www.acrcloud.com/privacy text/html 200 AAAA 10", "14 digits"),
        ("com,acrcloud)/privacy 20181301000000 https://www.acrcloud.com/privacy text/html 200 AAAA 10", "not a date"),
        ("com,acrcloud)/privacy 20180101000000 - text/html 200 AAAA 10", "original URL"),
        ("com,acrcloud)/privacy 20180101000000 https://www.acrcloud.com/privacy text/html OK AAAA 10", "statuscode"),
        # Numbers no archive writes, which a listing held by column (policy_archive.listed) cannot hold: they were
        # read, then ended the run with an OverflowError (review of 2026-11-29).
        (
            "com,acrcloud)/privacy 20180101000000 https://www.acrcloud.com/privacy text/html 99999999999 AAAA 10",
            "statuscode",
        ),
        (
            f"com,acrcloud)/privacy 20180101000000 https://www.acrcloud.com/privacy text/html 200 AAAA {10**20}",
            "length",
        ),
        ('com,acrcloud)/privacy 20180101000000 {"url": "https://www.acrcloud.com/privacy", "mi', "broken JSON"),
    ],
)
def test_a_row_without_a_usable_original_or_timestamp_is_a_listing_error(row: str, problem: str) -> None:
    with pytest.raises(RowError, match=problem):
        read_page(row + "\n", resume_keys=False)


def test_the_largest_numbers_a_row_may_hold_are_held_by_a_listing_by_column() -> None:
    row = f"com,acrcloud)/privacy 20180101000000 https://www.acrcloud.com/privacy text/html 999 AAAA {10**18 - 1}\n"
    (ref,) = read_page(row, resume_keys=False).refs
    assert listed(iter([ref]))[0] == ref and (ref.status, ref.length) == (999, 10**18 - 1)


def test_an_answer_ending_inside_a_row_is_cut_short() -> None:
    text = recorded_page("energystar-repeats")
    with pytest.raises(RowError, match="cut inside a row"):
        read_page(text[: len(text) // 2], resume_keys=True)
    with pytest.raises(RowError, match="cut short"):
        read_page(as_json_array(text)[:-40], resume_keys=True)


# --- complete answers or errors, against the stand-in archive --------------------------------------------


@pytest.fixture
def twenty(standin_archive: StandinArchive) -> StandinArchive:
    start = datetime(2017, 1, 1, tzinfo=UTC)
    for day in range(20):
        moment = start + timedelta(days=30 * day)
        standin_archive.add_capture(POLICY, moment.strftime("%Y%m%d%H%M%S"), f"<p>text {day}</p>")
    return standin_archive


def wayback_listing(archive: StandinArchive, client: ListingClient, **settings: float) -> list[CaptureRef]:
    return WaybackMachine(archive.wayback_settings(**settings)).list_captures(POLICY, client)


def test_the_stand_in_lists_twenty(twenty: StandinArchive, client: ListingClient) -> None:
    assert len(wayback_listing(twenty, client)) == 20


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_connection_closed_after_row_8_of_20_fails_the_listing(
    twenty: StandinArchive, client: ListingClient, framing: str
) -> None:
    twenty.cut_cdx_after(8, framing)  # type: ignore[arg-type]
    with pytest.raises(ListingParseError, match="cut short") as raised:
        wayback_listing(twenty, client)
    assert str(raised.value).startswith(f"cannot list the captures of {POLICY}: the answer was cut short")


def test_an_answer_over_max_listing_bytes_fails(twenty: StandinArchive, client: ListingClient) -> None:
    with pytest.raises(ListingTooLarge, match=r"2400 bytes, over the limit of 500 bytes \(\[wayback\] max_listing"):
        wayback_listing(twenty, client, max_listing_bytes=500)
    assert len(wayback_listing(twenty, client, max_listing_bytes=100_000)) == 20


def test_a_chunked_answer_is_read_whole_and_bounded_while_reading(
    twenty: StandinArchive, client: ListingClient
) -> None:
    twenty.frame_cdx("chunked")  # no Content-Length: only counting the bytes as they come can bound it
    assert len(wayback_listing(twenty, client)) == 20
    with pytest.raises(ListingTooLarge, match=r"longer than the limit of 500 bytes"):
        wayback_listing(twenty, client, max_listing_bytes=500)


def test_an_announced_size_over_the_limit_is_refused_before_reading(
    twenty: StandinArchive, client: ListingClient
) -> None:
    twenty.announce_cdx_length(5 * 1024**3)  # 5 GB announced: nothing of it is read into memory
    with pytest.raises(ListingTooLarge, match="announces 5368709120 bytes"):
        wayback_listing(twenty, client, max_listing_bytes=1_000_000)


def test_timeout_seconds_is_a_deadline_for_the_whole_answer(twenty: StandinArchive, client: ListingClient) -> None:
    # About 2,000 bytes at one byte per 0.25 s would take over 8 minutes; every single read is quick, so only a
    # deadline over the whole answer stops it. The bound is generous (load): a second's deadline, not the answer's.
    twenty.trickle_cdx(0.25)
    began = time.monotonic()
    with pytest.raises(ListingUnavailable, match=r"no complete answer within 1 s"):
        wayback_listing(twenty, client, timeout_seconds=1.0)
    assert time.monotonic() - began < 120


# --- pywb's dialect and paging, against a server answering as pywb 2.x does ------------------------------


class PywbLike:
    """A CDX server API answering like pywb 2.x: CDXJ by default, JSON lines with ``output=json``, ``limit``,
    ``from``/``to``, no resume keys; rows sorted by time."""

    def __init__(self, rows: list[tuple[str, str]]):
        self.rows = sorted(rows)  # (timestamp, original)
        self.queries: list[dict[str, list[str]]] = []

    def answer(self, query: dict[str, list[str]]) -> bytes:
        self.queries.append(query)
        first = query.get("from", ["0"])[0].ljust(14, "0")
        last = query.get("to", ["9"])[0].ljust(14, "9")
        chosen = [(ts, url) for ts, url in self.rows if first <= ts <= last][: int(query.get("limit", ["100000"])[0])]
        lines = []
        for timestamp, url in chosen:
            fields = {"url": url, "mime": "text/html", "status": "200", "digest": f"sha1:{timestamp}AAAA"}
            if query.get("output") == ["json"]:
                lines.append(json.dumps({"urlkey": surt(url), "timestamp": timestamp, **fields}))
            else:
                lines.append(f"{surt(url)} {timestamp} {json.dumps(fields)}")
        return "".join(line + "\n" for line in lines).encode()


@pytest.fixture
def pywb_like() -> Iterator[tuple[PywbLike, str]]:
    moments = [datetime(2018, 1, 1, tzinfo=UTC) + timedelta(days=i) for i in range(10)]
    archive = PywbLike([(m.strftime("%Y%m%d%H%M%S"), POLICY) for m in moments])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = archive.answer(parse_qs(urlsplit(self.path).query))
            self.send_response(200)
            self.send_header("Content-Type", "text/x-cdxj")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Silent."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield archive, f"http://127.0.0.1:{server.server_address[1]}/coll/cdx"
    server.shutdown()
    server.server_close()


def pywb_settings(cdx_url: str) -> WaybackSettings:
    return WaybackSettings(cdx_url=cdx_url, replay_url=cdx_url.removesuffix("/cdx"), timeout_seconds=5)


@pytest.mark.parametrize("page_size", [2, 3, 10, 100])
def test_pywb_listings_page_by_time_and_return_every_row_once(
    pywb_like: tuple[PywbLike, str], client: ListingClient, page_size: int
) -> None:
    archive, cdx_url = pywb_like
    refs = Pywb(pywb_settings(cdx_url), page_size=page_size).list_captures(POLICY, client)
    assert [ref.wayback_timestamp for ref in refs] == [timestamp for timestamp, _ in archive.rows]
    assert all(ref.digest == PayloadDigest("sha1", f"{ref.wayback_timestamp}AAAA") for ref in refs)
    assert all(str(ref.digest) == f"{ref.wayback_timestamp}AAAA" for ref in refs), "kept without its sha1: label"
    assert all(query["output"] == ["json"] for query in archive.queries)


def test_a_pywb_at_another_endpoint_is_listed_completely_once_named(
    pywb_like: tuple[PywbLike, str], client: ListingClient
) -> None:
    """pywb's ``cdx_api_endpoint`` moved: guessed from the path, it is asked the Internet Archive's way and a
    long listing fails loudly; with ``api = "pywb"`` it is paged by time and complete."""
    archive, cdx_url = pywb_like
    moved = cdx_url.removesuffix("/cdx") + "/cdx-index"
    guessed = archive_source(WaybackSettings(cdx_url=moved, replay_url=moved, timeout_seconds=5), page_size=3)
    with pytest.raises(ListingParseError, match="without a resume key"):
        guessed.list_captures(POLICY, client)
    named = WaybackSettings(cdx_url=moved, replay_url=moved, timeout_seconds=5, api="pywb")
    refs = archive_source(named, page_size=3).list_captures(POLICY, client)
    assert [ref.wayback_timestamp for ref in refs] == [timestamp for timestamp, _ in archive.rows]


def test_pywb_listings_keep_the_to_bound(pywb_like: tuple[PywbLike, str], client: ListingClient) -> None:
    archive, cdx_url = pywb_like
    since, until = datetime(2018, 1, 3, tzinfo=UTC), datetime(2018, 1, 6, tzinfo=UTC)
    refs = Pywb(pywb_settings(cdx_url), page_size=2).list_captures(POLICY, client, since, until)
    assert [ref.timestamp.day for ref in refs] == [3, 4, 5, 6]
    assert all(query["to"] == ["20180106000000"] for query in archive.queries)


def test_more_captures_in_one_second_than_a_page_is_an_error(
    pywb_like: tuple[PywbLike, str], client: ListingClient
) -> None:
    archive, cdx_url = pywb_like
    archive.rows = sorted([("20180101000000", variant) for variant in VARIANTS])  # five captures, one second
    with pytest.raises(ListingParseError, match="more than 2 captures within one second"):
        Pywb(pywb_settings(cdx_url), page_size=2).list_captures(POLICY, client)


# --- Retry-After, parsed once ----------------------------------------------------------------------------


def test_retry_after_in_both_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    assert 290 <= (parse_retry_after(later) or 0) <= 300
    assert parse_retry_after("Thu, 01 Jan 2015 00:00:00 GMT") == 0.0


def test_a_listing_answering_another_urls_rows_fails(standin_archive: StandinArchive, client: ListingClient) -> None:
    standin_archive.add_capture("https://www.fake.example/privacy", "20170101000000", "<p>another site</p>")
    standin_archive.list_rows_of(POLICY, "https://www.fake.example/privacy")
    with pytest.raises(ListingParseError) as failed:
        wayback_listing(standin_archive, client)
    assert str(failed.value) == (
        f"cannot list the captures of {POLICY}: the archive listed a capture of another URL, "
        "'https://www.fake.example/privacy' (20170101000000), so it is not answering this query (check [wayback] "
        "cdx_url, or add matchType=exact to its query)"
    )


def test_one_row_of_another_url_among_the_documents_fails_the_listing(client: ListingClient) -> None:
    moment = datetime(2018, 1, 1, tzinfo=UTC)
    own = [CaptureRef(url, moment + timedelta(days=day), 200, "text/html", None) for day, url in enumerate(VARIANTS)]
    prefixed = CaptureRef(f"{POLICY}-old", moment, 200, "text/html", None)  # what a prefix match adds
    assert len(Listed(own).list_captures(POLICY, client)) == len(VARIANTS)
    with pytest.raises(ListingParseError, match="another URL, 'https://www.acrcloud.com/privacy-old'"):
        Listed([*own, prefixed]).list_captures(POLICY, client)


class Listed(WaybackMachine):
    """A source whose archive lists the given rows, whatever is asked."""

    def __init__(self, refs: list[CaptureRef]):
        super().__init__(WaybackSettings())
        self.refs = refs

    def rows(
        self, url: str, client: ListingClient, since: datetime | None, until: datetime | None
    ) -> Iterator[CaptureRef]:
        yield from self.refs


# --- through the command line ----------------------------------------------------------------------------


def test_backfill_fails_the_document_whose_listing_is_cut_short(twenty: StandinArchive, tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{twenty.cdx_url}"\nreplay_url = "{twenty.replay_url}"\n'
        "cdx_per_minute = 6000\nreplay_per_minute = 6000\nbackoff_seconds = 0\ntimeout_seconds = 10\n"
    )
    (config / "services" / "acrcloud.toml").write_text(
        f'name = "ACRCloud"\n[documents.privacy-policy]\nurl = "{POLICY}"\n'
    )
    twenty.cut_cdx_after(8)
    result = run_cli(config, tmp_path / "data", "backfill", "acrcloud/privacy-policy")
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failed == [
        f"FAILED acrcloud/privacy-policy: archive listing failed: cannot list the captures of {POLICY}: "
        f"the answer was cut short: {failed[0].split('cut short: ')[1]}"
    ]
    assert "of the" in failed[0] and "bytes announced" in failed[0]
    # An answer cut short fails the document at once (DESIGN.md's contract), unlike one that never came.
    assert twenty.counts() == {"cdx": 1}  # nothing fetched, so nothing recorded
    with sqlite3.connect(tmp_path / "data" / "catalog.sqlite3") as connection:
        assert connection.execute("SELECT COUNT(*) FROM captures").fetchone() == (0,)


def test_backfill_records_nothing_from_another_urls_rows(standin_archive: StandinArchive, tmp_path: Path) -> None:
    """The audit's case: asked for other.example's policy, the archive answered fake.com's rows."""
    standin_archive.add_capture(
        "https://www.fake.example/privacy", "20170101000000", "<main><p>Fake policy.</p></main>"
    )
    standin_archive.list_rows_of("https://www.other.example/privacy", "https://www.fake.example/privacy")
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{standin_archive.cdx_url}"\nreplay_url = "{standin_archive.replay_url}"\n'
        "cdx_per_minute = 6000\nreplay_per_minute = 6000\nbackoff_seconds = 0\n"
    )
    (config / "services" / "other.toml").write_text(
        'name = "Other"\n[documents.privacy-policy]\nurl = "https://www.other.example/privacy"\n'
    )
    result = run_cli(config, tmp_path / "data", "backfill", "--strategy", "all")
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith(
        "FAILED other/privacy-policy: archive listing failed: cannot list the captures of "
        "https://www.other.example/privacy: the archive listed a capture of another URL, "
        "'https://www.fake.example/privacy' (20170101000000)"
    ), result.stderr
    assert standin_archive.counts() == {"cdx": 1}  # nothing fetched, so nothing recorded
    assert (
        run_cli(config, tmp_path / "data", "log", "other").stdout
        == "(other/privacy-policy has no recorded version yet)\n"
    )
