"""Benchmark of reading WARC files from elsewhere (issue 11): `repair`'s peak memory and time on a data directory
whose catalog is lost and whose captures folder holds a gzip bomb, a record of about 1 MB inflating to
``--inflated-gib`` GiB of zeros (``tests/standin/warc_bombs.py``).

    python -m benchmarks.warc_bombs                         # 100 live captures and a bomb of 1 GiB
    python -m benchmarks.warc_bombs --checkout DIR          # the same, `repair` run from another source tree

The data directory is made with :func:`benchmarks.reindex.write_store` (live captures of one document, written
by the real capture store), the bomb is a WARC file of its own read first; `repair` then runs as the real
command line in a child process, which re-indexes every capture; its peak memory is the child's maximum resident
set as the kernel reports it on exit (``wait4``). ``--checkout`` runs `repair` from another source tree (`git
archive` of an older commit unpacked there), to measure a release before reading was bounded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.reindex import timed_repair, write_store

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the stand-ins are imported as standin.* (see tests/conftest.py)

from standin.warc_bombs import payload_bomb  # noqa: E402

from benchmarks.export import report  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=100, help="intact live captures beside the bomb")
    parser.add_argument("--inflated-gib", type=int, default=1, help="what the bomb's payload inflates to, in GiB")
    parser.add_argument("--checkout", type=Path, help="run `repair` from this source tree instead of this one")
    parser.add_argument("--status", type=int, default=1, help="the exit status `repair` must end with")
    arguments = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {arguments}", flush=True)
    with tempfile.TemporaryDirectory(prefix="policy-archive-bomb-bench-") as workdir:
        config, data = write_store(Path(workdir), arguments.captures)
        bomb = payload_bomb("acme/privacy-policy", "https://acme.example/privacy", arguments.inflated_gib << 30)
        (data / "captures" / "captures-20000101T000000Z-1.warc.gz").write_bytes(bomb)
        report("bomb", f"{len(bomb) / 1e6:.1f} MB of WARC inflating to {arguments.inflated_gib} GiB")
        seconds, peak, line = timed_repair(config, data, checkout=arguments.checkout, status=arguments.status)
        report("repair", f"{seconds:.1f} s, peak {peak:,.0f} MB")
        report("", line)


if __name__ == "__main__":
    main()
