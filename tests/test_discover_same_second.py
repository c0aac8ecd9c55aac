"""``discover`` when the home page's listing holds two rows of one URL at one second (an outside audit,
2026-11-28, found them for backfill, tests/test_same_second.py: two crawls merged into one index, or a response and
the ``resource`` record of its rendered DOM filed under its URL in a pywb collection). An archive replays one
capture per URL and second; before, the search looked the answer up by URL and second, so one of the two rows
stayed in flight and the domain failed "interrupted before its search was complete" on every run, declaring
nothing.

Now the second is one capture, read once: its eras are those of the capture the archive serves there."""

from __future__ import annotations

import json
import tomllib

import pytest
from standin.cli import run_cli
from standin.pages import frameset_html
from test_discover_links import footer_page, write_settings

from policy_archive.pipeline.jobs.home_pages import Sighting
from policy_archive.pipeline.jobs.home_search import SearchState
from policy_archive.records import CaptureRef, parse_wayback_timestamp

DOMAIN = "twins.test"
HOME = f"http://{DOMAIN}/"
OLD, NEW = ("/privacy-old.html", "Privacy"), ("/privacy", "Privacy policy")
SECOND = "20120101000000"


@pytest.mark.parametrize(("served", "old_until"), [(OLD, "2012-01-01"), (NEW, "2011-01-01")], ids=["old", "new"])
def test_two_home_page_rows_at_one_second_are_one_capture_read_once(tmp_path, standin_archive, served, old_until):
    for year in (2010, 2011):
        standin_archive.add_capture(HOME, f"{year}0101000000", footer_page(OLD))
    # Two rows at one second, with other bodies (so other digests), linking other pages: the stand-in archive
    # serves the one added first, and lists both.
    other = NEW if served is OLD else OLD
    standin_archive.add_capture(HOME, SECOND, footer_page(served, head="<meta name='crawl' content='a'>"))
    standin_archive.add_capture(HOME, SECOND, footer_page(other, head="<meta name='crawl' content='b'>"))
    for year in (2013, 2014):
        standin_archive.add_capture(HOME, f"{year}0101000000", footer_page(NEW))
    config = write_settings(tmp_path, standin_archive)

    result = run_cli(config, tmp_path / "data", "discover", DOMAIN, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "interrupted" not in result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == f"http://{DOMAIN}/privacy"
    assert document["history"] == [{"url": f"http://{DOMAIN}/privacy-old.html", "valid_until": old_until}]
    replays = [r.path for r in standin_archive.requests if r.endpoint == "replay"]
    assert len([path for path in replays if SECOND in path]) == 1, replays
    assert f"{DOMAIN}: 5 home-page captures listed" in result.stderr, result.stderr

    # A rerun reads nothing again and declares the same.
    standin_archive.clear_log()
    again = run_cli(config, tmp_path / "data", "discover", DOMAIN, timeout=120)
    assert again.returncode == 0 and again.stdout == result.stdout, again.stderr
    assert standin_archive.counts()["replay"] == 0


WWW = f"http://www.{DOMAIN}/"


def test_a_rerun_reads_nothing_again_when_two_url_forms_of_the_home_page_share_a_second(tmp_path, standin_archive):
    """A listing of the home page holds every URL form the archive files under it (http/https, www or not): two of
    them may be captured in one second (a crawler following example.com → www.example.com). Each is a capture of
    its own (another URL, another replay). The state file kept each reading under its second alone, and a rerun
    put the reading of the first form on the second form's row: the first was read again on every rerun, and the
    second held a reading that was not its own (2026-11-28)."""
    for year in (2010, 2011):
        standin_archive.add_capture(HOME, f"{year}0101000000", footer_page(OLD))
    standin_archive.add_capture(HOME, SECOND, footer_page(OLD))
    standin_archive.add_capture(WWW, SECOND, footer_page(OLD, head="<meta name='crawl' content='www'>"))
    for year in (2013, 2014):
        standin_archive.add_capture(HOME, f"{year}0101000000", footer_page(NEW))
    config = write_settings(tmp_path, standin_archive)

    result = run_cli(config, tmp_path / "data", "discover", DOMAIN, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"{DOMAIN}: 6 home-page captures listed" in result.stderr, result.stderr
    state = json.loads((tmp_path / "data" / "discovery" / f"{DOMAIN}.privacy-policy.json").read_text())
    read = {(item["listed_url"], item["timestamp"]) for item in state["sightings"]}
    assert (HOME, "2012-01-01T00:00:00Z") in read, read

    standin_archive.clear_log()
    again = run_cli(config, tmp_path / "data", "discover", DOMAIN, timeout=120)
    assert again.returncode == 0 and again.stdout == result.stdout, again.stderr
    assert standin_archive.counts()["replay"] == 0, [r.path for r in standin_archive.requests]


def _refs(*rows: tuple[str, str]) -> list[CaptureRef]:
    return [CaptureRef(url, parse_wayback_timestamp(at), 200, "text/html", None) for url, at in rows]


def test_a_saved_reading_goes_back_to_the_row_it_was_read_from(tmp_path):
    """Rows of two URL forms at one second: each saved reading is the row's it was read from, found by URL and
    second, whatever the order of the listing in the next run."""
    refs = _refs((HOME, "20100101000000"), (HOME, SECOND), (WWW, SECOND), (HOME, "20140101000000"))
    path = tmp_path / "state.json"
    state = SearchState(refs, path, "privacy-policy")
    at = refs[1].timestamp
    state.learn(1, Sighting(at, f"http://{DOMAIN}/privacy-old.html", "Privacy"))
    state.learn(2, Sighting(at, unreadable="archived with status 404"))

    again = SearchState(refs, path, "privacy-policy")
    assert again.known == state.known
    reversed_listing = SearchState([refs[0], refs[2], refs[1], refs[3]], path, "privacy-policy")
    assert reversed_listing.known == {1: state.known[2], 2: state.known[1]}


def test_only_the_first_form_read_leaves_the_other_unread(tmp_path):
    """One of the two rows read: the other is not taken as read (before: the reading went to the last row listed
    at that second, and the row it was read from was read again)."""
    refs = _refs((HOME, "20100101000000"), (HOME, SECOND), (WWW, SECOND), (HOME, "20140101000000"))
    path = tmp_path / "state.json"
    state = SearchState(refs, path, "privacy-policy")
    state.learn(1, Sighting(refs[1].timestamp, f"http://{DOMAIN}/privacy-old.html", "Privacy"))
    assert SearchState(refs, path, "privacy-policy").known == {1: state.known[1]}


def test_a_state_file_without_row_urls_is_used_where_the_second_names_one_row(tmp_path):
    """A state file written before 2026-11-28 kept each reading's second only: used where one row is listed at that
    second; at a second of several rows it cannot say whose it is, so they are read again (never guessed)."""
    refs = _refs((HOME, "20100101000000"), (HOME, SECOND), (WWW, SECOND), (HOME, "20140101000000"))
    path = tmp_path / "state.json"
    sightings = [Sighting(ref.timestamp, f"http://{DOMAIN}/privacy-old.html", "Privacy") for ref in refs[:3]]
    old = {"document_type": "privacy-policy", "sightings": [sighting.to_json() for sighting in sightings]}
    path.write_text(json.dumps(old), encoding="utf-8")
    assert all("listed_url" not in item for item in old["sightings"])
    assert SearchState(refs, path, "privacy-policy").known == {0: sightings[0]}


def test_two_url_forms_of_a_frameset_home_page_at_one_second_share_their_frames_replays(tmp_path, standin_archive):
    """Two URL forms of a frameset home page listed at one second, read at once (here the only two rows: the
    grid's first and last), whose frames resolve to the same pages: each frame was noted for one home page only,
    overwritten by the other's, and the frame's second answer stopped the whole run with a KeyError (2026-11-28).
    One replay of each frame now answers both."""
    at = "20020101000000"
    menu = "<html><body><a href='/products'>Products</a> <a href='/privacy.html'>Privacy Policy</a></body></html>"
    standin_archive.add_capture(HOME, at, frameset_html("menu.html", "news.html"))
    standin_archive.add_capture(WWW, at, frameset_html("menu.html", "news.html") + "\\n")
    standin_archive.add_capture(f"http://{DOMAIN}/menu.html", at, menu)
    standin_archive.add_capture(f"http://{DOMAIN}/news.html", at, "<a href='/news'>News</a>")
    config = write_settings(tmp_path, standin_archive)

    result = run_cli(config, tmp_path / "data", "discover", DOMAIN, timeout=120)
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["documents"]["privacy-policy"]["url"] == f"http://{DOMAIN}/privacy.html"
    replays = [r.path for r in standin_archive.requests if r.endpoint == "replay"]
    assert sorted(path.rsplit("/", 1)[1] for path in replays) == ["", "", "menu.html", "news.html"], replays
