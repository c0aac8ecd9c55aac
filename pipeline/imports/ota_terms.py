"""One Open Terms Archive terms declaration (current or historical) in our terms: URL, extraction rules, render.

Translated: ``fetch`` → ``url``, ``select``/``remove`` (a string or a list) → lists, history entries oldest first
with ``valid_until`` = the UTC day of ``validUntil``, ``executeClientScripts`` → ``render = "always"``, on the
current declaration and on each history entry that has it (an entry without it keeps ``auto``: OTA fetched that
form without running scripts; docs/decisions/0013). What has no faithful translation is never dropped silently: a
document is :class:`NotImported` when what it records would change (``combine``, range selectors in ``select``, a
``select`` our extractor cannot apply, a ``fetch`` URL to an internal address); a :class:`Translation` lists in
``dropped`` what it is imported without when dropping it only keeps more text around the same document
(JavaScript ``filter`` functions, range selectors or inapplicable selectors in ``remove``, two history entries
ending the same UTC day). So is an item of ``select``/``remove`` that is not a selector (``5``, ``null``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from policy_archive.config.declarations import selector_error
from policy_archive.crawler.hosts import Proposals
from policy_archive.records import ExtractionRules, HistoryEntry, Render
from policy_archive.text import counted

# OTA keys of a terms declaration that are read here; any other key is reported as not translated.
_KNOWN_KEYS = {"fetch", "select", "remove", "filter", "executeClientScripts", "combine", "validUntil"}
_SHOWN_LENGTH = 120  # a value quoted in a message, at most


class NotImported(Exception):
    """The document cannot be imported faithfully; ``str()`` says why."""


@dataclass
class Translation:
    """One OTA declaration entry (current or historical) in our terms, with what was left out."""

    url: str
    rules: ExtractionRules
    render: str | None = None
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def history_entries(past: list[tuple[datetime, Translation]], now: Translation) -> tuple[list[HistoryEntry], list[str]]:
    """History entries oldest first; an entry that reads exactly like the next one is merged into it. Entries that
    differ only in running the page's scripts (``executeClientScripts``) are not merged: the later one's render would
    apply to captures OTA never rendered (outside audit B, finding 4: 11 such merges in contrib-declarations)."""
    entries: list[HistoryEntry] = []
    dropped: list[str] = []
    for index, (until, translation) in enumerate(past):
        later = past[index + 1][1] if index + 1 < len(past) else now
        if (translation.url, translation.rules, translation.render) == (later.url, later.rules, later.render):
            continue  # same page, same selection, same rendering: the later entry covers these captures too
        day = until.date()
        if entries and entries[-1].valid_until >= day:
            earlier = entries.pop()
            dropped.append(
                f"the history entry for {earlier.url} valid until {earlier.valid_until} (the next one ends the "
                "same UTC day; valid_until is a day)"
            )
        entries.append(HistoryEntry(translation.url, day, translation.rules, Render(translation.render or "auto")))
    return entries, dropped


def valid_until(entry: Any) -> datetime:
    """The moment a history entry's ``validUntil`` names, in UTC (raises :class:`NotImported` when unreadable)."""
    value = entry.get("validUntil") if isinstance(entry, dict) else None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC) if moment else _no_day(value)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:00-05:00 is past datetime's last day
        return _no_day(value)


def _no_day(value: Any) -> NoReturn:
    raise NotImported(f"a history entry has no readable validUntil ({shown(value)})")


def translate(entry: Any, proposals: Proposals) -> Translation:
    """One OTA terms declaration (current or historical) in our terms; raises NotImported when not faithful."""
    if not isinstance(entry, dict):
        raise NotImported("the declaration is not an object")
    if "combine" in entry:
        pages = entry["combine"] if isinstance(entry["combine"], list) else []
        assembled = f"combine assembles {counted(len(pages), 'page')} into one document"
        raise NotImported(f"{assembled}; a document here is one page")
    if not isinstance(entry.get("fetch"), str):
        raise NotImported("no fetch URL")
    if (internal := proposals.refusal(entry["fetch"].strip())) is not None:
        # Declared origins may be reached on internal addresses by the live crawl (crawler/hosts.py): only a
        # person writing the configuration chooses one, never a third party's declaration (acceptance report 5).
        raise NotImported(
            f"its fetch URL is to an internal address ({internal}), which only a declaration written by hand may name"
        )
    select, ranges, others = _selectors(entry.get("select", []))
    if others:
        raise NotImported(f"select: {others} (a selector is a non-empty string)")
    if ranges:
        raise NotImported(f"select uses range selectors ({ranges}), which no CSS selector expresses")
    for selector in select:
        if reason := selector_error(selector):
            raise NotImported(f"select: {reason}")
    remove, remove_ranges, remove_others = _selectors(entry.get("remove", []))
    translation = Translation(entry["fetch"].strip(), ExtractionRules(tuple(select), ()))
    if remove_others:
        translation.dropped.append(f"remove: {remove_others} (left out: the text keeps what was meant to be removed)")
    if remove_ranges:
        translation.dropped.append(f"remove range selectors ({remove_ranges}): the text keeps what they removed")
    kept = []
    for selector in remove:
        if reason := selector_error(selector):
            translation.dropped.append(f"remove: {reason}: the text keeps what it removed")
        else:
            kept.append(selector)
    translation.rules = ExtractionRules(tuple(select), tuple(kept))
    _options(entry, translation)
    _fragment(translation)
    return translation


def _fragment(translation: Translation) -> None:
    """A ``fetch`` URL's fragment (``#privacy``) is kept only where the page's scripts run (``render = "always"``),
    which may read it (a hash-routed page shows what it names): the loader refuses it elsewhere, as it is never
    sent to the server (outside audit A, F2). There the page OTA fetched is the URL without it: the fragment is
    left out, and said (2026-11-29, OTA's contrib collection: 5 URLs, each an anchor in a page fetched as served,
    as pixiv's #privacy; 6 with executeClientScripts keep theirs, as Alibaba.com's #/rule/detail?…)."""
    url, hash_sign, fragment = translation.url.partition("#")
    if hash_sign and translation.render != "always":
        translation.url = url
        translation.dropped.append(f"the fragment #{fragment} of its URL (never sent to the server)")


def _options(entry: Mapping[str, Any], translation: Translation) -> None:
    """``filter``, ``executeClientScripts`` and unknown keys."""
    filters = entry.get("filter")
    if filters:
        names = ", ".join(_filter_name(item) for item in (filters if isinstance(filters, list) else [filters]))
        translation.dropped.append(
            f"filter functions {names} (JavaScript in <Service>.filters.js): "
            "the text keeps what they removed or changed"
        )
    scripts = entry.get("executeClientScripts", False)
    if not isinstance(scripts, bool):  # OTA's schema says a boolean: "yes" is not taken for either (audit 31)
        translation.dropped.append(f"executeClientScripts {shown(scripts)} (not true or false)")
    elif scripts:
        # A history entry's captures are archived ones, which are rendered as live ones are (examine.py,
        # rendering_request): the entry says so itself, as a history entry does not take its document's render.
        translation.render = "always"
    for key in entry.keys() - _KNOWN_KEYS:
        translation.dropped.append(f"unknown key {key!r}")


def _filter_name(item: Any) -> str:
    """``cleanUrls``, or ``removeQueryParams(h, locale2)`` for a filter given with parameters."""
    if isinstance(item, dict):
        return ", ".join(
            f"{name}({', '.join(map(str, args if isinstance(args, list) else [args]))})" for name, args in item.items()
        )
    return str(item)


def _selectors(value: Any) -> tuple[list[str], str, str]:
    """Of a ``select``/``remove`` value (a string or a list): its CSS selectors, a description of its range
    selectors (objects) and of its items that are neither (``5, ["x"], null is``; empty when there are none)."""
    items = value if isinstance(value, list) else [value]
    selectors = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    ranges = [item for item in items if isinstance(item, dict)]
    described = "; ".join(", ".join(f"{key} {selector}" for key, selector in item.items()) for item in ranges)
    others = [item for item in items if not (isinstance(item, str) and item.strip()) and not isinstance(item, dict)]
    if not others:
        return selectors, described, ""
    return (
        selectors,
        described,
        shown(*others) + (" is not a CSS selector" if len(others) == 1 else " are not CSS selectors"),
    )


def shown(*values: Any) -> str:
    """JSON values as the declaration spells them (``5, ["x"], null``), cut to 120 characters for a message."""
    text = ", ".join(json.dumps(value, ensure_ascii=False) for value in values)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"
