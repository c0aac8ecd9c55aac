"""``[wayback] archive_name``: the provenance header names the archive its captures come from (acceptance report 7,
F5), the default staying DESIGN.md's seed form byte for byte; a change of name is never a change of the document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standin.archive import StandinArchive
from standin.cli import git, run_cli
from test_backfill_e2e import URL, V1, V2, page, ts, write_config
from test_config import GOOD_SERVICE, error_of

from policy_archive.config.settings import (
    ARCHIVE_NAME_MAX_LENGTH,
    DEFAULT_ARCHIVE_NAME,
    WaybackSettings,
    load_config,
)
from policy_archive.pipeline.jobs.provenance import archive_name, header
from policy_archive.records import DocumentDeclaration, Source

LIBRARY = "the National Library's web archive"
DECLARATION = DocumentDeclaration("acrcloud", "ACRCloud", "privacy-policy", URL)
REPLAY = "http://127.0.0.1:8765/web"
SNAPSHOT = f"{REPLAY}/20180528080007id_/{URL}"
MOMENT = datetime(2018, 5, 28, 8, 0, 7, tzinfo=UTC)


def archive_header(archive: str) -> str:
    return header(DECLARATION, Source.WAYBACK, URL, MOMENT, SNAPSHOT, archive=archive)


def test_the_default_name_is_the_seed_form() -> None:
    assert WaybackSettings().archive_name == DEFAULT_ARCHIVE_NAME == "the Wayback Machine"
    assert (
        archive_header(DEFAULT_ARCHIVE_NAME)
        == header(DECLARATION, Source.WAYBACK, URL, MOMENT, SNAPSHOT)
        == (
            "> *The following text is extracted and transformed from the acrcloud.com privacy policy that was archived "
            "on 2018-05-28. Please check the [original snapshot on the Wayback Machine]"
            f"({REPLAY}/20180528080007id_/https%3A//www.acrcloud.com/privacy) for the most accurate reproduction.*"
        )
    )


def test_a_configured_name_is_said_in_the_header() -> None:
    assert f"[original snapshot on {LIBRARY}]({REPLAY}/20180528080007id_/https%3A//" in archive_header(LIBRARY)


def test_markdown_in_the_name_shows_as_written() -> None:
    # An unescaped "]" or "*" would end the link or the header's emphasis; "<b>" would be raw HTML.
    line = archive_header("the *Archive* [of] <b>A & B</b> `x` ~y~ \\ snake_case")
    assert "on the \\*Archive\\* \\[of\\] \\<b\\>A \\& B\\</b\\> \\`x\\` \\~y\\~ \\\\ snake\\_case](" in line
    assert line.endswith("for the most accurate reproduction.*")


def test_a_live_capture_names_no_archive() -> None:
    live = header(DECLARATION, Source.LIVE, URL, MOMENT, URL, archive=LIBRARY)
    assert LIBRARY not in live and live == header(DECLARATION, Source.LIVE, URL, MOMENT, URL)


def test_the_name_is_given_only_to_captures_of_the_configured_archive() -> None:
    wayback = WaybackSettings(replay_url=REPLAY, archive_name=LIBRARY)
    assert archive_name(wayback, SNAPSHOT) == LIBRARY
    # A capture kept from an earlier replay_url (the Internet Archive's) is not the library's.
    assert archive_name(wayback, f"https://web.archive.org/web/20180528080007id_/{URL}") == DEFAULT_ARCHIVE_NAME
    assert archive_name(WaybackSettings(replay_url=REPLAY), SNAPSHOT) == DEFAULT_ARCHIVE_NAME


def test_the_setting_is_read_without_its_outer_spaces(tmp_path: Path) -> None:
    settings = f'[wayback]\narchive_name = "  {LIBRARY} "\n'
    root = tmp_path / "config"
    (root / "services").mkdir(parents=True)
    (root / "services" / "acrcloud.toml").write_text(GOOD_SERVICE)
    (root / "settings.toml").write_text(settings)
    assert load_config(root).settings.wayback.archive_name == LIBRARY


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        # A line break would start a new line in the version file; none can reach it, nor a commit message.
        ('[wayback]\narchive_name = "the archive\\n\\nSource: live"\n', "U+000A"),
        ('[wayback]\narchive_name = "the archive\\u2028Source: live"\n', "U+2028"),
        ('[wayback]\narchive_name = "the \\u202earchive"\n', "U+202E"),
        ('[wayback]\narchive_name = "   "\n', "must name the archive"),
        (f'[wayback]\narchive_name = "{"a" * (ARCHIVE_NAME_MAX_LENGTH + 1)}"\n', "longer than 200 characters"),
        ("[wayback]\narchive_name = 7\n", "must be a string"),
    ],
)
def test_bad_names_are_refused_naming_file_and_key(tmp_path: Path, settings: str, reason: str) -> None:
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)
    assert error.key == "wayback.archive_name" and error.file.endswith("settings.toml")
    assert reason in error.reason


def test_validate_exits_2_for_a_bad_name(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config", None, cdx_url="http://127.0.0.1:9/cdx/search/cdx")
    with (config / "settings.toml").open("a") as settings:
        settings.write('archive_name = "the archive\\nSource: live"\n')
    result = run_cli(config, tmp_path / "data", "validate")
    assert result.returncode == 2
    assert "wayback.archive_name" in result.stderr and "U+000A" in result.stderr
    assert not (tmp_path / "data").exists()


# --- end to end: a change of name is not a change of the document --------------------------------------------

V0 = ["PRIVACY POLICY (2015)", *V1[2:]]
V3 = [*V2, "We added a section on the transfers of your data outside the European Union in 2019."]
BEFORE = datetime(2016, 3, 1, 9, 0, 0, tzinfo=UTC)  # the earlier text, archived only after the first run
FIRST = datetime(2017, 1, 3, 10, 20, 30, tzinfo=UTC)
GDPR = datetime(2018, 5, 28, 8, 0, 7, tzinfo=UTC)
LATER = datetime(2019, 7, 1, 12, 0, 0, tzinfo=UTC)
PATH = "a/acrcloud/privacy-policy.md"


def versions(repo: Path) -> dict[str, tuple[str, str]]:
    """Each commit's author date: (its file's content, its message)."""
    found = {}
    for line in git(repo, "log", "--reverse", "--format=%H %aI", "main").splitlines():
        commit, date = line.split()
        found[date] = (git(repo, "show", f"{commit}:{PATH}"), git(repo, "log", "-1", "--format=%B", commit))
    return found


def test_a_new_name_commits_nothing_and_recorded_versions_keep_their_header(
    standin_archive: StandinArchive, tmp_path: Path
) -> None:
    archive = standin_archive
    for i, (moment, text) in enumerate([(FIRST, V1), (FIRST + timedelta(days=40), V1), (GDPR, V2)]):
        archive.add_capture(URL, ts(moment), page(text, i))
    config, data = write_config(tmp_path / "config", archive), tmp_path / "data"
    repo = data / "versions"
    assert run_cli(config, data, "backfill", "--strategy", "all").returncode == 0
    recorded = versions(repo)
    assert len(recorded) == 2
    assert all("original snapshot on the Wayback Machine](" in content for content, _ in recorded.values())
    head = git(repo, "rev-parse", "main")

    with (config / "settings.toml").open("a") as settings:  # the file's last table is [wayback]
        settings.write(f'archive_name = "{LIBRARY}"\n')
    again = run_cli(config, data, "backfill", "--strategy", "all")
    assert again.returncode == 0, again.stderr
    assert git(repo, "rev-parse", "main") == head, "a new archive name must not be a new version"
    assert git(repo, "status", "--porcelain") == ""

    # An earlier and a later text appear in the archive: the later versions are re-chained, their files as saved.
    archive.add_capture(URL, ts(BEFORE), page(V0, 10))
    archive.add_capture(URL, ts(LATER), page(V3, 11))
    third = run_cli(config, data, "backfill", "--strategy", "all")
    assert third.returncode == 0, third.stderr
    rebuilt = versions(repo)
    assert list(rebuilt) == [moment.isoformat() for moment in (BEFORE, FIRST, GDPR, LATER)]
    for moment in (FIRST, GDPR):
        assert rebuilt[moment.isoformat()][0] == recorded[moment.isoformat()][0]  # byte for byte
    for moment in (BEFORE, LATER):
        content, message = rebuilt[moment.isoformat()]
        assert f"Please check the [original snapshot on {LIBRARY}]({archive.replay_url}/{ts(moment)}id_/" in content
        assert "Source: wayback" in message.splitlines()
    assert all(LIBRARY not in message for _, message in rebuilt.values())

    # A history made again from the captures is written with the name configured now.
    result = run_cli(config, data, "reextract", "--rebuild")
    assert result.returncode == 0, result.stderr
    remade = versions(repo)
    assert list(remade) == list(rebuilt)
    assert all(f"original snapshot on {LIBRARY}](" in content for content, _ in remade.values())
    assert [content.partition("\n")[2] for content, _ in remade.values()] == [
        content.partition("\n")[2] for content, _ in rebuilt.values()
    ]
