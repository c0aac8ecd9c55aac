"""What a run reports: versions recorded, documents that failed (with why), and notes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from policy_archive.records import RecordedVersion, format_wayback_timestamp, parse_wayback_timestamp
from policy_archive.text import plural


@dataclass(frozen=True)
class DocumentFailure:
    """A document that failed in a run, and why (one line): a record the report lists (one ``FAILED`` line). A
    command that cannot give one document as asked raises :class:`policy_archive.errors.DocumentError` instead."""

    document: str
    reason: str


def recorded_kinds(added: int, redated: int, rechained: int) -> str:
    """``1 new, 1 re-dated, 1 re-chained`` (kinds with none left out): what the commits a save wrote are. New: the
    history has one more version; re-dated: a version's commit moved to an earlier capture showing its text;
    re-chained: a version unchanged, its commit rewritten because an earlier one was inserted before it."""
    kinds = (("new", added), ("re-dated", redated), ("re-chained", rechained))
    return ", ".join(f"{count:,} {kind}" for kind, count in kinds if count)


@dataclass(frozen=True)
class RunReport:
    """What a writing command's run did: the versions recorded, the documents failed (one ``FAILED`` line each),
    notes and a last line, as :func:`~policy_archive.pipeline.commands.common.report` prints them; the run log keeps
    :meth:`summary`."""

    recorded: list[RecordedVersion]
    failures: list[DocumentFailure]
    notes: list[str] = field(default_factory=list)
    last_line: str | None = None  # printed after everything else (backfill: what it did not verify)
    recorded_detail: str | None = None  # what the versions recorded are (backfill: ``1 new, 2 re-chained``)
    stopped_by: str | None = None  # the stop signal that ended the run early (``SIGTERM``), for its runs row

    @property
    def exit_status(self) -> int:
        """1 when any document failed, else 0 (notes and the last line do not change it)."""
        return 1 if self.failures else 0

    def summary(self) -> str:
        """``3 versions recorded (1 new, 2 re-chained), 1 document failed``: the line the run log keeps, the detail
        only when one is given."""
        recorded, failed = len(self.recorded), len(self.failures)
        detail = f" ({self.recorded_detail})" if self.recorded_detail else ""
        stopped = f", stopped by {self.stopped_by}" if self.stopped_by else ""
        return (
            f"{recorded} {plural(recorded, 'version')} recorded{detail}, {failed} {plural(failed, 'document')} failed"
            f"{stopped}"
        )


_TWIN_PREFIX = re.compile(r"^same bytes as the capture of (\d+): ")


# Said after a count of refusals of the archive's own answer (``crawler.sources.base.ASKED_AGAIN``), which a
# configuration mistake or a passing fault may have made (the FAILED line, `status`): the command that asks them again.
RETRY_HINT = "backfill --retry-refused asks them again"


def twin_reason(when: datetime, reason: str | None) -> str:
    """The reason of a capture refused unfetched because its twin (same digest), captured ``when``, was."""
    return f"same bytes as the capture of {format_wayback_timestamp(when)}: {reason}"


def borrowed(reason: str | None) -> bool:
    """Whether a refusal was passed on from a twin (same digest) rather than found by fetching the capture."""
    return bool(_TWIN_PREFIX.match(reason or ""))


def borrowed_from(reason: str | None) -> datetime | None:
    """When the twin a refusal was passed on from (:func:`twin_reason`) was captured; None for another refusal."""
    found = _TWIN_PREFIX.match(reason or "")
    return parse_wayback_timestamp(found.group(1)) if found else None


def refusal_kind(reason: str | None) -> str:
    """The kind of a refusal, for counting: ``empty`` for "empty: no text left after extraction", ``archived
    status 404``, ``not a document`` for "not a document (image/png)"; a twin counts as its twin's kind."""
    text = _TWIN_PREFIX.sub("", reason or "unknown")
    return text.split(":", 1)[0].split(" (", 1)[0].split(";", 1)[0].strip() or "unknown"


def refusal_counts(reasons: Iterable[str | None]) -> Counter[str]:
    """How many refusals of each kind (:func:`refusal_kind`): a twin's refusal counts as its twin's kind, a missing
    reason as ``unknown``."""
    return Counter(refusal_kind(reason) for reason in reasons)


def format_counts(counts: Mapping[str, int]) -> str:
    """``2 empty, 1 javascript-shell``: most frequent first."""
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
