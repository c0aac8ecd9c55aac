"""Reading commands load only what they read with (issue 9; audit finding 6): `status` once imported Scrapy,
Twisted, Playwright and the extractor (962 modules, 90 MB) only to read the catalog; every command APScheduler's
cron parser. Each command runs for real on
a backfilled history, in a fresh interpreter, which then lists what it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from standin.cli import REPO_ROOT, cli_environment

# The crawler (Scrapy on Twisted, Playwright for rendering) and the scheduler's own modules.
CRAWLER = ("scrapy", "twisted", "playwright", "scrapy_playwright", "apscheduler.schedulers")
# The extractor: `verify` extracts the kept captures again and needs it; no other reading command does.
EXTRACTOR = ("pypdf", "policy_archive.pipeline.extraction.extract")
# APScheduler (its cron parser alone took ~76 ms to import): loaded only where a cron expression is read. `status`
# says when the next scheduled track is (APScheduler's trigger computes it, as `schedule` will run it); `validate`
# checks `[schedule] track` when it is set, with that same parser, so that what it accepts is what `schedule` runs.
APSCHEDULER = ("apscheduler",)
READS_CRON = {("status",)}

# Runs the command line in-process, then writes the names of the modules loaded to the file named first.
PROBE = """
import json, sys
from policy_archive.pipeline.commands.cli import main
try:
    main(sys.argv[2:])
except SystemExit as end:
    status = end.code
with open(sys.argv[1], "w") as out:
    json.dump({"status": status, "modules": sorted(sys.modules)}, out)
"""


def loaded(config: Path, data: Path, listing: Path, *args: str) -> set[str]:
    """The modules a fresh interpreter had loaded after running the command (which must succeed)."""
    command = [sys.executable, "-c", PROBE, str(listing), "--config", str(config), "--data", str(data), *args]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=cli_environment(), cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr
    result = json.loads(listing.read_text())
    assert result["status"] in (0, None), run.stderr
    return set(result["modules"])


def among(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (packages count with their submodules) were loaded."""
    return [name for name in names if any(m == name or m.startswith(f"{name}.") for m in modules)]


READERS = [
    ("status",),
    ("status", "--json"),
    ("log", "acrcloud"),
    ("show", "acrcloud/privacy-policy"),
    ("diff", "acrcloud/privacy-policy"),
    ("export", "--format", "jsonl", "--output", "{out}/versions.jsonl"),
    ("export", "--format", "csv", "--output", "{out}/versions.csv"),
    ("export", "--format", "sqlite", "--output", "{out}/versions.db"),
    ("report", "--output", "{out}/site"),
]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reading_command_loads_neither_crawler_nor_extractor(recorded, tmp_path, args):
    config, data = recorded
    modules = loaded(config, data, tmp_path / "modules.json", *(arg.format(out=tmp_path) for arg in args))
    assert among(modules, CRAWLER + EXTRACTOR) == []
    assert among(modules, APSCHEDULER) == (["apscheduler"] if args in READS_CRON else [])


def test_validate_loads_the_cron_parser_only_for_a_schedule(tmp_path):
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "services" / "acme.toml").write_text(
        'name = "Acme"\n[documents.privacy-policy]\nurl = "https://acme.example/privacy"\n'
    )
    modules = loaded(config, tmp_path / "data", tmp_path / "modules.json", "validate")
    assert among(modules, APSCHEDULER) == []
    (config / "settings.toml").write_text('[schedule]\ntrack = "0 3 * * 1"\n')
    modules = loaded(config, tmp_path / "data", tmp_path / "modules.json", "validate")
    assert among(modules, ("apscheduler.triggers", "apscheduler.schedulers")) == ["apscheduler.triggers"]


def test_verify_loads_the_extractor_but_not_the_crawler(recorded, tmp_path):
    config, data = recorded
    modules = loaded(config, data, tmp_path / "modules.json", "verify")
    assert among(modules, CRAWLER + APSCHEDULER) == []
    assert among(modules, EXTRACTOR) == list(EXTRACTOR)  # the probe sees what is loaded: not vacuous


def test_a_writing_command_still_loads_the_crawler(tmp_path):
    """The probe would see the crawler: `backfill` of a configuration with no documents loads it, and succeeds."""
    (tmp_path / "config" / "services").mkdir(parents=True)
    modules = loaded(tmp_path / "config", tmp_path / "data", tmp_path / "modules.json", "backfill")
    assert among(modules, ("scrapy", "twisted")) == ["scrapy", "twisted"]
