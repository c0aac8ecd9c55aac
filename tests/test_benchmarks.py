"""The benchmarks still run: a smallest run of each through the real CLI, so a change to the contract (a setting
refused, an output line renamed) breaks here and not on the next engineer who measures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from standin.cli import REPO_ROOT

from benchmarks.own_usage import launched, read_usage

SEED = (
    "> *The following text is extracted and transformed from the example.org privacy policy that was archived on "
    "2020-01-01. Please check the [original snapshot on the Wayback Machine](https://web.archive.org/web/"
    "20200101000000/https://example.org/privacy) for the most accurate reproduction.*\n\n# Privacy Policy\n\n"
)


def write_seed(folder: Path) -> Path:
    folder.mkdir()
    sections = [
        f"## Section {n}\n\nWe keep record {n} of what you tell us, for {n} months at most.\n" for n in range(30)
    ]
    (folder / "example.txt").write_text(SEED + "\n".join(sections), encoding="utf-8")
    return folder


def test_flips_benchmark_runs_and_bisect_finds_every_lasting_version(tmp_path):
    seeds = write_seed(tmp_path / "seeds")
    command = [sys.executable, "-m", "benchmarks.flips", "--documents", "1", "--kinds", "steady"]
    command += ["--strategies", "all,bisect", "--seeds", str(seeds), "--work", str(tmp_path / "work")]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    rows = {line.split()[0]: line.split() for line in run.stdout.splitlines() if line.startswith(("all ", "bisect "))}
    assert rows["all"][1] == rows["bisect"][1] == "0"  # both backfills exited 0
    lasting_found = rows["bisect"][4]  # "found/lasting"
    found, lasting = lasting_found.split("/")
    assert found == lasting and int(lasting) > 0, run.stdout


def test_discover_benchmark_runs_and_every_era_is_exact():
    command = [sys.executable, "-m", "benchmarks.discover", "--steps", "45", "--domains", "2"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    history, listing = run.stdout.splitlines()
    assert history.startswith("step 45 days: ") and history.endswith("exact: True"), history
    assert "2/2 declarations exact" in listing and listing.endswith(
        "2 domains: 2 declarations written, 0 unsure, 0 failed"
    )


def test_reindex_benchmark_runs_and_re_indexes_every_capture():
    command = [sys.executable, "-m", "benchmarks.reindex", "--captures", "12"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "repaired: 12 captures re-indexed from 1 WARC file" in run.stdout, run.stdout


def test_big_listing_benchmark_runs_and_fetches_one_capture_of_one_text():
    command = [sys.executable, "-m", "benchmarks.big_listing", "--captures", "30"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "exit 0;" in run.stdout and "peak RSS" in run.stdout and "replay requests 1\n" in run.stdout, run.stdout


def test_big_listing_benchmark_of_a_page_without_text_refuses_every_twin_through_one_capture():
    command = [sys.executable, "-m", "benchmarks.big_listing", "--captures", "30", "--refused"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "exit 1;" in run.stdout and "replay requests 1\n" in run.stdout, run.stdout
    assert "no version: 30 captures listed, all refused (30 empty)" in run.stdout, run.stdout


def test_standin_replay_benchmark_runs_and_every_answer_is_the_capture():
    command = [sys.executable, "-m", "benchmarks.standin_replay", "--requests", "40", "--clients", "2"]
    command += ["--captures", "5", "--page-bytes", "2000"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "40 replay requests of " in run.stdout and "40/40 answered 200 with the capture's bytes" in run.stdout


@pytest.mark.parametrize(
    ("module", "option", "needs"),
    [
        ("extraction", "--shared", ()),
        ("extraction", "--ota", ()),
        ("stated_dates", "--ota", ("dateparser", "htmldate")),  # the benchmark extra
        ("backfill", "--seeds", ()),
        ("flips", "--seeds", ()),
        ("legacy_cases", "--seeds", ()),
    ],
)
def test_a_benchmark_without_its_shared_data_says_so_in_one_line(tmp_path, module, option, needs):
    for name in needs:
        pytest.importorskip(name)
    empty = tmp_path / "empty"
    empty.mkdir()
    command = [sys.executable, "-m", f"benchmarks.{module}", option, str(empty)]
    if module == "legacy_cases":
        command += ["--out", str(tmp_path / "out")]  # never the fixtures, even if the check were gone
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("no ") and f"in {empty}:" in run.stderr, run.stderr
    assert f"pass {option} DIR" in run.stderr and "Measured figures" in run.stderr


def test_damaged_warcs_benchmark_runs_and_reads_every_intact_capture():
    command = [sys.executable, "-m", "benchmarks.damaged_warcs", "--captures", "30", "--mib", "1"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("intact, ") and ": 30 captures read back, 0 damaged" in lines[0], lines
    assert ": 20 captures read back, " in lines[1], lines  # 10 zeroed, every other one back
    assert all(": 4 captures read back, 1 damaged stretches named" in line for line in lines[2:5]), lines


def test_worddiff_benchmark_runs_and_gives_up_only_on_the_repeated_word():
    command = [sys.executable, "-m", "benchmarks.worddiff", "--largest", "250"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    rows = run.stdout.splitlines()[1:]
    assert len(rows) == 6 and [row.split()[-1] for row in rows] == ["no"] * 5 + ["yes"], run.stdout


def test_deep_nesting_benchmark_runs_and_names_what_was_not_read():
    command = [sys.executable, "-m", "benchmarks.deep_nesting", "--levels", "5000", "--rounds", "1"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("5,000 levels, the policy at the bottom") and "refused too-deep;" in lines[0], lines
    assert "recorded 65 words, dropped 780 words of too-deep;" in lines[1], lines
    assert "300 unclosed <font> (24,590 bytes): recorded 2,734 words, dropped nothing;" in lines[3], lines


# A command of ~10 MiB whose child process fills 200 MiB, then exits with status 3.
ALLOCATING = """
import subprocess, sys
child = "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"
subprocess.run([sys.executable, "-c", child], check=True)
sys.exit(3)
"""


def test_own_usage_measures_the_command_apart_from_the_processes_it_starts(tmp_path):
    """``os.wait4``'s figures of a command count the processes it waited for: a command of ~10 MiB whose child
    filled 300 MiB read 311 MiB as its own (review of 2026-11-29). The command's own peak and its children's are
    now written apart."""
    (tmp_path / "allocating.py").write_text(ALLOCATING, encoding="utf-8")
    figures = tmp_path / "figures"
    launcher = launched(figures, [sys.executable, "-m", "allocating"])
    subprocess.run(launcher, cwd=tmp_path, timeout=600, check=True)
    usage = read_usage(figures)
    assert usage.exit_status == 3
    assert usage.started_peak_rss_mib >= 200, usage
    assert usage.peak_rss_mib < 100, usage  # Python and subprocess: some 10-20 MiB
    assert not (tmp_path / "figures.own").exists()
