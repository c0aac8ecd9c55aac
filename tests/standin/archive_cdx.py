"""The stand-in archive's CDX search, answering like the real Wayback Machine's (recorded 2020–2026).

7-field text rows ``urlkey timestamp original mimetype statuscode digest length`` (or, on demand, a classic CDX
file's 11 or 9 fields, after its legend line or not); ``from``/``to``; ``limit`` +
``showResumeKey=true`` gives exactly ``limit`` rows, then a blank line and a resume key (also on the last full
page, whose follow-up request then answers an empty body); ``resumeKey``; or, as a hostile server, a new key
``endless-N`` on every page without end (the first rows again each time); optionally every row twice (the real
index repeats rows); 403 with a "Blocked Site Error" body for blocked URLs. Parameters it does not implement are
refused with 400.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from urllib.parse import quote_plus, unquote_plus

from standin.archive_answers import Answer, Delivery, text_answer
from standin.archive_faults import Faults
from standin.capture import StandinCapture

CDX_PATH = "/cdx/search/cdx"
# Byte-for-byte the body the Wayback Machine sent for a blocked URL's CDX search (recorded 2020-06).
BLOCKED_CDX_BODY = (
    b"org.archive.util.io.RuntimeIOException: "
    b"org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error\n"
)
GARBAGE_ROW = "<html><body><h1>Internal Server Error</h1></body></html>"
# CDX parameters whose meaning the stand-in does not implement: refusing them beats answering wrongly.
UNSUPPORTED_CDX_PARAMETERS = ("output", "fl", "filter", "collapse", "page", "showNumPages", "closest", "sort")
CDX_LEGENDS = {7: "N b a m s k S", 9: "N b a m s k r V g", 11: "N b a m s k r M S V g"}
# The resume keys of a server that never ends a listing (Faults.endless_resume_keys): endless-1, endless-2, ...
ENDLESS_KEY = "endless-"
CDX_CONTENT_TYPE = (("Content-Type", "text/plain;charset=UTF-8"),)


def _as_listed(capture: StandinCapture, faults: Faults) -> StandinCapture:
    """The capture as its row lists it: with another status where a fault says so (``list_status``)."""
    status = faults.listed_statuses.get((capture.urlkey, capture.timestamp))
    return capture if status is None else dataclasses.replace(capture, status=status)


def cdx_listing(key: str, params: dict[str, list[str]], captures: list[StandinCapture], faults: Faults) -> Answer:
    """The answer to a CDX search for ``key`` (its parameters checked by :func:`cdx_parameter_problem`)."""
    if faults.resume_keys_ignored:
        params = {name: values for name, values in params.items() if name not in ("showResumeKey", "resumeKey")}
    first, last = _first(params), _last(params)
    # Each row written out only when on the page asked: a listing of a million rows in 40 pages made 40 million.
    rows = [
        (capture.timestamp, at, capture)
        for at, capture in enumerate(captures)
        for _ in range(2 if faults.repeat_rows else 1)
        if first <= capture.timestamp <= last
    ]
    endless = faults.endless_resume_keys and params.get("resumeKey", [""])[0].startswith(ENDLESS_KEY)
    start = 0 if endless else _resume_position(rows, params)
    limit = int(params["limit"][0]) if "limit" in params else None
    page_rows = rows[start : start + limit] if limit else rows[start:]
    page = start // limit if limit else 0
    if limit and page in faults.failing_pages:
        return text_answer(faults.failing_pages[page], f"error while reading page {page} of the index\n")
    lines = [
        _as_listed(capture, faults).cdx_row(lower_case=faults.lower_case_digests, fields=faults.cdx_fields, offset=at)
        for _, at, capture in page_rows
    ]
    if faults.garbage_rows and lines:
        lines.insert(len(lines) // 2, GARBAGE_ROW)
    body = "".join(line + "\n" for line in lines)
    if faults.cdx_legend:
        body = f" CDX {CDX_LEGENDS[faults.cdx_fields]}\n{body}"
    paged = params.get("showResumeKey", ["false"])[0].lower() == "true"
    if paged and faults.endless_resume_keys:
        asked = params.get("resumeKey", [f"{ENDLESS_KEY}0"])[0]
        number = int(asked.removeprefix(ENDLESS_KEY)) if asked.startswith(ENDLESS_KEY) else 0
        body += f"\n{ENDLESS_KEY}{number + 1}\n"
    elif paged and limit and len(page_rows) == limit:
        resume_key = "" if page in faults.pages_without_resume_key else _resume_key(key, page_rows[-1][0]) + "\n"
        body += "\n" + resume_key
    return Answer(200, body.encode("utf-8"), CDX_CONTENT_TYPE, _delivery(faults, lines))


def _delivery(faults: Faults, lines: list[str]) -> Delivery:
    if faults.cut is None:
        return Delivery(
            framing=faults.framing, trickle_seconds=faults.trickle_seconds, announced_length=faults.announced_length
        )
    kept = "".join(line + "\n" for line in lines[: faults.cut[0]])
    return Delivery(framing=faults.cut[1], cut_at=len(kept.encode("utf-8")))


def cdx_parameter_problem(params: dict[str, list[str]]) -> str | None:
    if "url" not in params or not params["url"][0].strip():
        return "missing url parameter"
    for name in UNSUPPORTED_CDX_PARAMETERS:
        if name in params:
            return f"the stand-in archive does not implement the {name} parameter"
    if params.get("matchType", ["exact"])[0] != "exact":
        return "the stand-in archive implements only matchType=exact"
    for name in ("from", "to"):
        if name in params and not re.fullmatch(r"\d{1,14}", params[name][0]):
            return f"{name} must be 1 to 14 digits"
    if "limit" in params and not re.fullmatch(r"[1-9]\d*", params["limit"][0]):
        return "limit must be a positive integer (negative limits are not implemented)"
    return None


def _first(params: dict[str, list[str]]) -> str:
    return params["from"][0].ljust(14, "0") if "from" in params else "0" * 14


def _last(params: dict[str, list[str]]) -> str:
    return params["to"][0].ljust(14, "9") if "to" in params else "9" * 14


def _resume_key(urlkey: str, last_timestamp: str) -> str:
    """``com%2Ccnn%29%2F+2001041400593%3A``: the real key form, pointing just after the last row's timestamp."""
    after = last_timestamp[:-1] + chr(ord(last_timestamp[-1]) + 1)
    return quote_plus(f"{urlkey} {after}", safe="")


def _resume_position(rows: Sequence[tuple[str, int, StandinCapture]], params: dict[str, list[str]]) -> int:
    if "resumeKey" not in params:
        return 0
    after = unquote_plus(params["resumeKey"][0]).rpartition(" ")[2]
    return bisect.bisect_left([row[0] for row in rows], after)
