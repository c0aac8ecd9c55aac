"""A technical upgrade reads the latest capture again: a version of a later capture, saved after it, supersedes it.

Outside audit 31, finding 2: `backfill --until`, a rule edit and `reextract` made an upgrade (dated when it was made)
of the 2018-07-01 capture; a full `backfill` then found the 2018-08-01 capture and put its version before the
upgrade, which stayed the head: `show` gave the text of 2018-07-01, `show --at 2018-08-02` that of 2018-08-01, and
`verify` said nothing. Now the save drops the superseded upgrade (``archive.saves``), and `verify` names one a
history written before keeps (docs/decisions/0003, revision of 2026-11-29).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import git, run_cli, write_archive_settings
from test_versions import START, log, make_version

from policy_archive.archive.versions import VersionStore
from policy_archive.config.settings import load_config
from policy_archive.pipeline.jobs.examine import make_version as version_of_capture
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import Version

PRIVACY = "https://www.example.com/privacy"
TERMS = "https://www.example.com/terms"
UPGRADE = "Apply technical upgrade on "


# --- the store: which upgrades a save drops (real Git) -----------------------------------------------------------


def upgrade_of(version: Version, body: str, made_on_day: float) -> Version:
    """``version``'s capture read again with other rules, dated ``made_on_day``."""
    return replace(
        version,
        body=body,
        content=version.content.replace(version.body, body),
        technical_upgrade=True,
        committed_at=START + timedelta(days=made_on_day),
    )


def bodies(store: VersionStore, path: str) -> list[str]:
    """The text of ``path`` at each commit of ``main`` that changes it, oldest first."""
    return [store.read(commit, path).split("\n\n", 2)[2].strip() for commit in store.first_parent_commits([path])]


def store_with_an_upgrade(tmp_path: Path, *earlier: Version) -> tuple[Path, VersionStore]:
    """A store of ``earlier`` and "B old" captured on day 100, upgraded to "B new" by an upgrade dated day 1000."""
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    old = make_version("example", "privacy-policy", 100, "B old")
    store.save([*earlier, old])
    store.save([upgrade_of(old, "B new", 1000)])
    return repo, store


def test_a_version_of_a_later_capture_found_after_an_upgrade_supersedes_it(tmp_path: Path) -> None:
    repo, store = store_with_an_upgrade(tmp_path, make_version("example", "privacy-policy", 0, "A old"))
    assert log(repo)[-1][2].startswith(UPGRADE)

    store.save([make_version("example", "privacy-policy", 200, "C new")])  # a backfill finds a later capture

    assert [subject for _, _, subject in log(repo)] == [
        "First record of Example Privacy Policy",
        "Record new changes of Example Privacy Policy",
        "Record new changes of Example Privacy Policy",
    ]
    assert bodies(store, "e/example/privacy-policy.md") == ["A old", "B old", "C new"]
    assert [version.captured_at for version in store.main_versions()][-1] == START + timedelta(days=200)


def test_an_upgrade_stays_when_what_is_found_is_older_than_the_capture_it_read(tmp_path: Path) -> None:
    repo, store = store_with_an_upgrade(tmp_path, make_version("example", "privacy-policy", 0, "A old"))

    store.save([make_version("example", "privacy-policy", 50, "Z")])  # an earlier capture

    assert log(repo)[-1][2].startswith(UPGRADE)
    assert bodies(store, "e/example/privacy-policy.md") == ["A old", "Z", "B old", "B new"]


def test_a_track_after_the_upgrade_comes_after_it(tmp_path: Path) -> None:
    """A live version is dated when it was fetched, after the upgrade: the upgrade stays, the same text again is no
    commit, and another text follows it."""
    repo, store = store_with_an_upgrade(tmp_path)

    store.save([make_version("example", "privacy-policy", 1001, "B new")])
    assert [subject for _, _, subject in log(repo)][-1].startswith(UPGRADE)
    store.save([make_version("example", "privacy-policy", 1002, "C new")])
    assert bodies(store, "e/example/privacy-policy.md") == ["B old", "B new", "C new"]
    assert log(repo)[1][2].startswith(UPGRADE)


def test_a_version_saved_before_the_upgrade_does_not_supersede_it(tmp_path: Path) -> None:
    """`track` saves each fetch, the same text included (kept in the ledger only); an upgrade of the version's own
    capture made after them stands, also through later saves of earlier captures."""
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    old = make_version("example", "privacy-policy", 100, "B old")
    store.save([old, make_version("example", "privacy-policy", 150, "B old")])
    assert store.save([upgrade_of(old, "B new", 1000)]) != []
    store.save([make_version("example", "privacy-policy", 20, "Z")])
    assert bodies(store, "e/example/privacy-policy.md") == ["Z", "B old", "B new"]
    assert log(repo)[-1][2].startswith(UPGRADE)


def test_known_limit_a_version_between_the_upgrades_capture_and_one_kept_before_does_not_supersede_it(
    tmp_path: Path,
) -> None:
    """Decision 0003's known limit: the latest capture dated up to the upgrade is one saved before it (the same
    text found again), so the upgrade stays; the later version's older-rules text stands before it."""
    repo, store = store_with_an_upgrade(tmp_path, make_version("example", "privacy-policy", 150, "B old"))
    store.save([make_version("example", "privacy-policy", 120, "C new")])
    assert bodies(store, "e/example/privacy-policy.md") == ["B old", "C new", "B old", "B new"]
    assert log(repo)[-1][2].startswith(UPGRADE)


def test_a_live_version_in_the_second_of_the_upgrade(tmp_path: Path) -> None:
    """An upgrade dated a second after the latest version (``reextract.upgrade_time``) and a `track` dated in that
    second hold one place: another text (the page changed) takes it, the same text is the upgrade's."""
    for text, expected in (("B new", ["B old", "B new"]), ("C new", ["B old", "C new"])):
        repo = tmp_path / text.replace(" ", "-")
        store = VersionStore(repo)
        old = make_version("example", "privacy-policy", 100, "B old")
        store.save([old])
        store.save([upgrade_of(old, "B new", 100 + 1 / 86400)])
        store.save([make_version("example", "privacy-policy", 100 + 1 / 86400, text)])
        assert bodies(store, "e/example/privacy-policy.md") == expected
        assert log(repo)[-1][2].startswith(UPGRADE) == (text == "B new")


def test_only_the_document_with_the_later_capture_loses_its_upgrade(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    privacy = make_version("example", "privacy-policy", 100, "P old")
    terms = make_version("example", "terms", 90, "T old")
    store.save([privacy, terms])
    store.save([upgrade_of(privacy, "P new", 1000), upgrade_of(terms, "T new", 1000)])

    store.save([make_version("example", "privacy-policy", 300, "Q new")])

    assert bodies(store, "e/example/privacy-policy.md") == ["P old", "Q new"]
    assert bodies(store, "e/example/terms.md") == ["T old", "T new"]
    assert [(date[:10], subject) for _, date, subject in log(repo)] == [
        ("2016-03-31", "First record of Example Terms"),
        ("2016-04-10", "First record of Example Privacy Policy"),
        ("2016-10-27", "Record new changes of Example Privacy Policy"),
        ("2018-09-27", "Apply technical upgrade on Example Terms"),
    ]


# --- the audit's case through the command line ------------------------------------------------------------------


def page(version: int) -> str:
    paragraphs = "".join(
        f"<p>Paragraph {n} of our privacy policy explains how we collect, use and share personal data of users, "
        f"version {version}.</p>"
        for n in range(8)
    )
    return (
        "<html><head><title>Privacy Policy</title></head><body><nav><a href='/'>Home</a></nav><main>"
        f"<h1>Privacy Policy</h1><p>Last updated: March {version}, 2018</p>{paragraphs}</main></body></html>"
    )


def monthly_history(archive: StandinArchive) -> None:
    """The audit's: privacy captured on the 1st of each month of 2018 up to August (March 1, 1, 2, 2, 2, 3, 3, 1);
    terms up to June (March 5, 5, 6, 6, 6, 7)."""
    for month, version in enumerate([1, 1, 2, 2, 2, 3, 3, 1], start=1):
        archive.add_capture(PRIVACY, f"2018{month:02d}01000000", page(version))
    for month, version in enumerate([5, 5, 6, 6, 6, 7], start=1):
        archive.add_capture(TERMS, f"2018{month:02d}01000000", page(version))


def configured(tmp_path: Path, archive: StandinArchive) -> tuple[Path, Path]:
    config = write_archive_settings(tmp_path / "config", archive.cdx_url, archive.replay_url)
    (config / "services" / "example.toml").write_text(
        f'name = "Example"\n[documents.privacy-policy]\nurl = "{PRIVACY}"\n[documents.terms]\nurl = "{TERMS}"\n'
    )
    return config, tmp_path / "data"


def edit_rules(config: Path) -> None:
    service = config / "services" / "example.toml"
    rule = 'remove = ["p:nth-of-type(3)"]\n'  # the audit's edit: drops "Paragraph 1"
    for url in (PRIVACY, TERMS):
        service.write_text(service.read_text().replace(f'url = "{url}"\n', f'url = "{url}"\n{rule}'))


def ok(config: Path, data: Path, *args: str) -> str:
    result = run_cli(config, data, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def last_updated(config: Path, data: Path, document: str, *args: str) -> str:
    shown = ok(config, data, "show", document, *args)
    return next(line for line in shown.splitlines() if line.startswith("Last updated"))


def test_a_backfill_finding_a_later_capture_after_an_upgrade_makes_it_the_latest_text(standin_archive, tmp_path):
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "--until", "2018-07-15")
    edit_rules(config)
    assert "2 technical upgrades" in ok(config, data, "reextract")
    assert last_updated(config, data, "example/privacy-policy") == "Last updated: March 3, 2018"

    ok(config, data, "backfill")  # finds the privacy policy's 2018-08-01 capture (March 1)

    assert last_updated(config, data, "example/privacy-policy") == "Last updated: March 1, 2018"
    assert last_updated(config, data, "example/privacy-policy", "--at", "2018-08-02") == "Last updated: March 1, 2018"
    repo = data / "versions"
    privacy = git(repo, "log", "--format=%aI %s", "main", "--", "e/example/privacy-policy.md").splitlines()
    assert privacy[0] == "2018-08-01T00:00:00+00:00 Record new changes of Example Privacy Policy"
    assert not any(UPGRADE in line for line in privacy)
    terms = git(repo, "log", "--format=%s", "main", "--", "e/example/terms.md").splitlines()
    assert terms[0] == "Apply technical upgrade on Example Terms"  # its capture is still the latest: it stays

    assert "0 technical upgrades" in ok(config, data, "reextract")
    assert last_updated(config, data, "example/privacy-policy") == "Last updated: March 1, 2018"
    assert "stale" not in ok(config, data, "verify")


def test_verify_names_a_stale_upgrade_an_older_release_left_and_rebuild_repairs_it(standin_archive, tmp_path):
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    ok(config, data, "backfill", "--until", "2018-07-15")
    edit_rules(config)
    ok(config, data, "reextract")
    ok(config, data, "backfill")
    # What an older release left: the upgrade of the 2018-07-01 capture (made by the reextract, dropped by this
    # release's backfill) after the 2018-08-01 version. A save of an upgrade drops none: saved again, it is there.
    loaded = load_config(str(config), str(data))
    (declaration,) = loaded.select(("example/privacy-policy",))
    with open_workspace(loaded, "test") as workspace:
        row = workspace.catalog.capture_at(declaration.key, datetime(2018, 7, 1, tzinfo=UTC), url=PRIVACY)
        assert row is not None and row.body is not None and "March 3" in row.body
        made = workspace.clock + timedelta(seconds=5)
        upgrade = version_of_capture(
            declaration, row, wayback=loaded.settings.wayback, technical_upgrade=True, committed_at=made
        )
        assert workspace.versions.save([upgrade]) != []
        workspace.resync()
    assert last_updated(config, data, "example/privacy-policy") == "Last updated: March 3, 2018"

    result = run_cli(config, data, "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    failures = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1, result.stderr
    failed = failures[0]
    assert failed.startswith("FAILED example/privacy-policy: version 2018-07-01T00:00:00Z (")
    assert "captured later, on 2018-08-01T00:00:00Z, from other bytes" in failed
    assert "`policy-archive reextract --rebuild example/privacy-policy`" in failed
    assert "; 1 stale technical upgrade" in result.stdout

    # Another rule edit: reextract reads the latest capture (2018-08-01: the bytes fetched on 2018-01-01, the same),
    # not the stale upgrade's again.
    service = config / "services" / "example.toml"
    service.write_text(service.read_text().replace('remove = ["p:nth-of-type(3)"]', 'remove = ["p:nth-of-type(4)"]'))
    assert "1 technical upgrade" in ok(config, data, "reextract", "example/privacy-policy")
    assert last_updated(config, data, "example/privacy-policy") == "Last updated: March 1, 2018"
    head = git(data / "versions", "log", "-1", "--format=%B", "main")
    # The version's own capture (2018-08-01, known through its twin of 2018-01-01), as the version names it: before
    # 2026-11-29 the upgrade named the twin's, 2018-01-01 (decision 0003, amendment of 2026-11-29).
    assert head.startswith(UPGRADE) and "Captured-At: 2018-08-01T00:00:00Z" in head
    result = run_cli(config, data, "verify")  # that upgrade reads the bytes of the version it follows: not stale
    assert result.returncode == 1 and "; 1 stale technical upgrade" in result.stdout, result.stdout + result.stderr

    ok(config, data, "reextract", "--rebuild", "example/privacy-policy")
    assert last_updated(config, data, "example/privacy-policy") == "Last updated: March 1, 2018"
    assert run_cli(config, data, "verify").returncode == 0
