"""One save, worked out: how new versions merge into the ledger (``plan_save``) and the ``git fast-import`` stream
that writes the plan (blobs grouped by document, the commits of ``main``, the ledger's new tree).

Both refs are written as temporary ``INCOMING_*`` refs; ``archive.versions`` publishes them (docs/decisions/0001),
then drops them (``drop_incoming_refs``), as opening does after a kill (``archive.recovery``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from policy_archive.archive.fastimport import FastImport
from policy_archive.archive.ledger import (
    IDENTITY,
    INDEX_SUFFIX,
    Entry,
    LedgerState,
    commit_message,
    git_blob_id,
    kept_versions,
)
from policy_archive.archive.lost_objects import GitRefs
from policy_archive.records import Version

INCOMING_MAIN_REF = "refs/policy-archive/incoming/main"
INCOMING_LEDGER_REF = "refs/policy-archive/incoming/ledger"
# Blobs wait in memory up to this size so that each document's versions reach fast-import one after another:
# fast-import deltas a blob only against the previous blob of the stream (DESIGN.md, Git at scale).
BLOB_BUFFER_BYTES = 16 * 1024 * 1024

ReadIndex = Callable[[list[str] | None], dict[str, list[Entry]]]  # ledger entries of paths (None: every document)
MainChain = Callable[[dict[str, list[Entry]]], list[tuple[Entry, str]]]  # main's commits paired with their entries


@dataclass(frozen=True)
class Plan:
    """What one save writes: commits after ``parent``, and the new versions and indexes of touched documents;
    ``head_key``: the key of ``parent``'s version, main's head when no commit is written (a rebuild that only drops
    the last versions, the versions an archive dated in the future among them, makes ``parent`` main again)."""

    parent: str | None
    commits: list[tuple[Entry, bool]]  # (entry, is the document's first record), in order on main
    added: dict[str, list[Entry]]
    merged: dict[str, list[Entry]]
    head_key: tuple[datetime, str] | None


# --- planning ---------------------------------------------------------------------------------------------


def plan_save(
    state: LedgerState, incoming: list[Entry], read_index: ReadIndex, main_chain: MainChain, *, replace: bool = False
) -> Plan | None:
    """Merge ``incoming`` into the ledger (or, with ``replace``, make it the touched documents' whole
    ledger) and work out the commits to write (None: nothing changes)."""
    touched = sorted({entry.path for entry in incoming})
    old = read_index(touched)
    merged = {path: [] if replace else list(old.get(path, [])) for path in touched}
    added: dict[str, list[Entry]] = {path: [] for path in touched}
    taken = {} if replace else {(entry.path, entry.at): entry for entries in old.values() for entry in entries}
    # Sorting on the blob too makes the choice between two texts given for one moment order-independent.
    for entry in sorted(incoming, key=lambda item: (item.key, item.blob)):
        holder = taken.get((entry.path, entry.at))
        if holder is None or _takes_the_place_of(entry, holder):
            taken[(entry.path, entry.at)] = entry
            added[entry.path].append(entry)
    added = {path: items for path, items in added.items() if items}
    if not added:
        return None
    for path, items in added.items():
        merged[path] = _standing(sorted(merged[path] + items, key=lambda item: item.key), items)
    divergence = _earliest_divergence({path: old.get(path, []) for path in added}, merged)
    if divergence is None:
        # Every new version repeats its predecessor's body: only the ledger learns about them.
        return Plan(parent=state.main, commits=[], added=added, merged=merged, head_key=state.head_key)
    if state.head_key is None or divergence > state.head_key:
        return _append_plan(state, added, merged, old)
    return _rebuild_plan(added, merged, divergence, read_index, main_chain)


def _takes_the_place_of(entry: Entry, holder: Entry) -> bool:
    """Whether ``entry`` is saved although ``holder`` already holds its document and date: only a version of a later
    capture over a technical upgrade giving another text (a `track` in the second a `reextract` dated its upgrade,
    one after the latest version: the page changed since the capture the upgrade read again). Anything else
    holding the place was saved before, and ``entry`` is ignored, as always."""
    return (
        holder.technical_upgrade
        and not entry.technical_upgrade
        and entry.captured_at > holder.captured_at
        and entry.body_sha1 != holder.body_sha1
    )


def _standing(entries: list[Entry], new: list[Entry]) -> list[Entry]:
    """A document's ledger entries (in order) without the technical upgrades this save supersedes.

    An upgrade is the capture behind the latest version read again with the rules of its day, dated when it was
    made (docs/decisions/0003). A version saved later but dated at or before it (a backfill finding a later
    capture in the archive, a `track` in its second, a `repair`) comes before it on ``main``; when that version is
    the latest capture dated up to the upgrade, and captured after the capture the upgrade read, the upgrade no
    longer reads the latest capture: left on ``main``, it stayed the head and gave an older capture's text as the
    page's latest (outside audit 31, finding 2). It is dropped; the new version, extracted with the rules of now,
    says what the page said last. Only a version of this save (``new``) supersedes one: a version saved before the
    upgrade (a `track` that found the same text again, kept in the ledger only) was there when it was made."""
    upgrades = [entry for entry in entries if entry.technical_upgrade]
    if not upgrades:
        return entries
    fresh = {id(entry) for entry in new}
    dropped: set[int] = set()
    for upgrade in upgrades:
        before = [entry for entry in entries if not entry.technical_upgrade and entry.at <= upgrade.at]
        if not before:
            continue
        latest = max(before, key=lambda entry: entry.captured_at)
        if id(latest) in fresh and latest.captured_at > upgrade.captured_at:
            dropped.add(id(upgrade))
    return [entry for entry in entries if id(entry) not in dropped]


def _append_plan(
    state: LedgerState, added: dict[str, list[Entry]], merged: dict[str, list[Entry]], old: dict[str, list[Entry]]
) -> Plan:
    """Every new commit comes after the head: chain them onto it."""
    commits: list[tuple[Entry, bool]] = []
    for path in added:
        kept = kept_versions(merged[path])
        already = len(kept_versions(old.get(path, [])))
        commits += [(entry, index == 0) for index, entry in enumerate(kept) if index >= already]
    commits.sort(key=lambda item: item[0].key)
    return Plan(parent=state.main, commits=commits, added=added, merged=merged, head_key=state.head_key)


def _rebuild_plan(
    added: dict[str, list[Entry]],
    merged: dict[str, list[Entry]],
    divergence: tuple[datetime, str],
    read_index: ReadIndex,
    main_chain: MainChain,
) -> Plan:
    """Re-chain every version from the earliest change on, reusing the blobs already in the repository."""
    everything = read_index(None)
    old_chain = main_chain(everything)
    new_chain: list[tuple[Entry, bool]] = []
    for path, entries in (everything | merged).items():
        kept = kept_versions(merged.get(path, entries))
        new_chain += [(entry, index == 0) for index, entry in enumerate(kept) if entry.key >= divergence]
    new_chain.sort(key=lambda item: item[0].key)
    before = [(entry, commit) for entry, commit in old_chain if entry.key < divergence]
    parent, head_key = (before[-1][1], before[-1][0].key) if before else (None, None)
    return Plan(parent=parent, commits=new_chain, added=added, merged=merged, head_key=head_key)


def _earliest_divergence(old: dict[str, list[Entry]], merged: dict[str, list[Entry]]) -> tuple[datetime, str] | None:
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


# --- writing the stream -----------------------------------------------------------------------------------


def write_blobs(versions: Iterable[Version], stream: FastImport) -> list[Entry]:
    """Send every new text to fast-import, grouped by document; return their ledger entries."""
    entries: list[Entry] = []
    pending: list[tuple[str, datetime, bytes]] = []
    pending_bytes = 0
    written: set[str] = set()
    for version in versions:
        payload = version.content.encode("utf-8")
        entry = Entry.from_version(version, git_blob_id(payload))
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


def _flush_blobs(pending: list[tuple[str, datetime, bytes]], stream: FastImport) -> None:
    pending.sort(key=lambda item: (item[0], item[1]))
    for _, _, payload in pending:
        stream.blob(payload)
    pending.clear()


def write_commits(stream: FastImport, plan: Plan) -> None:
    """The commits of ``main`` from the plan's parent on, marked 1, 2, ... in order, under ``INCOMING_MAIN_REF``."""
    parent_line = f"from {plan.parent}\n" if plan.parent else ""
    for number, (entry, first) in enumerate(plan.commits, start=1):
        when = f"{int(entry.at.timestamp())} +0000"
        stream.write(
            f"commit {INCOMING_MAIN_REF}\nmark :{number}\nauthor {IDENTITY} {when}\ncommitter {IDENTITY} {when}\n"
        )
        stream.data(commit_message(entry, first).encode("utf-8"))
        stream.write(f"{parent_line}M 100644 {entry.blob} {entry.path}\n\n")
        parent_line = ""


def write_ledger(stream: FastImport, old_tree: str | None, plan: Plan) -> None:
    """The ledger's new tree: the old one (``old_tree``) plus each touched document's index and new contents."""
    stream.write(f"commit {INCOMING_LEDGER_REF}\ncommitter {IDENTITY} 0 +0000\n")
    stream.data(b"policy-archive ledger tree\n")
    if old_tree is not None:
        stream.write(f'M 040000 {old_tree} ""\n')
    for path, items in plan.added.items():
        index = "".join(entry.to_json() + "\n" for entry in plan.merged[path]).encode("utf-8")
        stream.write(f"M 100644 inline {path}{INDEX_SUFFIX}\n")
        stream.data(index)
        for entry in items:
            stream.write(f"M 100644 {entry.blob} {path}/{entry.stamp}\n")
    stream.write("\n")


def drop_incoming_refs(refs: GitRefs) -> None:
    """Delete the temporary refs a save wrote (once published, or left by a kill)."""
    for ref in (INCOMING_MAIN_REF, INCOMING_LEDGER_REF):
        if refs.ref(ref) is not None:
            refs.run(["update-ref", "--no-deref", "-d", ref])
        # A kill can leave a loose ref naming an object that never reached disk: rev-parse cannot see it.
        (refs.git_dir / ref).unlink(missing_ok=True)
