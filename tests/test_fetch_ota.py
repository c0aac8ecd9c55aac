"""``python -m benchmarks.fetch_ota``: the OTA extraction benchmark rebuilt from its manifest, checked byte for byte.

Offline against the stand-in raw.githubusercontent.com (tests/standin/raw_github.py) serving the synthetic cases of
tests/fixtures/ota-manifest; one test (``--run-internet``) fetches a real case from GitHub.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from standin.cli import REPO_ROOT
from standin.raw_github import StandinRawGitHub

from benchmarks.extraction import load_ota
from benchmarks.fetch_ota import MANIFEST, SOURCES, main

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "ota-manifest"
NAMES = ("page.html", "expected.md")


def manifest(path: Path = FIXTURE / "manifest.json") -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def key(entry: dict, name: str) -> str:
    """Where the stand-in serves a case's file: ``OWNER/REPO/COMMIT/PATH``."""
    return "/".join(entry["source"][field] for field in SOURCES[name])


def served() -> dict[str, bytes]:
    entries = manifest()["cases"]
    return {key(entry, name): (FIXTURE / entry["case"] / name).read_bytes() for entry in entries for name in NAMES}


def fetch_ota(output: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "benchmarks.fetch_ota", "--output", str(output), "--delay", "0", "--backoff", "0"]
    command += ["--manifest", str(FIXTURE / "manifest.json"), *options]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_the_set_is_written_as_the_benchmarks_read_it(tmp_path):
    output = tmp_path / "ota"
    with StandinRawGitHub(served()) as github:
        run = fetch_ota(output, "--base-url", github.url)
        log = github.log()
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert "2 of 2 cases in" in run.stderr and "(4 files fetched, 0 already there)" in run.stderr
    assert "Data: the policy-archive developers (synthetic)" in run.stderr
    # One request per file, at the raw-GitHub path (space and "é" percent-encoded, decoded by the server).
    assert sorted(path for path, _ in log) == sorted(served())
    assert all(agent.startswith("policy-archive-benchmarks/") and "+https://" in agent for _, agent in log)
    for entry in manifest()["cases"]:
        for name in NAMES:
            assert (output / entry["case"] / name).read_bytes() == (FIXTURE / entry["case"] / name).read_bytes()
    written = json.loads((output / "cases.json").read_text(encoding="utf-8"))
    expected = manifest()
    assert written["license"] == expected["license"] and written["excluded"] == expected["excluded"]
    assert written["cases"] == [{k: v for k, v in entry.items() if k != "files"} for entry in expected["cases"]]
    cases = {case.name: case for case in load_ota(output)}
    assert cases["example-privacy-policy"].stated_date == date(2025, 3, 1)
    assert cases["example-terms-of-service"].document_type == "terms-of-service"
    assert "Conditions générales" in cases["example-terms-of-service"].expected


def test_a_file_unlike_its_manifest_leaves_its_case_out_in_one_line(tmp_path):
    output = tmp_path / "ota"
    files = served()
    changed, longer = manifest()["cases"]
    files[key(changed, "expected.md")] = files[key(changed, "expected.md")].replace(b"March", b"April")
    files[key(longer, "page.html")] += b"<!-- one more line than OTA took -->\n"
    with StandinRawGitHub(files) as github:
        run = fetch_ota(output, "--base-url", github.url)
    assert run.returncode == 1
    lines = run.stderr.splitlines()
    said = [line for line in lines if line.endswith(": left out")]
    assert len(said) == 2, run.stderr
    assert re.fullmatch(
        r"\[1/2\] example-privacy-policy: expected\.md from http://\S+/Exemple%20Caf%C3%A9/Privacy%20Policy\.md: "
        r"sha256 [0-9a-f]{64} \(\d+ bytes\), the manifest says [0-9a-f]{64} \(\d+ bytes\): left out",
        said[0],
    )
    too_long = r"\[2/2\] example-terms-of-service: page\.html from \S+: longer than the manifest's \d+ bytes: left out"
    assert re.fullmatch(too_long, said[1])
    assert lines[-1] == "2 of 2 cases left out: example-privacy-policy, example-terms-of-service"
    assert not (output / "example-privacy-policy" / "expected.md").exists()
    assert not (output / "example-terms-of-service" / "page.html").exists()
    # The files that matched are kept for the next run; the listing holds no case left out.
    assert (output / "example-privacy-policy" / "page.html").is_file()
    assert json.loads((output / "cases.json").read_text(encoding="utf-8"))["cases"] == []


def test_a_second_run_fetches_only_what_is_missing_or_wrong(tmp_path):
    output = tmp_path / "ota"
    with StandinRawGitHub(served()) as github:
        assert fetch_ota(output, "--base-url", github.url).returncode == 0
        first = len(github.log())
        (output / "example-privacy-policy" / "page.html").write_bytes(b"<html>damaged</html>")
        (output / "example-terms-of-service" / "expected.md").unlink()
        run = fetch_ota(output, "--base-url", github.url)
        again = [path for path, _ in github.log()[first:]]
    assert run.returncode == 0, run.stderr
    entries = manifest()["cases"]
    assert again == [key(entries[0], "page.html"), key(entries[1], "expected.md")]
    assert "(2 files fetched, 2 already there)" in run.stderr
    for entry in entries:
        for name in NAMES:
            assert (output / entry["case"] / name).read_bytes() == (FIXTURE / entry["case"] / name).read_bytes()


def test_a_503_is_asked_again_and_a_404_is_not(tmp_path):
    entries = manifest()["cases"]
    files = served()
    del files[key(entries[1], "page.html")]
    with StandinRawGitHub(files) as github:
        github.fail(key(entries[0], "page.html"), 503, 429)
        run = fetch_ota(tmp_path / "ota", "--base-url", github.url)
        asked = [path for path, _ in github.log()]
    assert run.returncode == 1
    assert asked.count(key(entries[0], "page.html")) == 3
    assert asked.count(key(entries[1], "page.html")) == 1
    assert "[1/2] example-privacy-policy: 2 fetched, verified" in run.stderr
    said = r"\[2/2\] example-terms-of-service: page\.html from \S+: answered 404 Not Found: left out"
    assert re.search(said, run.stderr)


def test_the_manifest_pins_every_file_of_at_least_50_pages_of_40_services():
    """Issue 12: the benchmark's real pages, reproducible from the repository."""
    found = manifest(MANIFEST)
    assert "ODC-By 1.0" in found["license"] and "Open Terms Archive" in found["attribution"]
    cases = found["cases"]
    assert len(cases) >= 50 and len({entry["service"] for entry in cases}) >= 40
    assert len({entry["case"] for entry in cases}) == len(cases)
    for entry in cases:
        for name in NAMES:
            repo, commit, path = (entry["source"][field] for field in SOURCES[name])
            assert repo.startswith("OpenTermsArchive/") and re.fullmatch("[0-9a-f]{40}", commit) and path
            assert re.fullmatch("[0-9a-f]{64}", entry["files"][name]["sha256"]) and entry["files"][name]["bytes"] > 0
        assert {"document_type", "several_documents", "declared", "stated_date", "captured_at"} <= entry.keys()


@pytest.mark.internet
def test_one_real_case_from_github(tmp_path):
    one = manifest(MANIFEST)
    one["cases"] = one["cases"][:1]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(one), encoding="utf-8")
    command = [sys.executable, "-m", "benchmarks.fetch_ota", "--output", str(tmp_path / "ota"), "--manifest", str(path)]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "1 of 1 cases in" in run.stderr
    assert len(load_ota(tmp_path / "ota")) == 1


def test_a_host_that_does_not_resolve_stops_the_run_at_once_pointing_to_the_mirror(tmp_path, monkeypatch, capsys):
    """Outside audit B (2026-11-29), finding 3: offline, each case was asked 5 times with a doubling backoff (~85 s a
    case, ~2 h to fail). A name with no address is not a busy server: one line, no retry, exit status 1."""
    # The name has no address, as a table answers it (tests/standin/fixed_dns.py): no name server asked.
    asked: list[str] = []
    monkeypatch.setattr("policy_archive.crawler.names.system_lookup", lambda host: asked.append(host) or [])
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    arguments = ["--output", str(tmp_path / "ota"), "--manifest", str(FIXTURE / "manifest.json"), "--delay", "0"]
    monkeypatch.setattr(sys, "argv", ["fetch_ota", *arguments, "--base-url", "https://raw.github.invalid"])
    with pytest.raises(SystemExit) as stopped:
        main()
    said = str(stopped.value.code)
    assert said.startswith("network unreachable: raw.github.invalid: host not found (")
    assert "--mirror DIR" in said and "\n" not in said
    assert asked == ["raw.github.invalid"]  # one request, not asked again
    assert "[1/2]" not in capsys.readouterr().err  # no case said left out: the run stopped before
    assert not (tmp_path / "ota" / "cases.json").exists()
