"""Benchmark of `export` (issue 13): rows per second and peak memory for each format on a large history.

    python -m benchmarks.export                                        # 100,000 versions over 5,000 documents
    python -m benchmarks.export --documents 200 --versions 4000        # a quick run
    python -m benchmarks.export --formats jsonl,csv --size 4000
    python -m benchmarks.export --documents 250 --versions 5000 --formats ota   # a new OTA repository, then again

The history is the version-store benchmark's (benchmarks/versions.py): synthetic ~15 KB policies changing by one
to three edits per version. Each export runs as the real command line in a child process; its peak memory is the
child's maximum resident set as the kernel reports it on exit (``wait4``), so a figure that stays flat when the
number of versions grows is what "bounded memory" means here. ``ota`` writes a new repository, then exports into it
a second time (nothing new: the run reads the export's history and our versions, and writes nothing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.versions import all_versions, documents
from policy_archive.archive.versions import VersionStore


def write_config(directory: Path, count: int) -> Path:
    """A configuration declaring the benchmark's documents (``<x>service<n>/privacy-policy``)."""
    services = directory / "services"
    services.mkdir(parents=True)
    for document in documents(count):
        (services / f"{document.service}.toml").write_text(
            f'name = "{document.service.capitalize()}"\n[documents.privacy-policy]\n'
            f'url = "https://www.{document.service}.com/privacy"\n'
        )
    return directory


def timed_export(config: Path, data: Path, form: str, output: Path) -> tuple[float, float]:
    """Seconds and peak resident memory (MB) of one `export` run."""
    command = [sys.executable, "-m", "policy_archive", "--config", str(config), "--data", str(data), "--quiet"]
    command += ["export", "--format", form, "--output", str(output)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export --format {form} failed")
    return elapsed, usage.ru_maxrss / 1024


def run(root: Path, documents_count: int, versions_count: int, size: int, formats: list[str]) -> None:
    config, data = root / "config", root / "data"
    if not (data / "versions").exists():
        write_config(config, documents_count)
        started = time.monotonic()
        VersionStore(data / "versions").save_stream(
            all_versions(documents(documents_count), versions_count // documents_count, size)
        )
        report("history", f"built in {time.monotonic() - started:.0f} s")
    count = int(
        subprocess.run(
            ["git", "-C", str(data / "versions"), "rev-list", "--count", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    report("history", f"{count:,} versions of {documents_count:,} documents in {root}")
    for form in formats:
        output = root / f"export.{form}"
        seconds, peak = timed_export(config, data, form, output)
        report(
            form,
            f"{count:,} versions in {seconds:.1f} s = {count / seconds:,.0f} versions/s, "
            f"peak {peak:,.0f} MB, {'repository' if output.is_dir() else 'file'} {size_of(output) / 1e6:,.0f} MB",
        )
        if output.is_dir():  # ota: a second export into it finds nothing new
            seconds, peak = timed_export(config, data, form, output)
            report(form, f"again, nothing new: {seconds:.1f} s, peak {peak:,.0f} MB")
            shutil.rmtree(output)
        else:
            output.unlink()


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file under a directory (an ota repository)."""
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size


def report(label: str, text: str) -> None:
    print(f"{label:>10}: {text}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=5_000)
    parser.add_argument("--versions", type=int, default=100_000, help="total, spread evenly over the documents")
    parser.add_argument("--size", type=int, default=15_000, help="approximate text size in bytes")
    parser.add_argument("--formats", default="jsonl,csv,sqlite", help="comma-separated export formats (and ota)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the history here and reuse it on the next run [default: a temporary one]"
    )
    arguments = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {arguments}", flush=True)
    formats = arguments.formats.split(",")
    if arguments.workdir:
        run(arguments.workdir, arguments.documents, arguments.versions, arguments.size, formats)
        return
    with tempfile.TemporaryDirectory(prefix="policy-archive-export-bench-") as workdir:
        run(Path(workdir), arguments.documents, arguments.versions, arguments.size, formats)


if __name__ == "__main__":
    main()
