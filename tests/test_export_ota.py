"""`export --format ota`, end to end: a real OTA declaration imported, backfilled from the stand-in archive,
exported in OTA's layout; each exported file equals our version's text, and a second export only appends."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from standin.archive import StandinArchive
from standin.cli import git, run_cli, run_import_ota, write_archive_settings

from policy_archive.archive.plain_git import ExistingCommit
from policy_archive.pipeline.exports.ota import (
    SNAPSHOT_PREFIX,
    WINDOWS_DEVICES,
    ExportClash,
    OtaVersion,
    check_paths,
    folded,
    left_behind,
    ota_path,
    plan,
    service_folder,
    terms_type,
)
from policy_archive.pipeline.jobs.provenance import strip_header
from policy_archive.records import DocumentDeclaration, iso_z

DECLARATIONS = Path(__file__).parent / "fixtures" / "ota" / "declarations"
OLD = "https://corp.lingualeo.com/privacy-policy-en/"
NEW = "https://lingualeo.com/en/blog/privacy-policy-en/"
OTA_FILE = "Lingualeo/Privacy Policy.md"


def policy(wrapper: str, revision: str, token: int) -> str:
    """A policy page; ``wrapper`` is the element the declaration selects in that era."""
    paragraphs = "".join(
        f"<p>Section {n} of the Lingualeo privacy policy, {revision}: we process your personal data to provide "
        f"language courses, keep it only as long as needed and never sell it to third parties.</p>"
        for n in range(1, 7)
    )
    opening, closing = ("<div id='main'>", "</div>") if wrapper == "#main" else ("<main>", "</main>")
    return (
        f"<html><head><title>Privacy Policy</title><script>var t={token}</script></head><body><nav>Menu</nav>"
        f"{opening}<h1 class='wp-block-post-title'>Privacy Policy</h1>{paragraphs}{closing}"
        f"<footer>{token}</footer></body></html>"
    )


def setup(tmp_path: Path, archive: StandinArchive) -> tuple[Path, Path]:
    config = tmp_path / "config"
    write_archive_settings(config, archive.cdx_url, archive.replay_url)
    declarations = tmp_path / "declarations"
    declarations.mkdir()
    for name in ("Lingualeo.json", "Lingualeo.history.json"):
        shutil.copy(DECLARATIONS / name, declarations / name)
    imported = run_import_ota(config, tmp_path / "data", str(declarations), "Lingualeo")
    assert imported.returncode == 0, imported.stderr
    # Three eras of the real declaration: #main at the old URL, main at the old URL, main at the new URL.
    archive.add_capture(OLD, "20220301101010", policy("#main", "2022 text", 1))
    archive.add_capture(OLD, "20220901101010", policy("#main", "2022 text", 2))
    archive.add_capture(OLD, "20230601101010", policy("main", "mid-2023 text", 3))
    archive.add_capture(NEW, "20240115101010", policy("main", "2024 text", 4))
    return config, tmp_path / "data"


def our_versions(data: Path) -> list[tuple[str, str]]:
    """(commit date, text without the provenance header) of each version on our branch, oldest first."""
    repo = data / "versions"
    commits = git(repo, "log", "--reverse", "--format=%H %aI", "--", "l/lingualeo/privacy-policy.md").split("\n")
    return [
        (when, strip_header(git(repo, "show", f"{commit}:l/lingualeo/privacy-policy.md")))
        for commit, when in (line.split() for line in commits if line)
    ]


def exported(output: Path) -> list[tuple[str, str, str, str]]:
    lines = git(output, "log", "--reverse", "--format=%H%x1f%aI%x1f%cI%x1f%s").splitlines()
    return [tuple(line.split("\x1f")) for line in lines]  # type: ignore[misc]


def test_import_backfill_export_round_trip_and_incremental_export(tmp_path, standin_archive):
    config, data = setup(tmp_path, standin_archive)
    backfill = run_cli(config, data, "backfill", "lingualeo/privacy-policy", "--strategy", "all")
    assert backfill.returncode == 0, backfill.stderr
    ours = our_versions(data)
    assert len(ours) == 3  # one per era: the 2022 text, the mid-2023 text, the 2024 text at the new URL
    output = tmp_path / "ota-versions"
    first = run_cli(config, data, "export", "--format", "ota", "--output", str(output))
    assert first.returncode == 0, first.stderr
    commits = exported(output)
    assert [subject for *_, subject in commits] == [
        "First record of Lingualeo Privacy Policy",
        "Record new changes of Lingualeo Privacy Policy",
        "Record new changes of Lingualeo Privacy Policy",
    ]
    for (commit, author, committer, _), (when, text) in zip(commits, ours, strict=True):
        assert author == committer == when
        assert git(output, "show", f"{commit}:{OTA_FILE}") == text
        changed = git(
            output, "-c", "core.quotePath=false", "diff-tree", "--root", "--no-commit-id", "--name-only", "-r", commit
        )
        assert changed.strip() == OTA_FILE
    body = git(output, "log", "-1", "--format=%b", commits[0][0])
    assert "This version was recorded after extracting from snapshot" in body
    assert f"{standin_archive.replay_url}/20220301101010id_/{OLD}" in body
    assert (output / OTA_FILE).read_text() == ours[-1][1]  # the working tree shows the latest

    # Incremental: a newer capture with a new text → exactly one commit appended, the others untouched.
    standin_archive.add_capture(NEW, "20250210101010", policy("main", "2025 text", 5))
    assert run_cli(config, data, "backfill", "lingualeo/privacy-policy", "--strategy", "all").returncode == 0
    second = run_cli(config, data, "export", "--format", "ota", "--output", str(output))
    assert second.returncode == 0, second.stderr
    after = exported(output)
    assert after[:3] == commits and len(after) == 4
    assert git(output, "show", f"{after[3][0]}:{OTA_FILE}") == our_versions(data)[-1][1]
    again = run_cli(config, data, "export", "--format", "ota", "--output", str(output))
    assert again.returncode == 0 and exported(output) == after

    # A version older than the export's last commit (an earlier capture backfilled since) cannot be placed in an
    # OTA history: the summary, then the document's FAILED line on a line of its own (acceptance report 7, F11:
    # both were one line joined by a literal "\n").
    standin_archive.add_capture(OLD, "20210301101010", policy("#main", "2021 text", 0))
    assert run_cli(config, data, "backfill", "lingualeo/privacy-policy", "--strategy", "all").returncode == 0
    late = run_cli(config, data, "export", "--format", "ota", "--output", str(output))
    assert late.returncode == 1, late.stderr
    # The summary on stderr, as track's and backfill's.
    assert f"0 versions committed to {output} (Open Terms Archive layout)" in late.stderr.splitlines()
    assert late.stdout == ""
    (failed,) = [line for line in late.stderr.splitlines() if "FAILED" in line]
    assert failed.startswith("FAILED lingualeo/privacy-policy: 1 version older than the export's last commit (")
    assert "\\n" not in late.stderr and exported(output) == after

    # A directory that is neither empty nor a repository is refused (exit 2), nothing written in it.
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    refused = run_cli(config, data, "export", "--format", "ota", "--output", str(stranger))
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert [path.name for path in stranger.iterdir()] == ["notes.txt"]


def version(document: str, day: int, text: str, upgrade: bool = False) -> OtaVersion:
    at = datetime(2020, 1, day, tzinfo=UTC)
    return OtaVersion(
        document,
        "Example/Privacy Policy.md",
        "Example Privacy Policy",
        at,
        at,
        "wayback",
        f"https://web.archive.org/web/202001{day:02d}000000id_/https://example.org/p",
        upgrade,
        text,
    )


def test_versions_older_than_the_export_are_named_not_inserted():
    existing = [ExistingCommit("Example/Privacy Policy.md", datetime(2020, 1, 10, tzinfo=UTC))]
    commits, problems, _ = plan(
        [version("example/privacy-policy", 5, "old"), version("example/privacy-policy", 12, "new", True)], existing
    )
    assert [commit.message.split("\n")[0] for commit in commits] == [
        "Apply technical or declaration upgrade on Example Privacy Policy"
    ]
    ((document, reason),) = problems
    assert document == "example/privacy-policy" and reason.startswith("1 version older than the export's last commit")


def exported_commit(path: str, day: int, snapshot: str | None = None) -> ExistingCommit:
    """An export commit of ``path`` holding the version of :func:`version` ``day`` (its snapshot unless given)."""
    at = datetime(2020, 1, day, tzinfo=UTC)
    snapshot = snapshot or f"https://web.archive.org/web/202001{day:02d}000000id_/https://example.org/p"
    said = f"First record of X\n\n{SNAPSHOT_PREFIX} {snapshot}\n\nCaptured-At: {iso_z(at)}\nSource: wayback\n"
    return ExistingCommit(path, at, said)


def test_a_document_exported_before_under_another_path_is_named_not_begun_again():
    # Exported as "Exemple/…" (the service's earlier name); its path is "Example/…" now.
    existing = [exported_commit("Exemple/Privacy Policy.md", 5), exported_commit("Other/Privacy Policy.md", 6)]
    versions = [version("example/privacy-policy", 5, "old"), version("example/privacy-policy", 12, "new")]
    commits, problems, moved = plan(versions, existing, {"Example/Privacy Policy.md", "Other/Privacy Policy.md"})
    assert commits == [] and moved == {"example/privacy-policy": "Exemple/Privacy Policy.md"}
    ((document, reason),) = problems
    assert document == "example/privacy-policy"
    assert reason.startswith(
        "exported before as Exemple/Privacy Policy.md, its path is now Example/Privacy Policy.md: its service or "
        "terms type was renamed"
    ), reason
    current = {"Example/Privacy Policy.md", "Other/Privacy Policy.md"}
    assert left_behind({commit.path for commit in existing}, current, moved.values()) == []
    # A path another document of the configuration writes now is that document's (two documents of one page,
    # extracted from the same captures): not a rename.
    commits, problems, moved = plan(versions[1:], existing, {"Example/Privacy Policy.md", "Exemple/Privacy Policy.md"})
    assert moved == {} and [commit.path for commit in commits] == ["Example/Privacy Policy.md"]
    # A commit of the export whose message names no version (a person's): never taken for a document's.
    handmade = [ExistingCommit("Exemple/Privacy Policy.md", datetime(2020, 1, 5, tzinfo=UTC), "Fix typo\n")]
    commits, problems, moved = plan(versions[1:], handmade, {"Example/Privacy Policy.md"})
    assert moved == {} and problems == [] and len(commits) == 1


def test_files_no_document_writes_now_are_said_and_left():
    existing = [exported_commit("Gone/Privacy Policy.md", 5), exported_commit("Kept/Privacy Policy.md", 6)]
    assert left_behind({commit.path for commit in existing}, {"Kept/Privacy Policy.md"}, []) == [
        "Gone/Privacy Policy.md: in the export, but no document of the configuration writes it now (removed from "
        "it, or renamed): left as it is, as an export never removes what it published"
    ]


def test_terms_types_and_folders_follow_open_terms_archive():
    assert terms_type("privacy-policy") == "Privacy Policy"
    assert terms_type("terms-of-service") == "Terms of Service"
    assert terms_type("single-sign-on-policy") == "Single Sign-On Policy"
    assert terms_type("cookie-policy") == "Cookie Policy"
    assert terms_type("conditions-of-use") == "Conditions of Use"
    assert service_folder('AC/DC "Live"') == "AC-DC -Live"
    assert service_folder("..") == "service"
    # A name longer than a file name may be (255 bytes): cut, with a hash of the whole name; stable, apart.
    long_name = "Ünternehmen mit sehr langem Namen " * 12  # 408 characters, 420 bytes
    folder = service_folder(long_name)
    assert len(folder.encode("utf-8")) <= 255 and folder.startswith("Ünternehmen mit sehr langem Namen")
    assert folder == service_folder(long_name) != service_folder(long_name + "GmbH")


def test_folders_and_files_are_usable_where_windows_checks_the_collection_out():
    # Characters Windows refuses in a name (Git for Windows cannot check such a path out): a dash each run, as OTA's
    # service ids have for ``:``, ``/``, ``\\``.
    assert service_folder("re:start") == "re-start"
    assert service_folder("Who? <Us> | Them * \\ All") == "Who- -Us- - Them - - All"
    assert service_folder("Yahoo!") == "Yahoo!"  # punctuation Windows takes stays, as in OTA
    # Dots and spaces at the end, which Windows drops (two names would be one folder there).
    assert service_folder("Example Inc. ") == "Example Inc"
    # Device names, in any case, with an extension or spaces before it: a ``_`` after the device's part.
    assert [service_folder(name) for name in ("CON", "nul", "Aux.io", "com1", "LPT\u00b9", "PRN .net")] == [
        "CON_", "nul_", "Aux_.io", "com1_", "LPT\u00b9_", "PRN_ .net",
    ]  # fmt: skip
    assert [service_folder(name) for name in ("CONSOLE", "COM10", "Nullify", "Auxiliary.io")] == [
        "CONSOLE", "COM10", "Nullify", "Auxiliary.io",
    ]  # fmt: skip
    # A document type whose title is a device name: its file too.
    assert ota_path(declared("example", "Example", "con")) == "Example/Con_.md"
    # Two names made one by the mapping are refused as any two names of one path.
    said = clash(declared("restart", "re:start"), declared("re-start", "re-start"))
    assert said == (
        "re-start/privacy-policy and restart/privacy-policy would both be exported as re-start/Privacy Policy.md"
    )


WINDOWS_REFUSED = set('<>:"/\\|?*') | {chr(code) for code in range(32)}


@settings(deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_no_service_folder_is_unusable_on_windows(name):
    folder = service_folder(name)
    assert folder and not WINDOWS_REFUSED & set(folder)
    assert folder[-1] not in " ." and len(folder.encode("utf-8")) <= 255
    assert folder.split(".", 1)[0].rstrip(" ").upper() not in WINDOWS_DEVICES


def test_an_export_writes_real_git_objects(tmp_path):
    from policy_archive.archive.plain_git import ExportRepository, FileCommit

    repository = ExportRepository(tmp_path / "out")
    at = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    written = repository.append(
        [FileCommit("Ünïcode Service/Privacy Policy.md", "# T\n\nbody\n", at, "First record of X\n")]
    )
    assert written == 1
    assert subprocess.run(["git", "-C", str(tmp_path / "out"), "fsck", "--strict"], capture_output=True).returncode == 0
    assert next(repository.history()).path == "Ünïcode Service/Privacy Policy.md"
    assert repository.append([FileCommit("Ünïcode Service/Privacy Policy.md", "# T\n\nbody\n", at, "same")]) == 0


def test_the_export_history_reads_each_commit_message_whole(tmp_path):
    from policy_archive.archive.plain_git import ExportRepository, FileCommit

    repository = ExportRepository(tmp_path / "out")
    at = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    said = f"First record of X\n\n{SNAPSHOT_PREFIX} https://a.example/\x1fb\n\nCaptured-At: {iso_z(at)}\n"
    repository.append([FileCommit("X/Privacy Policy.md", "# T\n\nbody\n", at, said)])
    repository.append([FileCommit("Y/Privacy Policy.md", "# T\n\nbody\n", at, "A person's commit\n")])
    first, second = repository.history()
    assert (first.path, first.at, first.message.rstrip("\n")) == ("X/Privacy Policy.md", at, said.rstrip("\n"))
    assert (second.path, second.message.rstrip("\n")) == ("Y/Privacy Policy.md", "A person's commit")


def test_the_export_history_read_in_batches_is_the_same_history(tmp_path, monkeypatch):
    """The export's history is read a batch of commits at a time (``git log --reverse`` over all of them held every
    commit: 163 MB at 10,000); and the versions given to ``append`` are taken one at a time, as they come."""
    from policy_archive.archive import plain_git
    from policy_archive.archive.plain_git import ExportRepository, FileCommit

    repository = ExportRepository(tmp_path / "out")
    taken: list[int] = []

    def commits():
        for day in range(1, 8):
            taken.append(day)
            at = datetime(2021, 3, day, tzinfo=UTC)
            yield FileCommit(f"S{day % 3}/Privacy Policy.md", f"# T\n\nday {day}\n", at, f"Record {day}\n")

    assert repository.append(commits()) == 7 and taken == list(range(1, 8))
    whole = [(commit.path, commit.at, commit.message) for commit in repository.history()]
    monkeypatch.setattr(plain_git, "HISTORY_BATCH", 2)
    assert [(commit.path, commit.at, commit.message) for commit in repository.history()] == whole
    assert [message.strip() for _, _, message in whole] == [f"Record {day}" for day in range(1, 8)]


# Outside audit 9, F6: names that differ only by case or Unicode normalisation were exported as two folders (or
# files), one file once the collection is checked out on macOS or Windows. Refused now as the same name is.
NFC_CAFE, NFD_CAFE = unicodedata.normalize("NFC", "Café"), unicodedata.normalize("NFD", "Café")


def declared(service_id: str, name: str, document_id: str = "privacy-policy") -> DocumentDeclaration:
    return DocumentDeclaration(service_id, name, document_id, f"https://{service_id}.example/{document_id}")


def clash(*declarations: DocumentDeclaration) -> str:
    with pytest.raises(ExportClash) as refused:
        check_paths(declarations)
    return str(refused.value)


def test_paths_that_one_file_system_takes_for_one_file_are_refused():
    assert NFC_CAFE != NFD_CAFE
    # The same name: refused as before.
    assert clash(declared("example", "Example"), declared("example-eu", "Example")) == (
        "example-eu/privacy-policy and example/privacy-policy would both be exported as Example/Privacy Policy.md"
    )
    # By case.
    said = clash(declared("example", "Example"), declared("example-eu", "EXAMPLE"))
    assert said == (
        "example-eu/privacy-policy and example/privacy-policy would both be exported as EXAMPLE/Privacy Policy.md "
        "where a name's case or Unicode normalisation does not count (macOS, Windows): 'EXAMPLE/Privacy Policy.md' "
        "and 'Example/Privacy Policy.md' differ only by case"
    )
    # By Unicode normalisation: the two look alike, so the line says how they differ.
    said = clash(declared("cafe", NFC_CAFE), declared("cafe-2", NFD_CAFE))
    assert said.startswith("cafe-2/privacy-policy and cafe/privacy-policy would both be exported as ")
    assert said.endswith("differ only by Unicode normalisation (the same letters, composed and decomposed)")
    # By both.
    said = clash(declared("cafe", NFC_CAFE), declared("cafe-2", unicodedata.normalize("NFD", "CAFÉ")))
    assert said.endswith("differ only by case and Unicode normalisation")
    # Two document types of one service: ``terms-of.service`` is titled "Terms Of service" (the dot a space).
    assert terms_type("terms-of.service") == "Terms Of service"
    said = clash(declared("example", "Example", "terms-of-service"), declared("example", "Example", "terms-of.service"))
    assert said.startswith(
        "example/terms-of.service and example/terms-of-service would both be exported as Example/Terms Of service.md"
    )
    # Distinct names, and one service's distinct types, are exported.
    check_paths(
        [
            declared("example", "Example"),
            declared("example", "Example", "terms-of-service"),
            declared("example-eu", "Example EU"),
            declared("cafe", NFC_CAFE),
            declared("cafe-2", "Cafe"),  # no accent: another name everywhere
        ]
    )


NAMES = st.text(st.characters(categories=("L", "M", "N", "Zs")), min_size=1, max_size=40)
SPELLINGS = st.sampled_from([str.upper, str.lower, str.swapcase, str.title, str.casefold])
FORMS = st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"])


@settings(deadline=None)
@given(NAMES, SPELLINGS, FORMS, FORMS)
def test_any_two_names_one_file_system_takes_for_one_are_refused(name, spelling, form, other_form):
    first = declared("one", unicodedata.normalize(form, name))
    second = declared("two", unicodedata.normalize(other_form, spelling(name)))
    if folded(ota_path(first)) == folded(ota_path(second)):
        # Both named, whether the paths are the same or only fold alike.
        assert clash(first, second).startswith("two/privacy-policy and one/privacy-policy would both be exported as")
    else:
        check_paths([first, second])  # apart everywhere: both exported


@settings(deadline=None)
@given(NAMES, FORMS)
def test_a_name_and_its_other_case_or_normal_form_always_clash(name, form):
    # Plain case changes of letters that fold one to one (not a Turkish dotless i, whose capital is I's), and any
    # canonical normal form: what macOS takes for the same name is refused.
    assume(name.upper().casefold() == name.casefold() and name.lower().casefold() == name.casefold())
    for other in (name.upper(), name.lower(), unicodedata.normalize("NFD" if form == "NFC" else "NFC", name)):
        assume(len(service_folder(other).encode()) < 255 and len(service_folder(name).encode()) < 255)
        clash(declared("one", unicodedata.normalize("NFC", name)), declared("two", other))


def test_export_refuses_names_that_differ_only_by_case(recorded, tmp_path):
    config, data = recorded
    mine = tmp_path / "config"
    shutil.copytree(config, mine)
    services = mine / "services"
    (services / "acrcloud-eu.toml").write_text(
        'name = "ACRCLOUD"\n\n[documents.privacy-policy]\nurl = "https://eu.acrcloud.com/privacy"\n'
    )
    output = tmp_path / "ota"
    refused = run_cli(mine, data, "export", "--format", "ota", "--output", str(output))
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.splitlines()[-1] == (
        "policy-archive: acrcloud/privacy-policy and acrcloud-eu/privacy-policy would both be exported as "
        "ACRCloud/Privacy Policy.md where a name's case or Unicode normalisation does not count (macOS, Windows): "
        "'ACRCloud/Privacy Policy.md' and 'ACRCLOUD/Privacy Policy.md' differ only by case"
    )
    assert not output.exists()
    # NFC and NFD spellings of one name, from TOML files as a person's editor writes them.
    (services / "acrcloud-eu.toml").unlink()
    for service, name in (("cafe", NFC_CAFE), ("cafe-2", NFD_CAFE)):
        (services / f"{service}.toml").write_text(
            f'name = "{name}"\n\n[documents.privacy-policy]\nurl = "https://{service}.example/privacy"\n'
        )
    refused = run_cli(mine, data, "export", "--format", "ota", "--output", str(output))
    assert refused.returncode == 1, refused.stderr
    assert "cafe/privacy-policy and cafe-2/privacy-policy would both be exported as" in refused.stderr
    assert refused.stderr.rstrip().endswith(
        "differ only by Unicode normalisation (the same letters, composed and decomposed)"
    )
    assert not output.exists()
    # A distinct name is exported.
    (services / "cafe-2.toml").unlink()
    exported_ = run_cli(mine, data, "export", "--format", "ota", "--output", str(output))
    assert exported_.returncode == 0, exported_.stderr
    assert (output / "ACRCloud" / "Privacy Policy.md").is_file()


def test_a_renamed_service_and_a_removed_one_are_said_and_their_files_left(recorded, tmp_path):
    config, data = recorded
    mine = tmp_path / "config"
    shutil.copytree(config, mine)
    service = mine / "services" / "acrcloud.toml"
    output = tmp_path / "ota"
    assert run_cli(mine, data, "export", "--format", "ota", "--output", str(output)).returncode == 0
    head = git(output, "rev-parse", "main")

    # Renamed: its versions are not begun again under the new folder, nor the old folder moved.
    service.write_text(service.read_text().replace('name = "ACRCloud"', 'name = "ACR Cloud"'))
    renamed = run_cli(mine, data, "export", "--format", "ota", "--output", str(output))
    assert renamed.returncode == 1, renamed.stderr
    assert renamed.stderr.splitlines()[1:] == [  # after the progress line
        f"0 versions committed to {output} (Open Terms Archive layout)",
        "FAILED acrcloud/privacy-policy: exported before as ACRCloud/Privacy Policy.md, its path is now ACR "
        "Cloud/Privacy Policy.md: its service or terms type was renamed, or its name is now spelt for Windows; none "
        "of its versions was exported, as an export never moves what it published; export to a new directory to "
        "have its history under the new path",
    ]
    assert git(output, "rev-parse", "main") == head and git(output, "status", "--porcelain") == ""

    # Removed from the configuration (another service is there): its file is said, and left.
    service.unlink()
    (mine / "services" / "other.toml").write_text(
        'name = "Other"\n\n[documents.privacy-policy]\nurl = "https://other.example/privacy"\n'
    )
    removed = run_cli(mine, data, "export", "--format", "ota", "--output", str(output))
    assert removed.returncode == 0, removed.stderr
    assert removed.stderr.splitlines()[1:] == [
        f"0 versions committed to {output} (Open Terms Archive layout)",
        "ACRCloud/Privacy Policy.md: in the export, but no document of the configuration writes it now (removed from "
        "it, or renamed): left as it is, as an export never removes what it published",
    ]
    assert git(output, "rev-parse", "main") == head and (output / "ACRCloud" / "Privacy Policy.md").exists()
