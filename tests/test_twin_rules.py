"""A capture known only through its twin is recorded with the text the rules of its version give.

A backfill after a declaration's ``select``/``remove`` were edited (and before any `reextract`) dated a version at a
capture never fetched, known through its twin (the same CDX digest as a capture fetched by an earlier run): it took
the twin's text from the catalog, extracted with the rules of then, while the commit named the rules of now, and
`verify` reported a mismatch. The catalog now keeps which extractor and rules gave each text; a twin's text extracted
with others is extracted again from the twin's kept bytes (no archive request), with the version's rules.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import git, run_cli
from test_upgrade_superseded import PRIVACY, TERMS, configured, edit_rules, monthly_history, ok, page

from policy_archive.config.settings import load_config
from policy_archive.pipeline.extraction.extract import extractor_label
from policy_archive.pipeline.jobs.decided_versions import same_reading
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import Source

PRIVACY_FILE = "e/example/privacy-policy.md"


def head_text(data: Path) -> tuple[str, str]:
    """The privacy policy's latest version on ``main``: its file and its commit message."""
    repo = data / "versions"
    commit = git(repo, "log", "-1", "--format=%H", "main", "--", PRIVACY_FILE).strip()
    return git(repo, "show", f"{commit}:{PRIVACY_FILE}"), git(repo, "log", "-1", "--format=%B", commit)


def test_a_twin_extracted_with_other_rules_is_extracted_again_with_the_versions_rules(standin_archive, tmp_path):
    monthly_history(standin_archive)  # the privacy policy of 2018-08-01 has the bytes of 2018-01-01
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "--until", "2018-07-15")
    edit_rules(config)  # drops "Paragraph 1"; no reextract

    standin_archive.settle()
    standin_archive.clear_log()
    ok(config, data, "backfill")  # lists 2018-08-01: a twin of 2018-01-01, not fetched
    standin_archive.settle()
    replayed = [request.path for request in standin_archive.requests if request.endpoint == "replay"]
    assert not any("2018080" in path or "2018010" in path for path in replayed), replayed  # the kept bytes read

    text, message = head_text(data)
    assert "Captured-At: 2018-08-01T00:00:00Z" in message
    assert "Last updated: March 1, 2018" in text
    assert "Paragraph 0 of" in text and "Paragraph 2 of" in text
    assert "Paragraph 1 of" not in text  # the rules of now, which the commit names
    loaded = load_config(str(config), str(data))
    (declaration,) = loaded.select(("example/privacy-policy",))
    assert f"Extractor: {extractor_label(declaration.entry_at(datetime(2018, 8, 1, tzinfo=UTC))[1])}" in message
    with open_workspace(loaded, "test") as workspace:
        rows = [row for row in workspace.catalog.captures(declaration.key, Source.WAYBACK) if row.url == PRIVACY]
    august = [row for row in rows if row.captured_at.month == 8]
    assert august and august[0].stored is None  # never fetched: known through its twin

    result = run_cli(config, data, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def set_warc_files_aside(data: Path, aside: Path) -> None:
    """The kept captures of the runs so far moved out of the data directory: their bytes cannot be read."""
    aside.mkdir()
    for warc in (data / "captures").glob("*.warc.gz"):
        warc.rename(aside / warc.name)


def test_a_twin_read_as_its_version_is_is_not_read_again(standin_archive, tmp_path):
    """The same rules: the twin's text is the version's, taken from the catalog; its bytes are not read (here they
    cannot be, and the version is still made)."""
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "--until", "2018-07-15")
    set_warc_files_aside(data, tmp_path / "aside")

    out = ok(config, data, "backfill")

    text, message = head_text(data)
    assert "Captured-At: 2018-08-01T00:00:00Z" in message
    assert "Last updated: March 1, 2018" in text and "Paragraph 1 of" in text
    assert "no version recorded" not in out


def test_a_twin_read_otherwise_whose_bytes_cannot_be_read_is_fetched_and_the_run_says_so(standin_archive, tmp_path):
    """Other rules and the twin's bytes not readable: no version with a text its rules do not give. The twin's text
    is not taken (nor any text of the rules of then: ``tests/test_rules_text.py``), the run says which captures, and
    the captures of those bytes are known through nothing read: one of them is fetched and read as it is, and the
    version is made with it (2026-11-29: before, no version was made of that capture that run)."""
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "--until", "2018-07-15")
    edit_rules(config)
    set_warc_files_aside(data, tmp_path / "aside")

    out = ok(config, data, "backfill")

    text, message = head_text(data)
    assert "Captured-At: 2018-08-01T00:00:00Z" in message
    assert "Last updated: March 1, 2018" in text and "Paragraph 1 of" not in text
    said = "example/privacy-policy: 3 kept captures not compared (their texts were extracted with other rules"
    assert said in out, out
    assert "missing capture" in out and "`policy-archive reextract example/privacy-policy`" in out


def test_same_reading_is_the_extractor_revision_and_the_rules() -> None:
    wanted = "policy-archive-extract 4 (lxml 6.1.3, pypdf 7.1.0); rules 64f294690d8c"
    assert same_reading(wanted, wanted)
    assert same_reading("policy-archive-extract 4 (lxml 6.2.0, pypdf 7.2.0); rules 64f294690d8c", wanted)
    assert not same_reading("policy-archive-extract 4 (lxml 6.1.3, pypdf 7.1.0); rules f23aa920f462", wanted)
    assert not same_reading("policy-archive-extract 3 (lxml 6.1.3, pypdf 7.1.0); rules 64f294690d8c", wanted)
    assert not same_reading("policy-archive-extract 4 (lxml 6.1.3, pypdf 7.1.0)", wanted)  # no rules named
    assert not same_reading(None, wanted)  # extracted before the catalog kept it


def test_a_twin_extracted_before_the_catalog_named_readings_is_read_once(standin_archive, tmp_path):
    """A text extracted before the catalog kept its reading (NULL) is read again by the next backfill listing its
    capture (every text a plan learns is read with the rules of now: ``tests/test_rules_text.py``), and named, so
    the backfill after it reads nothing again."""
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "--until", "2018-07-15")
    with sqlite3.connect(data / "catalog.sqlite3") as catalog:
        catalog.execute("UPDATE captures SET extractor = NULL")  # as an older release left it
    catalog.close()

    ok(config, data, "backfill")

    text, message = head_text(data)
    assert "Captured-At: 2018-08-01T00:00:00Z" in message and "Paragraph 1 of" in text
    loaded = load_config(str(config), str(data))
    (declaration,) = loaded.select(("example/privacy-policy",))
    label = extractor_label(declaration.entry_at(datetime(2018, 1, 1, tzinfo=UTC))[1])
    with open_workspace(loaded, "test") as workspace:
        rows = {row.captured_at.month: row for row in workspace.catalog.captures(declaration.key, Source.WAYBACK)}
    assert rows[1].extractor == label  # the twin, read again, named
    assert rows[2].stored is None or rows[2].extractor == label  # a twin never fetched has no text of its own
    assert "read again" not in ok(config, data, "backfill")
    assert run_cli(config, data, "verify").returncode == 0


def with_rules_until_june(config: Path) -> None:
    """The privacy policy's rules differ by date: until 2018-06-30 (a ``history`` entry, the same URL) "Paragraph 1"
    is dropped, after it nothing is."""
    (config / "services" / "example.toml").write_text(
        f'name = "Example"\n[documents.privacy-policy]\nurl = "{PRIVACY}"\n'
        f'[[documents.privacy-policy.history]]\nurl = "{PRIVACY}"\nremove = ["p:nth-of-type(3)"]\n'
        'valid_until = "2018-06-30"\n'
        f'[documents.terms]\nurl = "{TERMS}"\n'
    )


def versions_texts(data: Path) -> dict[str, tuple[str, str]]:
    """The privacy policy's versions on ``main`` by ``Captured-At``: each one's file and commit message."""
    repo = data / "versions"
    found = {}
    for commit in git(repo, "log", "--format=%H", "main", "--", PRIVACY_FILE).split():
        message = git(repo, "log", "-1", "--format=%B", commit)
        at = next(line for line in message.splitlines() if line.startswith("Captured-At: "))
        found[at.removeprefix("Captured-At: ")] = (git(repo, "show", f"{commit}:{PRIVACY_FILE}"), message)
    return found


def test_a_twin_across_a_rules_boundary_is_read_with_the_rules_of_its_versions_date(standin_archive, tmp_path):
    """The capture of 2018-08-01 has the bytes of 2018-01-01, fetched under the rules before the boundary: its
    version names the rules of August and has their text (before 2026-11-29 it had the twin's date's, without
    "Paragraph 1"), and the twin's own version keeps January's."""
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    with_rules_until_june(config)

    ok(config, data, "backfill")

    loaded = load_config(str(config), str(data))
    (declaration,) = loaded.select(("example/privacy-policy",))
    rules = {month: extractor_label(declaration.entry_at(datetime(2018, month, 1, tzinfo=UTC))[1]) for month in (1, 8)}
    assert rules[1] != rules[8]
    versions = versions_texts(data)
    text, message = versions["2018-08-01T00:00:00Z"]
    assert f"Extractor: {rules[8]}" in message
    assert "Last updated: March 1, 2018" in text and "Paragraph 1 of" in text
    text, message = versions["2018-01-01T00:00:00Z"]
    assert f"Extractor: {rules[1]}" in message
    assert "Last updated: March 1, 2018" in text and "Paragraph 1 of" not in text
    with open_workspace(loaded, "test") as workspace:
        rows = [row for row in workspace.catalog.captures(declaration.key, Source.WAYBACK) if row.url == PRIVACY]
    # Fetched since 2026-11-29: its January twin was read with other rules, so its text is not known through it
    # (one replay per reading of the same bytes; a change the boundary makes is then found).
    assert [row.stored is not None for row in rows if row.captured_at.month == 8] == [True]
    assert [row.extractor for row in rows if row.captured_at.month == 1] == [rules[1]]  # the twin keeps its own

    again = ok(config, data, "backfill")  # the twin's bytes read again with August's rules: the same text
    assert "no version recorded" not in again
    assert versions_texts(data) == versions


def test_verify_reads_a_twin_across_a_rules_boundary_with_the_rules_of_its_versions_date(standin_archive, tmp_path):
    """`verify` finds the version of 2018-08-01 in its twin's record (January's) and reads it with the rules of the
    version's date, which its commit names: before 2026-11-29 it read it with January's, and so agreed with the
    twin's text recorded then."""
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    with_rules_until_june(config)
    ok(config, data, "backfill")
    text, _ = versions_texts(data)["2018-08-01T00:00:00Z"]
    assert "Paragraph 1 of" in text

    result = run_cli(config, data, "verify")

    assert result.returncode == 0, result.stdout + result.stderr
    # Eight since 2026-11-29: July has June's bytes, read with July's rules (with "Paragraph 1"), a version of its
    # own; before, it was known through June's text read with June's rules, and the change at the boundary missed.
    assert "8/8 versions verified" in result.stdout, result.stdout


def test_reextract_reads_a_twin_across_a_rules_boundary_with_the_rules_of_its_versions_date(standin_archive, tmp_path):
    """`reextract` and `reextract --rebuild` make the version of 2018-08-01, known through its twin of January, from
    the twin's bytes read with August's rules, as the backfill does: before 2026-11-29 the rebuild took the twin's
    catalog text (January's rules, without "Paragraph 1"), which `verify` then reported a mismatch."""
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    with_rules_until_june(config)
    ok(config, data, "backfill")
    versions = versions_texts(data)

    assert "0 technical upgrades" in ok(config, data, "reextract")
    assert versions_texts(data) == versions
    ok(config, data, "reextract", "--rebuild")

    text, _ = versions_texts(data)["2018-08-01T00:00:00Z"]
    assert "Last updated: March 1, 2018" in text and "Paragraph 1 of" in text
    assert versions_texts(data) == versions
    result = run_cli(config, data, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def one_page_all_year(archive: StandinArchive) -> None:
    """The privacy policy's bytes the same at every monthly capture of 2018 up to August: every capture after the
    first is its twin (the same CDX digest)."""
    for month in range(1, 9):
        archive.add_capture(PRIVACY, f"2018{month:02d}01000000", page(1))


def test_a_change_the_rules_boundary_makes_between_twins_is_found_and_dated_at_its_first_capture(
    standin_archive, tmp_path
):
    """The same bytes all year, read without "Paragraph 1" until 2018-06-30 and with it after: the text changes on
    2018-07-01, at a twin of the first capture. Bisect and ``all`` knew every twin by the first capture's text, read
    with January's rules, and found no change: one version (until 2026-11-29). A twin's text is known through
    another capture only where both are read with the same rules; the change is found and dated at the first
    capture after the boundary, with the text and rules of its date."""
    one_page_all_year(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    with_rules_until_june(config)

    ok(config, data, "backfill")

    versions = versions_texts(data)
    assert sorted(versions) == ["2018-01-01T00:00:00Z", "2018-07-01T00:00:00Z"], sorted(versions)
    assert "Paragraph 1 of" not in versions["2018-01-01T00:00:00Z"][0]
    assert "Paragraph 1 of" in versions["2018-07-01T00:00:00Z"][0]
    loaded = load_config(str(config), str(data))
    (declaration,) = loaded.select(("example/privacy-policy",))
    july = extractor_label(declaration.entry_at(datetime(2018, 7, 1, tzinfo=UTC))[1])
    assert f"Extractor: {july}" in versions["2018-07-01T00:00:00Z"][1]
    assert run_cli(config, data, "verify").returncode == 0
    again = ok(config, data, "backfill")  # the catalog's rows teach the plan the same: nothing new, nothing lost
    assert versions_texts(data) == versions, again
    ok(config, data, "reextract", "--rebuild")  # a twin is a candidate through a capture read with its rules only
    assert versions_texts(data) == versions


def test_all_finds_the_change_a_rules_boundary_makes_between_twins(standin_archive, tmp_path):
    one_page_all_year(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    with_rules_until_june(config)

    ok(config, data, "backfill", "--strategy", "all")

    assert sorted(versions_texts(data)) == ["2018-01-01T00:00:00Z", "2018-07-01T00:00:00Z"]
