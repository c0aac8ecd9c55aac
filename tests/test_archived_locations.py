"""An archived redirect whose ``Location`` is not a URL stays one capture's problem (acceptance report 5, finding 4).

The site sent ``Location: http://[::1/x`` (an unclosed IPv6 bracket: urllib's "Invalid IPv6 URL") and the archive
keeps it as sent, as pywb's ``id_`` replay serves it (the stand-in's ``redirect_form="as-sent"``). It made the
spider fail, so the document (or, for discover, the domain) stopped as "interrupted … run again" on every run and
none of its good captures was used. Now that capture is refused, in words, and the others are used.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta

from standin.archive import StandinArchive
from standin.cli import git, run_cli, write_archive_settings
from test_backfill_resilience import START, V1, V2, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured

BROKEN = "http://[::1/x"
REASON = "the archived redirect's Location is not a URL: 'http://[::1/x' (Invalid IPv6 URL)"


def test_a_capture_redirecting_to_no_url_is_refused_and_the_others_become_versions(standin_archive, tmp_path):
    moments = [START + timedelta(days=30 * n) for n in range(3)]
    standin_archive.add_capture(URL, ts(moments[0]), page(V1, "a"))
    standin_archive.add_capture(URL, ts(moments[1]), b"", status=302, location=BROKEN, redirect_form="as-sent")
    standin_archive.add_capture(URL, ts(moments[2]), page(V2, "c"))
    config, data = configured(standin_archive, tmp_path)

    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert f"{DOC}: capture {ts(moments[1])} refused: {REASON}" in result.stderr
    assert "interrupted" not in result.stderr
    dates = git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()
    assert dates == [moments[0].isoformat(), moments[2].isoformat()]
    assert [(row["status"], row["outcome"], row["reason"]) for row in catalog_rows(data)][1] == (302, "refused", REASON)
    status = run_cli(config, data, "status").stdout
    assert "refused captures: 1 the archived redirect's Location is not a URL" in status, status

    head = git(data / "versions", "rev-parse", "main")
    again = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert again.returncode == 0, again.stderr
    assert git(data / "versions", "rev-parse", "main") == head


def test_discover_reads_a_home_page_around_a_capture_redirecting_to_no_url(standin_archive: StandinArchive, tmp_path):
    def home(link: str) -> str:
        return f"<html><body><main>Shop</main><footer><a href='{link}'>Privacy Policy</a></footer></body></html>"

    for year in range(2012, 2024):
        link = "/privacy.html" if year < 2018 else "/legal/privacy"
        standin_archive.add_capture("https://hb.example/", f"{year}0301000000", home(link))
    # Between the two eras' captures, where the search for the change of link reads.
    standin_archive.add_capture(
        "https://hb.example/", "20170901000000", b"", status=302, location=BROKEN, redirect_form="as-sent"
    )
    config = tmp_path / "config"
    write_archive_settings(config, standin_archive.cdx_url, standin_archive.replay_url)

    result = run_cli(config, tmp_path / "data", "discover", "hb.example", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "interrupted" not in result.stderr
    assert any(line.startswith("UNREADABLE hb.example") and REASON in line for line in result.stderr.splitlines())
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "https://hb.example/legal/privacy"
    assert document["history"] == [{"url": "https://hb.example/privacy.html", "valid_until": "2017-03-01"}]
