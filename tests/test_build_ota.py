"""``python -m benchmarks.build_ota``: a manifest of OTA snapshot → version pairs picked by fixed rules from local
copies of a collection's repositories, and ``benchmarks.fetch_ota --mirror`` writing its pages from the same copies.

The collection is made here with real Git: three repositories in the layout the ``fetch`` tool leaves
(``MIRROR/OWNER+NAME/repo``), commits dated so that the declaration in force precedes each version.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from standin.cli import REPO_ROOT

from benchmarks.extraction import load_ota
from benchmarks.fetch_ota import SOURCES

UNSEEN = REPO_ROOT / "benchmarks" / "ota_unseen" / "manifest.json"
NAMES = ("page.html", "expected.md")
POLICY = "<p>" + "We keep what you give us for as long as the law asks, and no longer than that. " * 20 + "</p>"


class Repository:
    """A Git repository under ``mirror`` as ``OpenTermsArchive+NAME/repo``, committed to at given dates."""

    def __init__(self, mirror: Path, name: str) -> None:
        self.path = mirror / f"OpenTermsArchive+{name}" / "repo"
        self.path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *arguments: str, when: str = "2025-01-01T00:00:00+00:00") -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.path),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        command = ["git", "-C", str(self.path), *arguments]
        return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout.strip()

    def commit(self, files: dict[str, bytes | None], message: str, when: str) -> str:
        for name, body in files.items():
            target = self.path / name
            if body is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, when=when)
        return self.git("rev-parse", "HEAD")


def recorded_from(*snapshots: str) -> str:
    urls = [f"https://github.com/OpenTermsArchive/demo-snapshots/commit/{commit}" for commit in snapshots]
    if len(urls) == 1:
        return f"Record new changes\n\nThis version was recorded after extracting from snapshot {urls[0]}\n"
    return "Record new changes\n\nThis version was recorded after extracting from and assembling:\n" + "\n".join(
        f"- {url}" for url in urls
    )


def declaration(terms: dict) -> bytes:
    return json.dumps({"name": "x", "terms": terms}).encode()


def page(body: str, lang: str = "en") -> bytes:
    return f'<html lang="{lang}"><head><title>t</title></head><body><nav>Home</nav>{body}</body></html>'.encode()


def collection(mirror: Path) -> dict[str, str]:
    """A ``demo`` collection of five services; the commits of the snapshots a version names."""
    snapshots, versions = Repository(mirror, "demo-snapshots"), Repository(mirror, "demo-versions")
    declarations = Repository(mirror, "demo-declarations")
    declared = {
        "Acme": {
            "Privacy Policy": {"fetch": "https://www.acme.example/privacy", "select": ["main"]},
            "Terms of Service": {"fetch": "https://acme.example/legal", "select": [".terms"]},
            "Trackers Policy": {"fetch": "https://acme.example/legal", "select": [{"startAfter": "h1"}]},
            "Imprint": {"fetch": "https://acme.example/imprint", "select": ["main"]},
        },
        "Seen": {"Privacy Policy": {"fetch": "https://seen.example/privacy", "select": ["main"]}},
        "Assembled": {"Privacy Policy": {"fetch": ["https://a.example/1", "https://a.example/2"]}},
        "Paper": {"Privacy Policy": {"fetch": "https://paper.example/privacy.pdf"}},
        "Stub": {"Privacy Policy": {"fetch": "https://stub.example/privacy", "select": ["main"]}},
    }
    declarations.commit(
        {f"declarations/{name}.json": declaration(terms) for name, terms in declared.items()},
        "Add",
        "2025-01-01T00:00:00+00:00",
    )
    # A later declaration change that the versions below predate: not theirs.
    later = dict(declared["Acme"], **{"Privacy Policy": {"fetch": "https://acme.example/new", "select": ["x"]}})
    declarations.commit({"declarations/Acme.json": declaration(later)}, "Change", "2025-06-01T00:00:00+00:00")
    snapshot = {}
    files = {
        "Acme/Privacy Policy.html": page(f"<main><h1>Privacy Policy</h1>{POLICY}</main>"),
        "Acme/Terms of Service.html": page(f'<div class="other">{POLICY}</div>'),
        "Acme/Trackers Policy.html": page(f"<h1>Cookies</h1>{POLICY}"),
        "Acme/Imprint.html": page(f"<main>{POLICY}</main>", "fr"),
        "Seen/Privacy Policy.html": page(f"<main>{POLICY}</main>"),
        "Assembled/Privacy Policy.html": page(f"<main>{POLICY}</main>"),
        "Paper/Privacy Policy.pdf": b"%PDF-1.4 not a page",
        "Stub/Privacy Policy.html": page("<main>Not found</main>"),
    }
    for number, (name, body) in enumerate(files.items()):
        snapshot[name] = snapshots.commit({name: body}, f"Record {name}", f"2025-02-0{1 + number % 9}T00:00:00+00:00")
    text = ("We keep what you give us for as long as the law asks, and no longer than that. " * 20).encode()
    for name in files:
        document = name.rsplit(".", 1)[0] + ".md"
        body = b"Not found\n" if name.startswith("Stub/") else b"# Policy\n\n" + text
        if name.startswith("Acme/Privacy"):  # an older single-snapshot version, then the newest one
            versions.commit({document: b"# Old\n\n" + text}, recorded_from(snapshot[name]), "2025-03-01T00:00:00+00:00")
        sources = (snapshot[name], snapshot["Seen/Privacy Policy.html"]) if name.startswith("Assembled/") else ()
        versions.commit({document: body}, recorded_from(*(sources or (snapshot[name],))), "2025-03-02T00:00:00+00:00")
    return snapshot


def build(mirror: Path, output: Path, *options: str) -> subprocess.CompletedProcess[str]:
    earlier = output.parent / "earlier.json"
    earlier.write_text(json.dumps({"cases": [{"service": "Other", "url": "https://www.seen.example/x"}]}))
    command = [sys.executable, "-m", "benchmarks.build_ota", "--mirror", str(mirror), "--collection", "demo"]
    command += ["--exclude-manifest", str(earlier), "--output", str(output), *options]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_the_manifest_pairs_each_version_with_its_one_snapshot_by_the_rules(tmp_path):
    mirror = tmp_path / "mirror"
    snapshot = collection(mirror)
    run = build(mirror, tmp_path / "manifest.json")
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().startswith("2 cases of 1 services (4 usable)")
    found = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert "ODC-By 1.0" in found["license"] and found["collections"] == ["demo"]
    cases = {entry["case"]: entry for entry in found["cases"]}
    # Per service: the privacy policy, the terms, then the others by name (--per-service 2 is the default).
    assert list(cases) == ["acme-privacy-policy", "acme-terms-of-service"]
    privacy = cases["acme-privacy-policy"]
    assert privacy["source"]["snapshot_commit"] == snapshot["Acme/Privacy Policy.html"]
    assert privacy["source"]["snapshot_path"] == "Acme/Privacy Policy.html"
    assert privacy["url"] == "https://www.acme.example/privacy"  # the declaration before the version, not after
    assert privacy["declared"] is True and privacy["several_documents"] is False
    assert privacy["document_type"] == "privacy-policy" and privacy["language"] == "en"
    assert privacy["stated_date"] is None
    terms = cases["acme-terms-of-service"]
    assert terms["declared"] is False  # ".terms" matches nothing in the raw page
    assert terms["several_documents"] is True  # the trackers policy is declared at the same URL
    for entry in cases.values():
        for name in NAMES:
            repo, commit, path = (entry["source"][field] for field in SOURCES[name])
            assert repo.startswith("OpenTermsArchive/demo-") and re.fullmatch("[0-9a-f]{40}", commit) and path
    wider = build(mirror, tmp_path / "all.json", "--per-service", "9")
    assert wider.returncode == 0, wider.stderr
    every = {entry["case"]: entry for entry in json.loads((tmp_path / "all.json").read_text())["cases"]}
    # Left out: Seen (its site is an earlier set's), Assembled (two snapshots), Paper (a PDF), Stub (too short).
    assert list(every) == ["acme-privacy-policy", "acme-terms-of-service", "acme-imprint", "acme-trackers-policy"]
    assert every["acme-trackers-policy"]["document_type"] == "cookie-policy"
    assert every["acme-trackers-policy"]["declared"] is False  # a range selector
    assert every["acme-imprint"]["language"] == "fr"


def test_fetch_ota_writes_the_set_from_local_copies_checked_byte_for_byte(tmp_path):
    mirror = tmp_path / "mirror"
    collection(mirror)
    assert build(mirror, tmp_path / "manifest.json").returncode == 0
    output = tmp_path / "set"
    command = [sys.executable, "-m", "benchmarks.fetch_ota", "--manifest", str(tmp_path / "manifest.json")]
    command += ["--mirror", str(mirror), "--output", str(output)]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "2 of 2 cases in" in run.stderr
    cases = {case.name: case for case in load_ota(output)}
    assert cases["acme-privacy-policy"].group == "ota" and cases["acme-terms-of-service"].group == "several"
    assert cases["acme-privacy-policy"].expected.startswith("# Policy")
    assert b"<h1>Privacy Policy</h1>" in cases["acme-privacy-policy"].page
    # A manifest whose file is not in the copies (another commit): that case left out, in one line.
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["cases"][1]["source"]["version_commit"] = "0" * 40
    (tmp_path / "wrong.json").write_text(json.dumps(manifest))
    command[4], command[-1] = str(tmp_path / "wrong.json"), str(tmp_path / "again")  # not resumed: read again
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1
    said = r"\[2/2\] acme-terms-of-service: expected\.md from \S+: 0{40}:Acme/Terms of Service\.md is not in \S+"
    said += ": left out"
    assert re.search(said, run.stderr)


def test_the_unseen_manifest_pins_every_file_and_draws_on_no_earlier_site():
    """The third set (issue 12): pages of sites neither earlier set holds."""
    found = json.loads(UNSEEN.read_text(encoding="utf-8"))
    assert "ODC-By 1.0" in found["license"] and "Open Terms Archive" in found["attribution"]
    cases = found["cases"]
    assert len(cases) >= 60 and len({entry["service"] for entry in cases}) >= 30
    assert len({entry["case"] for entry in cases}) == len(cases)
    earlier = json.loads((REPO_ROOT / "benchmarks" / "ota_extraction" / "manifest.json").read_text(encoding="utf-8"))
    sites = {re.sub(r"^https?://(www\.)?", "", entry["url"]).split("/")[0] for entry in earlier["cases"]}
    services = {entry["service"] for entry in earlier["cases"]}
    for entry in cases:
        assert re.sub(r"^https?://(www\.)?", "", entry["url"]).split("/")[0] not in sites
        assert entry["service"] not in services
        for name in NAMES:
            assert re.fullmatch("[0-9a-f]{64}", entry["files"][name]["sha256"]) and entry["files"][name]["bytes"] > 0
