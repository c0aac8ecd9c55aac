"""The README names every command and option of the command line, and every settings.toml key the loader
accepts: walked from the click group and the loader's schema, so a new option or key cannot go undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from policy_archive.config.settings import _SETTINGS_SCHEMA
from policy_archive.pipeline.commands.cli import main

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
