"""The Git version store on real temporary repositories: appends, rebuilds, determinism, crash repair."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policy_archive.archive.ledger import ForeignHistoryError, VersionStoreError
from policy_archive.archive.versions import VersionStore
from policy_archive.records import Source, Version

TESTS_DIR = Path(__file__).parent
START = datetime(2016, 1, 1, tzinfo=UTC)


def make_version(service: str, document: str, day: float, body: str, *, technical_upgrade: bool = False) -> Version:
    at = START + timedelta(days=day)
    url = f"https://www.{service}.com/{document}"
    snapshot = f"https://web.archive.org/web/{at:%Y%m%d%H%M%S}id_/{url}"
    header = f"> *Extracted from the {service}.com {document} archived on {at:%Y-%m-%d}: [snapshot]({snapshot}).*"
    return Version(
        document=f"{service}/{document}",
        path=f"{service[0]}/{service}/{document}.md",
        display_name=f"{service.capitalize()} {document.replace('-', ' ').title()}",
        captured_at=at,
        source=Source.WAYBACK,
        snapshot_url=snapshot,
        payload_sha1=f"SHA{day:08.2f}",
        extractor="trafilatura 2.3.1",
        content=f"{header}\n\n# {document}\n\n{body}\n",
        body=body,
        technical_upgrade=technical_upgrade,
    )


def corpus(documents: int, versions_per_document: int, seed: int, size: int = 400) -> list[Version]:
    """Versions with edits, repeats of the previous text and reverts to older texts (which the store must keep)."""
    rng = random.Random(seed)
    versions = []
    for number in range(documents):
        service = f"{'abcde'[number % 5]}svc{number}"
        texts = [f"Paragraph {n} of {service}. " * (size // 40) for n in range(4)]
        previous = list(texts)
        for step in range(versions_per_document):
            roll = rng.random()
            if roll < 0.15 and step:
                pass  # same body as before: no commit
            elif roll < 0.25 and step > 2:
                texts = list(previous)  # revert to an earlier text
            else:
                previous = list(texts)
                texts[rng.randrange(len(texts))] += f" Change {step}."
            day = step * 30 + rng.random() * 20
            versions.append(make_version(service, "privacy-policy", day, "\n\n".join(texts)))
    return versions


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def log(repo: Path) -> list[tuple[str, str, str]]:
    """(commit, author date, subject) of main, oldest first."""
    lines = git(repo, "log", "--reverse", "--format=%H|%aI|%s", "main").splitlines()
    return [tuple(line.split("|", 2)) for line in lines]  # type: ignore[misc]


def fsck_clean(repo: Path) -> bool:
    result = subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=repo, capture_output=True, text=True)
    return result.returncode == 0 and result.stdout.strip() == ""


# --- appends and change detection ---------------------------------------------------------------------------


def test_append_writes_one_dated_commit_per_version_with_trailers(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "versions")
    first = make_version("acrcloud", "privacy-policy", 10, "Text one.")
    second = make_version("acrcloud", "privacy-policy", 40, "Text two.")
    recorded = store.save([second, first])

    assert [r.version for r in recorded] == [first, second]
    assert store.head() == recorded[-1].commit
    commits = log(tmp_path / "versions")
    assert [c[1] for c in commits] == ["2016-01-11T00:00:00+00:00", "2016-02-10T00:00:00+00:00"]
    assert [c[2] for c in commits] == [
        "First record of Acrcloud Privacy Policy",
        "Record new changes of Acrcloud Privacy Policy",
    ]
    message = git(tmp_path / "versions", "log", "-1", "--format=%B", recorded[0].commit)
    assert message == (
        "First record of Acrcloud Privacy Policy\n\n"
        "Captured-At: 2016-01-11T00:00:00Z\nSource: wayback\n"
        f"Snapshot-Url: {first.snapshot_url}\nPayload-Sha1: {first.payload_sha1}\nExtractor: trafilatura 2.3.1\n\n"
    )
    assert git(tmp_path / "versions", "log", "-1", "--format=%an <%ae>|%cn <%ce>|%cI", recorded[0].commit).strip() == (
        "policy-archive <policy-archive@users.noreply.github.com>|"
        "policy-archive <policy-archive@users.noreply.github.com>|2016-01-11T00:00:00+00:00"
    )
    assert git(tmp_path / "versions", "show", "--name-only", "--format=", recorded[1].commit).split() == [first.path]
    assert store.read(recorded[0].commit, first.path) == first.content
    assert "+Text two." in store.diff(recorded[0].commit, recorded[1].commit, first.path)
    assert "+Text one." in store.diff(None, recorded[0].commit, first.path)
    assert (tmp_path / "versions" / first.path).read_text() == second.content  # checkout follows main
    assert fsck_clean(tmp_path / "versions")


def test_unchanged_body_makes_no_commit_and_repeated_saves_are_ignored(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "versions")
    first = make_version("acrcloud", "privacy-policy", 10, "Same text.")
    store.save([first])
    head = store.head()

    assert store.save([make_version("acrcloud", "privacy-policy", 20, "Same text.")]) == []
    assert store.save([first]) == []
    assert store.head() == head
    assert len(log(tmp_path / "versions")) == 1


def test_technical_upgrade_subject(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "versions")
    store.save([make_version("acrcloud", "privacy-policy", 1, "Old extraction.")])
    store.save([make_version("acrcloud", "privacy-policy", 2, "New extraction.", technical_upgrade=True)])
    assert log(tmp_path / "versions")[-1][2] == "Apply technical upgrade on Acrcloud Privacy Policy"


# --- rebuilds -------------------------------------------------------------------------------------------------


def test_inserting_older_versions_rebuilds_in_date_order_and_rederives_messages(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    store.save(
        [
            make_version("acrcloud", "privacy-policy", 100, "B"),
            make_version("zeta", "terms", 150, "Z"),
            make_version("acrcloud", "privacy-policy", 200, "C"),
        ]
    )
    recorded = store.save(
        [make_version("acrcloud", "privacy-policy", 50, "A"), make_version("acrcloud", "privacy-policy", 120, "C")]
    )

    subjects = [(c[1][:10], c[2]) for c in log(repo)]
    assert subjects == [
        ("2016-02-20", "First record of Acrcloud Privacy Policy"),
        ("2016-04-10", "Record new changes of Acrcloud Privacy Policy"),  # was "First record" before the insert
        ("2016-04-30", "Record new changes of Acrcloud Privacy Policy"),
        ("2016-05-30", "First record of Zeta Terms"),
        # day 200 ("C") disappeared: it now repeats the inserted day-120 text
    ]
    assert [r.version.captured_at.date().isoformat() for r in recorded] == ["2016-02-20", "2016-04-30"]
    assert list(store.commits().values()) == [c[0] for c in log(repo)]
    assert fsck_clean(repo)


def test_a_version_hidden_as_a_repeat_comes_back_when_an_insert_separates_it(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    store.save(
        [make_version("acrcloud", "privacy-policy", 10, "A"), make_version("acrcloud", "privacy-policy", 30, "A")]
    )
    store.save([make_version("acrcloud", "privacy-policy", 20, "B")])
    assert [c[1][:10] for c in log(repo)] == ["2016-01-11", "2016-01-21", "2016-01-31"]


def test_backfill_in_two_halves_equals_one_full_run_commit_for_commit(tmp_path: Path) -> None:
    versions = corpus(documents=12, versions_per_document=12, seed=1)
    full = VersionStore(tmp_path / "full")
    full.save(versions)
    middle = START + timedelta(days=180)
    halves = VersionStore(tmp_path / "halves")
    halves.save([v for v in versions if v.captured_at >= middle])
    halves.save([v for v in versions if v.captured_at < middle])

    assert log(tmp_path / "halves") == log(tmp_path / "full")
    assert halves.commits() == full.commits()
    assert fsck_clean(tmp_path / "halves")


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_any_order_of_saves_gives_the_same_commits(tmp_path: Path, seed: int) -> None:
    versions = corpus(documents=8, versions_per_document=10, seed=7)
    reference = VersionStore(tmp_path / "reference")
    reference.save(versions)
    shuffled = list(versions)
    random.Random(seed).shuffle(shuffled)
    store = VersionStore(tmp_path / "shuffled")
    cuts = sorted(random.Random(seed).sample(range(1, len(shuffled)), 6))
    for start, end in zip([0, *cuts], [*cuts, len(shuffled)], strict=True):
        store.save(shuffled[start:end])
    assert store.head() == reference.head()
    assert log(tmp_path / "shuffled") == log(tmp_path / "reference")


def test_save_returns_the_passed_versions_that_got_commits(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "versions")
    store.save([make_version("acrcloud", "privacy-policy", 10, "A")])
    repeat = make_version("acrcloud", "privacy-policy", 20, "A")
    change = make_version("acrcloud", "privacy-policy", 30, "B")
    recorded = store.save([repeat, change])
    assert [r.version for r in recorded] == [change]
    assert recorded[0].commit == store.head()


def test_remote_commits_rewritten_names_remote_branches_a_rebuild_diverged_from(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    store.save([make_version("acrcloud", "privacy-policy", 10, "A")])
    git(repo, "update-ref", "refs/remotes/origin/main", store.head() or "")
    store.save([make_version("acrcloud", "privacy-policy", 20, "B")])
    assert store.remote_commits_rewritten() == []  # a plain append: origin/main is an ancestor
    store.save([make_version("acrcloud", "privacy-policy", 5, "Z")])
    assert store.remote_commits_rewritten() == ["origin/main"]


# --- crash safety ---------------------------------------------------------------------------------------------


CRASH_CORPUS = {"documents": 60, "versions_per_document": 25, "seed": 11, "size": 3000}
CRASH_SPLIT = START + timedelta(days=400)


def crash_batches() -> tuple[list[Version], list[Version]]:
    """The newer half then the older half: the second save is a rebuild of most of the chain."""
    versions = corpus(**CRASH_CORPUS)
    return [v for v in versions if v.captured_at >= CRASH_SPLIT], [v for v in versions if v.captured_at < CRASH_SPLIT]


def save_crash_batches(directory: str) -> None:
    """Entry point of the child process that the crash test kills."""
    newer, older = crash_batches()
    store = VersionStore(Path(directory))
    store.save(newer)
    store.save(older)


def test_kill_9_at_any_time_leaves_a_valid_repository_that_converges(tmp_path: Path) -> None:
    newer, older = crash_batches()
    reference = VersionStore(tmp_path / "reference")
    started = time.monotonic()
    reference.save(newer)
    after_newer = reference.head()
    reference.save(older)
    final = reference.head()
    duration = time.monotonic() - started

    rng = random.Random(3)
    child = (
        f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r}); import test_versions; "
        "test_versions.save_crash_batches(sys.argv[1])"
    )
    for attempt in range(6):
        repo = tmp_path / f"killed{attempt}"
        process = subprocess.Popen([sys.executable, "-c", child, str(repo)], start_new_session=True)
        time.sleep(0.3 + rng.random() * duration)  # interpreter start-up, then anywhere in the two saves
        os.killpg(process.pid, signal.SIGKILL)  # the child and its git fast-import together
        process.wait()

        store = VersionStore(repo)
        assert fsck_clean(repo)
        assert store.head() in {None, after_newer, final}
        store.save(newer)
        store.save(older)
        assert store.head() == final
        assert fsck_clean(repo)


@pytest.mark.parametrize("left", ["empty .git", "no HEAD", "no identity", "identity being written"])
def test_open_remakes_a_repository_whose_first_git_init_was_killed(tmp_path: Path, left: str) -> None:
    """A kill (or a full disk) during the very first `git init` leaves a half-made `.git` holding nothing."""
    repo = tmp_path / "versions"
    (repo / ".git").mkdir(parents=True)
    if left != "empty .git":
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    if left == "no HEAD":
        (repo / ".git" / "HEAD").unlink()
    if left == "identity being written":  # killed inside the config writer: its lock stays behind
        (repo / ".git" / "config.lock").write_text("[user]\n")
    store = VersionStore(repo)
    store.save([make_version("acrcloud", "privacy-policy", 10, "A")])
    assert store.head() is not None and fsck_clean(repo)
    assert git(repo, "log", "-1", "--format=%an").strip() == "policy-archive"


def test_open_refuses_a_broken_repository_that_holds_history(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    VersionStore(repo).save([make_version("acrcloud", "privacy-policy", 10, "A")])
    (repo / ".git" / "HEAD").unlink()
    with pytest.raises(VersionStoreError, match="not a usable Git repository"):
        VersionStore(repo)
    assert list((repo / ".git" / "objects").rglob("*.pack")) or any((repo / ".git" / "objects").iterdir())


def test_open_repairs_a_main_ref_naming_a_missing_object(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    store.save([make_version("acrcloud", "privacy-policy", 10, "A")])
    head = store.head()
    (repo / ".git" / "refs" / "heads" / "main").write_text("1" * 40 + "\n")
    (repo / ".git" / "index.lock").write_text("")

    assert VersionStore(repo).head() == head
    assert fsck_clean(repo)


def test_open_rolls_main_forward_when_killed_between_ledger_and_main(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    store.save([make_version("acrcloud", "privacy-policy", 10, "A")])
    before = store.head()
    store.save([make_version("acrcloud", "privacy-policy", 20, "B")])
    after = store.head()
    git(repo, "update-ref", "refs/heads/main", before or "")

    assert VersionStore(repo).head() == after


def test_open_refuses_a_main_moved_by_hand(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    VersionStore(repo).save([make_version("acrcloud", "privacy-policy", 10, "A")])
    (repo / "note.txt").write_text("hand-made")
    git(repo, "add", "note.txt")
    git(repo, "commit", "-q", "-m", "by hand")
    with pytest.raises(ForeignHistoryError):
        VersionStore(repo)


def test_a_merge_committed_to_main_by_hand_names_the_files_it_changes_from_its_first_parent(tmp_path: Path) -> None:
    """`verify` names what each commit added to ``main`` by hand changes (``main_by_hand``). A merge of a side
    branch changes on ``main`` only what the branch brought; `git diff-tree -m --first-parent` (Git 2.39, CI's)
    ignored ``--first-parent`` and listed its files against every parent too, naming a document's file the merge
    left as it was on ``main``."""
    repo = tmp_path / "versions"
    VersionStore(repo).save([make_version("acrcloud", "privacy-policy", 10, "A")])
    document = "a/acrcloud/privacy-policy.md"
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "README.md").write_text("by hand")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "readme")
    git(repo, "checkout", "-q", "main")
    (repo / document).write_text("edited by hand")
    git(repo, "commit", "-q", "-am", "edit")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "side")
    changed = VersionStore(repo, read_only=True).main_by_hand()
    assert changed is not None
    assert {commit.subject: commit.paths for commit in changed.added} == {
        "edit": (document,),
        "readme": ("README.md",),
        "Merge branch 'side'": ("README.md",),
    }


FORGED = "ACME\n\nCaptured-At: 1999-01-01T00:00:00Z\nSource: forged\x00\x1b[2J\u2028Extractor: evil"


def parsed_trailers(repo: Path, commit: str) -> list[tuple[str, str]]:
    """What Git itself reads as the trailers of ``commit`` (``git interpret-trailers --parse``)."""
    message = git_out(repo, "log", "-1", "--format=%B", commit)
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True, check=True
    ).stdout
    return [tuple(line.split(": ", 1)) for line in parsed.splitlines()]


def git_out(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def test_trailers_cannot_be_forged_through_names_urls_or_titles(tmp_path):
    """Whatever reaches the store (a name from before validation, an archive's URL, a page title), each commit
    has exactly our trailers, its subject is one line, and the repository passes ``git fsck --strict``."""
    store = VersionStore(tmp_path / "versions")
    hostile = []
    for day, body in enumerate(["First text.", "Second text."]):
        version = make_version("acme", "privacy-policy", day, body)
        hostile.append(
            Version(
                **{
                    **version.__dict__,
                    "display_name": FORGED,
                    "snapshot_url": version.snapshot_url + "\nSource: forged\rPayload-Sha1: X",
                    "content": version.content.replace("# privacy-policy", f"# {FORGED}"),
                }
            )
        )
    recorded = store.save(hostile)
    assert len(recorded) == 2
    for item in recorded:
        trailers = parsed_trailers(tmp_path / "versions", item.commit)
        assert [key for key, _ in trailers] == ["Captured-At", "Source", "Snapshot-Url", "Payload-Sha1", "Extractor"]
        assert dict(trailers)["Captured-At"] == item.version.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert dict(trailers)["Source"] == "wayback"
        subject = git_out(tmp_path / "versions", "log", "-1", "--format=%s", item.commit).rstrip("\n")
        assert subject.startswith("First record of ACME Captured-At: 1999") or subject.startswith("Record new")
        assert "\x00" not in subject and "\x1b" not in subject
    subprocess.run(["git", "-C", str(tmp_path / "versions"), "fsck", "--strict"], check=True, capture_output=True)


def test_a_keep_file_left_by_a_killed_fast_import_does_not_stop_the_next_save(tmp_path: Path) -> None:
    """Killed after writing its pack's ``.keep`` and before the refs point into the pack (seen by the test above
    on a loaded machine), fast-import leaves the file; the same versions saved again make a pack of the same
    name, and fast-import died "cannot create keep file: File exists". Stood in here without a race: the pack's
    ``.keep`` is put where the interrupted import would have left it, before the same save."""
    versions = corpus(documents=8, versions_per_document=10, seed=5, size=500)  # > 100 objects: a pack
    reference = VersionStore(tmp_path / "reference")
    reference.save(versions)
    packs = sorted((tmp_path / "reference" / ".git" / "objects" / "pack").glob("pack-*.pack"))
    assert packs, "fast-import writes a pack"

    store = VersionStore(tmp_path / "interrupted")
    pack_dir = tmp_path / "interrupted" / ".git" / "objects" / "pack"
    pack_dir.mkdir(parents=True, exist_ok=True)
    for pack in packs:
        (pack_dir / pack.with_suffix(".keep").name).write_bytes(b"fast-import")
    by_hand = pack_dir / "pack-0000000000000000000000000000000000000000.keep"
    by_hand.write_text("kept by hand\n")

    store.save(versions)
    assert store.head() == reference.head() and fsck_clean(tmp_path / "interrupted")
    assert by_hand.exists(), "a .keep that fast-import did not write is left alone"
