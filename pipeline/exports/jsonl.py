"""`export --format jsonl`: JSON Lines, one object per version with the columns of ``ExportRow``, oldest first."""

from __future__ import annotations

import json
from pathlib import Path

from policy_archive.pipeline.exports._output import complete, replacing
from policy_archive.pipeline.exports._rows import ExportSource
from policy_archive.text import plural


def export(source: ExportSource, output: Path) -> str:
    """Write every version of ``source`` to ``output`` as one JSON object per line (UTF-8 kept, not escaped; ``\\n``
    line ends) and return the one-line summary ``N versions written to OUTPUT``. ``output`` is replaced whole or left
    as it was, or written into directly when it is a pipe or device."""
    count = 0
    # Appending: the partial file is new, and a file the shell opened for the standard output (`> out`, `>> out`)
    # is added to as the shell was asked, not cut to nothing by a second opening (_output.replacing).
    with replacing(output) as partial, partial.open("a", encoding="utf-8", newline="\n") as handle:
        for row in source.rows():
            handle.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")
            count += 1
    return complete(f"{count} {plural(count, 'version')} written to {output}")
