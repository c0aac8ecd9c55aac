"""The stand-in archive answers like the recorded Wayback Machine responses (../shared/archive-responses)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import pytest
from standin.archive import StandinArchive
from standin.archive_cdx import BLOCKED_CDX_BODY
from standin.archive_cli import load_history
from standin.capture import surt
from standin.recorded import FIXTURES

POLICY = "https://www.acrcloud.com/privacy"
RECORDED = FIXTURES / "responses.json"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def get(url: str) -> Reply:
    try:
        with _opener.open(url, timeout=5) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


def cdx(archive: StandinArchive, query: str) -> Reply:
    return get(f"{archive.cdx_url}?{query}")


@pytest.fixture
def policy_archive(standin_archive: StandinArchive) -> StandinArchive:
    for day in range(1, 6):
        standin_archive.add_capture(POLICY, f"201801{day:02d}120000", f"<p>version of day {day}</p>")
    return standin_archive


# --- CDX -------------------------------------------------------------------------------------------------


def test_cdx_rows_have_seven_fields_and_the_payload_digest(policy_archive: StandinArchive) -> None:
    reply = cdx(policy_archive, f"url={quote(POLICY, safe='')}")
    rows = [line.split(" ") for line in reply.text.splitlines()]
    assert reply.status == 200 and len(rows) == 5
    body = b"<p>version of day 1</p>"
    assert rows[0] == [
        "com,acrcloud)/privacy",
        "20180101120000",
        POLICY,
        "text/html",
        "200",
        base64.b32encode(hashlib.sha1(body).digest()).decode(),
        str(len(body)),
    ]


def test_cdx_from_and_to_bound_the_listing_inclusively(policy_archive: StandinArchive) -> None:
    reply = cdx(policy_archive, f"url={POLICY}&from=20180102120000&to=20180104")
    assert [line.split(" ")[1] for line in reply.text.splitlines()] == [
        "20180102120000",
        "20180103120000",
        "20180104120000",
    ]


def test_cdx_pages_end_with_a_blank_line_and_a_resume_key(policy_archive: StandinArchive) -> None:
    first = cdx(policy_archive, f"url={POLICY}&limit=2&showResumeKey=true").text.split("\n")
    assert first[2:] == ["", "com%2Cacrcloud%29%2Fprivacy+20180102120001", ""]
    timestamps = [row.split(" ")[1] for row in first[:2]]
    key = first[3]
    while key:
        page = cdx(policy_archive, f"url={POLICY}&limit=2&showResumeKey=true&resumeKey={quote(key, safe='')}")
        lines = page.text.split("\n")
        rows = [line for line in lines if " " in line]
        timestamps += [row.split(" ")[1] for row in rows]
        key = lines[len(rows) + 1] if len(lines) > len(rows) + 1 else ""
    assert timestamps == [f"201801{day:02d}120000" for day in range(1, 6)]


def test_a_full_last_page_still_has_a_key_and_the_next_page_is_empty(policy_archive: StandinArchive) -> None:
    page = cdx(policy_archive, f"url={POLICY}&limit=5&showResumeKey=true").text.split("\n")
    assert page[5] == "" and page[6]
    after = cdx(policy_archive, f"url={POLICY}&limit=5&showResumeKey=true&resumeKey={quote(page[6], safe='')}")
    assert after.status == 200 and after.body == b""


def test_cdx_matches_http_https_and_www_variants_of_a_url(policy_archive: StandinArchive) -> None:
    policy_archive.add_capture("http://acrcloud.com/privacy", "20170101000000", "old")
    reply = cdx(policy_archive, "url=acrcloud.com/privacy")
    assert len(reply.text.splitlines()) == 6
    assert surt("HTTP://WWW.ACRCloud.com:80/privacy?b=2&a=1#top") == "com,acrcloud)/privacy?a=1&b=2"


def test_cdx_can_repeat_rows_like_the_real_index(policy_archive: StandinArchive) -> None:
    policy_archive.repeat_rows()
    lines = cdx(policy_archive, f"url={POLICY}").text.splitlines()
    assert len(lines) == 10 and lines[0] == lines[1]


def test_cdx_of_a_blocked_url_is_403_blocked_site_error(policy_archive: StandinArchive) -> None:
    policy_archive.block(POLICY)
    reply = cdx(policy_archive, f"url={POLICY}")
    assert (reply.status, reply.body) == (403, BLOCKED_CDX_BODY)


def test_cdx_refuses_parameters_it_does_not_implement(policy_archive: StandinArchive) -> None:
    assert cdx(policy_archive, f"url={POLICY}&collapse=digest").status == 400
    assert cdx(policy_archive, f"url={POLICY}&matchType=prefix").status == 400


def test_cdx_garbage_and_failing_pages(policy_archive: StandinArchive) -> None:
    policy_archive.fail_page(1, status=502)
    policy_archive.drop_resume_key(0)
    first = cdx(policy_archive, f"url={POLICY}&limit=2&showResumeKey=true").text
    assert first.split("\n")[2:] == ["", ""]  # two rows, then the blank line that promises a key, and no key
    second = cdx(policy_archive, f"url={POLICY}&limit=2&showResumeKey=true&resumeKey=x+20180102120001")
    assert second.status == 502
    policy_archive.serve_garbage_rows()
    rows = cdx(policy_archive, f"url={POLICY}").text.splitlines()
    assert any(len(row.split(" ")) != 7 for row in rows)


# --- replay ----------------------------------------------------------------------------------------------


def test_exact_replay_gives_raw_bytes_with_memento_headers(policy_archive: StandinArchive) -> None:
    reply = get(f"{policy_archive.replay_url}/20180103120000id_/{POLICY}")
    assert (reply.status, reply.body) == (200, b"<p>version of day 3</p>")
    assert reply.headers["Memento-Datetime"] == "Wed, 03 Jan 2018 12:00:00 GMT"
    link = reply.headers["Link"]
    assert f'<{POLICY}>; rel="original"' in link
    assert 'rel="prev memento"; datetime="Tue, 02 Jan 2018 12:00:00 GMT"' in link
    assert 'rel="next memento"; datetime="Thu, 04 Jan 2018 12:00:00 GMT"' in link


@pytest.mark.parametrize(
    "written",
    [POLICY, "https:/www.acrcloud.com/privacy", "https%3A//www.acrcloud.com/privacy", "www.acrcloud.com/privacy"],
)
def test_replay_accepts_the_ways_clients_write_the_url(policy_archive: StandinArchive, written: str) -> None:
    assert get(f"{policy_archive.replay_url}/20180103120000id_/{written}").status == 200


def test_an_inexact_timestamp_redirects_to_the_nearest_capture(policy_archive: StandinArchive) -> None:
    reply = get(f"{policy_archive.replay_url}/20180104060000id_/{POLICY}")
    assert reply.status == 302 and "Memento-Datetime" not in reply.headers
    assert reply.headers["Location"] == f"{policy_archive.replay_url}/20180104120000id_/{POLICY}"
    partial = get(f"{policy_archive.replay_url}/2017id_/{POLICY}")
    assert partial.headers["Location"] == f"{policy_archive.replay_url}/20180101120000id_/{POLICY}"


@pytest.mark.parametrize(
    ("form", "prefix"),
    [("absolute", "{base}"), ("path", ""), ("schemeless", "//{netloc}")],
)
def test_archived_redirects_keep_memento_datetime_and_point_to_an_id_url(
    standin_archive: StandinArchive, form: str, prefix: str
) -> None:
    old = "https://www.acrcloud.com/privacy.html"
    standin_archive.add_capture(old, "20160101000000", "moved", status=301, location="/privacy", redirect_form=form)
    reply = get(f"{standin_archive.replay_url}/20160101000000id_/{old}")
    assert reply.status == 301
    assert reply.headers["Memento-Datetime"] == "Fri, 01 Jan 2016 00:00:00 GMT"
    base = standin_archive.base_url
    expected = prefix.format(base=base, netloc=base.removeprefix("http://"))
    assert reply.headers["Location"] == f"{expected}/web/20160101000000id_/https://www.acrcloud.com/privacy"


def test_redirect_captures_can_loop(standin_archive: StandinArchive) -> None:
    a, b = "https://example.com/a", "https://example.com/b"
    standin_archive.add_capture(a, "20200101000000", status=302, location=b)
    standin_archive.add_capture(b, "20200101000000", status=302, location=a)
    first = get(f"{standin_archive.replay_url}/20200101000000id_/{a}")
    second = get(first.headers["Location"])
    assert second.headers["Location"] == f"{standin_archive.replay_url}/20200101000000id_/{a}"


def test_archived_error_statuses_carry_memento_datetime(standin_archive: StandinArchive) -> None:
    standin_archive.add_capture(POLICY, "20190101000000", "gone", status=404)
    standin_archive.add_capture(POLICY, "20190202000000", "slow down", status=429)
    gone = get(f"{standin_archive.replay_url}/20190101000000id_/{POLICY}")
    archived_429 = get(f"{standin_archive.replay_url}/20190202000000id_/{POLICY}")
    assert (gone.status, gone.body) == (404, b"gone") and "Memento-Datetime" in gone.headers
    assert archived_429.status == 429 and "Memento-Datetime" in archived_429.headers


def test_the_archives_own_refusals_have_no_memento_datetime(policy_archive: StandinArchive) -> None:
    policy_archive.refuse_next(2, status=429, endpoint="replay", retry_after=30)
    url = f"{policy_archive.replay_url}/20180103120000id_/{POLICY}"
    refused = [get(url) for _ in range(3)]
    assert [reply.status for reply in refused] == [429, 429, 200]
    assert "Memento-Datetime" not in refused[0].headers and refused[0].headers["Retry-After"] == "30"
    assert cdx(policy_archive, f"url={POLICY}").status == 200  # the CDX endpoint was not refused


def test_no_capture_is_a_404_wayback_page_without_memento_datetime(policy_archive: StandinArchive) -> None:
    reply = get(f"{policy_archive.replay_url}/20180103120000id_/https://this-is-not-real-url.whatever/")
    assert reply.status == 404 and "Memento-Datetime" not in reply.headers
    assert b"has not archived that URL" in reply.body


def test_a_blocked_url_replays_as_an_excluded_page_without_memento(policy_archive: StandinArchive) -> None:
    policy_archive.block(POLICY)
    reply = get(f"{policy_archive.replay_url}/20180103120000id_/{POLICY}")
    assert reply.status == 200 and "Memento-Datetime" not in reply.headers
    assert b"excluded from the Wayback Machine" in reply.body


def test_view_mode_is_refused(policy_archive: StandinArchive) -> None:
    assert get(f"{policy_archive.replay_url}/20180103120000/{POLICY}").status == 501


# --- request log, faults, command-line history -----------------------------------------------------------


def test_the_request_log_counts_per_endpoint(policy_archive: StandinArchive) -> None:
    cdx(policy_archive, f"url={POLICY}")
    get(f"{policy_archive.replay_url}/20180103120000id_/{POLICY}")
    get(f"{policy_archive.replay_url}/20180103120000id_/{POLICY}")
    assert policy_archive.counts() == {"cdx": 1, "replay": 2}
    assert [request.status for request in policy_archive.requests] == [200, 200, 200]
    assert policy_archive.requests[0].at <= policy_archive.requests[-1].at


def test_a_delay_makes_clients_time_out(policy_archive: StandinArchive) -> None:
    policy_archive.delay("cdx", 30.0)  # far beyond the client's timeout, whatever the load
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(f"{policy_archive.cdx_url}?url={POLICY}", timeout=0.1)


def test_load_history_reads_bodies_inline_from_files_and_base64(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(b"<p>from a file</p>")
    history = {
        "captures": [
            {"url": POLICY, "timestamp": "20180101000000", "body": "<p>inline</p>"},
            {"url": POLICY, "timestamp": "20180201000000", "body_file": "page.html"},
            {"url": POLICY, "timestamp": "20180301000000", "body_base64": base64.b64encode(b"\xff").decode()},
            {"url": POLICY, "timestamp": "20180401000000", "status": 301, "location": "/p", "body": ""},
        ],
        "blocked": ["https://blocked.example/"],
    }
    (tmp_path / "history.json").write_text(json.dumps(history))
    archive = load_history(tmp_path / "history.json")
    bodies = [capture.body for capture in archive.captures_of(POLICY)]
    assert bodies == [b"<p>inline</p>", b"<p>from a file</p>", b"\xff", b""]
    assert archive.captures_of(POLICY)[-1].target == "https://www.acrcloud.com/p"


def test_the_command_line_serves_a_history_file(tmp_path: Path) -> None:
    history = {"captures": [{"url": POLICY, "timestamp": "20180101000000", "body": "<p>hello</p>"}]}
    (tmp_path / "history.json").write_text(json.dumps(history))
    script = Path(__file__).parent / "standin" / "archive_cli.py"
    command = [sys.executable, str(script), "--port", "0", "--history", str(tmp_path / "history.json")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            banner = server.stdout.readline() + server.stdout.readline()  # type: ignore[union-attr]
            replay_url = re.search(r"replay_url = '([^']+)'", banner)[1]  # type: ignore[index]
            reply = get(f"{replay_url}/20180101000000id_/{POLICY}")
        finally:
            server.terminate()
    assert "with 1 captures" in banner
    assert (reply.status, reply.body) == (200, b"<p>hello</p>")


def test_a_self_redirect_is_skipped_for_the_nearest_other_capture(standin_archive: StandinArchive) -> None:
    """An archived redirect to a URL of its own key is never replayed (the real archives skip it: see
    standin/archive_replay.py): asked for by either URL at its time, the archive redirects to the nearest other
    capture, without Memento-Datetime. A key holding nothing else replays the redirect as it is."""
    home, www = "http://en-shop.test/", "https://www.en-shop.test/"
    standin_archive.add_capture(home, "20171005100000", status=301, location=www)
    standin_archive.add_capture(www, "20171005100005", "the home page")
    for asked in (home, www):
        reply = get(f"{standin_archive.replay_url}/20171005100000id_/{asked}")
        assert (reply.status, reply.headers["Memento-Datetime"]) == (302, None)
        assert reply.headers["Location"] == f"{standin_archive.replay_url}/20171005100005id_/{www}"
    page = get(f"{standin_archive.replay_url}/20171005100005id_/{home}")
    assert (page.status, page.body) == (200, b"the home page")
    lone = "http://lone.test/"
    standin_archive.add_capture(lone, "20171005100000", status=301, location="https://www.lone.test/")
    assert get(f"{standin_archive.replay_url}/20171005100000id_/{lone}").status == 301


def test_a_self_redirect_is_skipped_as_the_wayback_machine_did_in_a_recorded_answer(
    standin_archive: StandinArchive,
) -> None:
    """The recorded answer (2020-09-21): epa.gov's 2020-02-01 02:03:57 capture of http://epa.gov/climatechange,
    asked for at its own time, was answered with a 302 to the 02:37:57 capture of https://www.epa.gov/climatechange
    — the next capture of the key that does not redirect within it (the 02:03:58 one of https://epa.gov/…, named
    in that answer's Link header, is skipped too). Their Locations were not recorded: https, then www, the usual
    pair."""
    recorded = {r["uri"]: r for r in json.loads(RECORDED.read_text())["responses"]}
    asked = "https://web.archive.org/web/20200201020357id_/http://epa.gov/climatechange"
    assert (recorded[asked]["status"], recorded[asked]["memento_datetime"]) == (302, None)
    skipped_to = recorded[asked]["location"]
    standin_archive.add_capture("http://epa.gov/climatechange", "20200201020357", status=301,
                                location="https://epa.gov/climatechange")  # fmt: skip
    standin_archive.add_capture("https://epa.gov/climatechange", "20200201020358", status=301,
                                location="https://www.epa.gov/climatechange")  # fmt: skip
    standin_archive.add_capture("https://www.epa.gov/climatechange", "20200201023757", status=301,
                                location="https://www.epa.gov/sites/production/files/signpost/cc.html")  # fmt: skip
    reply = get(asked.replace("https://web.archive.org/web", standin_archive.replay_url))
    assert (reply.status, reply.headers["Memento-Datetime"]) == (302, None)
    assert reply.headers["Location"] == skipped_to.replace("https://web.archive.org/web", standin_archive.replay_url)
