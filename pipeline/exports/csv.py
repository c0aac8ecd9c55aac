"""`export --format csv`: RFC 4180 CSV (UTF-8, a header row, quoted multi-line text), one row per version."""

from __future__ import annotations

import csv
from pathlib import Path

from policy_archive.pipeline.exports._output import complete, replacing
from policy_archive.pipeline.exports._rows import COLUMNS, ExportSource
from policy_archive.text import plural


def export(source: ExportSource, output: Path) -> str:
    """Write every version of ``source`` to ``output`` as CSV (header row first; None written as an empty field) and
    return the one-line summary ``N versions written to OUTPUT``. ``output`` is replaced whole or left as it was, or
    written into directly when it is a pipe or device; a stop signal while it is written: :class:`ExportStopped`."""
    count = 0
    # Appending: the partial file is new, and a file the shell opened for the standard output (`> out`, `>> out`)
    # is added to as the shell was asked, not cut to nothing by a second opening (_output.replacing).
    with replacing(output) as partial, partial.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)  # excel dialect: CRLF rows, fields quoted when needed, as RFC 4180 says
        writer.writerow(COLUMNS)
        for row in source.rows():
            writer.writerow(["" if value is None else value for value in row.as_dict().values()])
            count += 1
    return complete(f"{count} {plural(count, 'version')} written to {output}")
