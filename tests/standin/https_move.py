"""A site that moved to https and ``www.`` in 2016, as most did, and how the archive holds it from then on.

Before the move each capture of a page is the page, at ``http://shop.test/PATH``. After it, a crawler asking for
``http://shop.test/PATH`` got an archived 301 to ``https://www.shop.test/PATH`` and the page a few seconds later:
two captures under one key (``test,shop)/path``), the first a *self-redirect*, which the archive never replays
(standin/archive_replay.py). Real archives hold this pair for nearly every site's home page since about 2016.

The home page links the privacy policy at ``/privacy.html`` until :data:`LINK_MOVED`, then at ``/legal/privacy``;
the policy at ``/privacy`` shows one text until :data:`POLICY_CHANGED`, another after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from standin.archive import StandinArchive
from standin.capture import StandinCapture

DOMAIN = "shop.test"
HTTPS_SITE = f"https://www.{DOMAIN}"
MOVED_TO_HTTPS = date(2016, 3, 1)
PAIR_GAP = timedelta(seconds=5)  # from the archived 301 to the capture of its target
LINK_MOVED = date(2019, 6, 1)
POLICY_CHANGED = date(2018, 5, 25)
FIRST = datetime(2013, 1, 7, 10, tzinfo=UTC)
LAST = datetime(2022, 12, 31, tzinfo=UTC)
STEP = timedelta(days=31)


@dataclass(frozen=True)
class Truth:
    """What the history holds: the old link's last day, and when each policy text was first served."""

    old_link_last_day: date
    first_texts: tuple[datetime, datetime]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def page_captures(path: str, moment: datetime, body: str) -> tuple[list[StandinCapture], datetime]:
    """The captures of the site's page ``path`` asked for at ``moment``, and when the page itself was captured
    (``moment`` before the move, the 301's target :data:`PAIR_GAP` later after it)."""
    if moment.date() < MOVED_TO_HTTPS:
        return [StandinCapture(f"http://{DOMAIN}{path}", stamp(moment), body.encode())], moment
    served = moment + PAIR_GAP
    redirect = StandinCapture(f"http://{DOMAIN}{path}", stamp(moment), status=301, location=f"{HTTPS_SITE}{path}")
    return [redirect, StandinCapture(f"{HTTPS_SITE}{path}", stamp(served), body.encode())], served


def home_page(link: str) -> str:
    return (
        "<html><head><title>Shop</title></head><body><main><h1>Welcome to the shop</h1></main><footer>"
        f"<a href='/about'>About us</a> | <a href='{link}'>Privacy Policy</a> | <a href='/terms'>Terms</a>"
        "</footer></body></html>"
    )


def build(archive: StandinArchive, policy: Callable[[bool, int], str]) -> Truth:
    """The history (:func:`history`) held by ``archive``."""
    held, truth = history(policy)
    for capture in held:
        archive.add(capture)
    return truth


def history(policy: Callable[[bool, int], str]) -> tuple[list[StandinCapture], Truth]:
    """Monthly captures of the home page and of the policy, 2013–2022 (``policy(changed, n)``: the page of the
    first text or the changed one, ``n`` making each capture's bytes differ), and what they hold."""
    held: list[StandinCapture] = []
    old_last = changed_first = None
    for n, moment in enumerate(_moments()):
        old = moment.date() < LINK_MOVED
        captures, served = page_captures("/", moment, home_page("/privacy.html" if old else "/legal/privacy"))
        held += captures
        old_last = served.date() if old else old_last
        changed = moment.date() >= POLICY_CHANGED
        captures, served = page_captures("/privacy", moment + timedelta(hours=2), policy(changed, n))
        held += captures
        changed_first = changed_first or (served if changed else None)
    assert old_last is not None and changed_first is not None
    return held, Truth(old_last, (FIRST + timedelta(hours=2), changed_first))


def _moments() -> Iterator[datetime]:
    moment = FIRST
    while moment < LAST:
        yield moment
        moment += STEP
