"""Guards between extraction and versioning: texts that must not become a version of a document.

Extraction itself refuses pages that are no document at all (``ExtractionRefused``: empty, not found, login
wall, script shell, not a legal text). What only the history can tell is checked here: a capture whose text
collapsed against the previous version is far more often a broken page (truncated response, consent
interstitial, error template with the site's chrome) than a real rewrite, so it is reported, not recorded.
"""

from __future__ import annotations

# A policy rewrite rarely drops below this share of its previous length; broken captures nearly always do.
MINIMUM_LENGTH_SHARE = 0.4


def refusal_against_previous(new_body: str, previous_body: str | None) -> str | None:
    """Why ``new_body`` must not be recorded after ``previous_body``, or ``None`` if it may be."""
    new_length = _text_length(new_body)
    if new_length == 0:
        return "empty text"
    if previous_body is None:
        return None
    previous_length = _text_length(previous_body)
    if previous_length and new_length < MINIMUM_LENGTH_SHARE * previous_length:
        share = round(100 * new_length / previous_length)
        return f"far shorter than the previous version ({share} % of its length)"
    return None


def _text_length(body: str) -> int:
    """Characters other than whitespace, so re-wrapping or blank lines never count as a change of size."""
    return len("".join(body.split()))
