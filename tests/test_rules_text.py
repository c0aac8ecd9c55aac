"""Every text a backfill compares or records is read with the rules of now.

After a declaration's ``select``/``remove`` were edited (or the extractor's revision changed), the catalog still
held the texts of the captures fetched before, extracted with the rules of then, until `reextract`. A backfill
compared them with the texts of the captures it fetched (a rule edit looked like a change of the policy, or hid
one) and recorded versions with them under an ``Extractor:`` trailer naming the rules of now (`verify`: a
mismatch). Now a backfill reads such a capture's kept bytes again (no archive request) before deciding anything,
once: the catalog keeps the new text with the reading that gave it (``captures.extractor``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import git, run_cli
from test_upgrade_superseded import PRIVACY, configured, edit_rules, ok

from policy_archive.config.settings import load_config
from policy_archive.pipeline.extraction.extract import extractor_label

PRIVACY_FILE = "e/example/privacy-policy.md"


def page(version: str, token: str, paragraphs: int = 8) -> str:
    """A privacy policy page; ``token`` makes each capture's bytes its own (no twins), as on real pages."""
    body = "".join(
        f"<p>Paragraph {n} of our privacy policy explains how we collect, use and share personal data of users, "
        f"version {version}.</p>"
        for n in range(paragraphs)
    )
    return (
        "<html><head><title>Privacy Policy</title></head><body><main>"
        f"<h1>Privacy Policy</h1><p>Last updated: {version}</p>{body}<!-- served {token} --></main></body></html>"
    )


def add_months(archive: StandinArchive, texts: dict[int, tuple[str, int]]) -> None:
    """The privacy policy captured on the 1st of each month of 2018 given: (its version, its paragraphs)."""
    for month, (version, paragraphs) in texts.items():
        archive.add_capture(PRIVACY, f"2018{month:02d}01000000", page(version, f"m{month}", paragraphs))


def privacy_commits(data: Path) -> list[str]:
    """The privacy policy's commits on ``main``, oldest first: ``Captured-At`` and subject."""
    repo = data / "versions"
    commits = git(repo, "log", "--reverse", "--format=%H", "main", "--", PRIVACY_FILE).split()
    lines = []
    for commit in commits:
        message = git(repo, "log", "-1", "--format=%B", commit)
        captured = next(line for line in message.splitlines() if line.startswith("Captured-At: "))
        lines.append(f"{captured.removeprefix('Captured-At: ')} {message.splitlines()[0]}")
    return lines


def privacy_text(data: Path) -> tuple[str, str]:
    repo = data / "versions"
    commit = git(repo, "log", "-1", "--format=%H", "main", "--", PRIVACY_FILE).strip()
    return git(repo, "show", f"{commit}:{PRIVACY_FILE}"), git(repo, "log", "-1", "--format=%B", commit)


def label_now(config: Path, data: Path) -> str:
    loaded = load_config(str(config), str(data))
    (declaration,) = loaded.select(("example/privacy-policy",))
    return extractor_label(declaration.entry_at(datetime(2018, 1, 1, tzinfo=UTC))[1])


def readings(data: Path) -> dict[str, str | None]:
    """The reading the catalog names for each fetched capture's text, by listed time."""
    with sqlite3.connect(data / "catalog.sqlite3") as catalog:
        rows = catalog.execute(
            "SELECT captured_at, extractor FROM captures WHERE warc_file IS NOT NULL AND body_sha1 IS NOT NULL"
        ).fetchall()
    catalog.close()
    return dict(rows)


def replayed(archive: StandinArchive) -> list[str]:
    archive.settle()
    return [request.path for request in archive.requests if request.endpoint == "replay"]


def test_a_rule_edit_is_no_change_of_the_policy(standin_archive, tmp_path):
    """Captures fetched before the edit and after it show one text: no version for the edit (it was one)."""
    add_months(standin_archive, {1: ("A", 8), 2: ("A", 8), 3: ("B", 8)})
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "example/privacy-policy", "--strategy", "all")
    before = privacy_commits(data)
    assert [line[:20] for line in before] == ["2018-01-01T00:00:00Z", "2018-03-01T00:00:00Z"]
    kept_before = sorted((data / "captures").glob("*.warc.gz"))
    edit_rules(config)
    add_months(standin_archive, {4: ("B", 8), 5: ("B", 8), 6: ("C", 8)})
    standin_archive.settle()
    standin_archive.clear_log()

    said = ok(config, data, "backfill", "example/privacy-policy", "--strategy", "all")

    assert "3 kept captures read again" in said, said
    # The kept captures read again, not fetched; only the new ones asked for.
    assert not any(f"2018{month:02d}01" in path for path in replayed(standin_archive) for month in (1, 2, 3))
    assert privacy_commits(data) == [*before, "2018-06-01T00:00:00Z Record new changes of Example Privacy Policy"]
    text, _ = privacy_text(data)
    assert "Last updated: C" in text and "Paragraph 1 of" not in text
    label = label_now(config, data)
    assert set(readings(data).values()) == {label}  # each text named with the reading that gave it
    assert run_cli(config, data, "verify").returncode == 0

    # Read once: the bytes kept before are not read again (here they cannot be, and nothing is said of them).
    aside = tmp_path / "aside"
    aside.mkdir()
    for warc in kept_before:
        warc.rename(aside / warc.name)
    out = ok(config, data, "backfill", "example/privacy-policy", "--strategy", "all")
    assert "cannot be read" not in out and "missing capture" not in out and "read again" not in out, out
    assert privacy_commits(data)[-1].startswith("2018-06-01T00:00:00Z")


def test_a_change_seen_before_and_after_a_rule_edit_is_dated_at_its_first_capture(standin_archive, tmp_path):
    """A short text captured once before the edit (refused by the guards: seen on one day) and twice after: one text,
    seen on three days, recorded at its first capture. Compared under two sets of rules, the first capture's text
    was another and the version was dated a month late."""
    add_months(standin_archive, {1: ("L", 8), 2: ("L", 8), 3: ("S", 2)})
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "example/privacy-policy", "--strategy", "all")
    assert [line[:20] for line in privacy_commits(data)] == ["2018-01-01T00:00:00Z"]  # S refused: one day only
    edit_rules(config)
    add_months(standin_archive, {4: ("S", 2), 5: ("S", 2)})

    ok(config, data, "backfill", "example/privacy-policy", "--strategy", "all")

    assert [line[:20] for line in privacy_commits(data)] == ["2018-01-01T00:00:00Z", "2018-03-01T00:00:00Z"]
    text, message = privacy_text(data)
    assert "Last updated: S" in text and "Paragraph 1 of" not in text
    assert f"Extractor: {label_now(config, data)}" in message
    assert run_cli(config, data, "verify").returncode == 0


def test_a_capture_fetched_before_a_rule_edit_dates_a_version_with_the_text_of_now(standin_archive, tmp_path):
    """The short text's capture fetched before the edit dates its version once a twin listed later confirms it
    (not through the twin: through its own row). It was recorded with the text of the rules of then under the name
    of the rules of now: `verify` found a mismatch."""
    add_months(standin_archive, {1: ("L", 8), 2: ("L", 8)})
    short = page("S", "same bytes", 2)
    standin_archive.add_capture(PRIVACY, "20180301000000", short)
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "example/privacy-policy")
    edit_rules(config)
    standin_archive.add_capture(PRIVACY, "20180401000000", short)  # its twin: the same digest, not fetched

    ok(config, data, "backfill", "example/privacy-policy")

    assert [line[:20] for line in privacy_commits(data)] == ["2018-01-01T00:00:00Z", "2018-03-01T00:00:00Z"]
    text, message = privacy_text(data)
    assert "Captured-At: 2018-03-01T00:00:00Z" in message
    assert "Paragraph 0 of" in text and "Paragraph 1 of" not in text
    result = run_cli(config, data, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def test_reextract_after_such_a_backfill_still_records_the_technical_upgrade(standin_archive, tmp_path):
    """The backfill brought the catalog's texts up to the rules of now, not ``main``'s: `reextract` compares the latest
    capture's text with the version ``main`` shows, and records the upgrade."""
    add_months(standin_archive, {1: ("A", 8), 2: ("A", 8)})
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "example/privacy-policy")
    edit_rules(config)
    ok(config, data, "backfill", "example/privacy-policy")
    assert "Paragraph 1 of" in privacy_text(data)[0]  # the date is taken: the version of then stays

    assert "1 technical upgrade" in ok(config, data, "reextract", "example/privacy-policy")

    assert "Paragraph 1 of" not in privacy_text(data)[0]
    assert run_cli(config, data, "verify").returncode == 0
    assert "0 technical upgrades" in ok(config, data, "reextract", "example/privacy-policy")


def test_a_kept_capture_that_cannot_be_read_is_not_compared_and_the_run_says_so(standin_archive, tmp_path):
    add_months(standin_archive, {1: ("A", 8), 2: ("A", 8)})
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "example/privacy-policy", "--strategy", "all")
    edit_rules(config)
    aside = tmp_path / "aside"
    aside.mkdir()
    for warc in (data / "captures").glob("*.warc.gz"):
        warc.rename(aside / warc.name)
    add_months(standin_archive, {3: ("A", 8)})

    out = ok(config, data, "backfill", "example/privacy-policy", "--strategy", "all")

    said = "example/privacy-policy: 2 kept captures not compared (their texts were extracted with other rules or"
    assert said in out, out
    assert "capture 20180101000000: missing capture" in out
    assert "`policy-archive reextract example/privacy-policy` reads them again" in out
    with sqlite3.connect(data / "catalog.sqlite3") as catalog:  # left as it was, for a run that can read it
        (kept,) = catalog.execute("SELECT extractor FROM captures WHERE captured_at LIKE '2018-01-01%'").fetchone()
    catalog.close()
    assert kept != label_now(config, data)
