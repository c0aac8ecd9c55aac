"""A page's controls (buttons, labels) and the collapsed panels they open (accordions, disclosure widgets):
which controls go, which carry the document's text, which title a panel of text (kept as a bold line), and which
hidden panels are only waiting for a click (part of the document, see ``locate``'s hidden rule)."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from policy_archive.pipeline.extraction.dropped import DropLog, is_link_block, word_count
from policy_archive.pipeline.extraction.markdown import BLOCK_TAGS

# Buttons and labels are controls, except where they carry the document's own text: a heading or summary
# whose text is a button (accordions), a label or button wrapping paragraphs (checked on real pages, 2026-11;
# a button wrapping a list is a drop-down menu).
CONTROL_TAGS = ("button", "label")
TITLES_A_SECTION = lxml.etree.XPath("ancestor::*[self::h1 or self::h2 or self::h3 or self::h4 or self::summary]")
BUTTON_CARRIES_TEXT = lxml.etree.XPath(".//p | .//h1 | .//h2 | .//h3 | .//h4")
LABEL_CARRIES_TEXT = lxml.etree.XPath(".//p | .//div | .//ul | .//ol | .//table | .//h1 | .//h2 | .//h3 | .//h4")
# Controls that open a collapsed panel by naming it: ARIA's aria-controls, and Bootstrap's collapse plugin
# (data-toggle / data-bs-toggle="collapse" with data-target, data-bs-target or href "#id"; Bootstrap 3 to 5). Not
# its "modal" toggle: a modal is shown over the page, never part of it.
NAMES_A_PANEL = lxml.etree.XPath("//*[@aria-controls or @data-toggle='collapse' or @data-bs-toggle='collapse']")
COLLAPSE_TARGETS = ("data-bs-target", "data-target", "href")
WITH_ID = lxml.etree.XPath("//*[@id]")
PANEL_ID = re.compile(r"#([^\s#,.\[\]>+~:]+)")
# A panel's title may carry an icon beside the toggle's label ("▸", "+"): at most this many words more.
TITLE_EXTRA_WORDS = 2


def drop_controls(page: lxml.html.HtmlElement, log: DropLog) -> None:
    """Buttons and labels go, unless they carry text of the document (see ``CONTROL_TAGS``); a button opening a
    panel that holds text is that panel's title, kept as a bold line (see :func:`_titles_a_panel`). Which buttons
    are titles is decided on the page as it is, before any control goes (a row of menu buttons is no title and
    panel, whichever is read first)."""
    controls = list(page.iter(*CONTROL_TAGS))
    titles: set[lxml.html.HtmlElement] = set()
    # Only a toggle (aria-expanded) or a button naming a panel may title one (most buttons are neither: speed).
    toggles = [
        control
        for control in controls
        if control.tag == "button" and (control.get("aria-expanded") is not None or _names(control))
    ]
    if toggles:
        panels = {element.get("id"): element for element in WITH_ID(page)}
        titles = {control for control in toggles if _titles_a_panel(control, page, panels)}
    for control in controls:
        if control.getparent() is None:
            continue
        carries = LABEL_CARRIES_TEXT if control.tag == "label" else BUTTON_CARRIES_TEXT
        if TITLES_A_SECTION(control) or carries(control):
            control.drop_tag()
        elif control in titles:
            _as_bold_line(control)
        else:
            log.drop(control, "control")


def panels_named(page: lxml.html.HtmlElement) -> set[str]:
    """The ids of the panels that controls of the page open by naming them (see ``NAMES_A_PANEL``)."""
    return {name for control in NAMES_A_PANEL(page) for name in _names(control)}


def _names(control: lxml.html.HtmlElement) -> set[str]:
    """The ids of the panels ``control`` opens by naming them (``aria-controls``, Bootstrap's collapse)."""
    names = set(control.get("aria-controls", "").split())
    if "collapse" in (control.get("data-toggle"), control.get("data-bs-toggle")):
        for attribute in COLLAPSE_TARGETS:
            names.update(PANEL_ID.findall(control.get(attribute) or ""))
    return names


def title_before(panel: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The toggle of an accordion whose panel is ``panel``, when it stands just before it and names no panel:
    the previous element is a toggle with a label (``aria-expanded``), or a title holding one and little else
    (``<h3><button aria-expanded="false">Title</button></h3>``). A panel is a block: an icon beside the toggle
    (``<span aria-hidden="true">+</span>``) is none. None otherwise."""
    if panel.tag not in BLOCK_TAGS:
        return None
    title = panel.getprevious()
    while title is not None and not isinstance(title.tag, str):
        title = title.getprevious()
    if title is None or not title.attrib and len(title) == 0:
        return None
    toggles = title.xpath("descendant-or-self::*[@aria-expanded]")
    if len(toggles) != 1 or _opens_a_popup(toggles[0]) or _names(toggles[0]):
        return None
    label = word_count(toggles[0].text_content())
    if label == 0 or word_count(title.text_content()) > label + TITLE_EXTRA_WORDS:
        return None
    # A block holding only other toggles is the next title of a menu ("Solutions", "Resources"), not a panel.
    if word_count(panel.text_content()) <= sum(
        word_count(toggle.text_content()) for toggle in panel.xpath("descendant-or-self::*[@aria-expanded]")
    ):
        return None
    return toggles[0]


def _opens_a_popup(control: lxml.html.HtmlElement) -> bool:
    """A control opening a menu, list box or dialog over the page (``aria-haspopup``, a combobox): not a title."""
    return control.get("aria-haspopup", "false") != "false" or control.get("role") == "combobox"


def _titles_a_panel(
    control: lxml.html.HtmlElement, page: lxml.html.HtmlElement, panels: dict[str, lxml.html.HtmlElement]
) -> bool:
    """``control`` has a label and opens a panel of the page that holds text, not mostly links (a menu's toggle,
    "Resources", "Version: 14 April", titles no text of the document): one it names (:func:`_names`), or the one
    just after it or after the title wrapping it (``title_before``)."""
    if not word_count(control.text_content()) or _opens_a_popup(control):
        return False
    named = _names(control)
    found = [panels[name] for name in named if name in panels]
    if not named and control.get("aria-expanded") is not None:
        title, most_words = control, word_count(control.text_content()) + TITLE_EXTRA_WORDS
        while title is not None and word_count(title.text_content()) <= most_words:
            following = title.getnext()
            if following is not None and title_before(following) is control:
                found.append(following)
                break
            title = title.getparent()
    return any(
        panel.getroottree().getroot() is page and not _holds(panel, control) and not is_link_block(panel)
        for panel in found
    )


def _holds(panel: lxml.html.HtmlElement, control: lxml.html.HtmlElement) -> bool:
    """``control`` lies inside ``panel`` (a "close" button in it), or ``panel`` inside ``control``."""
    return any(ancestor is panel for ancestor in control.iterancestors()) or any(
        ancestor is control for ancestor in panel.iterancestors()
    )


def _as_bold_line(control: lxml.html.HtmlElement) -> None:
    """A panel's title as a paragraph of bold text, as an accordion's title reads (``**Title**``)."""
    paragraph = lxml.html.Element("p")
    paragraph.tail = control.tail
    control.tail = None
    control.addprevious(paragraph)
    paragraph.append(control)
    control.attrib.clear()
    control.tag = "strong"
