"""Discovery benchmark (issue 15): archive requests per URL era found, on generated site histories.

    python -m benchmarks.discover                 # step 23, 9 and 3 days between home-page captures, 12 years
    python -m benchmarks.discover --domains 20    # then 20 such sites in one `discover --from FILE` run

The site of ``tests/standin/moving_site.py`` (three URL eras, archived 404s and redirects, JavaScript shells,
link text in four languages, stale old URLs still captured) is served by the stand-in archive on 127.0.0.1, and
the real CLI runs ``discover`` against it in a subprocess. Printed per history: home-page captures listed, CDX
and replay requests (from the stand-in's request log), eras found, replay requests per era, and whether each
era's URL and last day match the truth. With ``--domains N``: N sites (step 23 days) searched by one list run,
and the requests, wall time and exact declarations of that run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The stand-ins live in tests/ and are imported as ``standin.*``: another distribution's top-level ``tests``
# package would shadow ours (waybackpy's did, while it was a dependency).
sys.path.insert(0, str(REPO_ROOT / "tests"))

from standin.archive import StandinArchive  # noqa: E402
from standin.cli import EVERY_NAME_PUBLIC, run_cli_with_names  # noqa: E402
from standin.moving_site import TrueEra, build  # noqa: E402

from policy_archive.config.declarations import load_service  # noqa: E402


def discover(config: Path, data: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``policy-archive discover ARGS``, every name it looks up (the sites' www. names) answered public from a table
    (tests/standin/fixed_dns.py): what is measured is discover on the stand-in, not this machine's name server."""
    return run_cli_with_names(EVERY_NAME_PUBLIC, config, data, "discover", *args, said=False, timeout=timeout)


def configure(archive: StandinArchive, scratch: str) -> Path:
    config = Path(scratch) / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{archive.cdx_url}"\nreplay_url = "{archive.replay_url}"\n'
        "cdx_per_minute = 60000\nreplay_per_minute = 60000\nbackoff_seconds = 0\ntimeout_seconds = 5\n"
    )
    return config


def run(step_days: int) -> str:
    with StandinArchive().start() as archive, tempfile.TemporaryDirectory() as scratch:
        truth = build(archive, step_days=step_days)
        config = configure(archive, scratch)
        home_captures = len(archive.captures_of("http://example.org/"))
        result = discover(config, Path(scratch) / "data", "example.org", "--quiet", timeout=900)
        counts = archive.counts()
        found = tomllib.loads(result.stdout)["documents"]["privacy-policy"] if result.returncode == 0 else {}
        eras = [(entry["url"], entry["valid_until"]) for entry in found.get("history", [])]
        exact = (
            eras == [(era.url, era.last_day.isoformat()) for era in truth[:-1]] and found.get("url") == truth[-1].url
        )
        return (
            f"step {step_days:>2} days: {home_captures} home-page captures listed, {counts['cdx']} CDX + "
            f"{counts['replay']} replay requests, {len(eras) + 1 if found else 0} eras found "
            f"({counts['replay'] / len(truth):.1f} replay requests per era), exact: {exact}"
        )


def exact(service_file: Path, truth: list[TrueEra]) -> bool:
    if not service_file.exists():
        return False
    (declaration,) = load_service(service_file)
    found = [(entry.url, entry.valid_until) for entry in declaration.history] + [(declaration.url, None)]
    return found == [(era.url, era.last_day) for era in truth[:-1]] + [(truth[-1].url, None)]


def run_list(count: int) -> str:
    with StandinArchive().start() as archive, tempfile.TemporaryDirectory() as scratch:
        truths = {f"site{n}.example": build(archive, domain=f"site{n}.example") for n in range(1, count + 1)}
        config = configure(archive, scratch)
        listing = Path(scratch) / "domains.txt"
        listing.write_text("".join(f"{domain}\n" for domain in truths), encoding="utf-8")
        started = time.monotonic()
        data = Path(scratch) / "data"
        result = discover(config, data, "--from", str(listing), "--write", "--quiet", timeout=60 * count)
        seconds = time.monotonic() - started
        counts = archive.counts()
        right = sum(exact(config / "services" / f"{domain}.toml", truth) for domain, truth in truths.items())
        summary = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
        return (
            f"{count} domains in one run: {counts['cdx']} CDX + {counts['replay']} replay requests "
            f"({counts['replay'] / count:.1f} replay requests per domain), {seconds:.1f} s "
            f"({seconds / count:.2f} s per domain, archive without rate limit), {right}/{count} declarations exact; "
            f"last line: {summary}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="23,9,3", help="days between home-page captures, comma-separated")
    parser.add_argument("--domains", type=int, default=0, help="also run one list of this many generated sites")
    args = parser.parse_args(argv)
    for step in (int(value) for value in args.steps.split(",")):
        print(run(step), flush=True)
    if args.domains:
        print(run_list(args.domains), flush=True)


if __name__ == "__main__":
    main()
