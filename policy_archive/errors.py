"""One family of errors: everything policy-archive expects to go wrong derives from :class:`PolicyArchiveError`.

The command line turns any of them into one line on stderr and the contract's exit status (``exit_status``):
2 for a usage or configuration problem (nothing was written), 1 for a failure of the work itself. Anything
else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_FAILURES = 1
EXIT_USAGE = 2


class PolicyArchiveError(Exception):
    """Base of every expected failure; ``str(error)`` is the one line a user reads."""

    exit_status = EXIT_FAILURES


class ConfigurationError(PolicyArchiveError):
    """The configuration or the command line cannot be used as given; nothing has been written."""

    exit_status = EXIT_USAGE


class StateError(PolicyArchiveError):
    """The data directory (versions repository, catalog, WARC files) is in a state the command cannot use."""


class ArchiveError(PolicyArchiveError):
    """A web archive could not give what was asked (listing or capture)."""
