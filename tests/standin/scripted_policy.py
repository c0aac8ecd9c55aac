"""A stand-in single-page application: a policy whose text only exists after its scripts ran in a browser.

:func:`scripted_policy` is the HTML shell, :func:`policy_script` the script that fetches the sections as JSON
(:func:`~standin.pages.json_data`) and shows them later; :func:`add_scripted_policy` serves the three on a site,
:func:`archive_scripted_policy` archives them as one crawl took them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from standin.legal_text import heading, paragraph
from standin.pages import Page, json_data, slow

if TYPE_CHECKING:
    from standin.archive import StandinArchive
    from standin.sites import StandinSites

SCRIPT_PATH = "/static/policy.js"
DATA_PATH = "/api/policy.json"


def scripted_policy(
    title: str, script_url: str, image_url: str = "/static/banner.png", other_scripts: Sequence[str] = ()
) -> Page:
    """A single-page application's HTML: 200, a script shell over HTTP; in a browser, an inline script writes
    the heading and the external ``script_url`` (see :func:`policy_script`) the rest. The image must never be
    downloaded by a renderer. ``other_scripts`` are loaded too (analytics, say), adding no text."""
    inline = (
        "document.getElementById('root').innerHTML = '<main><h1></h1><p id=\"intro\"></p>"
        '<div id="sections"></div></main>\';'
        f"document.querySelector('h1').textContent = {json.dumps(title)};"
        "document.getElementById('intro').textContent = 'Loading the policy';"
    )
    body = (
        f"<!DOCTYPE html><html><head><title>{escape(title)}</title>"
        f'<script defer src="{escape(script_url)}"></script>'
        + "".join(f'<script defer src="{escape(url)}"></script>' for url in other_scripts)
        + "</head>"
        '<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>'
        f'<img src="{escape(image_url)}" alt=""><script>{inline}</script></body></html>'
    )
    return Page(body=body.encode())


def policy_script(data_url: str, delay_ms: int) -> Page:
    """The external script of :func:`scripted_policy`: fetches the policy's sections as JSON from ``data_url``
    (see :func:`json_data`), then shows them only ``delay_ms`` later, as pages animating their content do."""
    code = (
        f"fetch({json.dumps(data_url)}).then(answer => answer.json()).then(data => setTimeout(() => {{"
        "  document.getElementById('intro').textContent = data.intro;"
        "  const sections = document.getElementById('sections');"
        "  for (const section of data.sections) {"
        "    const heading = document.createElement('h2'); heading.textContent = section.heading;"
        "    sections.appendChild(heading);"
        "    for (const text of section.paragraphs) {"
        "      const paragraph = document.createElement('p'); paragraph.textContent = text;"
        "      sections.appendChild(paragraph);"
        "    }"
        "  }"
        f"}}, {int(delay_ms)}));"
    )
    return Page(body=code.encode(), content_type="text/javascript; charset=utf-8")


def add_scripted_policy(
    sites: StandinSites, host: str, data: object, delay_ms: int, data_delay_seconds: float = 0.0
) -> str:
    """A single-page application at ``http://HOST/privacy`` (page, ``/static/policy.js``, ``/api/policy.json``
    answering ``data`` after ``data_delay_seconds``); return its URL. ``data``: ``{"intro": str, "sections":
    [{"heading": str, "paragraphs": [str, ...]}, ...]}``."""
    url = sites.set_page(f"http://{host}/privacy", scripted_policy(f"{host} Privacy Policy", SCRIPT_PATH))
    sites.set_page(f"http://{host}{SCRIPT_PATH}", policy_script(DATA_PATH, delay_ms))
    sites.set_page(f"http://{host}{DATA_PATH}", slow(json_data(data), data_delay_seconds))
    return url


def archive_scripted_policy(
    archive: StandinArchive,
    sites: StandinSites,
    host: str,
    shell: bytes,
    data: object,
    *,
    content_encoding: str | None = None,
) -> str:
    """:func:`add_scripted_policy`'s page on ``host`` as an archive holds it from one crawl: ``shell``, the page's
    bytes as archived (in the ``content_encoding`` the site served them), at 2020-01-01 00:00:00, the script the
    site serves 5 s later, and ``data`` as JSON 7 s later. Returns :func:`archive_settings` of ``archive``."""
    archive.add_capture(f"http://{host}/privacy", "20200101000000", shell, content_encoding=content_encoding)
    script = sites.page(f"http://{host}{SCRIPT_PATH}").body
    archive.add_capture(f"http://{host}{SCRIPT_PATH}", "20200101000005", script, mimetype="text/javascript")
    answer = json_data(data).body
    archive.add_capture(f"http://{host}{DATA_PATH}", "20200101000007", answer, mimetype="application/json")
    return archive_settings(archive)


def archive_settings(archive: StandinArchive) -> str:
    """The ``[wayback]`` lines naming ``archive``, its replays at a test's pace (100 a second), not a polite one."""
    return f'cdx_url = "{archive.cdx_url}"\nreplay_url = "{archive.replay_url}"\nreplay_per_minute = 6000\n'


def scripted_policy_data(site: str, revision: int = 0, sections: int = 8) -> dict[str, object]:
    """Pseudo-legal sections for :func:`add_scripted_policy`, the same for the same arguments."""
    rng = random.Random(f"{site}/scripted/{revision}")
    return {
        "intro": f"This privacy policy explains how {site} processes personal data (revision {revision}).",
        "sections": [
            {"heading": heading(rng), "paragraphs": [paragraph(rng) for _ in range(3)]} for _ in range(sections)
        ],
    }
