"""The ledger's records: what ``refs/policy-archive/ledger`` keeps of every saved version, and the messages of the
commits derived from it (docs/decisions/0001-git-history-layout.md).

``<path>/index.jsonl`` in the ledger's tree holds one ``Entry`` per version in capture-time order; the ledger
commit's message (``LedgerState``) names the ``main`` head it describes and the one before it. ``main`` is a pure
function of these records: a document's ``kept_versions`` in date order, each commit's message ``commit_message``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from policy_archive.errors import StateError
from policy_archive.records import Version, iso_z, utc
from policy_archive.text import one_line

BRANCH = "main"  # the branch of every history policy-archive writes: its versions, and exports (archive.plain_git)
BRANCH_REF = f"refs/heads/{BRANCH}"
LEDGER_REF = "refs/policy-archive/ledger"
IDENTITY_NAME = "policy-archive"
IDENTITY_EMAIL = "policy-archive@users.noreply.github.com"
IDENTITY = f"{IDENTITY_NAME} <{IDENTITY_EMAIL}>"  # author and committer of every commit derived from the ledger
INDEX_SUFFIX = "/index.jsonl"
UPGRADE_SUBJECT = "Apply technical upgrade on "  # then the document's display name (docs/decisions/0003)
TRAILER_KEY = re.compile(r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")


class VersionStoreError(StateError):
    """The version repository is in a state this module cannot repair on its own."""


REBUILD_ADVICE = "run `policy-archive repair` to rebuild the history from the stored captures"


class MissingObjectsError(VersionStoreError):
    """Objects of the history are not in the repository: only a rebuild from the stored captures brings it back."""


class ForeignHistoryError(VersionStoreError):
    """``main`` was moved outside policy-archive: it is neither the head the ledger describes nor the one before."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One saved version as the ledger keeps it: everything needed to re-derive its commit."""

    document: str
    path: str
    display_name: str
    captured_at: datetime
    source: str
    snapshot_url: str
    payload_sha1: str
    extractor: str
    technical_upgrade: bool
    body_sha1: str
    blob: str
    committed_at: datetime | None = None  # set for technical upgrades only (docs/decisions/0003)
    stated_date: str | None = None  # YYYY-MM-DD, the date the text states for itself (docs/decisions/0002)

    @property
    def at(self) -> datetime:
        """The commit date: the capture time, or when a technical upgrade was made."""
        return self.committed_at or self.captured_at

    @property
    def key(self) -> tuple[datetime, str]:
        """Position on ``main``: commit date, then path for versions of different documents at the same time."""
        return (self.at, self.path)

    @property
    def stamp(self) -> str:
        """The entry's file name in the ledger tree: its commit date (:attr:`at`) to the microsecond,
        ``20180629T162426000000Z``."""
        return self.at.strftime("%Y%m%dT%H%M%S%fZ")

    def to_json(self) -> str:
        """The entry as one line of ``index.jsonl``: every field, keys sorted, times in ISO 8601 with their offset."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields["captured_at"] = self.captured_at.isoformat()
        fields["committed_at"] = self.committed_at.isoformat() if self.committed_at else None
        return json.dumps(fields, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Entry:
        """An entry from one line of ``index.jsonl`` (the inverse of :meth:`to_json`)."""
        fields = json.loads(line)
        fields["captured_at"] = datetime.fromisoformat(fields["captured_at"])
        if fields.get("committed_at"):
            fields["committed_at"] = datetime.fromisoformat(fields["committed_at"])
        return cls(**fields)

    @classmethod
    def from_version(cls, version: Version, blob: str) -> Entry:
        """The ledger entry of ``version`` saved as the blob ``blob``: times made UTC, the body kept only as its
        SHA-1 (hex)."""
        return cls(
            document=version.document,
            path=version.path,
            display_name=version.display_name,
            captured_at=utc(version.captured_at),
            committed_at=utc(version.committed_at) if version.committed_at else None,
            source=str(version.source),
            snapshot_url=version.snapshot_url,
            payload_sha1=version.payload_sha1,
            extractor=version.extractor,
            technical_upgrade=version.technical_upgrade,
            body_sha1=hashlib.sha1(version.body.encode("utf-8")).hexdigest(),
            blob=blob,
            stated_date=version.stated_date.isoformat() if version.stated_date else None,
        )


@dataclass(frozen=True)
class LedgerState:
    """What the ledger ref says: its commit, the head of ``main`` it describes and the last version's key."""

    commit: str | None
    main: str | None
    previous_main: str | None
    head_key: tuple[datetime, str] | None

    def message(self) -> str:
        """The ledger commit's message: its ``Main``, ``Previous-Main`` (``-`` for none) and
        ``Head-At``/``Head-Path`` trailers (left out when there is no version)."""
        head_at, head_path = (self.head_key[0].isoformat(), self.head_key[1]) if self.head_key else (None, None)
        trailers = [
            ("Main", self.main or "-"),
            ("Previous-Main", self.previous_main or "-"),
            ("Head-At", head_at),
            ("Head-Path", head_path),
        ]
        return message_with_trailers("policy-archive ledger", trailers)

    @classmethod
    def parse(cls, commit: str, message: str) -> LedgerState:
        """The state a ledger commit's message (written by :meth:`message`) describes; ``commit`` is that commit's
        id."""
        fields = dict(line.split(": ", 1) for line in message.splitlines() if ": " in line)
        head_key = None
        if "Head-At" in fields:
            head_key = (datetime.fromisoformat(fields["Head-At"]), fields["Head-Path"])
        return cls(
            commit=commit,
            main=_dash_to_none(fields["Main"]),
            previous_main=_dash_to_none(fields["Previous-Main"]),
            head_key=head_key,
        )


def _dash_to_none(value: str) -> str | None:
    return None if value == "-" else value


def git_blob_id(data: bytes) -> str:
    """The object id Git gives ``data`` as a blob, so commits can name blobs without asking Git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def kept_versions(entries: list[Entry]) -> list[Entry]:
    """A document's history: its versions in time order with consecutive equal bodies dropped (earliest kept)."""
    kept: list[Entry] = []
    for entry in entries:
        if not kept or kept[-1].body_sha1 != entry.body_sha1:
            kept.append(entry)
    return kept


def commit_message(entry: Entry, first: bool) -> str:
    """The message of ``entry``'s commit on ``main``: ``First record of``, ``Apply technical upgrade on`` or ``Record
    new changes of`` the document, then its trailers (``Captured-At`` in UTC, ``Source``, ``Snapshot-Url``,
    ``Payload-Sha1``, ``Extractor``, ``Stated-Date`` when the text states one)."""
    if first:
        subject = f"First record of {entry.display_name}"
    elif entry.technical_upgrade:
        subject = f"{UPGRADE_SUBJECT}{entry.display_name}"
    else:
        subject = f"Record new changes of {entry.display_name}"
    return message_with_trailers(
        subject,
        [
            ("Captured-At", iso_z(entry.captured_at)),
            ("Source", entry.source),
            ("Snapshot-Url", entry.snapshot_url),
            ("Payload-Sha1", entry.payload_sha1),
            ("Extractor", entry.extractor),
            ("Stated-Date", entry.stated_date),  # None (left out) when the text states no date
        ],
    )


def message_with_trailers(subject: str, trailers: Iterable[tuple[str, str | None]]) -> str:
    """The one writer of commit messages: a one-line subject, a blank line, then ``Key: value`` per trailer
    whose value is not None, in the order given.

    Every value (and the subject) is made one line without control characters here, whatever checks came
    before: a service name, an archive's URL or a page cannot add a line that Git would read as a trailer,
    nor a NUL that ``git fsck --strict`` rejects (issue 11)."""
    lines = [one_line(subject), ""]
    for key, value in trailers:
        if not TRAILER_KEY.fullmatch(key):
            raise ValueError(f"not a trailer key: {key!r}")
        if value is not None:
            lines.append(f"{key}: {one_line(value)}")
    return "\n".join(lines) + "\n"
