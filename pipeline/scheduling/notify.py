"""Webhook notification after a ``track`` run that recorded changes.

The payload is plain JSON with a ``changes`` list for programs, plus a ``text`` line so that chat webhooks
which only read ``text`` (Slack, Mattermost, Rocket.Chat incoming webhooks, as of 2026-11) show something
useful without an adapter. A webhook failure is returned as a warning, never raised: it must not fail the run.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import IO
from urllib.parse import urlsplit

from policy_archive.records import iso_z
from policy_archive.text import plural


@dataclass(frozen=True)
class ChangeSummary:
    """One new version recorded by a run: ``document`` is ``SERVICE/DOCUMENT``, ``captured_at`` is UTC."""

    document: str
    captured_at: datetime
    lines_added: int
    lines_removed: int
    commit: str

    def as_json(self) -> dict[str, str | int]:
        return {
            "document": self.document,
            "date": iso_z(self.captured_at),
            "lines_added": self.lines_added,
            "lines_removed": self.lines_removed,
            "commit": self.commit,
        }


def summary_text(changes: Sequence[ChangeSummary]) -> str:
    """``policy-archive: 2 documents changed: acrcloud/privacy-policy (+12 -3), ...``."""
    items = ", ".join(f"{c.document} (+{c.lines_added} -{c.lines_removed})" for c in changes)
    return f"policy-archive: {len(changes)} {plural(len(changes), 'document')} changed: {items}"


def post_summary(
    webhook_url: str, changes: Sequence[ChangeSummary], user_agent: str, timeout: float = 10
) -> str | None:
    """POST the run's changes to ``webhook_url``; None on a 2xx answer, else a one-line warning.

    Nothing is posted when there are no changes. The warning names only the webhook's scheme and host: webhook
    URLs often carry their secret token in the path.
    """
    if not changes:
        return None
    payload = {"text": summary_text(changes), "changes": [change.as_json() for change in changes]}
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": user_agent},
        method="POST",
    )
    where = _redacted(webhook_url)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        return f"webhook {where} answered HTTP {error.code} {error.reason}"
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return f"webhook {where} did not answer within {timeout:g} s"
        return f"webhook {where} unreachable: {error.reason}"
    except TimeoutError:
        return f"webhook {where} did not answer within {timeout:g} s"
    except (OSError, http.client.HTTPException, ValueError) as error:
        return f"webhook {where} failed: {type(error).__name__}: {error}"
    return None


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a 301/302/303 answer to a POST with a GET that drops the payload: a failure."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "(invalid URL)"
