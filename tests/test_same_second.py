"""Several rows of one URL listed at one second (an outside audit, 2026-11-28): two crawls merged into one index,
or a response and the ``resource`` record of its rendered DOM filed under its URL in a pywb collection (our WARCs
did so before 2026-11-28; since, the DOM has a name of its own: tests/test_rendered_records.py). An archive
replays one capture per URL and second, and the catalog keeps one row; before, the second row of the pair was
never settled, so its document failed "interrupted" on every run, with no version at all.

Now the archive's one answer settles every row listed there: the row whose digest names the bytes served is the
capture (examined as any other), the others are refused once, in words (``another capture at this second``), and
a rerun is stable (tests/test_pywb.py holds the pywb case)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from standin.cli import git, run_cli
from test_backfill_resilience import START, V1, V2, V3, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured

from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.digests import PayloadDigest
from policy_archive.pipeline.jobs.backfill_plan import DocumentPlan
from policy_archive.records import CaptureRef, DocumentDeclaration, payload_sha1

V2_OTHER = [*V1, "Another crawl, at the same second, saw this paragraph instead."]


def same_second_history(archive, served_first: bool) -> tuple[str, bytes, bytes]:
    """V1, then two rows at one second (the stand-in serves the one added first), then V3. Returns the second
    and the bodies served and not served there."""
    archive.add_capture(URL, ts(START), page(V1, "a"))
    second = ts(START + timedelta(days=30))
    served, other = page(V2, "b").encode(), page(V2_OTHER, "c").encode()
    for body in (served, other) if served_first else (other, served):
        archive.add_capture(URL, second, body)
    if not served_first:
        served, other = other, served
    archive.add_capture(URL, ts(START + timedelta(days=60)), page(V3, "d"))
    return second, served, other


@pytest.mark.parametrize("strategy", ["bisect", "all"])
@pytest.mark.parametrize("served_first", [True, False], ids=["asked-row-served", "other-row-served"])
def test_two_rows_at_one_second_give_the_served_one_and_refuse_the_other_once(
    standin_archive, tmp_path, strategy, served_first
):
    # Rows at one second are asked for in the order of their digests: which of the two is asked first depends on
    # which the archive serves here, so one case asks the row served and the other the row not served.
    second, served, other = same_second_history(standin_archive, served_first)
    config, data = configured(standin_archive, tmp_path)

    first = run_cli(config, data, "backfill", DOC, "--strategy", strategy)
    assert first.returncode == 0, first.stderr
    assert "interrupted" not in first.stderr
    refusals = [line for line in first.stderr.splitlines() if "refused" in line and DOC in line]
    assert refusals == [
        f"{DOC}: capture {second} refused: another capture at this second: the archive serves the capture listed"
        f" there with digest {payload_sha1(served)} (one capture per URL and second); this row is listed with"
        f" digest {payload_sha1(other)}, status 200"
    ]
    assert standin_archive.counts()["replay"] <= 3, "one replay for the second, whichever row is asked"

    repo = data / "versions"
    dates = git(repo, "log", "--reverse", "--format=%aI", "main").split()
    assert dates == ["2014-02-03T04:05:06+00:00", "2014-03-05T04:05:06+00:00", "2014-04-04T04:05:06+00:00"]
    middle = git(repo, "show", f"main~1:{'e/example/privacy-policy.md'}")
    served_text = V2[-1] if served_first else V2_OTHER[-1]
    assert served_text in middle
    row = next(r for r in catalog_rows(data) if r["captured_at"] == "2014-03-05T04:05:06Z")
    assert (row["outcome"], row["digest"], row["payload_sha1"]) == ("extracted", payload_sha1(served), row["digest"])
    commits = git(repo, "rev-list", "main")

    again = run_cli(config, data, "backfill", DOC, "--strategy", strategy)
    assert again.returncode == 0, again.stderr
    assert f"capture {second} refused" not in again.stderr and "interrupted" not in again.stderr
    assert "0 captures examined" in again.stderr
    assert git(repo, "rev-list", "main") == commits
    status = run_cli(config, data, "status")
    assert "not examined" not in status.stdout and "backfill failed" not in status.stdout, status.stdout


def test_a_second_whose_bytes_no_row_names_refuses_every_row_there(standin_archive, tmp_path):
    """The archive serves, at the second, bytes neither row lists: the row asked for is refused digest-mismatch,
    the other with the words of that one answer; the document's other captures give their versions."""
    second, served, other = same_second_history(standin_archive, served_first=True)
    standin_archive.serve_other_bytes(URL, second, page(V2, "tampered"))
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert "interrupted" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if f"capture {second} refused" in line]
    assert len(lines) == 2, result.stderr
    assert any("digest-mismatch" in line and "another capture" not in line for line in lines)
    assert any("another capture at this second: the archive's one answer there" in line for line in lines)
    assert len(git(data / "versions", "rev-list", "main").split()) == 2
    again = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert again.returncode == 0 and "interrupted" not in again.stderr, again.stderr


def test_a_digest_refusal_kept_by_an_older_release_at_a_shared_second_is_examined_again():
    """Before 2026-11-28 each row of the second was examined against the one replay, and the catalog row kept the
    last verdict: a digest-mismatch for the row not served, over the bytes of the row served. That row's bytes are
    known to be a row's listed there, so the second is examined again rather than refused."""
    declaration = DocumentDeclaration("example", "Example", "privacy-policy", URL)
    at = START
    served, other = page(V2, "b").encode(), page(V2_OTHER, "c").encode()
    refs = [CaptureRef(URL, at, 200, "text/html", PayloadDigest.parse(payload_sha1(b))) for b in (served, other)]
    stale = CaptureRow(
        id=1,
        document=DOC,
        source="wayback",  # type: ignore[arg-type]
        url=URL,
        captured_at=at,
        status=200,
        mimetype="text/html",
        digest=refs[0].digest,
        fetched_url=None,
        payload_sha1=payload_sha1(served),
        stored=None,
        outcome=Outcome.REFUSED,
        reason=f"digest-mismatch: the archive served bytes with SHA-1 {payload_sha1(served)} for a capture its listing"
        f" gives as {payload_sha1(other)} (setting [wayback] check_digests)",
        title=None,
        body=None,
        body_sha1=None,
        window_start=None,
    )
    plan = DocumentPlan(declaration, refs, "all", None, [stale])  # type: ignore[arg-type]
    assert plan.known == {}, "examined again"
    extracted = CaptureRow(**{**stale.__dict__, "outcome": Outcome.EXTRACTED, "reason": None, "body_sha1": "t"})
    plan = DocumentPlan(declaration, refs, "all", None, [extracted])  # type: ignore[arg-type]
    assert plan.known == {0: "t", 1: None}, "the row served shows its text, the other is refused"
    assert plan.complete
