"""`verify`: every version traced back to its kept bytes; each kind of mismatch named, exit 1."""

from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from standin.cli import git, run_cli

from policy_archive.archive.captures import CaptureStore
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.history import version_commits
from policy_archive.archive.versions import VersionStore
from policy_archive.config.settings import CrawlSettings, load_config
from policy_archive.pipeline.extraction.extract import EXTRACTOR, EXTRACTOR_REVISION, extractor_label
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.verify import Verdict, Verifier, extractor_revision, rules_fingerprint, verify
from policy_archive.records import ExtractionRules

DOCUMENT = "acrcloud/privacy-policy"


def change_selectors(config: Path) -> None:
    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text().replace('remove = ["footer", "nav"]', 'remove = ["footer", "nav", "h1"]'))


def test_every_version_is_verified(history):
    config, data = history
    result = run_cli(config, data, "verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2/2 versions verified"


def test_missing_warc_files_are_named(history):
    config, data = history
    for warc in (data / "captures").glob("*.warc.gz"):
        warc.unlink()
    result = run_cli(config, data, "verify", DOCUMENT)
    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 2 and all(f"FAILED {DOCUMENT}: version " in line for line in failed)
    assert all("missing capture: cannot read captures-" in line for line in failed), failed
    assert "0/2 versions verified" in result.stdout


def test_the_progress_line_counts_mismatches_as_a_noun(history):
    config, data = history
    for warc in (data / "captures").glob("*.warc.gz"):
        warc.unlink()
    result = run_cli(config, data, "--verbose", "verify", DOCUMENT)
    progress = [line for line in result.stderr.splitlines() if line.startswith("verify: ")]
    assert progress[0].startswith("verify: 1 version, 1 mismatch, "), progress
    assert progress[-1].startswith("verify: 2 versions, 2 mismatches, "), progress


def test_a_payload_that_is_not_the_recorded_one_is_a_digest_mismatch(history):
    config, data = history
    trailers = git(data / "versions", "log", "--format=%(trailers:key=Payload-Sha1,valueonly)", "main").split()
    newest, oldest = trailers
    with sqlite3.connect(data / "catalog.sqlite3") as database:
        (offset, warc) = database.execute(
            "SELECT warc_offset, warc_file FROM captures WHERE payload_sha1 = ?", (oldest,)
        ).fetchone()
        # The catalog now sends the newest version to the oldest version's record: as if the WARC were damaged.
        database.execute(
            "UPDATE captures SET warc_offset = ?, warc_file = ? WHERE payload_sha1 = ?", (offset, warc, newest)
        )
    result = run_cli(config, data, "verify")
    assert result.returncode == 1
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert "version 2018-05-28T08:00:07Z" in failed
    assert f"digest: the kept payload's SHA-1 is {oldest}, the commit says {newest}" in failed
    assert "1/2 versions verified" in result.stdout


def test_a_text_that_extraction_no_longer_gives_is_a_mismatch(history):
    """The newest version's file altered in Git (a replacement object, as a rewritten history would give): the
    same bytes, extractor and rules no longer give it."""
    config, data = history
    repo = data / "versions"
    path = git(repo, "ls-tree", "-r", "--name-only", "main").split()[0]
    blob = git(repo, "rev-parse", f"main:{path}").strip()
    altered = git(repo, "cat-file", "blob", blob).replace("# Privacy Policy", "# Privacy Policy (abridged)", 1)
    forged = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"], input=altered, capture_output=True, text=True
    ).stdout.strip()
    git(repo, "replace", blob, forged)
    result = run_cli(config, data, "verify")
    assert result.returncode == 1
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert "text: line 1: recorded '# Privacy Policy (abridged) - ACRCloud', re-extracted '# Privacy Policy -" in failed
    assert "1/2 versions verified" in result.stdout


def test_a_version_made_before_the_declaration_was_edited_is_named_not_a_mismatch(history):
    config, data = history
    then = load_config(config, data).documents[0].rules.fingerprint
    change_selectors(config)
    now = load_config(config, data).documents[0].rules.fingerprint
    result = run_cli(config, data, "verify")
    assert result.returncode == 0, result.stderr
    named = [line for line in result.stdout.splitlines() if line.startswith(f"{DOCUMENT}: version ")]
    assert len(named) == 2 and all(
        f"made with other extraction rules ({then}; the declaration's are now {now})" in line for line in named
    )
    assert all("text: line 3: recorded '# Privacy Policy'" in line for line in named), named
    assert (
        result.stdout.splitlines()[-1] == "0/2 versions verified; 2 made with other extraction rules (not a mismatch)"
    )


def test_a_version_of_another_extractor_revision_is_reported_as_such(history):
    config, data = history
    change_selectors(config)
    loaded = load_config(config, data)
    catalog = Catalog(data / "catalog.sqlite3")
    verifier = Verifier(
        catalog,
        CaptureStore(data / "captures", max_page_bytes=CrawlSettings.max_page_bytes),
        current_revision=EXTRACTOR_REVISION + 1,
        clock=datetime.now(UTC),
    )
    store = VersionStore(data / "versions", read_only=True)
    checks = list(verify(loaded.documents, store, verifier, Progress("t", quiet=True)))
    assert [check.verdict for check in checks] == [Verdict.OLDER_EXTRACTOR, Verdict.OLDER_EXTRACTOR]
    assert f"made by extractor revision {EXTRACTOR_REVISION}, this is revision {EXTRACTOR_REVISION + 1}" in (
        checks[0].detail
    )
    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text().replace(', "h1"]', "]"))
    same = list(verify(load_config(config, data).documents, store, verifier, Progress("t", quiet=True)))
    assert [check.verdict for check in same] == [Verdict.VERIFIED, Verdict.VERIFIED], "same text: verified"


def test_extractor_revision_and_rules_are_read_from_the_trailer():
    assert extractor_revision("policy-archive-extract 3 (lxml 6.1.3, pypdf 7.1.0)") == 3
    assert extractor_revision("trafilatura 2.3.1") is None
    rules = ExtractionRules(select=("main",), remove=("nav",))
    assert rules_fingerprint(extractor_label(rules)) == rules.fingerprint != ExtractionRules().fingerprint
    assert rules_fingerprint("policy-archive-extract 4 (lxml 6.1.3, pypdf 7.1.0)") is None  # before rules were named


def test_a_version_naming_no_rules_is_still_a_mismatch_when_its_text_differs(recorded):
    """Versions recorded before the rules were named: nothing says the declaration changed, so nothing excuses."""
    config, data = recorded
    declaration = load_config(config, data).documents[0]
    store = VersionStore(data / "versions", read_only=True)
    (version, content), *_ = store.with_blobs(version_commits(store, [declaration.path]), lambda v: v.blob)
    legacy = replace(version, trailers={**version.trailers, "Extractor": EXTRACTOR})
    edited = replace(declaration, rules=ExtractionRules(remove=(*declaration.rules.remove, "h1")))
    verifier = Verifier(
        Catalog(data / "catalog.sqlite3"),
        CaptureStore(data / "captures", max_page_bytes=CrawlSettings.max_page_bytes),
        clock=datetime.now(UTC),
    )
    assert verifier.check(edited, legacy, content.decode("utf-8")).verdict is Verdict.MISMATCH
    assert verifier.check(edited, version, content.decode("utf-8")).verdict is Verdict.OTHER_RULES
