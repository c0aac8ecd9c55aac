"""A generated site history for `discover`: a privacy policy that moved twice, served by the stand-in archive.

Three URL eras (``/privacy.html`` → ``/legal/privacy`` → ``/privacy``), home-page captures every ``step_days``
days, and the noise of real archives: archived 404s and redirects of the home page (``example.org`` →
``www.example.org/en/``), JavaScript shells without links, the link text varying (English, French, German), a
news item in the body that mentions privacy, and the old policy URLs still captured, with stale text, after the
move. :func:`build` returns the truth: each era's URL and the last day its URL was the one linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from standin.archive import StandinArchive


@dataclass(frozen=True)
class TrueEra:
    url: str
    first_day: date
    last_day: date


def _home(link: str, text: str, token: int) -> str:
    return (
        f"<html><head><title>Example</title><script>var t={token};</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/shop'>Shop</a></nav>"
        "<main><h1>Welcome</h1><p><a href='/blog/new-privacy-rules'>New privacy rules</a> in our blog.</p></main>"
        f"<div class='site-footer'><a href='/about'>About</a> <a href='{link}'>{text}</a> "
        f"<a href='/terms'>Terms of Use</a></div></body></html>"
    )


def _policy(version: str, token: int) -> str:
    return (
        f"<html><head><title>Privacy Policy</title></head><body><main><h1>Privacy Policy</h1>"
        f"<p>This is the {version} privacy policy of Example. We collect personal data to run the service, and "
        "we explain here which data, why, and for how long we keep it.</p>"
        f"<p>Version {version}. Contact privacy@example.org with questions about your data.</p>"
        f"</main><footer>{token}</footer></body></html>"
    )


SITE = "https://www.example.org"
TEXTS = ("Privacy Policy", "Privacy", "Politique de confidentialité", "Datenschutz", "Privacy & Cookies")


def build(
    archive: StandinArchive,
    start: date = date(2010, 1, 1),
    years: int = 12,
    step_days: int = 23,
    domain: str = "example.org",
) -> list[TrueEra]:
    """Fill ``archive`` with the history of ``domain`` (served at ``www.DOMAIN``); return the true eras, oldest
    first."""
    site = f"https://www.{domain}"
    moves = [("/privacy.html", start), ("/legal/privacy", date(2014, 6, 9)), ("/privacy", date(2019, 3, 17))]
    end = date(start.year + years, 1, 1)
    moment = datetime(start.year, start.month, start.day, 9, 30, tzinfo=UTC)
    last_linked: dict[str, date] = {}
    token = 0
    while moment.date() < end:
        token += 1
        path = [p for p, since in moves if since <= moment.date()][-1]
        stamp = moment.strftime("%Y%m%d%H%M%S")
        if token % 11 == 5:  # an archived 404 of the home page
            archive.add_capture(f"http://{domain}/", stamp, "<html>Not found</html>", status=404)
        elif token % 11 == 8:  # a JavaScript shell: no links at all
            archive.add_capture(f"{site}/", stamp, "<html><body><div id='app'></div></body></html>")
        elif token % 7 == 3:  # the bare domain redirects to the English home page
            archive.add_capture(f"http://{domain}/", stamp, b"", status=301, location=f"{site}/en/")
            later = (moment + timedelta(seconds=4)).strftime("%Y%m%d%H%M%S")
            archive.add_capture(f"{site}/en/", later, _home(path, TEXTS[token % len(TEXTS)], token))
            last_linked[path] = moment.date()
        else:
            archive.add_capture(f"{site}/", stamp, _home(path, TEXTS[token % len(TEXTS)], token))
            last_linked[path] = moment.date()
        # Every policy URL ever used stays captured, with its own (stale, after a move) text.
        for old_path, since in moves:
            if since <= moment.date() and token % 3 == 0:
                archive.add_capture(f"{site}{old_path}", stamp, _policy(f"{old_path} {since}", token))
        moment += timedelta(days=step_days, hours=1)
    return [
        TrueEra(f"{site}{path}", max(since, start), last_linked[path]) for path, since in moves if path in last_linked
    ]
