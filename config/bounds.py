"""The ranges a number in the settings (and a numeric command-line option) must be in, and why each bound is where
it is: the rates a request budget may be set to, the shortest deadline, the shortest pause after the Internet
Archive's 429. ``config.settings`` checks ``settings.toml`` against them, ``pipeline.commands`` the options.
"""

from __future__ import annotations

import math
from pathlib import Path

from policy_archive.config.checks import ConfigError

# Numbers and their ranges: (lowest, lowest allowed itself?, highest). A NaN passes every comparison and
# switched the rate limiter off, an infinity crashed the first wait: every number must be finite and in range.
# The highest timeout and backoff is a day: a longer wait is a typing mistake, and Twisted's timers overflow.
_DAY_SECONDS = 86400.0
# The slowest rate a request budget may be set to: one request an hour. The rate limiter never queues a request
# further ahead than an hour (crawler/ratelimit.py MAX_PAUSE_SECONDS, so that a clock set backwards cannot stall a
# run), so a slower rate would be announced but not kept; and one an hour already makes a backfill of 100
# captures last four days. A positive rate below it (0.001, 1e-300) is a typing mistake.
SLOWEST_PER_MINUTE = 1 / 60
# The fastest rate a request budget may be set to: a thousand requests a second. A larger number is no limit in
# effect (outside audit A, F2, 2026-11-29: 1e300 was accepted), where DESIGN.md's point is to stay under the
# archive's limits (as of 2026-11 the Wayback Machine allows some tens of CDX and some hundreds of replay requests
# a minute per IP); a request then waits a millisecond at most for its slot, nothing next to a request's own time.
FASTEST_PER_MINUTE = 60_000
# The shortest deadline for a whole answer (timeout_seconds, and render_timeout_seconds, which bounds a rendered
# page's navigation too): a second, for every archive and live site. A shorter one (1e-9 was accepted: outside audit
# A, F2, where every request failed) is shorter than many whole answers from another machine take (DNS lookup,
# connection, TLS handshake, then the page, or a CDX page the archive computes), so requests are cut off after the
# site or archive has started answering them, and asked again: three times for a live page, LISTING_ATTEMPTS times
# for the archive, each costing the other side its work for nothing.
# The tests' configurations use 1 s and more (their sub-second deadlines are given to functions, not validated).
SHORTEST_TIMEOUT_SECONDS = 1.0
# The shortest pause after a 429 or 503 from the Internet Archive: a minute (outside audit A, F2). As of 2026-11 it
# firewalls, for an hour and doubling after, an IP that goes on sending through its 429s for a minute (DESIGN.md;
# its staff's words in edgi-govdata-archiving/wayback#137, 2023): only a pause of a minute sends nothing in the
# minute after a refusal. A shorter one does, and one shorter than the rate limiter's own spacing changes nothing:
# measured 2026-11-29 with the real limiter on a fake clock, an archive refusing every request, at the default
# cdx_per_minute = 24: 24 requests in the minute after the first 429 with 0 s or 1 s (the pause ends before the
# next slot, so it never doubles either), 5 with 2 s, 3 with 10 s, 2 with 30 s, 1 (the refused one) with 60 s.
# So the floor is the default. Against another archive (one's own pywb, the tests' stand-in on 127.0.0.1) no
# pause is allowed: the archive and its limits are the operator's, and the tests wait no real pauses.
INTERNET_ARCHIVE_SHORTEST_BACKOFF = 60.0
NUMBER_RANGES: dict[str, tuple[float, bool, float]] = {
    "wayback.cdx_per_minute": (SLOWEST_PER_MINUTE, True, FASTEST_PER_MINUTE),
    "wayback.replay_per_minute": (SLOWEST_PER_MINUTE, True, FASTEST_PER_MINUTE),
    # At least INTERNET_ARCHIVE_SHORTEST_BACKOFF when the archive is the Internet Archive's (backoff_for_archive).
    "wayback.backoff_seconds": (0, True, _DAY_SECONDS),
    "wayback.timeout_seconds": (SHORTEST_TIMEOUT_SECONDS, True, _DAY_SECONDS),
    "wayback.max_listing_bytes": (0, False, math.inf),
    # A billion rows would take some 300 GB of memory: more is a typing mistake.
    "wayback.max_listing_rows": (0, False, 1_000_000_000),
    "crawl.max_page_bytes": (0, False, math.inf),
    "crawl.render_timeout_seconds": (SHORTEST_TIMEOUT_SECONDS, True, _DAY_SECONDS),
}
# What a lowest bound means, said after it when a number is below it.
_SHORT_DEADLINE = "a shorter deadline cuts requests off after the other side has started answering them"
_LOWEST_MEANS = {
    "wayback.cdx_per_minute": "one request an hour, the slowest rate the rate limiter keeps",
    "wayback.replay_per_minute": "one request an hour, the slowest rate the rate limiter keeps",
    "wayback.timeout_seconds": _SHORT_DEADLINE,
    "crawl.render_timeout_seconds": _SHORT_DEADLINE,
}
# What a highest bound means, said after it when a number is above it.
_HIGHEST_MEANS = {
    "wayback.cdx_per_minute": "a thousand a second: more is no limit in effect",
    "wayback.replay_per_minute": "a thousand a second: more is no limit in effect",
}


def check_number(path: Path | str, key: str, value: float, lowest: float, inclusive: bool, highest: float) -> None:
    """Refuse ``value`` of ``key`` unless finite and from ``lowest`` (itself allowed when ``inclusive``) to
    ``highest``, saying what a bound means where it is not only a number."""
    if not math.isfinite(value):
        raise ConfigError(path, key, f"must be a finite number, got {value}")
    if value < lowest or (value == lowest and not inclusive):
        means = f" ({_LOWEST_MEANS[key]})" if key in _LOWEST_MEANS else ""
        bound = f"{'at least' if inclusive else 'greater than'} {lowest:.3g}{means}"
        raise ConfigError(path, key, f"must be {bound}, got {value}")
    if value > highest:
        means = f" ({_HIGHEST_MEANS[key]})" if key in _HIGHEST_MEANS else ""
        raise ConfigError(path, key, f"must be at most {highest:.15g}{means}, got {_as_written(value)}")


def _as_written(value: float) -> str:
    """A number as a reason quotes it: an integer whole, as written (``.15g`` wrote 9999999999999999999999 as
    1e+22, a float for an integer: outside audit 31, F6), a float to 15 significant digits."""
    return str(value) if isinstance(value, int) else f"{value:.15g}"


def backoff_for_archive(path: Path, key: str, value: float, host: str) -> None:
    """Refuse a ``backoff_seconds`` shorter than :data:`INTERNET_ARCHIVE_SHORTEST_BACKOFF` with the Internet
    Archive (``host``)."""
    if value < INTERNET_ARCHIVE_SHORTEST_BACKOFF:
        raise ConfigError(
            path,
            key,
            f"must be at least {INTERNET_ARCHIVE_SHORTEST_BACKOFF:.3g} with the Internet Archive ({host}): a shorter"
            " pause asks it again within the minute after its 429, and as of 2026-11 it firewalls an IP that goes on"
            f" asking through its 429s for a minute; got {value}",
        )


def check_number_option(value: float, option: str, lowest: float, highest: float) -> float:
    """Check a number given on the command line as numbers in settings are checked: finite, ``lowest`` to
    ``highest`` inclusive (a NaN passes every comparison, an infinity or a huge number overflows the library
    it is handed to)."""
    check_number("command line", option, value, lowest, True, highest)
    return value
