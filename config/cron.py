"""Crontab expressions (UTC), validated and turned into APScheduler triggers.

APScheduler's trigger classes are imported only when an expression is read (:func:`crontab_trigger`): every
command loads this module with the settings, and most read no cron expression — ``validate`` reads one only when
``[schedule] track`` is set, ``status`` to say the next run, ``schedule`` to run on it. The scheduler machinery
itself is imported by ``pipeline/scheduling/scheduler.py`` alone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from policy_archive.errors import ConfigurationError

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger
    from apscheduler.triggers.cron import CronTrigger

CRON_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: index 0 = Sunday (7 too)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# crontab(5) separates the fields with spaces or tabs, nothing else (str.split() would also take a line break, a
# form feed, U+00A0, U+3000...).
_FIELD_SEPARATORS = re.compile(r"[ \t]+")
# What crontab(5) takes in a field, ASCII only: '*' or a value or a range, with an optional '/step', as a comma
# list; names (three letters, any case) in the month and day-of-week fields alone. APScheduler's parser takes more
# (as of 3.11, 2026-11): any Unicode digit ('٠ ١٢ * * *': its regular expressions' \d) and its own extensions of
# the day field ('last', 'last fri', '2nd mon'), which cron refuses. Checked here first, so that an expression
# `validate` accepts is one cron accepts too; a control character or any other non-ASCII character is refused by
# the same rule (outside audit 5, 2026-11-29).
_NUMBER = "[0-9]+"
_FIELD_VALUE = {
    "day-of-week": f"(?:{_NUMBER}|{'|'.join(_WEEKDAYS)})",
    "month": f"(?:{_NUMBER}|{'|'.join(_MONTHS)})",
}


class ScheduleError(ConfigurationError, ValueError):
    """A schedule that cannot be run: a bad cron expression, a non-positive interval, or no trigger at all."""


# --- crontab expressions -----------------------------------------------------------------------------------


def validate_cron(expression: str) -> str | None:
    """None if ``expression`` is a valid 5-field crontab expression (UTC), else a human reason.

    Checked with the very trigger ``schedule`` would run (APScheduler's parser, so loaded here): an expression
    ``validate`` accepts is one the scheduler accepts, with no second parser to drift from it."""
    try:
        trigger = crontab_trigger(expression)
    except ScheduleError as error:
        return str(error)
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:  # e.g. '0 0 30 2 *'
        return f"cron expression {expression!r} never fires"
    return None


def next_run_time(cron: str, now: datetime) -> datetime:
    """The first time at or after ``now`` (timezone-aware) at which ``cron`` fires, in UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    fire_time = crontab_trigger(cron).get_next_fire_time(None, now)
    if fire_time is None:
        raise ScheduleError(f"cron expression {cron!r} never fires")
    return fire_time.astimezone(UTC)


def crontab_trigger(expression: str) -> BaseTrigger:
    """An APScheduler trigger firing exactly when crontab would (UTC); ScheduleError with a reason if not."""
    # Here, not at the top: importing them took ~76 ms (python -X importtime, 2026-11), which every command paid.
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    fields = _FIELD_SEPARATORS.split(expression.strip(" \t"))
    if fields == [""]:
        fields = []
    if len(fields) != len(CRON_FIELDS):
        raise ScheduleError(
            f"a cron expression has 5 fields ({' '.join(CRON_FIELDS)}), separated by spaces or tabs, got "
            f"{len(fields)} in {expression!r}"
        )
    for name, field in zip(CRON_FIELDS, fields, strict=True):
        if not _crontab_field(name, field):
            raise ScheduleError(
                f"invalid cron expression {expression!r}: {name} field {field!r} is not crontab's: ASCII digits, "
                f"'*', ranges 'a-b', steps '/n' and comma lists{_names_allowed(name)}"
            )
    minute, hour, day, month, day_of_week = fields
    try:
        weekdays = _weekday_names(day_of_week)
    except ScheduleError as error:
        raise ScheduleError(f"invalid cron expression {expression!r}: {error}") from None

    def cron(day_field: str, weekday_field: str) -> CronTrigger:
        try:
            return CronTrigger(
                minute=minute, hour=hour, day=day_field, month=month, day_of_week=weekday_field, timezone=UTC
            )
        except ValueError as error:
            raise ScheduleError(f"invalid cron expression {expression!r}: {error}") from None

    # Vixie cron ORs the two day fields only when neither starts with '*' (so '*/2' counts as unrestricted).
    if day.startswith("*") or day_of_week.startswith("*"):
        return cron(day, weekdays)
    return OrTrigger([cron(day, "*"), cron("*", weekdays)])


def _crontab_field(name: str, field: str) -> bool:
    value = _FIELD_VALUE.get(name, _NUMBER)
    item = f"(?:\\*|{value}(?:-{value})?)(?:/{_NUMBER})?"
    return re.fullmatch(f"{item}(?:,{item})*", field, flags=re.IGNORECASE | re.ASCII) is not None


def _names_allowed(name: str) -> str:
    if name == "month":
        return "; or month names jan-dec"
    if name == "day-of-week":
        return "; or day names sun-sat"
    return ""


def _weekday_names(field: str) -> str:
    """Translate a crontab day-of-week field (0-7 or sun-sat, lists, ranges, steps) to APScheduler names."""
    days: set[int] = set()
    for item in field.lower().split(","):
        base, has_step, step_text = item.partition("/")
        step = _weekday_step(step_text) if has_step else 1
        if base == "*":
            first, last = 0, 7
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _weekday_number(start), _weekday_number(end)
            if end == "sun":
                last = 7  # 'fri-sun' reads naturally; numerically Sunday is 7 at the end of a range
        else:
            first = _weekday_number(base)
            last = 7 if has_step else first  # crontab: 'N/step' means N to the end of the range
        if first > last:
            raise ScheduleError(f"day-of-week range {base!r} runs backwards")
        days.update(number % 7 for number in range(first, last + 1, step))
    if len(days) == len(_WEEKDAYS):
        return "*"
    return ",".join(_WEEKDAYS[number] for number in sorted(days))


def _weekday_number(text: str) -> int:
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    if text.isascii() and text.isdigit() and int(text) <= 7:
        return int(text)
    raise ScheduleError(f"day-of-week must be 0-7 or sun-sat (0 and 7 are Sunday), got {text!r}")


def _weekday_step(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    raise ScheduleError(f"day-of-week step must be a positive integer, got {text!r}")
