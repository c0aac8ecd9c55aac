"""The Git version store: branch ``main``, one commit per document version, in capture-time order.

Why this shape (first-character layout, ``git fast-import``, blob order, deterministic rebuilds):
docs/decisions/0001-git-history-layout.md. This is the only module that imports GitPython.

What the repository holds besides ``main``:
- ``refs/policy-archive/ledger``: a parentless commit whose tree lists every version ever saved, also those not on
  ``main`` because their body equals the previous version's (an insertion may bring them back later).
  ``<path>/index.jsonl`` holds their metadata in capture-time order, ``<path>/<stamp>`` their content. ``main`` is
  always a pure function of the ledger, which is what makes rebuilds deterministic whatever order saves came in.
- The ledger commit's message names the ``main`` head it describes and the one before it. Moving the ledger ref
  is the single atomic step of a save; ``main`` is moved right after and rolled forward on open if a kill came in
  between. A kill at any earlier point leaves only unreferenced objects, so ``git fsck`` stays clean.

The caller must hold ``archive.lock.DataDirectoryLock`` while a ``VersionStore`` is open: opening repairs what a
killed run left (stale lock files, temporary refs, half-written packs), which is only safe with no other writer.
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TypeVar

import git

from policy_archive.errors import StateError
from policy_archive.records import RecordedVersion, Version, iso_z, utc
from policy_archive.text import one_line

BRANCH = "main"
BRANCH_REF = "refs/heads/main"
LEDGER_REF = "refs/policy-archive/ledger"
INCOMING_MAIN_REF = "refs/policy-archive/incoming/main"
INCOMING_LEDGER_REF = "refs/policy-archive/incoming/ledger"
IDENTITY_NAME = "policy-archive"
IDENTITY_EMAIL = "policy-archive@users.noreply.github.com"
IDENTITY = f"{IDENTITY_NAME} <{IDENTITY_EMAIL}>"
IDENTITY_ENV = {
    "GIT_AUTHOR_NAME": IDENTITY_NAME,
    "GIT_AUTHOR_EMAIL": IDENTITY_EMAIL,
    "GIT_COMMITTER_NAME": IDENTITY_NAME,
    "GIT_COMMITTER_EMAIL": IDENTITY_EMAIL,
}
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
MARKS_FILE = "policy-archive-marks"
INDEX_SUFFIX = "/index.jsonl"
TRAILER_KEY = re.compile(r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
# Blobs wait in memory up to this size so that each document's versions reach fast-import one after another:
# fast-import deltas a blob only against the previous blob of the stream (DESIGN.md, Git at scale).
BLOB_BUFFER_BYTES = 16 * 1024 * 1024
STREAM_CHUNK_BYTES = 1024 * 1024
LOW_MEMORY_CONFIG = (
    "-c",
    "core.deltaBaseCacheLimit=16m",
    "-c",
    "core.packedGitWindowSize=16m",
    "-c",
    "core.packedGitLimit=64m",
)
STREAM_QUEUE_CHUNKS = 8
BLOB_READ_AHEAD = 256  # blobs asked of cat-file before the reader reads them (bounds memory: ~4 MB of 15 KB texts)
_T = TypeVar("_T")


def _read_batch_object(stdout: IO[bytes]) -> bytes:
    """One answer of ``git cat-file --batch``: ``<id> <type> <size>``, the content, a newline."""
    header = stdout.readline().decode("ascii").split()
    if len(header) != 3:
        raise VersionStoreError(f"object not found in the versions repository: {' '.join(header) or 'no answer'}")
    data = stdout.read(int(header[2]))
    stdout.read(1)
    return data


class VersionStoreError(StateError):
    """The version repository is in a state this module cannot repair on its own."""


class ForeignHistoryError(VersionStoreError):
    """``main`` was moved outside policy-archive: it is neither the head the ledger describes nor the one before."""


@dataclass(frozen=True, slots=True)
class CommittedVersion:
    """A version on ``main`` and its commit, without its text (cheap to hold for 100,000 versions)."""

    document: str
    path: str
    captured_at: datetime  # the commit date: the capture time, or when a technical upgrade was made
    commit: str


@dataclass(frozen=True, slots=True)
class _Entry:
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
        return self.at.strftime("%Y%m%dT%H%M%S%fZ")

    def to_json(self) -> str:
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields["captured_at"] = self.captured_at.isoformat()
        fields["committed_at"] = self.committed_at.isoformat() if self.committed_at else None
        return json.dumps(fields, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> _Entry:
        fields = json.loads(line)
        fields["captured_at"] = datetime.fromisoformat(fields["captured_at"])
        if fields.get("committed_at"):
            fields["committed_at"] = datetime.fromisoformat(fields["committed_at"])
        return cls(**fields)

    @classmethod
    def from_version(cls, version: Version, blob: str) -> _Entry:
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
class _LedgerState:
    """What the ledger ref says: its commit, the head of ``main`` it describes and the last version's key."""

    commit: str | None
    main: str | None
    previous_main: str | None
    head_key: tuple[datetime, str] | None

    def message(self) -> str:
        head_at, head_path = (self.head_key[0].isoformat(), self.head_key[1]) if self.head_key else (None, None)
        trailers = [
            ("Main", self.main or "-"),
            ("Previous-Main", self.previous_main or "-"),
            ("Head-At", head_at),
            ("Head-Path", head_path),
        ]
        return message_with_trailers("policy-archive ledger", trailers)

    @classmethod
    def parse(cls, commit: str, message: str) -> _LedgerState:
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


def _open_repository(directory: Path) -> git.Repo:
    try:
        return git.Repo(directory)
    except git.NoSuchPathError:
        raise VersionStoreError(
            f"{directory} is missing: `policy-archive reextract --rebuild` rebuilds the history from the stored "
            "captures"
        ) from None
    except git.InvalidGitRepositoryError:
        raise VersionStoreError(f"{directory} is not a Git repository: run `policy-archive repair`") from None


def _dash_to_none(value: str) -> str | None:
    return None if value == "-" else value


def git_blob_id(data: bytes) -> str:
    """The object id Git gives ``data`` as a blob, so commits can name blobs without asking Git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def kept_versions(entries: list[_Entry]) -> list[_Entry]:
    """A document's history: its versions in time order with consecutive equal bodies dropped (earliest kept)."""
    kept: list[_Entry] = []
    for entry in entries:
        if not kept or kept[-1].body_sha1 != entry.body_sha1:
            kept.append(entry)
    return kept


def commit_message(entry: _Entry, first: bool) -> str:
    if first:
        subject = f"First record of {entry.display_name}"
    elif entry.technical_upgrade:
        subject = f"Apply technical upgrade on {entry.display_name}"
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


class _FastImport:
    """One ``git fast-import`` process fed through GitPython; objects only become visible when refs move.

    A thread does the pipe writes (they release the GIL), so preparing the next versions overlaps with
    fast-import compressing the previous ones: on two cores this is most of the difference.
    """

    def __init__(self, repo: git.Repo, marks: Path) -> None:
        self._marks = marks
        # --done: if we die mid-stream, fast-import fails instead of committing a truncated stream.
        self._process = repo.git.execute(
            ["git", "fast-import", "--quiet", "--done", "--force", f"--export-marks={marks}"],
            istream=subprocess.PIPE,
            as_process=True,
        )
        stdin = self._process.proc.stdin
        assert stdin is not None
        self._stdin: IO[bytes] = stdin
        self._buffer = bytearray()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=STREAM_QUEUE_CHUNKS)
        self._failure: BaseException | None = None
        self._writer = threading.Thread(target=self._pump, name="fast-import writer", daemon=True)
        self._writer.start()

    def _pump(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is not None:
                continue  # keep draining so the producer never blocks on a dead stream
            try:
                self._stdin.write(chunk)
            except BaseException as failure:  # re-raised in finish()
                self._failure = failure

    def write(self, text: str) -> None:
        self._append(text.encode("utf-8"))

    def data(self, payload: bytes) -> None:
        self._append(b"data %d\n" % len(payload))
        self._append(payload)
        self._append(b"\n")

    def blob(self, payload: bytes) -> None:
        self._append(b"blob\n")
        self.data(payload)

    def _append(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= STREAM_CHUNK_BYTES:
            self._chunks.put(bytes(self._buffer))
            self._buffer.clear()

    def finish(self) -> dict[int, str]:
        """End the stream, wait for fast-import and return its marks (mark number -> object id)."""
        self._append(b"done\n")
        self._chunks.put(bytes(self._buffer))
        self._chunks.put(None)
        self._writer.join()
        if self._failure is not None:
            raise self._failure
        self._stdin.close()
        self._process.wait()
        marks: dict[int, str] = {}
        for line in self._marks.read_text().splitlines():
            mark, object_id = line.split()
            marks[int(mark[1:])] = object_id
        return marks

    def abort(self) -> None:
        self._process.proc.kill()
        if self._writer.is_alive():
            self._chunks.put(None)
            self._writer.join()
        self._process.proc.wait()


def _open_or_create(directory: Path, notes: list[str]) -> git.Repo:
    """The repository in ``directory``, created when missing, or re-created when a first run was killed while
    creating it (a half-made ``.git`` holding no object and no ref: nothing recorded can be lost; said in
    ``notes``)."""
    dot_git = directory / ".git"
    if dot_git.exists():
        try:
            repo = git.Repo(directory)
        except git.InvalidGitRepositoryError:
            if not _holds_nothing(dot_git):
                raise VersionStoreError(
                    f"{directory}: not a usable Git repository, though it holds objects or refs; "
                    "check it with `git fsck` (nothing was changed)"
                ) from None
            shutil.rmtree(dot_git)
            notes.append(f"{dot_git} was half made (an interrupted `git init`) and held no commit: made again")
            return _open_or_create(directory, notes)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        repo = git.Repo.init(directory, initial_branch=BRANCH)
    if not repo.config_reader("repository").has_option("user", "name"):  # also a kill between init and here
        with repo.config_writer() as config:
            config.set_value("core", "autocrlf", "false")
            config.set_value("user", "name", IDENTITY_NAME)
            config.set_value("user", "email", IDENTITY_EMAIL)
    return repo


def _holds_nothing(dot_git: Path) -> bool:
    """No object, no ref and no packed refs under ``dot_git``: what `git init` writes before any commit."""
    stored = [path for folder in ("objects", "refs") for path in (dot_git / folder).rglob("*") if path.is_file()]
    return not stored and not (dot_git / "packed-refs").exists()


class VersionStore:
    """The versions repository (``data/versions``): a checked-out repository whose branch ``main`` is the history."""

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        """Open (or create) the repository. ``read_only`` skips the repair of a killed run's leftovers, which
        is only safe under the data-directory lock: readers (`log`, `show`, `diff`) must not touch a writer's
        temporary refs and lock files."""
        self.directory = directory
        self.notes: list[str] = []  # what opening repaired or set aside, one line each (for the user)
        if read_only:
            self._repo = _open_repository(directory)
            self._git = self._repo.git
            self._git_dir = Path(self._repo.git_dir)
            return
        self._repo = _open_or_create(directory, self.notes)
        self._git = self._repo.git
        self._git_dir = Path(self._repo.git_dir)
        self._repair()

    # --- reading ------------------------------------------------------------------------------------------

    def head(self) -> str | None:
        return self._ref(BRANCH_REF)

    def read(self, commit: str, path: str) -> str:
        _, _, _, data = self._git.get_object_data(f"{commit}:{path}")
        return data.decode("utf-8")

    def diff(self, old_commit: str | None, new_commit: str, path: str) -> str:
        # GitPython strips the final newline of a command's output by default: a patch needs it.
        return self._git.diff(old_commit or EMPTY_TREE, new_commit, "--", path, strip_newline_in_stdout=False)

    def subject(self, commit: str) -> str:
        """The first line of a commit's message (``First record of ...``)."""
        return self._git.log("-1", "--format=%s", commit)

    def message(self, commit: str) -> str:
        """A commit's whole message (subject, blank line, trailers)."""
        return self._git.log("-1", "--format=%B", commit)

    def blob(self, object_id: str) -> bytes:
        """The content of a blob (or any ``commit:path``), through Git's long-running ``cat-file --batch``."""
        _, _, _, data = self._git.get_object_data(object_id)
        return data

    def with_blobs(self, items: Iterable[_T], blob_of: Callable[[_T], str]) -> Iterator[tuple[_T, bytes]]:
        """Each of ``items`` with the content of its blob ``blob_of(item)``, in order, in bounded memory.

        One ``git cat-file --batch`` is fed by a thread running ahead of the reader (by at most
        ``BLOB_READ_AHEAD`` items), so reading 100,000 blobs costs no round trip each: asking for one blob at a
        time costs ~4 ms of waiting on a loaded machine, measured by benchmarks/export.py on 2026-11-27.
        """
        process = self._git.execute(["git", "cat-file", "--batch"], istream=subprocess.PIPE, as_process=True)
        stdin, stdout = process.proc.stdin, process.proc.stdout
        assert stdin is not None and stdout is not None
        asked: queue.Queue[tuple[_T] | None] = queue.Queue(maxsize=BLOB_READ_AHEAD)
        stop = threading.Event()
        failure: list[BaseException] = []

        def ask() -> None:
            try:
                for item in items:
                    if stop.is_set():
                        return
                    stdin.write(f"{blob_of(item)}\n".encode("ascii"))
                    stdin.flush()
                    asked.put((item,))
            except BaseException as error:  # re-raised by the reader
                failure.append(error)
            finally:
                asked.put(None)
                if not stop.is_set():
                    stdin.close()

        feeder = threading.Thread(target=ask, name="cat-file feeder", daemon=True)
        feeder.start()
        try:
            while (entry := asked.get()) is not None:
                yield entry[0], _read_batch_object(stdout)
            if failure:
                raise failure[0]
        finally:
            stop.set()
            while feeder.is_alive():  # unblock a feeder waiting for room in the queue
                try:
                    asked.get_nowait()
                except queue.Empty:
                    feeder.join(0.05)
            process.proc.kill()
            process.proc.wait()

    def log_lines(self, options: Iterable[str], paths: Iterable[str] = ()) -> Iterator[str]:
        """The lines of ``git log OPTIONS main -- PATHS`` as Git writes them, so that long histories are read in
        bounded memory. Nothing when ``main`` does not exist yet. Stopping early ends the ``git log`` process.
        """
        if self.head() is None:
            return
        process = self._git.log(*options, BRANCH_REF, "--", *paths, as_process=True)
        stdout = process.proc.stdout
        assert stdout is not None
        finished = False
        try:
            for line in stdout:
                yield line.decode("utf-8").rstrip("\n")
            finished = True
        finally:
            if finished:
                process.wait()
            else:
                process.proc.kill()
                process.proc.wait()

    def commits(self) -> dict[tuple[str, datetime], str]:
        """``(path, captured_at) -> commit`` for every version on ``main``, from the ledger and one rev-list."""
        state = self._state()
        chain = self._main_chain(state, self._read_index(state, None))
        return {(entry.path, entry.at): commit for entry, commit in chain}

    def remote_commits_rewritten(self) -> list[str]:
        """Remote-tracking branches (``origin/main``) holding commits that a rebuild took off ``main``.

        Publishing ``main`` there would need a force-push: this store never pushes, the caller says so.
        """
        rewritten = []
        listing = self._git.for_each_ref("refs/remotes", format="%(refname:short) %(objectname)")
        for line in listing.splitlines():
            name, commit = line.split()
            if name.endswith(f"/{BRANCH}") and not self._is_ancestor_of_main(commit):
                rewritten.append(name)
        return rewritten

    # --- writing ------------------------------------------------------------------------------------------

    def save(self, versions: Iterable[Version]) -> list[RecordedVersion]:
        """Add versions; return those of ``versions`` that now have a commit on ``main``.

        A document's history is its versions in capture-time order with consecutive equal ``body`` dropped (the
        earliest of a run is kept); a version whose (path, captured_at) was saved before is ignored. Versions
        saved by earlier calls keep their place, but a rebuild gives the later ones new commit ids and may take
        some off ``main`` (or bring back one whose body no longer equals its predecessor's): they are not returned
        here (their text is not in memory), call ``commits()`` after a save that inserted before the old head.
        """
        given = list(versions)
        committed = self.save_stream(given)
        by_key = {(version.path, utc(version.commit_time)): version for version in given}
        return [
            RecordedVersion(by_key[(item.path, item.captured_at)], item.commit)
            for item in committed
            if (item.path, item.captured_at) in by_key
        ]

    def replace_documents(self, versions: Iterable[Version]) -> list[CommittedVersion]:
        """Make the given versions the whole ledger of each document they name (a history rebuild after
        re-extraction): earlier versions of those documents not given are forgotten; ``main`` is re-chained
        from the earliest difference. Other documents are untouched."""
        return self.save_stream(versions, replace=True)

    def save_stream(self, versions: Iterable[Version], *, replace: bool = False) -> list[CommittedVersion]:
        """Like ``save`` but consumes ``versions`` once without keeping their text, for very large imports.

        Returns every version now on ``main`` whose commit is new or changed, earlier saves' included. Feed each
        document's versions one after another (as a backfill does) for the smallest and fastest writes.
        """
        state = self._state()
        marks_path = self._git_dir / MARKS_FILE
        stream = _FastImport(self._repo, marks_path)
        try:
            incoming = self._write_blobs(versions, stream)
            plan = self._plan(state, incoming, replace=replace)
            if plan is None:
                stream.finish()
                return []
            self._write_commits(stream, plan)
            self._write_ledger(stream, state, plan)
            marks = stream.finish()
        except BaseException:
            stream.abort()
            raise
        finally:
            marks_path.unlink(missing_ok=True)
        new_main = marks[len(plan.commits)] if plan.commits else state.main
        self._publish(state, plan, new_main)
        return [
            CommittedVersion(entry.document, entry.path, entry.at, marks[number])
            for number, (entry, _) in enumerate(plan.commits, start=1)
        ]

    # --- planning -----------------------------------------------------------------------------------------

    def _write_blobs(self, versions: Iterable[Version], stream: _FastImport) -> list[_Entry]:
        """Send every new text to fast-import, grouped by document; return their ledger entries."""
        entries: list[_Entry] = []
        pending: list[tuple[str, datetime, bytes]] = []
        pending_bytes = 0
        written: set[str] = set()
        for version in versions:
            payload = version.content.encode("utf-8")
            entry = _Entry.from_version(version, git_blob_id(payload))
            entries.append(entry)
            if entry.blob in written:
                continue
            written.add(entry.blob)
            pending.append((entry.path, entry.at, payload))
            pending_bytes += len(payload)
            if pending_bytes >= BLOB_BUFFER_BYTES:
                _flush_blobs(pending, stream)
                pending_bytes = 0
        _flush_blobs(pending, stream)
        return entries

    def _plan(self, state: _LedgerState, incoming: list[_Entry], *, replace: bool = False) -> _Plan | None:
        """Merge ``incoming`` into the ledger (or, with ``replace``, make it the touched documents' whole
        ledger) and work out the commits to write (None: nothing changes)."""
        touched = sorted({entry.path for entry in incoming})
        old = self._read_index(state, touched)
        merged = {path: [] if replace else list(old.get(path, [])) for path in touched}
        added: dict[str, list[_Entry]] = {path: [] for path in touched}
        seen = set() if replace else {(entry.path, entry.at) for entries in old.values() for entry in entries}
        # Sorting on the blob too makes the choice between two texts given for one moment order-independent.
        for entry in sorted(incoming, key=lambda item: (item.key, item.blob)):
            if (entry.path, entry.at) not in seen:
                seen.add((entry.path, entry.at))
                added[entry.path].append(entry)
        added = {path: items for path, items in added.items() if items}
        if not added:
            return None
        for path, items in added.items():
            merged[path] = sorted(merged[path] + items, key=lambda item: item.key)
        divergence = _earliest_divergence({path: old.get(path, []) for path in added}, merged)
        if divergence is None:
            # Every new version repeats its predecessor's body: only the ledger learns about them.
            return _Plan(parent=state.main, commits=[], added=added, merged=merged)
        if state.head_key is None or divergence > state.head_key:
            return self._append_plan(state, added, merged, old)
        return self._rebuild_plan(state, added, merged, divergence)

    def _append_plan(
        self,
        state: _LedgerState,
        added: dict[str, list[_Entry]],
        merged: dict[str, list[_Entry]],
        old: dict[str, list[_Entry]],
    ) -> _Plan:
        """Every new commit comes after the head: chain them onto it."""
        commits: list[tuple[_Entry, bool]] = []
        for path in added:
            kept = kept_versions(merged[path])
            already = len(kept_versions(old.get(path, [])))
            commits += [(entry, index == 0) for index, entry in enumerate(kept) if index >= already]
        commits.sort(key=lambda item: item[0].key)
        return _Plan(parent=state.main, commits=commits, added=added, merged=merged)

    def _rebuild_plan(
        self,
        state: _LedgerState,
        added: dict[str, list[_Entry]],
        merged: dict[str, list[_Entry]],
        divergence: tuple[datetime, str],
    ) -> _Plan:
        """Re-chain every version from the earliest change on, reusing the blobs already in the repository."""
        everything = self._read_index(state, None)
        old_chain = self._main_chain(state, everything)
        new_chain: list[tuple[_Entry, bool]] = []
        for path, entries in (everything | merged).items():
            kept = kept_versions(merged.get(path, entries))
            new_chain += [(entry, index == 0) for index, entry in enumerate(kept) if entry.key >= divergence]
        new_chain.sort(key=lambda item: item[0].key)
        before = [commit for entry, commit in old_chain if entry.key < divergence]
        return _Plan(parent=before[-1] if before else None, commits=new_chain, added=added, merged=merged)

    # --- writing the stream -------------------------------------------------------------------------------

    def _write_commits(self, stream: _FastImport, plan: _Plan) -> None:
        parent_line = f"from {plan.parent}\n" if plan.parent else ""
        for number, (entry, first) in enumerate(plan.commits, start=1):
            when = f"{int(entry.at.timestamp())} +0000"
            stream.write(
                f"commit {INCOMING_MAIN_REF}\nmark :{number}\nauthor {IDENTITY} {when}\ncommitter {IDENTITY} {when}\n"
            )
            stream.data(commit_message(entry, first).encode("utf-8"))
            stream.write(f"{parent_line}M 100644 {entry.blob} {entry.path}\n\n")
            parent_line = ""

    def _write_ledger(self, stream: _FastImport, state: _LedgerState, plan: _Plan) -> None:
        """The ledger's new tree: the old one plus each touched document's index and new contents."""
        stream.write(f"commit {INCOMING_LEDGER_REF}\ncommitter {IDENTITY} 0 +0000\n")
        stream.data(b"policy-archive ledger tree\n")
        if state.commit is not None:
            stream.write(f'M 040000 {self._tree_of(state.commit)} ""\n')
        for path, items in plan.added.items():
            index = "".join(entry.to_json() + "\n" for entry in plan.merged[path]).encode("utf-8")
            stream.write(f"M 100644 inline {path}{INDEX_SUFFIX}\n")
            stream.data(index)
            for entry in items:
                stream.write(f"M 100644 {entry.blob} {path}/{entry.stamp}\n")
        stream.write("\n")

    # --- publishing and repair ----------------------------------------------------------------------------

    def _publish(self, state: _LedgerState, plan: _Plan, new_main: str | None) -> None:
        """Move the ledger (the atomic step), then ``main``, then the checkout; drop the temporary refs."""
        head_key = plan.commits[-1][0].key if plan.commits else state.head_key
        new_state = _LedgerState(None, new_main, state.main, head_key)
        ledger_tree = self._tree_of(INCOMING_LEDGER_REF)
        ledger_commit = self._git.commit_tree(ledger_tree, "-m", new_state.message().rstrip("\n"), env=IDENTITY_ENV)
        self._git.update_ref("-m", "policy-archive: save", LEDGER_REF, ledger_commit, state.commit or "")
        if new_main != state.main and new_main is not None:
            self._git.update_ref("-m", "policy-archive: save", BRANCH_REF, new_main, state.main or "")
        self._drop_incoming_refs()
        self._sync_checkout()
        self._git.clear_cache()

    def _repair(self) -> None:
        """Undo what a killed run left behind: lock files, temporary refs and packs, a ``main`` left behind."""
        for stale in self._stale_files():
            stale.unlink(missing_ok=True)
        self._drop_incoming_refs()
        self._restore_ref_if_broken(LEDGER_REF)
        self._restore_ref_if_broken(BRANCH_REF)
        state = self._state()
        main = self.head()
        if state.commit is None:
            if main is not None:
                raise ForeignHistoryError(f"{self.directory}: branch {BRANCH} exists but no policy-archive ledger")
            return
        if main != state.main:
            if main != state.previous_main:
                raise ForeignHistoryError(
                    f"{self.directory}: {BRANCH} was changed outside policy-archive (it is at {main}, policy-archive "
                    f"left it at {state.main}); to keep those commits on a branch and give {BRANCH} back, run: "
                    f"git -C {self.directory} branch by-hand {main} && "
                    f"git -C {self.directory} update-ref {BRANCH_REF} {state.main}"
                )
            # Killed between moving the ledger and moving main: finish the save.
            self._git.update_ref("-m", "policy-archive: repair", BRANCH_REF, state.main or "", main or "")
        self._sync_checkout()

    def _stale_files(self) -> Iterator[Path]:
        git_dir = self._git_dir
        yield from git_dir.glob("*.lock")
        yield from (git_dir / "refs").rglob("*.lock")
        yield from git_dir.glob("fast_import_crash_*")
        yield from (git_dir / "objects" / "pack").glob("tmp_*")
        yield git_dir / MARKS_FILE

    def _restore_ref_if_broken(self, ref: str) -> None:
        """A ref naming a missing object goes back to its newest reflog entry that exists (or is deleted)."""
        target = self._ref(ref)
        if target is None or self._exists(target):
            return
        # Drop the broken value by hand: update-ref would log it as the old value, which fsck then reports.
        (self._git_dir / ref).unlink(missing_ok=True)
        for candidate in self._reflog(ref):
            if self._exists(candidate):
                self._git.update_ref("--no-deref", "-m", "policy-archive: repair", ref, candidate)
                return
        if self._ref(ref) is not None:
            self._git.update_ref("--no-deref", "-d", ref)

    def _reflog(self, ref: str) -> list[str]:
        log = self._git_dir / "logs" / ref
        if not log.exists():
            return []
        return [line.split()[1] for line in reversed(log.read_text().splitlines()) if line.strip()]

    def _drop_incoming_refs(self) -> None:
        for ref in (INCOMING_MAIN_REF, INCOMING_LEDGER_REF):
            if self._ref(ref) is not None:
                self._git.update_ref("--no-deref", "-d", ref)
            # A kill can leave a loose ref naming an object that never reached disk: rev-parse cannot see it.
            (self._git_dir / ref).unlink(missing_ok=True)

    def _sync_checkout(self) -> None:
        """Make the working tree show ``main`` (so ``git log -p a/acrcloud/privacy-policy.md`` works there),
        after setting aside any file changed or added there by hand."""
        if self.head() is not None:
            self._set_aside_edits()
            # Smaller pack windows and delta cache than Git's defaults (1 GiB, 96 MiB): a first checkout of
            # 5,000 documents otherwise holds ~240 MB, measured by benchmarks/versions.py on 2026-11-22.
            self._git.execute(["git", *LOW_MEMORY_CONFIG, "read-tree", "--reset", "-u", BRANCH_REF])

    def _set_aside_edits(self) -> None:
        """Copy files edited or added by hand in the checkout out of the repository before it is rewritten:
        ``data/versions-set-aside-STAMP/<path>`` (never discarded; issue 11)."""
        status = self._git.status("--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
        entries = [(entry[:2], entry[3:]) for entry in status.split("\0") if len(entry) > 3]
        changed = [path for code, path in entries if code != "??"]
        # An untracked file survives the checkout, unless the branch has a file at its path.
        untracked = [path for code, path in entries if code == "??"]
        if untracked:
            changed += self._git.ls_tree("-r", "--name-only", "-z", BRANCH_REF, "--", *untracked).split("\0")
        kept = [path for path in changed if path and (self.directory / path).is_file()]
        if not kept:
            return
        aside = self.directory.parent / f"{self.directory.name}-set-aside-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        for path in kept:
            (aside / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.directory / path, aside / path)
        self.notes.append(
            f"{len(kept)} file(s) changed by hand in {self.directory} ({kept[0]}...) were set aside in {aside} "
            "before its checkout was brought back to the branch"
        )

    # --- small Git helpers --------------------------------------------------------------------------------

    def _state(self) -> _LedgerState:
        commit = self._ref(LEDGER_REF)
        if commit is None:
            return _LedgerState(None, None, None, None)
        return _LedgerState.parse(commit, self._git.log("-1", "--format=%B", commit))

    def _main_chain(self, state: _LedgerState, indexes: dict[str, list[_Entry]]) -> list[tuple[_Entry, str]]:
        """Pair each commit of ``main`` with its ledger entry (``main`` is the ledger's kept versions in order)."""
        if state.main is None:
            return []
        entries = [entry for items in indexes.values() for entry in kept_versions(items)]
        entries.sort(key=lambda entry: entry.key)
        commits = self._git.rev_list("--reverse", "--first-parent", state.main).split()
        if len(commits) != len(entries):
            raise VersionStoreError(f"{self.directory}: {len(commits)} commits on {BRANCH}, ledger has {len(entries)}")
        return list(zip(entries, commits, strict=True))

    def _read_index(self, state: _LedgerState, paths: list[str] | None) -> dict[str, list[_Entry]]:
        """Ledger entries of ``paths`` (None: every document), each in capture-time order."""
        if state.commit is None:
            return {}
        if paths is None:
            listing = self._git.ls_tree("-r", "--format=%(path)", state.commit)
            paths = [name.removesuffix(INDEX_SUFFIX) for name in listing.splitlines() if name.endswith(INDEX_SUFFIX)]
        indexes: dict[str, list[_Entry]] = {}
        for path in paths:
            try:
                _, _, _, data = self._git.get_object_data(f"{state.commit}:{path}{INDEX_SUFFIX}")
            except ValueError:  # GitPython's answer to cat-file's "missing": a document not saved before
                continue
            indexes[path] = [_Entry.from_json(line) for line in data.decode("utf-8").splitlines()]
        return indexes

    def _ref(self, ref: str) -> str | None:
        try:
            return self._git.rev_parse("--verify", "--quiet", ref)
        except git.GitCommandError:
            return None

    def _exists(self, object_id: str) -> bool:
        try:
            self._git.cat_file("-e", f"{object_id}^{{commit}}")
        except git.GitCommandError:
            return False
        return True

    def _tree_of(self, commit: str) -> str:
        return self._git.rev_parse(f"{commit}^{{tree}}")

    def _is_ancestor_of_main(self, commit: str) -> bool:
        main = self.head()
        if main is None:
            return False
        try:
            self._git.merge_base("--is-ancestor", commit, main)
        except git.GitCommandError:
            return False
        return True


@dataclass(frozen=True)
class _Plan:
    """What one save writes: commits after ``parent``, and the new versions and indexes of touched documents."""

    parent: str | None
    commits: list[tuple[_Entry, bool]]  # (entry, is the document's first record), in order on main
    added: dict[str, list[_Entry]]
    merged: dict[str, list[_Entry]]


def _earliest_divergence(old: dict[str, list[_Entry]], merged: dict[str, list[_Entry]]) -> tuple[datetime, str] | None:
    """The key of the earliest commit that differs between the old and new histories of these documents."""
    earliest: tuple[datetime, str] | None = None
    for path, entries in old.items():
        before, after = kept_versions(entries), kept_versions(merged[path])
        for index in range(max(len(before), len(after))):
            old_entry = before[index] if index < len(before) else None
            new_entry = after[index] if index < len(after) else None
            if old_entry == new_entry:
                continue
            keys = [entry.key for entry in (old_entry, new_entry) if entry is not None]
            candidate = min(keys)
            if earliest is None or candidate < earliest:
                earliest = candidate
            break
    return earliest


def _flush_blobs(pending: list[tuple[str, datetime, bytes]], stream: _FastImport) -> None:
    pending.sort(key=lambda item: (item[0], item[1]))
    for _, _, payload in pending:
        stream.blob(payload)
    pending.clear()
