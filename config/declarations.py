"""A service file, ``services/<id>.toml``: its documents read and every key checked (the configuration contract of
DESIGN.md), each problem kept with the others of the configuration (:class:`~policy_archive.config.checks.Problems`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import lxml.etree
from cssselect import ExpressionError, SelectorError
from lxml.cssselect import CSSSelector

from policy_archive.config.checks import (
    FAILED,
    ConfigError,
    ConfigProblem,
    Problems,
    check_date,
    check_keys,
    check_service_name,
    check_url,
    fragment_refusal,
    read_toml,
)
from policy_archive.hostnames import ascii_url
from policy_archive.records import (
    ID_MAX_LENGTH,
    ID_PATTERN,
    ID_RULE,
    TOOL_WRITERS,
    DocumentDeclaration,
    ExtractionRules,
    HistoryEntry,
    Render,
    is_valid_id,
)
from policy_archive.urlkey import match_key

# A service name is part of every commit subject, log line and report title: bounded, so that a file cannot put
# kilobytes into each, and long enough for a company's full legal name (acceptance report 3 imported one of 306
# characters from an OTA declaration; the 200 characters allowed before refused it).
NAME_MAX_LENGTH = 1_000
_DOCUMENT_KEYS = {"url": str, "select": list, "remove": list, "history": list, "render": str, "written_by": str}
_HISTORY_KEYS = {"url": str, "select": list, "remove": list, "valid_until": (str, date), "render": str}


def page_key(url: str) -> str:
    """What makes two declared URLs one page (``validate``'s warning, ``discover --write``'s refusal): the same
    archive key (:func:`~policy_archive.urlkey.match_key`: scheme, letter case, a default port, a fragment, ``www.``,
    the order of query arguments do not count), the host as fetched, in punycode (IDNA 2008), where the archive
    key's IDNA 2003 would take straße.example and strasse.example for one page."""
    return match_key(ascii_url(url))


def load_service(path: Path) -> list[DocumentDeclaration]:
    """Validate one service file and return its documents; one :class:`ConfigError` names every problem of it."""
    problems = Problems()
    documents = service_documents(path, problems)
    problems.raise_found()
    return documents


def service_documents(path: Path, problems: Problems) -> list[DocumentDeclaration]:
    """One service file's documents, every problem of it kept in ``problems`` (the documents of a file with
    problems are not all returned: the caller raises them before using any)."""
    service_id = path.stem
    problems.passes(_check_id, path, "", service_id, f"service id {service_id!r}", "(rename the file)")
    raw = problems.value(read_toml, path)
    if raw is FAILED:
        return []
    problems.passes(check_keys, path, "", raw, {"name": str, "documents": dict})
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(path, "name", "required: the service's display name")
        name = ""
    elif problems.passes(check_service_name, path, "name", name) and len(name) > NAME_MAX_LENGTH:
        problems.add(path, "name", f"longer than {NAME_MAX_LENGTH:,} characters")
    documents = raw.get("documents")
    if not isinstance(documents, dict) or not documents:
        problems.add(path, "documents", "required: at least one [documents.<type>] table")
        return []
    name = name.strip()
    declared = (_document(path, service_id, name, doc_id, table, problems) for doc_id, table in documents.items())
    return [declaration for declaration in declared if declaration is not None]


def _check_id(path: Path, key: str, text: str, what: str, hint: str) -> None:
    """An id (a service file's name, a document's table name): its length said when the length is what fails
    (audit F5, 2026-11-28: a 101-character id was said not to match the pattern it matches)."""
    if is_valid_id(text):
        return
    if len(text) > ID_MAX_LENGTH and ID_PATTERN.fullmatch(text):
        rename = " (rename the file)" if not key else ""
        raise ConfigError(path, key, f"{what} is {len(text)} characters long: at most {ID_MAX_LENGTH}{rename}")
    raise ConfigError(path, key, f"{what} must match {ID_RULE} {hint}")


def _document(
    path: Path, service_id: str, name: str, doc_id: str, table: Any, problems: Problems
) -> DocumentDeclaration | None:
    """One ``[documents.<id>]`` table, each of its keys checked; None when it has a problem (kept in ``problems``)."""
    where = f"documents.{doc_id}"
    before = len(problems.found)
    problems.passes(_check_id, path, where, doc_id, "document id", "(e.g. privacy-policy)")
    if not isinstance(table, dict):
        problems.add(path, where, "must be a table")
        return None
    problems.passes(check_keys, path, where, table, _DOCUMENT_KEYS)
    url = FAILED
    if "url" not in table:
        problems.add(path, f"{where}.url", "required")
    else:
        url = problems.value(check_url, path, f"{where}.url", table["url"])
    history = table.get("history", [])
    entries: tuple[HistoryEntry, ...] = ()
    if not isinstance(history, list):
        problems.add(path, f"{where}.history", "must be an array of tables ([[...history]])")
    else:
        checked = [_history_entry(path, f"{where}.history[{i}]", entry, problems) for i, entry in enumerate(history)]
        entries = tuple(entry for entry in checked if entry is not None)
        if len(entries) == len(checked) and any(
            later.valid_until <= earlier.valid_until for earlier, later in zip(entries, entries[1:], strict=False)
        ):
            problems.add(path, f"{where}.history", "entries must be oldest first (valid_until increasing)")
    rules = _rules(path, where, table, problems)
    render = problems.value(_render, path, where, table)
    if url is not FAILED and render is not FAILED and (refusal := fragment_refusal(url, render is Render.ALWAYS)):
        problems.add(path, f"{where}.url", refusal)
    written_by = problems.value(_written_by, path, where, table)
    if len(problems.found) > before:
        return None
    return DocumentDeclaration(
        service_id=service_id,
        service_name=name,
        document_id=doc_id,
        url=url,
        rules=rules,
        history=entries,
        render=render,
        written_by=written_by,
    )


def _written_by(path: Path, where: str, table: Mapping[str, Any]) -> str | None:
    value = table.get("written_by")
    if value is not None and value not in TOOL_WRITERS:
        choices = ", ".join(f'"{writer}"' for writer in TOOL_WRITERS)
        reason = f"must be one of {choices} (delete the line to declare the URLs yourself), got {value!r}"
        raise ConfigError(path, f"{where}.written_by", reason)
    return value


def _history_entry(path: Path, where: str, entry: Any, problems: Problems) -> HistoryEntry | None:
    """One ``[[...history]]`` entry, each of its keys checked; None when it has a problem (kept in ``problems``)."""
    if not isinstance(entry, dict):
        problems.add(path, where, "must be a table")
        return None
    before = len(problems.found)
    problems.passes(check_keys, path, where, entry, _HISTORY_KEYS)
    checked = {}
    for key, check in (("url", check_url), ("valid_until", check_date)):
        if key not in entry:
            problems.add(path, f"{where}.{key}", "required")
        else:
            checked[key] = problems.value(check, path, f"{where}.{key}", entry[key])
    rules = _rules(path, where, entry, problems)
    render = problems.value(_render, path, where, entry)
    url = checked.get("url", FAILED)
    if url is not FAILED and render is not FAILED and (refusal := fragment_refusal(url, render is Render.ALWAYS)):
        problems.add(path, f"{where}.url", refusal)
    if len(problems.found) > before:
        return None
    return HistoryEntry(url=checked["url"], valid_until=checked["valid_until"], rules=rules, render=render)


def _render(path: Path, where: str, table: Mapping[str, Any]) -> Render:
    value = table.get("render", Render.AUTO.value)
    try:
        return Render(value)
    except ValueError:
        choices = ", ".join(f'"{mode.value}"' for mode in Render)
        raise ConfigError(path, f"{where}.render", f"must be one of {choices}, got {value!r}") from None


def _rules(path: Path, where: str, table: Mapping[str, Any], problems: Problems) -> ExtractionRules:
    """``select`` and ``remove``, each checked (a problem is kept in ``problems``, the rules are then empty)."""
    select = problems.value(_selectors, path, f"{where}.select", table.get("select", []))
    remove = problems.value(_selectors, path, f"{where}.remove", table.get("remove", []))
    if select is FAILED or remove is FAILED:
        return ExtractionRules()
    return ExtractionRules(select=select, remove=remove)


def _selectors(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ConfigError(path, key, "must be a list of CSS selectors (non-empty strings)")
    reasons = [reason for selector in value if (reason := selector_error(selector))]
    if reasons:
        raise ConfigError.of([ConfigProblem(str(path), key, reason) for reason in reasons])
    return tuple(value)


def selector_error(selector: str) -> str | None:
    """``None`` if ``selector`` is a CSS selector lxml can apply, else a human-readable reason."""
    try:
        CSSSelector(selector)
    except ExpressionError as error:
        # Valid CSS that cssselect parses but cannot turn into XPath (as of cssselect 1.6, 2026-11: a type-less
        # ":nth-of-type()"/":first-of-type", pseudo-elements): not the selector's fault, so not "invalid".
        return f"CSS selector {selector!r} is not supported by the selector engine (cssselect): {error}"
    except SelectorError as error:
        return f"invalid CSS selector {selector!r}: {error}"
    except lxml.etree.XPathError as error:
        return f"CSS selector {selector!r} cannot be applied: {error}"
    except ValueError:
        # A CSS escape naming NUL or a control character ("\\1" is U+0001) becomes that character in the XPath
        # lxml compiles, which lxml refuses with a ValueError (found by Hypothesis, 2026-11-29): a reason, not
        # a traceback.
        return f"CSS selector {selector!r} cannot be applied: it names NUL or a control character (by an escape?)"
    return None
