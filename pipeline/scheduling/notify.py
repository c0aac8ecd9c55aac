"""Webhook notification after a ``track`` run that recorded changes.

The payload is plain JSON with a ``changes`` list for programs, plus a ``text`` line so that chat webhooks
which only read ``text`` (Slack, Mattermost, Rocket.Chat incoming webhooks, as of 2026-11) show something
useful without an adapter. A webhook failure is returned as a warning, never raised: it must not fail the run.

The POST is one exchange bounded as a whole (crawler/exchange.py): a webhook that never answers, or answers one
byte at a time, is given up at the deadline; only the answer's status is read, never its body (a 200 whose
body trickles without end was audit 6's F-c1: it held ``track``, and so every later scheduled run, for good). A
stop signal (SIGTERM, SIGINT) while it is posted gives it up at once: the run's documents are all done by then.

A version recorded late, from the captures of a `track` run killed before it recorded them (pipeline/jobs/
unrecorded.py), is posted by the command that recorded it, `track` with its own changes, any other (`repair`,
`backfill`, `reextract`) on its own: each such change carries ``"recovered": true`` and the ``text`` says it. The
key is added only to those changes, so that the payload of an ordinary run stays what it was.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException
from urllib.parse import urlsplit

from policy_archive.config.settings import Settings
from policy_archive.crawler.exchange import post
from policy_archive.crawler.names import LookupTimedOut
from policy_archive.records import RecordedVersion, iso_z
from policy_archive.stop_signals import Stopped, stop_signals_handled
from policy_archive.text import plural


@dataclass(frozen=True)
class ChangeSummary:
    """One new version recorded by a run: ``document`` is ``SERVICE/DOCUMENT``, ``captured_at`` is UTC;
    ``recovered``: captured by a `track` run killed before it recorded it, recorded by this run."""

    document: str
    captured_at: datetime
    lines_added: int
    lines_removed: int
    commit: str
    recovered: bool = False

    def as_json(self) -> dict[str, str | int | bool]:
        """The change as the webhook payload's ``changes`` list carries it: ``date`` is the capture time in UTC with
        ``Z``; the line counts are of the text against the previous version's (difflib, no context lines), all of its
        lines added for a first version; ``recovered`` (true) only on a version recorded late."""
        shown: dict[str, str | int | bool] = {
            "document": self.document,
            "date": iso_z(self.captured_at),
            "lines_added": self.lines_added,
            "lines_removed": self.lines_removed,
            "commit": self.commit,
        }
        if self.recovered:
            shown["recovered"] = True
        return shown


def change_summaries(
    recorded: Sequence[tuple[RecordedVersion, str | None]], *, recovered: bool = False
) -> list[ChangeSummary]:
    """The changes of the versions ``recorded``, each with the text of the version before it (None: a first one)."""
    changes = []
    for item, previous in recorded:
        added, removed = changed_lines(previous or "", item.version.body)
        summary = ChangeSummary(item.version.document, item.version.captured_at, added, removed, item.commit, recovered)
        changes.append(summary)
    return changes


def changed_lines(old: str, new: str) -> tuple[int, int]:
    """How many lines of ``new`` are added and how many of ``old`` removed (difflib's matching, as ``unified_diff``
    with no context). Counted from the matching itself, not from a diff's text: a line of a version may begin with
    ``---`` (the renderer writes one for every ``<hr>``) or ``+++``, which a diff's file headers also do."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines())
    added = removed = 0
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag != "equal":
            removed += old_end - old_start
            added += new_end - new_start
    return added, removed


def summary_text(changes: Sequence[ChangeSummary]) -> str:
    """``policy-archive: 2 documents changed: acrcloud/privacy-policy (+12 -3), ...``; a version recorded late is
    said so with its capture time: ``acrcloud/privacy-policy (+12 -3; captured 2026-11-28T10:00:00Z by a killed
    track run, recorded only now)``."""
    items = ", ".join(f"{c.document} (+{c.lines_added} -{c.lines_removed}{_late(c)})" for c in changes)
    return f"policy-archive: {len(changes)} {plural(len(changes), 'document')} changed: {items}"


def _late(change: ChangeSummary) -> str:
    if not change.recovered:
        return ""
    return f"; captured {iso_z(change.captured_at)} by a killed track run, recorded only now"


def notify(settings: Settings, changes: Sequence[ChangeSummary]) -> list[str]:
    """Post ``changes`` to the configured webhook (none set, or no change: nothing); a one-line note
    ``webhook: …`` when that failed."""
    webhook = settings.schedule.webhook_url
    if not webhook or not changes:
        return []
    warning = post_summary(webhook, changes, settings.crawl.user_agent, settings.wayback.timeout_seconds)
    return [f"webhook: {warning}"] if warning else []


def post_summary(webhook_url: str, changes: Sequence[ChangeSummary], user_agent: str, timeout: float) -> str | None:
    """POST the run's changes to ``webhook_url``; None on a 2xx answer, else a one-line warning.

    Nothing is posted when there are no changes. ``timeout`` bounds the whole exchange (the run's ``[wayback]
    timeout_seconds``, the one timeout of every request). The warning names only the webhook's scheme and host:
    webhook URLs often carry their secret token in the path.
    """
    if not changes:
        return None
    payload = {"text": summary_text(changes), "changes": [change.as_json() for change in changes]}
    where = _redacted(webhook_url)
    try:
        # A stop signal gives the webhook up at once (policy_archive/stop_signals.py): the crawl is over by then,
        # and nothing else would end the wait before the deadline.
        with stop_signals_handled() as stop, stop.interrupting():
            answer = post(webhook_url, user_agent, timeout, json.dumps(payload).encode("utf-8"), "application/json")
    except Stopped as stopped:
        return f"webhook {where} not waited for: the run was stopped ({stopped.signal_name})"
    except TimeoutError:
        return f"webhook {where} gave no answer within {timeout:g} s (setting [wayback] timeout_seconds)"
    except LookupTimedOut as no_answer:
        return f"webhook {where} unreachable: {no_answer}"
    except (HTTPException, ValueError) as error:  # before OSError: a connection closed without an answer is both
        return f"webhook {where} failed: {type(error).__name__}: {error}"
    except OSError as error:
        return f"webhook {where} unreachable: {error.strerror or error}"
    if 200 <= answer.status < 300:
        return None
    # A redirect is not followed: a POST redirected would be sent again without its payload (urllib's way).
    return f"webhook {where} answered HTTP {answer.status} {answer.reason}".rstrip()


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "(invalid URL)"
