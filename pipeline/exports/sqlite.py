"""`export --format sqlite`: a SQLite database ready for Datasette, written with sqlite-utils.

Tables: ``versions`` (one row per version, the columns of ``ExportRow``, primary key ``commit``, full-text
search on ``title`` and ``text`` through ``versions_fts``) and ``documents`` (one row per exported document: names,
URL, number of versions, first and last capture). sqlite-utils is the library Datasette's author keeps for this:
its full-text tables and column types are the ones Datasette recognises (search box, facets) without settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from policy_archive.pipeline.exports._output import complete, replacing
from policy_archive.pipeline.exports._rows import COLUMNS, ExportRow, ExportSource
from policy_archive.text import plural

# Rows are sent to SQLite this many at a time: memory stays bounded by one batch of texts.
BATCH_SIZE = 200
INDEXES = (["service", "document", "captured_at"], ["captured_at"], ["stated_date"])


def _column_types() -> dict[str, type]:
    types = ExportRow.__annotations__
    return {name: int if types[name] == "int" else str for name in COLUMNS}


def _documents(database: sqlite_utils.Database, source: ExportSource) -> Iterator[dict[str, object]]:
    """One row per exported document, with its number of versions and first and last capture times."""
    counts = {
        (row[0], row[1]): row[2:]
        for row in database.execute(
            "SELECT service, document, COUNT(*), MIN(captured_at), MAX(captured_at) FROM versions"
            " GROUP BY service, document"
        )
    }
    for declaration in source.declarations:
        versions, first, last = counts.get((declaration.service_id, declaration.document_id), (0, None, None))
        yield {
            "service": declaration.service_id,
            "document": declaration.document_id,
            "service_name": declaration.service_name,
            "document_title": declaration.document_title,
            "url": declaration.url,
            "versions": versions,
            "first_captured_at": first,
            "last_captured_at": last,
        }


def export(source: ExportSource, output: Path) -> str:
    """Write the ``versions`` and ``documents`` tables (see the module docstring) to a new database that replaces
    ``output`` whole, and return ``N versions of M documents written to OUTPUT``; M counts every selected document,
    those without a version too. A pipe or device is refused (SQLite seeks in its file):
    :class:`~policy_archive.errors.ConfigurationError`."""
    with replacing(output, streams=False) as partial:  # SQLite seeks in its file: no pipe
        database = sqlite_utils.Database(partial)
        try:
            versions = database.table("versions")
            versions.create(_column_types(), pk="commit", not_null=[c for c in COLUMNS if c != "stated_date"])
            versions.insert_all((row.as_dict() for row in source.rows()), batch_size=BATCH_SIZE)
            for columns in INDEXES:
                versions.create_index(columns)
            versions.enable_fts(["title", "text"], tokenize="porter")
            database.table("documents").insert_all(
                _documents(database, source),
                pk=("service", "document"),
                columns={"first_captured_at": str, "last_captured_at": str},
            )
            count = versions.count
        finally:
            database.close()
    documents = len(source.declarations)
    return complete(
        f"{count} {plural(count, 'version')} of {documents} {plural(documents, 'document')} written to {output}"
    )
