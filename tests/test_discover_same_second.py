"""``discover`` when the home page's listing holds two rows of one URL at one second (an outside audit,
2026-11-28, found them for backfill, tests/test_same_second.py: two crawls merged into one index, or a response and
the ``resource`` record of its rendered DOM filed under its URL in a pywb collection). An archive replays one
capture per URL and second; before, the search looked the answer up by URL and second, so one of the two rows
stayed in flight and the domain failed "interrupted before its search was complete" on every run, declaring
nothing.

Now the second is one capture, read once: its eras are those of the capture the archive serves there."""

from __future__ import annotations

import tomllib

import pytest
from standin.cli import run_cli
from test_discover_links import footer_page, write_settings

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
