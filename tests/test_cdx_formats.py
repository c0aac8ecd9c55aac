"""The classic CDX file formats, 11 fields (``CDX N b a m s k r M S V g``) and 9 fields (``CDX N b a m s k r V g``),
read like the CDX server's 7 (issue 10: "any Wayback-compatible archive"); any other form is a listing error that
says what it saw. The row reader is checked on open-ended rows (Hypothesis), and a whole listing and a backfill
on the stand-in archive answering in each format."""

from __future__ import annotations

import base64
import dataclasses
import json
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standin.archive import StandinArchive
from standin.cli import git
from test_backfill_e2e import URL, acrcloud_history, cli, write_config
from test_cdx import clock, history, limiter, listing  # noqa: F401  (fixtures)

from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.sources import ListingParseError
from policy_archive.crawler.sources.cdx_rows import CDX9_LEGEND, CDX11_LEGEND, MAX_LISTED_LENGTH, RowError, read_page
from policy_archive.digests import PayloadDigest
from policy_archive.listed import ListedRows
from policy_archive.records import CaptureRef, format_wayback_timestamp

# --- the row reader, on open-ended rows ------------------------------------------------------------------

TOKEN = st.text(alphabet=string.ascii_letters + string.digits + ",)/._-:;=?&%+~", min_size=1, max_size=30)
HOSTS = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,8}){1,3}", fullmatch=True)
PATHS = st.text(alphabet=string.ascii_letters + string.digits + "/._-~%?=&", max_size=40)
MOMENTS = st.datetimes(min_value=datetime(1996, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=UTC)
)
DIGESTS = st.binary(min_size=20, max_size=20).map(lambda raw: base64.b32encode(raw).decode())


@st.composite
def captures(draw: st.DrawFn) -> dict[str, str]:
    """One capture's columns, as an index of a crawl writes them (no field holds a space: URLs are escaped)."""
    return {
        "N": draw(TOKEN),
        "b": format_wayback_timestamp(draw(MOMENTS)),
        "a": f"{draw(st.sampled_from(['http', 'https']))}://{draw(HOSTS)}/{draw(PATHS)}",
        "m": draw(st.sampled_from(["text/html", "application/pdf", "warc/revisit", "-", "unk"])),
        "s": draw(st.one_of(st.just("-"), st.integers(100, 599).map(str))),
        "k": draw(st.one_of(st.just("-"), DIGESTS, DIGESTS.map(lambda digest: f"sha1:{digest}"))),
        "r": draw(st.one_of(st.just("-"), TOKEN)),
        "M": draw(st.sampled_from(["-", "A", "FI", "AFI"])),
        "S": draw(st.one_of(st.just("-"), st.integers(0, 10**10).map(str))),
        "V": draw(st.integers(0, 10**12).map(str)),
        "g": draw(TOKEN),
    }


def row(capture: dict[str, str], legend: str) -> str:
    return " ".join(capture[letter] for letter in legend.split())


def expected(capture: dict[str, str], *, length: bool) -> CaptureRef:
    digest = None if capture["k"] == "-" else PayloadDigest.parse(capture["k"])
    return CaptureRef(
        url=capture["a"],
        timestamp=datetime.strptime(capture["b"], "%Y%m%d%H%M%S").replace(tzinfo=UTC),
        status=None if capture["s"] == "-" else int(capture["s"]),
        mimetype=None if capture["m"] == "-" else capture["m"],
        digest=digest,
        length=int(capture["S"]) if length and capture["S"] != "-" else None,
    )


@given(st.lists(captures(), min_size=1, max_size=5), st.booleans(), st.booleans())
def test_eleven_and_nine_field_rows_give_the_capture_they_describe(rows, nine, with_legend):
    legend = CDX9_LEGEND if nine else CDX11_LEGEND
    text = "".join(row(capture, legend) + "\n" for capture in rows)
    if with_legend:
        text = f" CDX {legend}\n{text}"
    page = read_page(text, resume_keys=False)
    assert page.refs == tuple(expected(capture, length=not nine) for capture in rows)
    assert page.resume_key is None


@given(st.lists(captures(), min_size=1, max_size=3), st.permutations(CDX11_LEGEND.split()))
def test_a_legend_places_the_columns_in_any_order(rows, letters):
    legend = " ".join(letters)
    page = read_page(f"CDX {legend}\n" + "".join(row(capture, legend) + "\n" for capture in rows), resume_keys=False)
    assert page.refs == tuple(expected(capture, length=True) for capture in rows)


@given(captures(), st.integers(1, 20).filter(lambda count: count not in (7, 9, 11)))
def test_a_row_of_another_number_of_fields_is_an_error_that_says_how_many(capture, count):
    columns = [capture[letter] for letter in CDX11_LEGEND.split()] * 2
    text = " ".join(columns[:count]) + "\n"
    with pytest.raises(RowError, match=rf"unreadable row \({count} fields? instead of 7, 9 or 11\)"):
        read_page(text, resume_keys=False)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r"), max_size=300))
def test_any_text_is_a_page_or_a_row_error(text):
    try:
        page = read_page(text, resume_keys=True)
    except RowError as problem:
        assert str(problem)  # always says what it saw
        return
    for ref in page.refs:
        assert ref.url.startswith(("http://", "https://")) and ref.timestamp.tzinfo is UTC


NUMBERS = st.one_of(
    st.integers(0, 10**30).map(str),
    st.integers(0, 10**6).map(lambda number: f"{number:0>8}"),  # leading zeros
    st.integers(4000, 6000).map(lambda digits: "9" * digits),  # past the 4,300 digits Python reads as an int
)


@given(captures(), st.one_of(st.just("-"), NUMBERS), st.one_of(st.just("-"), NUMBERS), st.booleans())
def test_any_listed_status_and_length_are_read_as_given_or_make_the_row_unusable(capture, status, length, json_line):
    """Outside audit 31, F1: a status or length of any digits went through to the columns a listing is held in
    (``policy_archive.listed``) and ended in an OverflowError; now a row is read with a status of 100 to 999 and a
    length up to ``MAX_LISTED_LENGTH``, held by column as read, or it is an unusable row naming the field."""
    capture = {**capture, "s": status, "S": length}
    if json_line:  # pywb's JSON lines, where a number may also come as a JSON number
        numbers = {"status": status, "length": length}
        numbers = {name: int(value) if value != "-" and len(value) < 30 else value for name, value in numbers.items()}
        text = json.dumps({"url": capture["a"], "timestamp": capture["b"], **numbers})
    else:
        text = row(capture, CDX11_LEGEND)
    usable_status = status == "-" or (len(status.lstrip("0")) <= 3 and 100 <= int(status) <= 999)
    usable_length = length == "-" or (len(length.lstrip("0")) <= 18 and int(length) <= MAX_LISTED_LENGTH)
    try:
        (ref,) = read_page(text + "\n", resume_keys=False).refs
    except RowError as problem:
        assert not (usable_status and usable_length)
        field = "statuscode" if not usable_status else "length"
        assert str(problem).startswith(f"unusable row ({field} "), problem
        return
    assert usable_status and usable_length
    assert ref.status == (None if status == "-" else int(status))
    assert ref.length == (None if length == "-" else int(length))
    assert ListedRows([ref])[0] == ref


def test_a_row_not_matching_its_legend_is_an_error_naming_both() -> None:
    nine = "com,example)/ 20190101000000 https://example.com/ text/html 200 - - 0 a.warc.gz"
    with pytest.raises(RowError, match=r"9 fields instead of the legend's 11\): 'com,example\)/ 2019"):
        read_page(f" CDX {CDX11_LEGEND}\n{nine}\n", resume_keys=False)
    with pytest.raises(RowError, match=r"unreadable CDX legend .*' CDX N m s k'"):
        read_page(" CDX N m s k\nx text/html 200 -\n", resume_keys=False)


def test_an_unused_legend_letter_is_a_column_skipped() -> None:
    # The older CDX formats' letters (A canonical URL, e IP, c old checksum): placed by the legend, then ignored.
    legend = " CDX A b e a m s c k r V g\n"
    text = legend + "example.com/ 20190101000000 1.2.3.4 https://example.com/ text/html 200 - - - 0 f\n"
    (ref,) = read_page(text, resume_keys=False).refs
    assert (ref.url, ref.wayback_timestamp, ref.status) == ("https://example.com/", "20190101000000", 200)


# --- a listing served so, end to end ---------------------------------------------------------------------


@pytest.mark.parametrize("fields", [11, 9])
@pytest.mark.parametrize("legend", [False, True])
def test_a_listing_in_a_cdx_file_format_is_the_same_listing(
    history: StandinArchive,  # noqa: F811
    limiter: RateLimiter,  # noqa: F811
    fields: int,
    legend: bool,
) -> None:
    seven = listing(history, limiter)
    history.list_in_cdx_file_format(fields, legend=legend)  # type: ignore[arg-type]
    paged = listing(history, limiter, page_size=3)  # paged with resume keys: the legend begins every page
    whole = listing(history, limiter)
    lengths = fields == 11  # the 9-field format has no record size
    wanted = [ref if lengths else dataclasses.replace(ref, length=None) for ref in seven]
    assert whole == paged == wanted and len(wanted) == 7
    rows = [request for request in history.requests if request.path.startswith("/cdx")]
    assert rows, "the listing was asked of the stand-in"


def test_a_listing_in_an_unknown_format_fails_naming_what_it_saw(
    history: StandinArchive,  # noqa: F811
    limiter: RateLimiter,  # noqa: F811
) -> None:
    history.serve_garbage_rows()
    with pytest.raises(ListingParseError, match=r"3 fields instead of 7, 9 or 11\): '<html><body><h1>Internal"):
        listing(history, limiter)


def test_a_backfill_from_an_eleven_field_listing_records_the_versions(standin_archive: StandinArchive, tmp_path: Path):
    start, gdpr = acrcloud_history(standin_archive)
    standin_archive.list_in_cdx_file_format(11, legend=True)
    config, data = write_config(tmp_path / "config", standin_archive), tmp_path / "data"
    result = cli(config, data, "backfill", "acrcloud/privacy-policy")
    assert result.returncode == 0, result.stderr
    dates = git(data / "versions", "log", "--reverse", "--format=%aI", "main").split()
    assert dates == [start.isoformat(), gdpr.isoformat()]
    assert URL in git(data / "versions", "log", "-1", "--format=%B", "main")


@pytest.mark.parametrize(
    ("access", "blocked"), [(None, False), ("allow", False), ("block", True), ("exclude", True), ("-", False)]
)
def test_a_row_of_pywb_says_whether_its_access_rules_serve_it(access, blocked):
    """pywb 2.x adds ``access`` to every row of a collection with access rules or an embargo (``allow``, ``block``,
    ``exclude``) and serves a capture only when it is ``allow`` (outside audit 5, item 1); JSON lines and CDXJ."""
    fields = {"url": "https://example.com/privacy", "mime": "text/html", "status": "200", "digest": "A" * 32}
    if access is not None:
        fields["access"] = access
    json_line = json.dumps({"timestamp": "20180101000000", **fields}) + "\n"
    cdxj = f"com,example)/privacy 20180101000000 {json.dumps(fields)}\n"
    for text in (json_line, cdxj):
        (ref,) = read_page(text, resume_keys=False).refs
        assert ref.blocked is blocked
        assert ListedRows([ref])[0] == ref
