"""`export --format ota`: our versions as a Git repository in Open Terms Archive's versions layout (decision 0013).

OTA's versions repositories (as of engine 10.x, 2026-11) hold ``<Service name>/<Terms type>.md`` on ``main``, one
commit per version with the subjects ``First record of <Service> <Terms type>``, ``Record new changes of ...``
and ``Apply technical or declaration upgrade on ...``, and a body naming the snapshot the version was extracted
from (``This version was recorded after extracting from snapshot <id>``). Here the snapshot is the archive's raw
capture URL, and the trailers ``Captured-At`` / ``Source`` follow, as in our own commits.

Author and committer date are our commit's date: the capture time of the bytes (a technical upgrade: when it
was made, as in our repository). The export is append-only, as an OTA history is: a second export adds the
versions not exported yet; versions older than the export's last commit cannot be placed in date order and are
named instead (exit 1) — export to a new directory to have them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from policy_archive.archive.history import version_commits
from policy_archive.archive.plain_git import ExistingCommit, ExportRepository, FileCommit
from policy_archive.config.writer import name_hash
from policy_archive.errors import PolicyArchiveError
from policy_archive.pipeline.exports import ExportStopped, VersionsNotExported
from policy_archive.pipeline.exports._rows import ExportSource
from policy_archive.pipeline.jobs.provenance import HEADER_PATTERN, strip_header
from policy_archive.records import DocumentDeclaration, iso_z, title_from_id
from policy_archive.stop_signals import Stopped, stop_signals_handled
from policy_archive.text import plural

# OTA's terms types (OpenTermsArchive/terms-types, termsTypes.json, v2 as of 2026-11, EUPL-1.2): our document id
# is the slug of one of these when it came from OTA, and the exact spelling (``Single Sign-On``) comes back.
OTA_TERMS_TYPES = (
    "Terms of Service", "Privacy Policy", "Imprint", "Trackers Policy", "Developer Terms", "Community Guidelines",
    "Deceased Users", "Acceptable Use Policy", "Restricted Use Policy", "Commercial Terms", "Copyright Claims Policy",
    "Law Enforcement Guidelines", "Human Rights Policy", "In-App Purchases Policy", "Review Guidelines",
    "Brand Guidelines", "Quality Guidelines", "Data Controller Agreement", "Data Processor Agreement",
    "User Consent Policy", "Closed Captioning Policy", "Seller Warranty", "Single Sign-On Policy",
    "Vulnerability Disclosure Policy", "Live Policy", "Complaints Policy", "Conditions of Carriage",
    "General Conditions of Sale", "Marketplace Buyers Conditions", "Marketplace Sellers Conditions",
    "Ranking Parameters Description", "Premium Partner Conditions", "Platform to Business Notice",
    "Business Mediation Policy", "Business Privacy Policy", "Editorial Policy", "Anti-corruption Policy",
    "Accessibility Statement", "Hyperlinks Policy", "Whistleblower Policy", "Affiliate Agreement",
    "Service Level Agreement", "Content Monetisation Policy", "Advertising Content Policy",
)  # fmt: skip
# What a file name cannot hold where a collection is checked out: control characters, and what Windows refuses in
# any name (``<>:"/\|?*``; NTFS, and Git for Windows cannot check such a file out: "invalid path"). Each run becomes
# ``-``, as OTA's own service ids have ``:``, ``/`` and ``\`` (OTA decision record 0001, service name and id, read
# 2026-11-28 in OpenTermsArchive/engine: ``re:start`` → ``re-start``).
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
# Windows' device names: a file or folder named so, in any case, also with an extension (``nul.txt``) or spaces
# before it, is the device, not a file (Microsoft's "Naming Files, Paths, and Namespaces", read 2026-11-28: CON, PRN,
# AUX, NUL, COM0-9, LPT0-9 and COM/LPT with a superscript 1, 2 or 3). OTA's rules do not name them.
WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"{port}{digit}" for port in ("COM", "LPT") for digit in (*"0123456789", "\u00b9", "\u00b2", "\u00b3")]
)
# A folder name is at most 255 bytes where a collection is checked out (ext4, APFS; NTFS counts 255 UTF-16 units):
# a service name may be longer (config.declarations.NAME_MAX_LENGTH characters, up to 4 bytes each).
FOLDER_MAX_BYTES = 255
SNAPSHOT_PREFIX = "This version was recorded after extracting from snapshot"
FIRST, CHANGE, UPGRADE = "First record of", "Record new changes of", "Apply technical or declaration upgrade on"


class ExportClash(PolicyArchiveError):
    """Two of the documents would be one file of the export: nothing was exported."""


@dataclass(frozen=True)
class OtaVersion:
    """One of our versions as OTA records it."""

    document: str  # ours: acrcloud/privacy-policy
    path: str  # <Service name>/<Terms type>.md
    display: str  # <Service name> <Terms type>
    at: datetime  # our commit date
    captured_at: datetime
    source: str
    snapshot_url: str
    technical_upgrade: bool
    text: str  # "# title", blank line, body: our version file without its provenance header


def terms_type(document_id: str) -> str:
    """``privacy-policy`` → ``Privacy Policy``; ``single-sign-on-policy`` → ``Single Sign-On Policy`` (OTA's own
    spelling); any other id → its words capitalised, small words kept small (``conditions-of-use``)."""
    known = {re.sub(r"[^a-z0-9]+", "-", name.lower()): name for name in OTA_TERMS_TYPES}
    if document_id in known:
        return known[document_id]
    return title_from_id(document_id)


def service_folder(name: str) -> str:
    """The service's folder: its name, without what a path, ``git log`` or Windows cannot carry plainly (each run of
    such characters a ``-``; no dot or space at either end, which Windows drops; a device name such as ``CON``
    followed by ``_``); a name longer than a file name may be is cut and ends with a hash of the whole name, as a
    long id is (``slug_id``)."""
    cleaned = _UNSAFE_IN_NAME.sub("-", name).strip(" .-") or "service"
    if len(cleaned.encode("utf-8")) > FOLDER_MAX_BYTES:
        suffix = name_hash(name)
        head = cleaned.encode("utf-8")[: FOLDER_MAX_BYTES - len(suffix) - 1].decode("utf-8", "ignore")
        cleaned = f"{head.rstrip(' .-')}-{suffix}"
    return not_a_device(cleaned)


def not_a_device(name: str) -> str:
    """``name``, or when Windows takes it for a device (``CON``, ``nul.txt``, ``Aux .md``: its part before the
    first dot, spaces after it dropped, is one of :data:`WINDOWS_DEVICES` in any case), that part followed by
    ``_`` (``CON_``, ``nul_.txt``): a name of one more character than a device's is no device."""
    stem = name.split(".", 1)[0].rstrip(" ")
    if stem.upper() not in WINDOWS_DEVICES:
        return name
    return f"{stem}_{name[len(stem) :]}"


def message(version: OtaVersion, first: bool) -> str:
    """OTA's commit message: its subject, its sentence naming the snapshot, then our trailers."""
    subject = FIRST if first else UPGRADE if version.technical_upgrade else CHANGE
    return (
        f"{subject} {version.display}\n\n{SNAPSHOT_PREFIX} {version.snapshot_url}\n\n"
        f"Captured-At: {iso_z(version.captured_at)}\nSource: {version.source}\n"
    )


def ota_versions(source: ExportSource) -> Iterator[OtaVersion]:
    """Every version of the selected documents, in our commit order (date order)."""
    by_path = {declaration.path: declaration for declaration in source.declarations}
    for commit in version_commits(source.store, list(by_path), ignore=HEADER_PATTERN):
        declaration = by_path[commit.path]
        text = strip_header(source.store.blob(commit.blob).decode("utf-8"))
        source.progress.add("versions", one="version")
        yield OtaVersion(
            document=declaration.key,
            path=ota_path(declaration),
            display=f"{declaration.service_name} {terms_type(declaration.document_id)}",
            at=commit.committed_at,
            captured_at=commit.captured_at,
            source=commit.trailers.get("Source", ""),
            snapshot_url=commit.trailers.get("Snapshot-Url", ""),
            technical_upgrade=commit.subject.startswith("Apply technical upgrade"),
            text=text,
        )


def ota_path(declaration: DocumentDeclaration) -> str:
    """``ACRCloud/Privacy Policy.md``: where OTA keeps this document's versions."""
    return f"{service_folder(declaration.service_name)}/{not_a_device(terms_type(declaration.document_id))}.md"


def exported_version(commit: ExistingCommit) -> tuple[str, str] | None:
    """What names the version an export commit holds, (snapshot URL, ``Captured-At``), from its message (see
    :func:`message`); None for a commit whose message does not say (written by hand, or by another tool)."""
    snapshot = captured = None
    for line in commit.message.splitlines():
        if line.startswith(f"{SNAPSHOT_PREFIX} "):
            snapshot = line.removeprefix(f"{SNAPSHOT_PREFIX} ")
        elif line.startswith("Captured-At: "):
            captured = line.removeprefix("Captured-At: ")
    return (snapshot, captured) if snapshot and captured else None


class Plan:
    """What to append after the export's ``existing`` commits, decided one version at a time (:meth:`commits`), and
    what could not be (:meth:`problems`, :attr:`moved`). ``current``: the path of every document of the
    configuration now (the versions' own paths count too).

    Of the export's history it keeps, per commit, only what tells its version (path and date; snapshot and capture
    time), never its message; of our versions, only the one being planned: memory does not hold the texts or
    messages, however long either history.

    A document's versions were exported before under another path when the export has none at its path and holds
    one of its versions (the same snapshot and capture time) at a path no document of the configuration writes now:
    its service or terms type was renamed, or its folder spelt otherwise (Windows' names). Its versions are not
    exported (an OTA history is published: its files are not moved, nor one document's history begun again beside
    its first), and it is named with both paths."""

    def __init__(self, existing: Iterable[ExistingCommit], current: Collection[str] = ()) -> None:
        self.done: set[tuple[str, datetime]] = set()
        self.exported: set[str] = set()  # the paths the export holds
        self.head: datetime | None = None  # the date of its last commit
        self.exported_at: dict[tuple[str, str], set[str]] = {}
        for commit in existing:
            self.done.add((commit.path, commit.at))
            self.exported.add(commit.path)
            self.head = commit.at
            if (key := exported_version(commit)) is not None:
                self.exported_at.setdefault(key, set()).add(commit.path)
        self.recorded = set(self.exported)
        self.paths_now = set(current)
        self.late: dict[str, int] = {}
        self.moved: dict[str, tuple[str, str]] = {}  # document -> (the path it was exported as, its path now)

    def commits(self, versions: Iterable[OtaVersion]) -> Iterator[FileCommit]:
        """The commit of each of ``versions`` (in date order) to append, as it is decided.

        Versions come in date order, and one exported before is older than the export's head: a moved document is
        known before any version of it could be appended (its path is recorded by its first commit, and a recorded
        path is never taken for a moved one), so no commit of a moved document is ever given."""
        for version in versions:
            self.paths_now.add(version.path)
            if (version.path, version.at) in self.done or version.document in self.moved:
                continue
            if version.path not in self.recorded:
                key = (version.snapshot_url, iso_z(version.captured_at))
                elsewhere = self.exported_at.get(key, set()) - self.paths_now
                if elsewhere:
                    self.moved[version.document] = (min(elsewhere), version.path)
                    continue
            if self.head is not None and version.at <= self.head:
                self.late[version.document] = self.late.get(version.document, 0) + 1
                continue
            first = version.path not in self.recorded
            self.recorded.add(version.path)
            yield FileCommit(version.path, version.text, version.at, message(version, first))

    def problems(self) -> list[tuple[str, str]]:
        """Each document whose versions could not be appended, with why (once :meth:`commits` is consumed)."""
        head = self.head
        problems = [
            (
                document,
                f"{count} {plural(count, 'version')} older than the export's last commit ({iso_z(head)}) not "
                "exported: an OTA history only grows forward; export to a new directory to include them",
            )
            for document, count in self.late.items()
            if head is not None and document not in self.moved
        ]
        problems += [
            (
                document,
                f"exported before as {old}, its path is now {new}: its service or terms type was renamed, or its name "
                "is now spelt for Windows; none of its versions was exported, as an export never moves what it "
                "published; export to a new directory to have its history under the new path",
            )
            for document, (old, new) in self.moved.items()
        ]
        return problems


def plan(
    versions: Iterable[OtaVersion], existing: Iterable[ExistingCommit], current: Collection[str] = ()
) -> tuple[list[FileCommit], list[tuple[str, str]], dict[str, str]]:
    """:class:`Plan` whole: the commits to append after ``existing``; each document whose versions cannot be, with
    why; and each document exported before under another path than its own now (renamed), with that path."""
    planned = Plan(existing, current)
    commits = list(planned.commits(versions))
    return commits, planned.problems(), {document: old for document, (old, _) in planned.moved.items()}


def left_behind(exported: Collection[str], current: Collection[str], moved: Iterable[str]) -> list[str]:
    """One line per file of the export that no document of the configuration writes now (its document removed
    from the configuration, or renamed: ``moved`` holds the paths of renamed documents, named by their failure
    already). The file is left as it is: an OTA history is published, nothing of it is removed."""
    named = set(current) | set(moved)
    stale = sorted(set(exported) - named)
    return [
        f"{path}: in the export, but no document of the configuration writes it now (removed from it, or renamed): "
        "left as it is, as an export never removes what it published"
        for path in stale
    ]


def folded(path: str) -> str:
    """``path`` as a file system that ignores case and Unicode normalisation compares names: two paths that fold
    alike are one file on macOS (APFS, HFS+: case-insensitive and normalisation-insensitive by default) and on
    Windows (NTFS: case-insensitive), where an OTA collection is cloned as often as on Linux.

    Canonical caseless matching (The Unicode Standard, chapter 3, D145: NFD, full case folding, NFD; NFC last here,
    the same equality). An approximation, on the safe side: full folding also joins what those file systems keep
    apart (``ß`` and ``ss``, ``ﬁ`` and ``fi``: they fold one letter to one, each by its own table), so a few names
    are refused that would have been two files there; NTFS does not normalise, so NFC/NFD twins clash on macOS
    only, which is reason enough. Windows' device names (``CON``), reserved characters and dropped trailing dots
    and spaces are kept out of the paths themselves (``service_folder``, ``not_a_device``)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", path).casefold())


def how_alike(path: str, other: str) -> str:
    """How two paths that fold alike differ: an NFC/NFD pair looks the same on a terminal, so it is said."""
    if unicodedata.normalize("NFC", path) == unicodedata.normalize("NFC", other):
        return "differ only by Unicode normalisation (the same letters, composed and decomposed)"
    if path.casefold() == other.casefold():
        return "differ only by case"
    return "differ only by case and Unicode normalisation"


def check_paths(declarations: Sequence[DocumentDeclaration]) -> None:
    """Two of our documents must not land in one OTA file: two services with the same name, or names (of services,
    or of two document types of one service) that differ only by case or Unicode normalisation (``Example`` and
    ``EXAMPLE``; ``Café`` typed as NFC and as NFD), which a case-insensitive or normalising file system takes for
    one (outside audit 9, F6: both were exported, each history to its own path, one file once checked out)."""
    seen: dict[str, tuple[str, str]] = {}  # folded path: (path, document key)
    for declaration in declarations:
        path = ota_path(declaration)
        key = folded(path)
        if key in seen:
            other_path, other = seen[key]
            if other_path == path:
                raise ExportClash(f"{declaration.key} and {other} would both be exported as {path}")
            raise ExportClash(
                f"{declaration.key} and {other} would both be exported as {path} where a name's case or Unicode "
                f"normalisation does not count (macOS, Windows): {path!r} and {other_path!r} "
                f"{how_alike(path, other_path)}"
            )
        seen[key] = (path, declaration.key)


def export(source: ExportSource, output: Path) -> str:
    """Append the versions not exported yet to the repository at ``output`` (created when missing or empty).

    Our versions are read, planned and fed to Git one at a time (one version's text in memory, however many).
    SIGTERM or Ctrl-C while the export reads (the repository, our versions, while it feeds them to Git) stops it
    there, nothing written: what Git had been given is dropped (the branch never moved) and a repository this
    export made is removed (:class:`ExportStopped`). Once every version is given, Git's write (the branch moved, the
    files checked out) is completed (git is out of the terminal's reach: archive.git_environment) and the summary
    says the signal came."""
    check_paths(source.declarations)
    current = {ota_path(declaration) for declaration in source.configured or source.declarations}
    with stop_signals_handled() as stop:

        @contextmanager
        def reading() -> Iterator[None]:
            with stop.interrupting():
                stop.raise_if_received()
                yield

        repository: ExportRepository | None = None
        try:
            with reading():
                repository = ExportRepository(output)
                planned = Plan(repository.history(), current)
            written = repository.append(planned.commits(ota_versions(source)), reading=reading)
        except Stopped as stopped:
            if repository is not None:
                repository.forget_if_made()  # stopped before the append (which puts back what it began itself)
            raise ExportStopped(
                f"stopped by {stopped.signal_name} before anything was written: nothing exported"
            ) from None
    summary = f"{written} {plural(written, 'version')} committed to {output} (Open Terms Archive layout)"
    if stop.received:
        summary += f"; stopped by {stop.signal_name} while Git wrote the export: it was written whole"
    moved = [old for old, _ in planned.moved.values()]
    summary = "\n".join([summary, *left_behind(planned.exported, current, moved)])
    if problems := planned.problems():
        raise VersionsNotExported(summary, problems)
    return summary
