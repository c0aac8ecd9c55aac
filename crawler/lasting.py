"""Which failures to fetch a capture asking again cannot change: told by the opening of their reason (our words,
crawler/failures.py). Apart from crawler/failures.py, which loads Scrapy and Twisted, so that `status` can tell
them apart without loading either."""

from __future__ import annotations

# The openings of the reasons that asking again cannot change while the capture is served as it is: an answer over
# the size limit (only raising the setting helps), a header line longer than Twisted reads, or a header block over
# what crawler/transport.py reads (nothing helps).
TOO_LARGE = "the answer is too large"
HEADER_LINE_TOO_LONG = "the answer has a header line over"
HEADERS_TOO_LARGE = "the answer's headers are too large"


def lasting(reason: str) -> bool:
    """Whether a capture that could not be fetched for ``reason`` (our words) fails the same way when asked again:
    an archive serves a capture's bytes and headers the same every time, so only raising ``max_page_bytes`` can
    change an answer too large, and nothing a header line or header block too long."""
    return reason.startswith((TOO_LARGE, HEADER_LINE_TOO_LONG, HEADERS_TOO_LARGE))
