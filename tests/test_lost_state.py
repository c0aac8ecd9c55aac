"""Lost or missing state, through the real command line: Git objects deleted from the versions repository, a
catalog set aside (rebuilt from the WARC files), a data directory that is not there. Each is repaired when that
is safe, or refused in one line naming the command that repairs it; nothing already downloaded is fetched again."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import subprocess
from contextlib import closing
from io import BytesIO
from pathlib import Path

import pytest
from standin.cli import git, run_cli
from standin.hostile import RouteServer
from test_backfill_e2e import acrcloud_history
from test_backfill_e2e import write_config as write_backfill_config
from test_hostile import POLICY, assert_one_line, tracked_config, write_config
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from policy_archive.pipeline.commands.cli import main

GOOD_DOCUMENT = '[documents.privacy-policy]\nurl = "https://acme.example/privacy"\n'


# Every command, by what it needs of the data directory; a new command must be placed here (the last test).
ON_COLLECTED_DATA = {
    "log": ["log", "acme"],
    "show": ["show", "acme/privacy-policy"],
    "diff": ["diff", "acme/privacy-policy"],
    "export": ["export", "--format", "jsonl", "--output", "{out}/export.jsonl"],
    "report": ["report", "--output", "{out}/site"],
    "verify": ["verify"],
    "reextract": ["reextract"],
    "repair": ["repair"],
}
# `status` reads the data too, but answers "no data yet" for a directory holding none (a fresh install's status).
TELLS_NO_DATA_YET = {"status": ["status"]}
MAKE_DATA = {"backfill", "track", "schedule", "discover"}
NEED_NO_DATA = {"extract", "init", "validate", "import-ota"}


@pytest.mark.parametrize("command", sorted(ON_COLLECTED_DATA))
def test_a_command_on_collected_data_refuses_a_data_directory_holding_none_and_creates_nothing(tmp_path, command):
    config = write_config(tmp_path / "config", {"acme": 'name = "ACME"\n' + GOOD_DOCUMENT})
    out = tmp_path / "out"
    out.mkdir()
    args = [arg.format(out=out) for arg in ON_COLLECTED_DATA[command]]
    missing = tmp_path / "nothing-here"
    line = assert_one_line(run_cli(config, missing, *args), 2, f"no data in {missing}", "backfill")
    assert line == (
        f"policy-archive: no data in {missing}: nothing to {command} (run `policy-archive backfill` or `track` first)"
    )
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line(run_cli(config, empty, *args), 2, f"no data in {empty}")
    assert list(empty.iterdir()) == [] and list(out.iterdir()) == []


@pytest.mark.parametrize("as_json", [False, True])
def test_status_says_there_is_no_data_yet_and_creates_nothing(tmp_path, as_json):
    config = write_config(tmp_path / "config", {"acme": 'name = "ACME"\n' + GOOD_DOCUMENT})
    missing = tmp_path / "nothing-here"
    result = run_cli(config, missing, *TELLS_NO_DATA_YET["status"], *(["--json"] if as_json else []))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    if as_json:
        assert [row["versions"] for row in json.loads(result.stdout)] == [0]
    else:
        assert f"no data in {missing} yet" in result.stdout
    assert not missing.exists()


def test_every_command_is_placed_by_what_it_needs_of_the_data_directory():
    placed = set(ON_COLLECTED_DATA) | set(TELLS_NO_DATA_YET) | MAKE_DATA | NEED_NO_DATA
    assert placed == set(main.commands)


# --- Git objects lost: reading refused in one line, `repair` rebuilds the history from the kept captures ----

DOCUMENT = "acrcloud/privacy-policy"


def delete_all_objects(versions: Path) -> None:
    objects = versions / ".git" / "objects"
    for folder in objects.glob("??"):
        shutil.rmtree(folder)
    for pack in (objects / "pack").iterdir():
        pack.unlink()


def commits_of_main(versions: Path) -> list[str]:
    return git(versions, "log", "--format=%H %aI %s", "main").splitlines()


READERS = [
    ["log", DOCUMENT],
    ["show", DOCUMENT],
    ["diff", DOCUMENT],
    ["verify"],
    ["export", "--format", "jsonl", "--output", "{out}"],
]


def test_lost_git_objects_are_one_line_naming_repair_for_readers_and_writers(history):
    config, data = history
    delete_all_objects(data / "versions")
    out = data.parent / "out.jsonl"
    for command in [*READERS, ["reextract"], ["track"]]:
        arguments = [argument.format(out=out) for argument in command]
        line = assert_one_line(run_cli(config, data, *arguments), 1, "missing", "`policy-archive repair`")
        assert "refs/heads/main names" in line, line
    assert not out.exists()


def test_a_deleted_versions_repository_is_one_line_saying_how_to_rebuild_it_for_readers(history):
    config, data = history
    shutil.rmtree(data / "versions")
    out = data.parent / "out"
    for command in [*READERS, ["report", "--output", "{out}"]]:
        arguments = [argument.format(out=out) for argument in command]
        assert_one_line(run_cli(config, data, *arguments), 1, f"{data / 'versions'} is missing", "--rebuild")
    assert not out.exists() and not (data / "versions").exists()


def test_a_deleted_catalog_and_versions_repository_are_named_alike_by_readers_and_rebuilt_by_repair(history):
    """Only the WARC files left: every reader says the same true thing, and `repair` brings back the very history
    (it said nothing and left no version: `log` then answered "no recorded version yet")."""
    config, data = history
    before = commits_of_main(data / "versions")
    shutil.rmtree(data / "versions")
    for path in data.glob("catalog.sqlite3*"):
        path.unlink()
    out = data.parent / "out"
    for command in [*READERS, ["report", "--output", "{out}"]]:
        arguments = [argument.format(out=out) for argument in command]
        line = assert_one_line(run_cli(config, data, *arguments), 1, "`policy-archive repair`")
        assert line == (
            f"policy-archive: {data / 'catalog.sqlite3'} and {data / 'versions'} are missing: run `policy-archive "
            f"repair` to index the WARC files of {data / 'captures'} again and rebuild the history from them"
        )
    assert not out.exists() and not (data / "versions").exists()
    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "repaired: history rebuilt from the stored captures: 2 versions of 1 document" in repaired.stderr
    assert commits_of_main(data / "versions") == before


@pytest.mark.parametrize("lost", ["every object", "one blob", "the repository"])
def test_repair_rebuilds_a_lost_history_from_the_captures(history, lost):
    config, data = history
    versions = data / "versions"
    before = commits_of_main(versions)
    head = git(versions, "rev-parse", "main").strip()
    if lost == "every object":
        delete_all_objects(versions)
    elif lost == "the repository":
        shutil.rmtree(versions)
    else:  # the latest text only: main and the ledger still name commits that exist
        blob = git(versions, "rev-parse", f"main:a/{DOCUMENT}.md").strip()
        (versions / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
        assert_one_line(run_cli(config, data, "show", DOCUMENT), 1, "missing", "`policy-archive repair`")

    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 0 and "Traceback" not in repaired.stderr, repaired.stderr
    notes = [line for line in repaired.stderr.splitlines() if line.startswith("repaired: ")]
    said = {"every object": f"refs/heads/main named {head}", "one blob": f"refs/heads/main at {head}"}
    assert said.get(lost, "versions was missing") in notes[0], notes
    assert notes[-1] == "repaired: history rebuilt from the stored captures: 2 versions of 1 document", notes
    assert "nothing to repair" not in repaired.stderr

    assert commits_of_main(versions) == before  # deterministic: the same captures give the same commits
    assert run_cli(config, data, "verify").stdout.strip() == "2/2 versions verified"
    assert run_cli(config, data, "show", DOCUMENT).returncode == 0
    subprocess.run(["git", "-C", str(versions), "fsck", "--strict"], check=True, capture_output=True)
    assert "nothing to repair" in run_cli(config, data, "repair").stderr


# --- a catalog started again learns the captures the WARC files keep -----------------------------------------

FETCHED_COLUMNS = (
    "document, source, url, captured_at, status, mimetype, digest, fetched_url, fetched_status, fetched_mimetype,"
    " fetched_at, payload_sha1, outcome, reason, title, body_sha1, memento_at, memento_url, snapshot_url, rendered"
)


def fetched_rows(catalog: Path) -> dict[tuple[str, str, str], tuple[object, ...]]:
    """The catalog's rows of captures whose bytes are kept, by (document, URL, listed time), WARC place aside."""
    with closing(sqlite3.connect(catalog)) as connection:
        rows = connection.execute(f"SELECT {FETCHED_COLUMNS} FROM captures WHERE warc_file IS NOT NULL").fetchall()
    return {(row[0], row[2], row[3]): row for row in rows}


def without_listings(captures: Path) -> None:
    """Rewrite the WARC files as policy-archive wrote them before 2026-11-27: no listing header on a capture."""
    for path in captures.glob("*.warc.gz"):
        rewritten = path.with_name(path.name + ".new")
        with path.open("rb") as source, rewritten.open("wb") as target:
            writer = WARCWriter(target, gzip=True, warc_version="1.1")
            for record in ArchiveIterator(source):
                record.rec_headers.remove_header("WARC-Policy-Archive-Listed")
                writer.write_record(
                    writer.create_warc_record(
                        record.rec_headers.get_header("WARC-Target-URI"),
                        record.rec_type,
                        payload=BytesIO(record.raw_stream.read()),
                        http_headers=record.http_headers,
                        warc_headers=record.rec_headers,
                    )
                )
        rewritten.replace(path)


@pytest.mark.parametrize("files", ["with listings", "from before 2026-11-27"])
def test_a_catalog_set_aside_is_rebuilt_from_the_warc_files_and_nothing_is_fetched_again(
    standin_archive, tmp_path, files
):
    acrcloud_history(standin_archive)
    config = write_backfill_config(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    assert run_cli(config, data, "backfill", "--strategy", "all").returncode == 0
    catalog = data / "catalog.sqlite3"
    before = fetched_rows(catalog)
    assert len(before) == 21  # every capture fetched, archived redirects to the home page included
    if files != "with listings":
        without_listings(data / "captures")
        assert b"WARC-Policy-Archive-Listed" not in gzip.decompress((next((data / "captures").iterdir())).read_bytes())
    catalog.write_bytes(bytes(range(256)) * 64)  # unreadable: set aside by the next writing command
    requests = standin_archive.counts()

    again = run_cli(config, data, "backfill", "--strategy", "all")
    assert again.returncode == 0, again.stderr
    assert "repaired: 21 captures re-indexed from 1 WARC file" in again.stderr, again.stderr
    assert standin_archive.counts()["replay"] == requests["replay"], "a capture kept in a WARC was fetched again"
    rebuilt = fetched_rows(catalog)
    assert rebuilt == before  # the same rows: listing, what the replay served, extraction's verdict
    assert run_cli(config, data, "verify").stdout.strip() == "2/2 versions verified"
    reextracted = run_cli(config, data, "reextract")
    assert reextracted.returncode == 0 and "21 re-extracted" in reextracted.stderr, reextracted.stderr


def test_a_deleted_catalog_learns_the_live_captures_of_the_warc_files(tmp_path):
    root = tmp_path / "tracked"
    with RouteServer({"/privacy": POLICY}) as site:
        config = tracked_config(root / "config", site.url("/privacy"))
        data = root / "data"
        assert run_cli(config, data, "track").returncode == 0
        before = fetched_rows(data / "catalog.sqlite3")
        (data / "catalog.sqlite3").unlink()
        for reader in (["log", "acme/privacy-policy"], ["status"]):
            assert_one_line(run_cli(config, data, *reader), 1, "catalog.sqlite3 is missing", "`policy-archive repair`")
        # A run killed while writing a second copy of the capture left it cut short at the end of the file.
        warc = next((data / "captures").glob("*.warc.gz"))
        kept = warc.read_bytes()
        warc.write_bytes(kept + kept[:-100])
        repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert (
        "repaired: 1 capture re-indexed from 1 WARC file" in repaired.stderr
        and "(1 extracted, 1 record cut short, skipped)" in repaired.stderr
    ), repaired.stderr
    assert fetched_rows(data / "catalog.sqlite3") == before
    assert run_cli(config, data, "verify").stdout.strip() == "1/1 versions verified"
