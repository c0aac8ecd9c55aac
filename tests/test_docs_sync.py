"""The README names every command and option of the command line, and every settings.toml key the loader
accepts: walked from the click group and the loader's schema, so a new option or key cannot go undocumented.
The starter settings.toml lists every default, and `--json` help texts name every field the output has."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

from policy_archive.config import SHIPPED_CONFIG_DIR
from policy_archive.config.settings import (
    _SETTINGS_SCHEMA,
    DATA_ENV,
    CrawlSettings,
    ScheduleSettings,
    WaybackSettings,
    _load_settings,
    package_version,
)
from policy_archive.pipeline.commands.cli import main
from policy_archive.pipeline.commands.review import LogEntry
from policy_archive.pipeline.commands.status import DocumentStatus

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's ``## title`` section, up to the next section of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def long_options(command: click.Command) -> list[str]:
    """Every ``--name`` (and ``--no-name`` of a flag pair) the command takes; ``--help`` is click's own."""
    return [
        name
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    ]


COMMANDS = sorted(main.commands.items())
OPTIONS = [("policy-archive", name) for name in long_options(main)] + [
    (command_name, name) for command_name, command in COMMANDS for name in long_options(command)
]
SETTINGS = [f"[{table}] {key}" for table, keys in _SETTINGS_SCHEMA.items() for key in keys]


def test_the_walk_sees_the_command_line() -> None:
    """Not vacuous: the group's commands and their options are found (names from the contract)."""
    assert {"backfill", "track", "log", "show", "diff", "status", "export"} <= {name for name, _ in COMMANDS}
    assert ("backfill", "--strategy") in OPTIONS and ("policy-archive", "--config") in OPTIONS
    assert "[wayback] cdx_url" in SETTINGS and len(SETTINGS) > 10


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_command_has_a_row_in_the_tour(name: str) -> None:
    assert re.search(rf"^\| `{re.escape(name)}\b", section("A tour of the commands"), re.MULTILINE)


@pytest.mark.parametrize(("command", "option"), OPTIONS, ids=[f"{command} {option}" for command, option in OPTIONS])
def test_every_option_is_named_in_the_readme(command: str, option: str) -> None:
    assert re.search(rf"{re.escape(option)}(?![\w-])", README), f"{command} {option} is not in README.md"


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_is_documented_under_configuration(setting: str) -> None:
    assert setting in section("Configuration")


SHIPPED_SETTINGS = SHIPPED_CONFIG_DIR / "settings.toml"
DEFAULTS = {
    "archive": {"data_dir": "data"},
    **{
        table: {field.name: field.default for field in fields(cls)}
        for table, cls in (("wayback", WaybackSettings), ("crawl", CrawlSettings), ("schedule", ScheduleSettings))
    },
}


def test_the_defaults_walk_covers_the_schema() -> None:
    """Not vacuous, and no setting the loader accepts lacks a default (or a default the loader refuses)."""
    assert {table: set(keys) for table, keys in DEFAULTS.items()} == {
        table: set(keys) for table, keys in _SETTINGS_SCHEMA.items()
    }


def test_the_starter_settings_are_the_defaults(tmp_path, monkeypatch) -> None:
    """`init` writes the shipped settings.toml, which says it lists the defaults: loading it gives what an empty
    file gives."""
    monkeypatch.delenv(DATA_ENV, raising=False)
    empty = tmp_path / "settings.toml"
    empty.write_text("", encoding="utf-8")
    assert _load_settings(SHIPPED_SETTINGS, None) == _load_settings(empty, None)


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_is_in_the_starter_file(setting: str) -> None:
    """Each key is written in its table, set to its default or (no literal default: user_agent, webhook_url)
    as a comment."""
    table, key = setting[1:].split("] ")
    text = SHIPPED_SETTINGS.read_text(encoding="utf-8")
    body = re.search(rf"^\[{table}\]\n(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    assert body, f"no [{table}] table in {SHIPPED_SETTINGS}"
    line = re.search(rf"^(# )?{key} = ", body.group(1), re.MULTILINE)
    assert line, f"{setting} is not in {SHIPPED_SETTINGS}"
    if not line.group(1):
        assert tomllib.loads(text)[table][key] == DEFAULTS[table][key]


def _readme_default(value: object) -> str:
    """A default as README's settings table writes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace(package_version(), "VERSION")


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_has_a_row_with_its_default_in_the_readme_table(setting: str) -> None:
    table, key = setting[1:].split("] ")
    row = re.search(rf"^\| `{re.escape(setting)}` \| ([^|]*) \|", section("Configuration"), re.MULTILINE)
    assert row, f"README's settings table has no row for {setting}"
    default = _readme_default(DEFAULTS[table][key])
    assert row.group(1) == default or row.group(1).startswith(f"`{default}`"), (row.group(1), default)


def _json_help(command: str) -> str:
    option = next(p for p in main.commands[command].params if p.name == "as_json")
    assert isinstance(option, click.Option) and option.help
    return option.help


AT = datetime(2026, 1, 1, tzinfo=UTC)
JSON_OUTPUTS = {
    "status": DocumentStatus("s/d", 0, None, None, 0, None, {}).as_json(),
    "log": LogEntry(AT, "c", "wayback", "subject", "https://example.org", None).as_json(),
}


@pytest.mark.parametrize(
    ("command", "field"), [(command, field) for command, output in JSON_OUTPUTS.items() for field in output]
)
def test_json_help_names_every_field_of_the_output(command: str, field: str) -> None:
    assert re.search(rf"(?<![\w]){field}(?![\w])", _json_help(command)), f"{command} --help lacks {field}"


# What a data directory may hold, as the code names it: the parts (pipeline/jobs/datadir.py data_paths), the
# limiter and the locks, discover's state, and what is set aside, never deleted (archive/hand_edits.py,
# pipeline/jobs/workspace.py).
DATA_DIRECTORY_ENTRIES = (
    "data/versions/",
    "data/captures/",
    "data/catalog.sqlite3",
    "data/ratelimit.sqlite3",
    "data/.lock",
    "data/.schedule.lock",
    "data/discovery/",
    "data/versions-set-aside-STAMP/",
    "data/catalog.sqlite3.unreadable-STAMP",
)


@pytest.mark.parametrize("entry", DATA_DIRECTORY_ENTRIES)
def test_the_data_directory_tree_names_everything_a_data_directory_may_hold(entry: str) -> None:
    """Check of 2026-11-29: the tree of "Where data goes" left out the set-aside folders, said in Security only."""
    (tree,) = re.findall(r"```\n(.*?)```", section("Where data goes"), re.DOTALL)
    assert re.search(rf"^{re.escape(entry)}(\s|$)", tree, re.MULTILINE), entry
