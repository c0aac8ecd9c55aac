"""A stand-in single-page application: a policy whose text only exists after its scripts ran in a browser.

:func:`scripted_policy` is the HTML shell, :func:`policy_script` the script that fetches the sections as JSON
(:func:`~standin.pages.json_data`) and shows them later; :func:`add_scripted_policy` serves the three on a site.
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
    from standin.sites import StandinSites


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
    url = sites.set_page(f"http://{host}/privacy", scripted_policy(f"{host} Privacy Policy", "/static/policy.js"))
    sites.set_page(f"http://{host}/static/policy.js", policy_script("/api/policy.json", delay_ms))
    sites.set_page(f"http://{host}/api/policy.json", slow(json_data(data), data_delay_seconds))
    return url


def scripted_policy_data(site: str, revision: int = 0, sections: int = 8) -> dict[str, object]:
    """Pseudo-legal sections for :func:`add_scripted_policy`, the same for the same arguments."""
    rng = random.Random(f"{site}/scripted/{revision}")
    return {
        "intro": f"This privacy policy explains how {site} processes personal data (revision {revision}).",
        "sections": [
            {"heading": heading(rng), "paragraphs": [paragraph(rng) for _ in range(3)]} for _ in range(sections)
        ],
    }
