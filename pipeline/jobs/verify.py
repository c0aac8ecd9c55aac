"""`verify`: prove that every version is what it claims to be.

For each version on ``main``: its raw capture is found through the catalog (document and payload SHA-1, preferring
the capture whose bytes date from the version's ``Captured-At``) and read from its WARC file; the payload's SHA-1
must equal the commit's ``Payload-Sha1``; extracting those bytes again, with the document's declaration, must
give the recorded text (and stated date), by the rules a backfill examines it with: a capture whose bytes were
archived at another time than its CDX row is held to 30 days from it and, where the catalog keeps the
document's listing, between the captures listed around it (``reextract.listed_neighbours``; docs/decisions/0008).
A version whose text differs is reported as such, not as a mismatch, when another extractor revision made it, or
other extraction rules (the declaration's ``select``/``remove`` edited since; the ``Extractor:`` trailer names the
rules' fingerprint): the reading changed, not the evidence (docs/decisions/0003).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from policy_archive.archive.captures import CaptureStore
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow
from policy_archive.archive.history import VersionCommit, version_commits
from policy_archive.archive.stored_responses import StoredResponse
from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.extraction.extract import EXTRACTOR_REVISION
from policy_archive.pipeline.jobs.damage import Unreadable, read_kept
from policy_archive.pipeline.jobs.examine import Neighbours, examine, reading_at
from policy_archive.pipeline.jobs.future_dates import FUTURE_REMEDY, in_the_future
from policy_archive.pipeline.jobs.kept_reading import capture_from
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.provenance import document_text, strip_header
from policy_archive.pipeline.jobs.reextract import listed_neighbours
from policy_archive.records import DocumentDeclaration, Source, iso_z, payload_sha1
from policy_archive.text import first_few, plural, printable, quoted

# "policy-archive-extract 1 (lxml 6.1.3, pypdf 7.1.0)": the revision number is what decides whether the same
# bytes must give the same text (library versions only change it when a revision says so).
REVISION = re.compile(r"^policy-archive-extract (\d+)\b")
# "...; rules 64f294690d8c": versions recorded before 2026-11-27 name no rules, and a difference stays a mismatch.
RULES = re.compile(r"; rules ([0-9a-f]{12})$")


class Verdict(StrEnum):
    """What :class:`Verifier` says of one version; :data:`FAILING` lists the verdicts `verify` exits 1 for."""

    VERIFIED = "verified"
    OLDER_EXTRACTOR = "older-extractor"  # the text differs, but another extractor revision made it
    OTHER_RULES = "other-rules"  # the text differs, but the declaration's selectors were others then
    # Its own record cannot be read, but the same bytes kept from another capture give its text: not verified
    # (the date rests on its own record), not a mismatch of the text.
    SAME_BYTES_ELSEWHERE = "same-bytes-elsewhere"
    MISMATCH = "mismatch"
    # A technical upgrade read from an earlier capture, with other bytes, than the version it follows on ``main``:
    # its text is verified, but it stands as the latest although the page was captured since (a backfill of an
    # older release found the later capture after the upgrade was made; docs/decisions/0003, 2026-11-29).
    STALE_UPGRADE = "stale-upgrade"


# A verdict as the progress line counts it when it is a noun: "2 mismatches" (the others read as adjectives).
_PROGRESS_WORDS = {Verdict.MISMATCH: "mismatches", Verdict.STALE_UPGRADE: "stale upgrades"}
_PROGRESS_ONE = {Verdict.STALE_UPGRADE: "stale upgrade"}

# How a history holding a stale technical upgrade is made right: its versions made again from the captures, with
# the rules of now (no upgrade is then needed), as `reextract --rebuild` makes them.
STALE_UPGRADE_REMEDY = "`policy-archive reextract --rebuild {document}` makes its history again from the captures"

# Said of a document with a version whose bytes were archived at another time than its CDX row when the catalog
# keeps no listing of it (``Verifier.unlisted``).
NO_LISTING = (
    "the catalog keeps no listing of its archive captures (re-indexed from the WARC files, not listed since):"
    " versions whose bytes were archived at another time than their capture listed were held to 30 days from it"
    " only, not to the captures listed around it (the next backfill lists them again)"
)

# What `verify` names on stderr as FAILED, and exits 1 for.
FAILING = (Verdict.MISMATCH, Verdict.SAME_BYTES_ELSEWHERE, Verdict.STALE_UPGRADE)


@dataclass(frozen=True)
class VersionCheck:
    """The verdict on one version (its document, commit and capture time in ISO 8601 UTC) and what was found (empty
    when verified)."""

    document: str
    commit: str
    captured_at: str  # ISO 8601 UTC
    verdict: Verdict
    detail: str = ""

    def describe(self) -> str:
        """``version 2018-06-29T16:24:26Z (0123456789): DETAIL``, the commit shortened to ten characters: what
        `verify` prints after the document's name."""
        return f"version {self.captured_at} ({self.commit[:10]}): {self.detail}"


def extractor_revision(trailer: str) -> int | None:
    """The revision in an ``Extractor:`` trailer (None for another extractor, e.g. ``trafilatura 2.3.1``)."""
    found = REVISION.match(trailer)
    return int(found.group(1)) if found else None


def rules_fingerprint(trailer: str) -> str | None:
    """The rules' fingerprint in an ``Extractor:`` trailer, or None when it names none."""
    found = RULES.search(trailer)
    return found.group(1) if found else None


def first_difference(recorded: str, extracted: str) -> str:
    """Where two texts part: the line number and both lines, shortened, for the one-line report."""
    ours, theirs = recorded.splitlines(), extracted.splitlines()
    for number, (mine, other) in enumerate(zip(ours, theirs, strict=False), start=1):
        if mine != other:
            return f"line {number}: recorded {mine[:60]!r}, re-extracted {other[:60]!r}"
    return f"recorded {len(ours)} {plural(len(ours), 'line')}, re-extracted {len(theirs)}"


class Verifier:
    """Checks versions against the kept captures; ``current_revision`` is this extractor's revision."""

    def __init__(
        self,
        catalog: Catalog,
        captures: CaptureStore,
        current_revision: int = EXTRACTOR_REVISION,
        *,
        clock: datetime,
    ) -> None:
        self.catalog = catalog
        self.captures = captures
        # When the run began: a version dated after it (an archive's future date recorded before 2026-11-29), or
        # whose capture is now refused for it, is a mismatch (``examine.in_the_future``).
        self.clock = clock
        self.current_revision = current_revision
        # The listing's neighbours of the document being checked (one document's at a time), None when the
        # catalog keeps no listing of it.
        self._around: tuple[str, dict[tuple[str, datetime], Neighbours] | None] | None = None
        # Documents with a version whose bytes were archived at another time than its CDX row, checked by the
        # 30-day rule only: the catalog keeps no listing of them (re-indexed from the WARC files).
        self.unlisted: list[str] = []

    def check(self, declaration: DocumentDeclaration, version: VersionCommit, content: str) -> VersionCheck:
        """Check one version (``content``: its file in Git, header included) against its kept capture: found by
        document and the commit's Payload-Sha1, the bytes' SHA-1 compared, then extracted again. A missing or
        unreadable capture is a verdict (:attr:`Verdict.MISMATCH`, or :attr:`Verdict.SAME_BYTES_ELSEWHERE` when other
        kept bytes confirm the text), not an exception."""
        if future := in_the_future(version.captured_at, self.clock, "the version is dated"):
            return _verdict(declaration, version, Verdict.MISMATCH, f"{future}: {FUTURE_REMEDY}")
        recorded_sha1 = version.trailers.get("Payload-Sha1", "")
        rows = self.catalog.kept_captures(declaration.key, recorded_sha1, version.captured_at)
        if not rows:
            detail = f"missing capture: no kept capture has payload {recorded_sha1 or '?'}"
            return _verdict(declaration, version, Verdict.MISMATCH, detail)
        response = read_kept(self.captures, rows[0])
        if isinstance(response, Unreadable):
            return self._from_the_same_bytes(declaration, version, content, response, rows[1:])
        kept_sha1 = payload_sha1(response.body)
        if kept_sha1 != recorded_sha1:
            detail = f"digest: the kept payload's SHA-1 is {kept_sha1}, the commit says {recorded_sha1}"
            return _verdict(declaration, version, Verdict.MISMATCH, detail)
        return self._compare(declaration, version, content, rows[0], response)

    def _from_the_same_bytes(
        self,
        declaration: DocumentDeclaration,
        version: VersionCommit,
        content: str,
        unreadable: Unreadable,
        others: Sequence[CaptureRow],
    ) -> VersionCheck:
        """The version's own record cannot be read: its text checked on the same bytes (payload SHA-1) kept from
        another capture, extracted as its own capture would be (its URL and date, the other's headers). Never
        verified: a match confirms the text, not the date, which only the version's own record proves. A
        rendered capture has no such twin (its DOM is not in the payload's digest)."""
        if unreadable.row.rendered:
            return _verdict(declaration, version, Verdict.MISMATCH, unreadable.problem)
        for other in others:
            response = read_kept(self.captures, other) if not other.rendered else None
            if not isinstance(response, StoredResponse) or payload_sha1(response.body) != other.payload_sha1:
                continue
            assert other.stored is not None
            where = (
                f"the same bytes kept from the capture of {iso_z(other.bytes_at)} "
                f"({other.stored.warc_file}:{other.stored.offset})"
            )
            check = self._compare(declaration, version, content, unreadable.row, response)
            if check.verdict is Verdict.VERIFIED:
                detail = f"{unreadable.problem}; its text is confirmed by {where}, not its date"
                return replace(check, verdict=Verdict.SAME_BYTES_ELSEWHERE, detail=detail)
            return replace(check, verdict=Verdict.MISMATCH, detail=f"{unreadable.problem}; {where}: {check.detail}")
        return _verdict(declaration, version, Verdict.MISMATCH, unreadable.problem)

    def _compare(
        self,
        declaration: DocumentDeclaration,
        version: VersionCommit,
        content: str,
        row: CaptureRow,
        response: StoredResponse,
    ) -> VersionCheck:
        """The version's text (and stated date) against what extracting ``row``'s capture (with the bytes of
        ``response``) again gives."""
        examination = examine(
            declaration,
            capture_from(row, response),
            clock=self.clock,
            check_digest=False,
            neighbours=self._neighbours(row),
            # The rules of the version's date, which its commit names: a version known through a twin across a
            # ``history`` boundary is read from the twin's record, whose date has other rules (2026-11-29).
            read_as_of=version.captured_at,
        )
        recorded = strip_header(content)
        document = examination.document
        if document is None:
            problem = f"text: the capture is now refused ({examination.reason})"
        elif document_text(document) != recorded:
            problem = f"text: {first_difference(recorded, document_text(document))}"
        elif (iso := document.stated_date.isoformat() if document.stated_date else None) != version.stated_date:
            problem = f"stated date: recorded {version.stated_date}, re-extracted {iso}"
        else:
            return _verdict(declaration, version, Verdict.VERIFIED)
        extractor = version.trailers.get("Extractor", "")
        revision = extractor_revision(extractor)
        if revision != self.current_revision:
            made_by = f"revision {revision}" if revision is not None else repr(extractor or "?")
            detail = f"made by extractor {made_by}, this is revision {self.current_revision}: {problem}"
            return _verdict(declaration, version, Verdict.OLDER_EXTRACTOR, detail)
        rules_then = rules_fingerprint(extractor)
        rules_now = rules_fingerprint(reading_at(declaration, version.captured_at))
        if rules_then is not None and rules_then != rules_now:
            detail = (
                f"made with other extraction rules ({rules_then}; the declaration's are now {rules_now}): {problem}"
            )
            return _verdict(declaration, version, Verdict.OTHER_RULES, detail)
        return _verdict(declaration, version, Verdict.MISMATCH, problem)

    def _neighbours(self, row: CaptureRow) -> Neighbours | None:
        """The captures listed around ``row`` where the catalog keeps its document's listing (read once per
        document); None for a live capture, or where no listing is kept (the document then named in
        :attr:`unlisted` if the capture's bytes were archived at another time than its row)."""
        if row.source is not Source.WAYBACK:
            return None
        if self._around is None or self._around[0] != row.document:
            self._around = (row.document, listed_neighbours(self.catalog, row.document, self.clock))
        around = self._around[1]
        if around is None:
            if row.bytes_at != row.captured_at and row.document not in self.unlisted:
                self.unlisted.append(row.document)
            return None
        return around.get((row.url, row.captured_at))


def _verdict(declaration: DocumentDeclaration, version: VersionCommit, kind: Verdict, detail: str = "") -> VersionCheck:
    return VersionCheck(declaration.key, version.commit, iso_z(version.captured_at), kind, detail)


def verify(
    declarations: Sequence[DocumentDeclaration], store: VersionStore, verifier: Verifier, progress: Progress
) -> Iterator[VersionCheck]:
    """Check every version of ``declarations``, one document after the other, oldest version first; a technical
    upgrade whose text is right but which reads another, earlier capture than the last version before it that is
    not an upgrade is a stale upgrade (:func:`stale_upgrade`)."""
    for declaration in declarations:
        versions = version_commits(store, [declaration.path])
        previous: VersionCommit | None = None  # the last version that is not an upgrade
        for version, content in store.with_blobs(versions, lambda version: version.blob):
            check = verifier.check(declaration, version, content.decode("utf-8"))
            if check.verdict not in FAILING and (stale := stale_upgrade(declaration, version, previous)):
                check = _verdict(declaration, version, Verdict.STALE_UPGRADE, stale)
            previous = previous if version.technical_upgrade else version
            word = _PROGRESS_WORDS.get(check.verdict, str(check.verdict))
            progress.add(word, done=True, one=_PROGRESS_ONE.get(check.verdict, str(check.verdict)))
            yield check


def stale_upgrade(
    declaration: DocumentDeclaration, version: VersionCommit, previous: VersionCommit | None
) -> str | None:
    """What is wrong with ``version`` when it is a technical upgrade that did not read the capture of the last
    version before it on ``main`` that is not an upgrade (``previous``) but an earlier one, else None.

    An upgrade reads the capture of the latest version again (docs/decisions/0003), and a second upgrade the same
    capture: the same bytes, so the same ``Payload-Sha1``, but not always the same ``Captured-At`` (a version a
    backfill dated at a twin it never fetched is read from the twin fetched, which may be earlier). Before
    2026-11-29 a backfill that found a later capture after the upgrade was made put its version before the upgrade,
    which stayed the head: `show` gave the older capture's text as the page's latest (outside audit 31, finding 2).
    Saves now drop such an upgrade (``archive.saves``); a history written before keeps it until its versions are
    made again."""
    if not version.technical_upgrade or previous is None or previous.captured_at <= version.captured_at:
        return None
    if previous.trailers.get("Payload-Sha1") == version.trailers.get("Payload-Sha1"):
        return None  # the same bytes read again: its twin's capture
    return (
        f"technical upgrade made from the capture of {iso_z(version.captured_at)}, but the version it follows was "
        f"captured later, on {iso_z(previous.captured_at)}, from other bytes: main gives an older capture's text as "
        "the latest; " + STALE_UPGRADE_REMEDY.format(document=declaration.key)
    )


def by_hand_lines(store: VersionStore, declared: dict[str, str]) -> tuple[list[str], str]:
    """What `verify` says of a ``main`` changed outside policy-archive: one line each (each a failure), and what
    its last line adds (``; 1 commit on main not made by policy-archive``); nothing when ``main`` is as
    policy-archive left it. A line per commit added by hand, naming the documents whose files it changes (those
    the history holds and the ``declared`` ones: path -> document) and the other files it changes; a line
    counting policy-archive's commits no longer on ``main``.

    The proof is of what ``main`` shows (what `git log`, a clone and a publication read), and a commit policy-archive
    did not make has no capture to check: one changing a document's file puts a text on ``main`` no capture gives,
    and any other one is still a ``main`` every writing command refuses until it is moved to a branch of its own
    (the line ``versions_for_reading`` says names the two commands). So each is a failure, whichever documents
    were asked for: ``main`` is one branch."""
    changed = store.main_by_hand()
    if changed is None:
        return [], ""
    documents = {version.path: version.document for version in store.main_versions()} | declared
    lines = []
    for commit in changed.added:
        named = sorted({documents[path] for path in commit.paths if path in documents})
        others = [path for path in commit.paths if path not in documents]
        what = []
        if named:
            what.append(f"the text of {', '.join(named)}, which main then shows unverified")
        if others:
            what.append(f"{plural(len(others), 'a file', 'files')} holding no version ({first_few(others, 5)})")
        said = " and ".join(what) if what else "no file"
        lines.append(
            f"main: commit {commit.commit[:12]} ({quoted(commit.subject)}) was not made by policy-archive: it "
            f"changes {printable(said)}"
        )
    if more := changed.added_count - len(changed.added):
        lines.append(f"main: {more:,} more {plural(more, 'commit')} not made by policy-archive")
    if changed.dropped_count:
        lines.append(
            f"main: {changed.dropped_count:,} {plural(changed.dropped_count, 'commit')} policy-archive made "
            f"{plural(changed.dropped_count, 'is', 'are')} no longer on it (reset or rewritten by hand)"
        )
    added, dropped = changed.added_count, changed.dropped_count
    summary = f"; {added:,} {plural(added, 'commit')} on main not made by policy-archive" if added else ""
    if dropped:
        summary += f"; {dropped:,} {plural(dropped, 'commit')} of policy-archive's no longer on main"
    return lines, summary
