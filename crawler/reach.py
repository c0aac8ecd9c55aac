"""Whether the archive can be reached at all over a run: its listing requests and its replays alike.

A request that fails before any answer — a connection refused, the host not found, no route to it, its name
server silent — says nothing of a capture or a listing: it says the archive's host is not there. A run counts such
failures in a row (any answer, whatever its status, ends the run of them) and, at :data:`UNREACHABLE_AFTER`, stops
asking that archive: the listing (``crawler.sources.cdx``) raises ``ArchiveUnreachable``, the capture fetching
(``crawler.middlewares``) sends nothing more. Until 2026-11-29 the replays were not counted: a run whose listing
worked, the archive gone before the first replay, asked every capture of every document three times, each
``backoff_seconds`` apart (108 refused replays for 3 documents of 12 captures; at the default 60 s, hours for a
long list), and ended with every document "could not be fetched for now".
"""

from __future__ import annotations

from dataclasses import dataclass

# An archive that failed this many requests in a row at the connection level (connection refused, host not found,
# no route to it, its name server silent), with no answer of any kind between them, across the documents, is
# unreachable for the run: the run stops asking it instead of backing off once more per document. Until 2026-11-29
# (outside audit 5) the listing did back off per document, the pause doubling from one document to the next: with 5
# documents about 9 h of pauses before the run ended, with 100 about 12 days. Three, as many as one listing page's
# or one replay's attempts (``LISTING_ATTEMPTS``): at the default backoff_seconds = 60 the run has waited 60 + 120 s
# for the listing (60 + 60 s for a replay) before it says so, whatever the number of documents. As of 2026-11 the
# Internet Archive refuses the connections of an IP it firewalls (after 429s ignored for a minute) for an hour,
# doubling: a fourth try minutes later only meets the firewall again, while a restarting server (pywb, a proxy) is
# back within those minutes. A 429 or 503 is an answer, the archive asking us to slow down: it backs off as before,
# and it ends a run of failures.
UNREACHABLE_AFTER = 3


@dataclass(frozen=True)
class Unreached:
    """Why a run stopped asking an archive: its host (and port, never a path), the last failure's words, and how
    many requests in a row failed."""

    archive: str
    problem: str
    failures: int


class Reachability:
    """How many requests to the archive failed in a row at the connection level, over a whole run (all its
    documents: one per ``ListingClient``, shared by its copies; one for a crawl's replays), and whether that made it
    unreachable (:attr:`unreached`)."""

    def __init__(self) -> None:
        self.failures_in_a_row = 0
        self.answers = 0  # answers of any kind so far: a replay asked again knows whether one came meanwhile
        self.unreached: Unreached | None = None

    def answered(self) -> None:
        """An answer came, whatever its status: the archive is reachable."""
        self.failures_in_a_row = 0
        self.answers += 1

    def failed(self) -> bool:
        """One more request failed at the connection level; True when the archive is now unreachable for the run
        (:data:`UNREACHABLE_AFTER` in a row)."""
        self.failures_in_a_row += 1
        return self.failures_in_a_row >= UNREACHABLE_AFTER

    def replay_failed(self, attempts: int | None) -> bool:
        """A replay failed at the connection level: ``attempts`` is how many of its askings in a row failed so with
        no answer to any request between them (:meth:`since` tells), or None for one not asked again (a host not
        found, no route to it). True when the archive is now unreachable for the run.

        The replays of a crawl are in flight together: the few on the wire when a server goes away all fail at
        the same moment, so they are not counted one after the other (a restart of a second would end the run).
        A replay asked again after ``backoff_seconds`` is: its askings are requests in a row, as a listing page's
        are, so the archive is unreachable once one replay failed so :data:`UNREACHABLE_AFTER` times with no answer
        between. One not asked again counts one more in a row, as a listing's does."""
        if attempts is None:
            self.failures_in_a_row += 1
        else:
            self.failures_in_a_row = max(self.failures_in_a_row, attempts)
        return self.failures_in_a_row >= UNREACHABLE_AFTER

    def since(self, earlier: tuple[int, int] | None, attempt: int) -> tuple[int, int]:
        """Where a replay's run of connection failures began, for its ``attempt``-th asking that just failed so:
        ``(answers, attempt)`` then, kept in the request; ``earlier`` is what its previous failure kept (None: the
        first). An answer to any request since then starts the run again at this asking."""
        if earlier is not None and earlier[0] == self.answers:
            return earlier
        return (self.answers, attempt)
