"""``catalog.sqlite3`` is made, and brought up to date, whole or not at all (acceptance report 7, F13: a disk that
filled during the first backfill left the tables without their later columns, and the readers then blamed "an
older policy-archive"); a catalog that lacks columns is said in words true of both causes, and completed by the
next writing command."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standin.cli import REPO_ROOT, cli_environment, run_cli

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.schema import ADDED_COLUMNS, INCOMPLETE, TABLES, CatalogUnreadable, connect
from policy_archive.errors import StateError

# Make the catalog in a process whose files may not grow past LIMIT bytes (RLIMIT_FSIZE, as a full disk: SQLite's
# write fails half-way; SIGXFSZ ignored so that the write returns an error instead of killing the process).
CREATE_WITHIN = """
import resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from policy_archive.archive.catalog.schema import connect
try:
    connect(Path(sys.argv[1])).close()
except Exception as error:
    print(type(error).__name__, error)
    sys.exit(3)
"""


def tables_and_columns(path: Path) -> tuple[set[str], set[str]]:
    with closing(sqlite3.connect(path)) as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {row[1] for row in database.execute("PRAGMA table_info(captures)")}
    return tables, columns


def test_a_catalog_stopped_at_any_point_of_its_making_is_whole_or_empty(tmp_path):
    """Every limit from nothing to enough: the catalog is either empty (a writer makes it, a reader says it holds
    no catalog) or has every table and column; never tables without their later columns."""
    outcomes = set()
    for limit in range(0, 96 * 1024, 4096):
        path = tmp_path / f"{limit}" / "catalog.sqlite3"
        made = subprocess.run(
            [sys.executable, "-c", CREATE_WITHIN, str(path), str(limit)],
            capture_output=True, text=True, env=cli_environment(), cwd=REPO_ROOT, timeout=60,
        )  # fmt: skip
        assert made.returncode in (0, 3), made.stderr
        tables, columns = tables_and_columns(path) if path.exists() else (set(), set())
        if made.returncode == 0:
            outcomes.add("made")
            assert set(TABLES) <= tables and set(ADDED_COLUMNS) <= columns
            connect(path, read_only=True).close()
        else:
            outcomes.add("stopped")
            assert tables == set(), f"limit {limit}: {sorted(tables)} left by a stopped making"
            if path.exists():
                with pytest.raises(CatalogUnreadable, match="holds no catalog"):
                    connect(path, read_only=True)
            connect(path).close()  # the next writer makes it whole
            assert set(ADDED_COLUMNS) <= tables_and_columns(path)[1]
    assert outcomes == {"made", "stopped"}, "the limits must stop some makings and let others through"


def test_a_catalog_without_its_later_columns_is_said_truly_and_completed_by_repair(history):
    """A catalog a stopped first run of an earlier version left behind (or an older version made): a reader names
    both causes and what completes it; repair does, and the readers work again."""
    config, data = history
    catalog = data / "catalog.sqlite3"
    with closing(sqlite3.connect(catalog)) as database:
        database.execute("ALTER TABLE captures DROP COLUMN dropped")
        database.execute("DROP TABLE unverified_spans")
    with pytest.raises(StateError) as raised:
        connect(catalog, read_only=True)
    assert str(raised.value) == f"{catalog} {INCOMPLETE}"
    status = run_cli(config, data, "status")
    assert status.returncode == 1 and "older policy-archive, or left half-made" in status.stderr, status.stderr
    assert "completes it" in status.stderr.splitlines()[-1]
    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "dropped" in tables_and_columns(catalog)[1] and "unverified_spans" in tables_and_columns(catalog)[0]
    assert run_cli(config, data, "status").returncode == 0


def bytes_time_plans(catalog: Catalog) -> list[str]:
    """The query plan of each statement ``capture_at`` and ``version_capture`` run to find a capture by the time its
    bytes date from (``COALESCE(memento_at, captured_at)``), as SQLite chooses it for this catalog."""
    asked: list[str] = []
    catalog.connection.set_trace_callback(asked.append)
    at = datetime(2020, 1, 1, tzinfo=UTC)
    catalog.capture_at("example/privacy-policy", at, url="https://example.com/privacy")
    catalog.version_capture("example/privacy-policy", at)
    catalog.connection.set_trace_callback(None)
    dated = [sql for sql in asked if "COALESCE(memento_at, captured_at) = " in sql]
    return [" / ".join(row[-1] for row in catalog.connection.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in dated]


def test_a_capture_is_looked_up_by_the_time_its_bytes_date_from_through_an_index(tmp_path):
    """Without the expression index, SQLite found such a capture through ``captures_in_time`` by document alone,
    reading every row of the document: 159–315 ms a lookup on a document of 160,000 rows (CHANGELOG, 2026-11-29)."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    try:
        plans = bytes_time_plans(catalog)
    finally:
        catalog.close()
    assert len(plans) == 3, plans  # capture_at with a URL; version_capture's, extracted then any
    assert all("USING INDEX captures_by_bytes_time (document=? AND <expr>=?)" in plan for plan in plans), plans


def test_a_catalog_made_before_the_index_gets_it_on_the_next_writing_open(tmp_path):
    """An older catalog (made before ``captures_by_bytes_time``) is read as it is, and completed by a writer."""
    path = tmp_path / "catalog.sqlite3"
    connect(path).close()
    with closing(sqlite3.connect(path)) as database:
        database.execute("DROP INDEX captures_by_bytes_time")
    with closing(connect(path, read_only=True)) as reader:
        assert not reader.execute("SELECT 1 FROM sqlite_master WHERE name = 'captures_by_bytes_time'").fetchone()
    catalog = Catalog(path)
    try:
        assert all("captures_by_bytes_time" in plan for plan in bytes_time_plans(catalog))
    finally:
        catalog.close()
