"""When a page rendered in a tab is taken (:func:`settled`): network idle, then text shown, then a steady text,
within the tab's bounded wait; a page still loading without its text, or still changing it, when the wait runs out
is not taken (:data:`UNSETTLED`, decision 0012, amendment of 2026-11-29). Handed its tab by :mod:`crawler.render`,
it knows the page by its methods and imports Playwright's error only when it runs (the ``browser`` extra may be
missing).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from policy_archive.crawler.failures import message

if TYPE_CHECKING:
    from playwright.async_api import Page

log = logging.getLogger(__name__)

SETTLED_TEXT_CHARS = 200  # visible characters that make a page more than a script shell
QUIET_MILLISECONDS = 750  # the text's length steady for this long: the page has finished building its text
# A change of the text's length by fewer characters than this is not the page building its text: a ticking clock
# ("9:59:59" to "10:00:00"), a counter; such a page is taken once the rest of its text is steady. A carousel that only
# shows and hides its slides changes no text at all (the DOM keeps every slide; attributes are not text).
STEADY_CHARS = 20
# The opening of the reason a rendering is not taken for when its wait ran out before its text was shown and steady:
# not a version (a half-built text, then a false change when the next run renders it whole), a failure for now,
# asked again by the next run.
UNSETTLED = "render-unsettled"


async def settled(page: Page, deadline: float, wait_seconds: float) -> str | None:
    """Why the page in the tab is not taken (:data:`UNSETTLED`), or None: network idle, shown text and a steady
    text waited for, each within what is left of the tab's wait (``deadline``, the event loop's time; ``wait_seconds``
    the whole of it, as set), then, if they ran out, the page's state judged once."""
    from playwright.async_api import Error

    loop = asyncio.get_running_loop()

    def remaining_ms() -> float:  # of the tab's wait, its navigation's time included
        return max(1.0, (deadline - loop.time()) * 1000)

    wait = f"{wait_seconds:g} s"
    idle = True
    try:
        await page.wait_for_load_state("networkidle", timeout=remaining_ms())
    except Error as error:
        idle = False
        log.info("rendering %s: the network never went idle (%s)", page.url, message(error.message))
    try:
        if idle:  # the last answers may have just come: the text counts as steady only from now
            await page.evaluate(_TEXT_WATCH_RESTART)
        await page.wait_for_function(
            _TEXT_SETTLED, arg=[SETTLED_TEXT_CHARS, QUIET_MILLISECONDS], timeout=remaining_ms(), polling=100
        )
        return None
    except Error as error:
        log.info("rendering %s: not settled within the wait (%s)", page.url, message(error.message))
    # The wait is over: what the page is now. One polling the network forever comes here with its text shown and
    # steady for long (watched from its parsing on), and is taken.
    try:
        shown, changed, restarted = await page.evaluate(_TEXT_STATE)
    except Error as error:  # e.g. a script navigating the page again at that moment
        return unreadable(wait_seconds, error)
    if changed < 0 or (shown < SETTLED_TEXT_CHARS and not idle):
        return _unsettled(
            f"the page was still loading after {wait}, fewer than {SETTLED_TEXT_CHARS} characters of its text shown"
        )
    if shown < SETTLED_TEXT_CHARS:
        # It had everything it asked for (robots.txt or the archive may have left some out) and showed no text:
        # taken, for extraction to refuse as the script shell it stayed, naming what it went without.
        log.info("rendering %s: no text shown, though the page had loaded: taken as it is", page.url)
        return None
    if changed < QUIET_MILLISECONDS:
        return _unsettled(f"the page was still changing its text after {wait}")
    if idle and restarted < QUIET_MILLISECONDS:
        # Nothing changed since, but the text a script shows a moment after its data came would be missed.
        return _unsettled(
            f"the page's network went idle less than {QUIET_MILLISECONDS / 1000:g} s before the end of its"
            f" {wait} wait, too late to see its text steady"
        )
    if not idle:
        log.info("rendering %s: taken without network idle, its text shown and steady", page.url)
    return None


def unreadable(wait_seconds: float, error: Any) -> str:
    """Why a rendering is not taken when the browser could not say what the page showed (a Playwright error)."""
    return _unsettled(f"the page could not be read after {wait_seconds:g} s ({message(error.message)})")


def _unsettled(what: str) -> str:
    """Why a rendering is not taken, in one line: ``render-unsettled: the page was still changing its text after
    20 s (setting [crawl] render_timeout_seconds)``."""
    return f"{UNSETTLED}: {what} (setting [crawl] render_timeout_seconds)"


# Added to every document of a tab before its scripts run: once the document is parsed (the parser's insertions are
# not a script building text), each change to its DOM measures its text — the characters of every text node but
# those in scripts, styles, noscript and templates, hidden or not, as extraction reads the DOM — and a change of
# STEADY_CHARS or more from the length last counted restarts the time the text has been steady. Measured on
# mutations only (nothing is done while the page is still): text added or removed is seen at once, a clock replacing
# a few characters is not a change.
_WATCH_KEY = 'Symbol.for("policy-archive.text")'
TEXT_WATCH = f"""(() => {{
    const skipped = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"]);
    function size() {{
        if (document.body === null) return 0;
        let chars = 0;
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {{
            const node = walker.currentNode;
            if (!skipped.has(node.parentNode.nodeName)) chars += node.data.length;
        }}
        return chars;
    }}
    function start() {{
        const watch = {{chars: size(), changed: performance.now(), restarted: performance.now()}};
        watch.restart = () => {{ watch.chars = size(); watch.restarted = performance.now(); }};
        watch.steady = () => performance.now() - Math.max(watch.changed, watch.restarted);
        new MutationObserver(() => {{
            const chars = size();
            if (Math.abs(chars - watch.chars) < {STEADY_CHARS}) return;
            watch.chars = chars;
            watch.changed = performance.now();
        }}).observe(document, {{subtree: true, childList: true, characterData: true}});
        window[{_WATCH_KEY}] = watch;
    }}
    if (window.top !== window) return;  // the page's own text only: a frame's is not its
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, {{once: true}});
    else start();
}})()"""
_TEXT_WATCH_RESTART = f"() => {{ const watch = window[{_WATCH_KEY}]; if (watch !== undefined) watch.restart(); }}"
# [visible characters, milliseconds since the text last changed, since the watch was restarted at network idle]
# (-1, -1: not watched yet, its document not parsed)
_TEXT_STATE = f"""() => {{
    const watch = window[{_WATCH_KEY}];
    const shown = document.body === null ? 0 : document.body.innerText.trim().length;
    const now = performance.now();
    return watch === undefined ? [shown, -1, -1] : [shown, now - watch.changed, now - watch.restarted];
}}"""
_TEXT_SETTLED = f"""([chars, quietMs]) => {{
    const watch = window[{_WATCH_KEY}];
    return watch !== undefined && document.body !== null && document.body.innerText.trim().length >= chars
        && watch.steady() >= quietMs;
}}"""
