"""Discovery benchmark (issue 15): archive requests per URL era found, on generated site histories.

    python -m benchmarks.discover                 # step 23, 9 and 3 days between home-page captures, 12 years

The site of ``tests/standin/moving_site.py`` (three URL eras, archived 404s and redirects, JavaScript shells,
link text in four languages, stale old URLs still captured) is served by the stand-in archive on 127.0.0.1, and
the real CLI runs ``discover`` against it in a subprocess. Printed per history: home-page captures listed, CDX
and replay requests (from the stand-in's request log), eras found, replay requests per era, and whether each
era's URL and last day match the truth.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The stand-ins live in tests/ and are imported as ``standin.*``: another distribution's top-level ``tests``
# package would shadow ours (waybackpy's did, while it was a dependency).
sys.path.insert(0, str(REPO_ROOT / "tests"))

from standin.archive import StandinArchive  # noqa: E402
from standin.cli import run_cli  # noqa: E402
from standin.moving_site import build  # noqa: E402


def run(step_days: int) -> str:
    with StandinArchive().start() as archive, tempfile.TemporaryDirectory() as scratch:
        truth = build(archive, step_days=step_days)
        config = Path(scratch) / "config"
        (config / "services").mkdir(parents=True)
        (config / "settings.toml").write_text(
            f'[wayback]\ncdx_url = "{archive.cdx_url}"\nreplay_url = "{archive.replay_url}"\n'
            "cdx_per_minute = 1e9\nreplay_per_minute = 1e9\nbackoff_seconds = 0\ntimeout_seconds = 5\n"
        )
        home_captures = len(archive.captures_of("http://example.org/"))
        result = run_cli(config, Path(scratch) / "data", "discover", "example.org", "--quiet", timeout=900)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="23,9,3", help="days between home-page captures, comma-separated")
    args = parser.parse_args(argv)
    for step in (int(value) for value in args.steps.split(",")):
        print(run(step), flush=True)


if __name__ == "__main__":
    main()
