"""Replacing a document's versions (history rebuild after re-extraction) on a real temporary repository."""

from __future__ import annotations

import dataclasses
import subprocess

from test_versions import make_version

from policy_archive.archive.versions import VersionStore


def log(repo) -> list[str]:
    return subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--format=%ad %s", "--date=short", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()


def test_replacing_a_document_rewrites_only_its_chain_and_is_deterministic(tmp_path):
    a = [make_version("acme", "privacy-policy", day, f"text {n}") for n, day in enumerate((0, 10, 20))]
    b = [make_version("bolt", "privacy-policy", day, f"bolt {n}") for n, day in enumerate((5, 15))]
    store = VersionStore(tmp_path / "one")
    store.save(a + b)
    # Re-extraction: the day-10 text now equals day 0's (it was a rendering artefact); day 20 reads differently.
    rebuilt = [
        dataclasses.replace(a[0], body="text 0", content=a[0].content),
        dataclasses.replace(a[1], body="text 0", content=a[0].content),
        dataclasses.replace(a[2], body="text 2b", content=a[2].content.replace("text 2", "text 2b")),
    ]
    store.replace_documents(rebuilt)
    assert log(tmp_path / "one") == [
        "2016-01-01 First record of Acme Privacy Policy",
        "2016-01-06 First record of Bolt Privacy Policy",
        "2016-01-16 Record new changes of Bolt Privacy Policy",
        "2016-01-21 Record new changes of Acme Privacy Policy",
    ]
    assert "text 2b" in store.read(store.head(), "a/acme/privacy-policy.md")

    fresh = VersionStore(tmp_path / "two")
    fresh.save(rebuilt + b)
    assert fresh.head() == store.head(), "a rebuilt history equals one built from the same versions"

    assert store.replace_documents(rebuilt) == []  # nothing changes the second time


def test_replacing_a_history_by_its_first_versions_drops_the_last_ones(tmp_path):
    """A rebuild that only drops the last versions (one an archive dated in the future, refused since) writes no
    commit: main goes back to the last version kept, and the next save appends after it. Until 2026-11-29 main
    stayed where it was and the ledger one entry short, so the save failed and every later one with it."""
    a = [make_version("acme", "privacy-policy", day, f"text {n}") for n, day in enumerate((0, 10, 20))]
    store = VersionStore(tmp_path / "one")
    store.save(a)
    assert store.replace_documents(a[:2]) == []
    assert log(tmp_path / "one") == [
        "2016-01-01 First record of Acme Privacy Policy",
        "2016-01-11 Record new changes of Acme Privacy Policy",
    ]
    reopened = VersionStore(tmp_path / "one")
    fresh = VersionStore(tmp_path / "two")
    fresh.save(a[:2])
    assert reopened.head() == fresh.head()
    later = make_version("acme", "privacy-policy", 30, "text 3")
    reopened.save([later])
    fresh.save([later])
    assert reopened.head() == fresh.head(), "appended after the version kept, as on a history that never had more"
