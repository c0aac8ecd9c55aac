"""Every numeric option of the command line is checked as numbers in settings are: a NaN, an infinity, a number
too large for the library it is handed to, or one out of range is a usage error (exit 2) naming the option,
never a traceback, and nothing is created."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from policy_archive.pipeline.commands.cli import main

NOT_A_SENSIBLE_NUMBER = ["nan", "inf", "-inf", "1e309", "-1e309", "1e20", "-1e20", "0", "-5"]


def numeric_options() -> list[tuple[str, str]]:
    """(command, option) for every option of every command whose value is a number."""
    return sorted(
        (command.name or name, option.opts[-1])
        for name, command in main.commands.items()
        for option in command.params
        if isinstance(option, click.Option)
        and isinstance(option.type, click.types.FloatParamType | click.types.IntParamType)
    )


def test_the_numeric_options_are_found():
    # Not vacuous: the test below covers at least `schedule --every`.
    assert ("schedule", "--every") in numeric_options()


@pytest.mark.parametrize("value", NOT_A_SENSIBLE_NUMBER)
@pytest.mark.parametrize(("command", "option"), numeric_options())
def test_a_numeric_option_refuses_what_is_not_a_sensible_number(tmp_path, command, option, value):
    data = tmp_path / "data"
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "config"), "--data", str(data), command, f"{option}={value}"]
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert f"Error: Invalid value for '{option}': must be " in result.stderr, result.stderr
    assert not data.exists()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("nan", "must be a finite number, got nan"),
        ("1e309", "must be a finite number, got inf"),
        ("1e20", "must be at most 31622400, got 1e+20"),  # a year
        ("0.5", "must be at least 1, got 0.5"),
    ],
)
def test_schedule_every_says_what_is_allowed(tmp_path, value, reason):
    result = CliRunner().invoke(main, ["--config", str(tmp_path), "schedule", "--every", value])
    assert result.exit_code == 2 and f"Invalid value for '--every': {reason}" in result.stderr, result.stderr
