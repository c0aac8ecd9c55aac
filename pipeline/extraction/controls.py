"""A page's controls (buttons, labels) and the collapsed panels they open (accordions, disclosure widgets):
which controls go, which carry the document's text, which title a panel of text (kept as a bold line), and which
hidden panels are only waiting for a click (part of the document, see ``locate``'s hidden rule)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

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
# CSS-only accordions and tabs: a checkbox or radio button the page's style sheet hides, whose label the reader
# clicks; a rule such as ``input:checked ~ .panel`` (or ``:has(input:checked)``) shows the panel after the label.
# Only a page whose style sheets use ``:checked`` has such widgets: without one a label shows nothing, and a
# checkbox beside its label and a hidden block is a form's (a consent box and its validation message, a
# reviewer's example of 2026-11-29). Read from the page's own ``<style>`` elements (extraction reads only the
# page's bytes: a sheet it links is not read, so an accordion styled only there titles nothing, as before
# revision 17), comments left out (a rule commented out is none); read before the error-page check drops them.
STYLE_SHEETS = lxml.etree.XPath("//style")
CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
CHECKED = re.compile(r":checked\b", re.IGNORECASE)
SWITCH_INPUTS = lxml.etree.XPath("//input[@type]")
SWITCH_TYPES = ("checkbox", "radio")
LABELS = lxml.etree.XPath("//label")
# Such labels, each with the element among whose children its panel must stand (its input's parent: a sibling
# rule's reach), or None for a label wrapping its input (``:has()``: anywhere); see ``switch_labels``.
Switches = Mapping[lxml.html.HtmlElement, "lxml.html.HtmlElement | None"]
NO_SWITCHES: Switches = MappingProxyType({})
# A heading after a label is the next section's title, not the label's panel.
SECTION_TITLES = ("h1", "h2", "h3", "h4", "h5", "h6")


def drop_controls(page: lxml.html.HtmlElement, log: DropLog, switches: Switches = NO_SWITCHES) -> None:
    """Buttons and labels go, unless they carry text of the document (see ``CONTROL_TAGS``); a button opening a
    panel that holds text is that panel's title, kept as a bold line (see :func:`_titles_a_panel`), and so is a
    label of a CSS-only accordion (one of ``switches``, see :func:`switch_labels`) standing just before its panel
    (:func:`switch_title_before`). Which controls are titles is decided on the page as it is, before any control
    goes (a row of menu buttons is no title and panel, whichever is read first)."""
    controls = list(page.iter(*CONTROL_TAGS))
    titles = {label for label in switches if _titles_a_switch_panel(label, switches)}
    # Only a toggle (aria-expanded) or a button naming a panel may title one (most buttons are neither: speed).
    toggles = [
        control
        for control in controls
        if control.tag == "button" and (control.get("aria-expanded") is not None or _names(control))
    ]
    if toggles:
        panels = {element.get("id"): element for element in WITH_ID(page)}
        titles |= {control for control in toggles if _titles_a_panel(control, page, panels)}
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


def switch_labels(page: lxml.html.HtmlElement, checked_rule: bool) -> Switches:
    """The labels of the page's checkboxes and radio buttons that may title a CSS-only accordion's panel or a tab,
    each with where its panel may stand: a label wrapping its input (shown by ``:has(input:checked)``) anywhere
    after it (``None``); a label naming its input (``for``) beside the label or an element holding it
    (``<input id="x"><h3><label for="x">``) only among the input's siblings, where a sibling rule
    (``#x:checked ~ .panel``) reaches. A label naming an input elsewhere (a form's) is none, and a consent
    dialog's toggle (its input beside its label in a wrapper: OneTrust's, Romeo's) titles no block after the
    wrapper. None when ``checked_rule`` is false: the page's style sheets show nothing for a checked input (see
    :func:`has_checked_rule`). Read before the inputs are dropped (they are never text)."""
    if not checked_rule:
        return NO_SWITCHES
    found = [element for element in SWITCH_INPUTS(page) if element.get("type", "").lower() in SWITCH_TYPES]
    if not found:
        return NO_SWITCHES
    inputs = set(found)
    by_id: dict[str, lxml.html.HtmlElement] = {}
    for element in found:  # the first of an id is the one a label names, as in browsers
        by_id.setdefault(element.get("id") or "", element)
    switches: dict[lxml.html.HtmlElement, lxml.html.HtmlElement | None] = {}
    for label in LABELS(page):
        named = by_id.get(label.get("for") or "\0")
        if any(inner in inputs for inner in label.iter("input")):
            switches[label] = None
        elif named is not None and any(ancestor is named.getparent() for ancestor in label.iterancestors()):
            switches[label] = named.getparent()
    return MappingProxyType(switches)


def place_tab_labels(page: lxml.html.HtmlElement, switches: Switches) -> Switches:
    """Pure-CSS tabs whose labels stand in a row before their panels: the labels of one group of radio buttons
    (one ``name``) whose inputs share a parent, each followed among that parent's children by no panel of its own
    (the row: ``<label for="t1">A</label><label for="t2">B</label>``, or a list of them), and after the row as
    many blocks of text as labels, or one block holding as many (``<div class="panels">``). The k-th label shows
    the k-th panel (the order the row and the panels are read in; the style sheet's ``#t1:checked ~ … #p1`` rules
    pair them so on the pages written this way), so each label is moved to just before its panel, as a reader
    clicking through the tabs reads them: it then titles its panel as an accordion's label does (kept as a bold
    line, the panel kept though hidden, :func:`switch_title_before`). Returns ``switches`` with where those panels
    now stand. A row whose blocks after it do not count one per label is left as it was (its labels title
    nothing). Called before the inputs are dropped (they are never text)."""
    if not switches:
        return switches
    radios: dict[str, lxml.html.HtmlElement] = {}
    for element in SWITCH_INPUTS(page):
        if element.get("type", "").lower() == "radio" and element.get("name"):
            radios.setdefault(element.get("id") or "", element)
    groups: dict[tuple[lxml.html.HtmlElement, str], list[lxml.html.HtmlElement]] = {}
    for label, parent in switches.items():
        named = radios.get(label.get("for") or "\0")
        if parent is not None and named is not None and named.getparent() is parent:
            groups.setdefault((parent, named.get("name") or ""), []).append(label)
    if not groups:
        return switches
    placed = dict(switches)
    for (parent, _), labels in groups.items():
        panels = _row_panels(parent, labels)
        for label, panel in zip(labels, panels or (), strict=False):
            _move_before(label, panel)
            placed[label] = panel.getparent()
    return MappingProxyType(placed)


def _row_panels(parent: lxml.html.HtmlElement, labels: list[lxml.html.HtmlElement]) -> list | None:
    """The panels of a row of tab ``labels`` among ``parent``'s children (see :func:`place_tab_labels`), or None."""
    if len(labels) < 2:
        return None
    children = [child for child in parent if isinstance(child.tag, str)]
    tops = []
    for label in labels:
        top = next((node for node in (label, *label.iterancestors()) if node.getparent() is parent), None)
        if top is None:
            return None
        tops.append(children.index(top))
    if tops != sorted(tops):
        return None
    row_end = tops[-1]
    # A label followed by a block of text before the next label titles that block (an accordion): no row.
    for here, there in zip(tops, [*tops[1:], row_end], strict=True):
        if any(_text_block(child) for child in children[here + 1 : there]):
            return None
    after = [child for child in children[row_end + 1 :] if _text_block(child)]
    if len(after) == 1 and len(labels) > 1:
        after = [child for child in after[0] if isinstance(child.tag, str) and _text_block(child)]
    if len(after) != len(labels):
        return None
    if any(panel.tag not in BLOCK_TAGS or panel.tag in SECTION_TITLES or is_link_block(panel) for panel in after):
        return None
    return after


def _text_block(element: lxml.html.HtmlElement) -> bool:
    """An element of text, not a form field nor a label of the row."""
    return element.tag not in ("input", "label") and bool(element.text_content().strip())


def _move_before(label: lxml.html.HtmlElement, panel: lxml.html.HtmlElement) -> None:
    """Move ``label`` to just before ``panel``, the text after it staying where it was."""
    if label.tail:
        previous = label.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + label.tail
        else:
            parent = label.getparent()
            parent.text = (parent.text or "") + label.tail
        label.tail = None
    panel.addprevious(label)


def has_checked_rule(page: lxml.html.HtmlElement) -> bool:
    """A ``<style>`` of the page has a rule on a checked input (``:checked``), outside its comments: only then may
    a label be a CSS-only accordion's or tab's switch (see ``STYLE_SHEETS``)."""
    return any(CHECKED.search(CSS_COMMENT.sub("", sheet.text_content())) for sheet in STYLE_SHEETS(page))


def switch_title_before(panel: lxml.html.HtmlElement, switches: Switches) -> lxml.html.HtmlElement | None:
    """The label of a CSS-only accordion (one of ``switches``) whose panel is ``panel``, when it stands just
    before it, itself or as the only text of the element before it (``<h3><label for="s1">Title</label></h3>``):
    ``<input type="checkbox" id="s1"><label for="s1">Title</label><div class="panel">…``. The panel is a block
    holding text, not a heading (the next section's title) nor mostly links (a menu behind a "Menu" label is no
    section); a label naming its input stands among that input's siblings (see :func:`switch_labels`); and the
    label is not one of a row of labels (tabs whose panels all follow the row: which label shows which panel
    only the style sheet says). None otherwise."""
    if not switches or panel.tag not in BLOCK_TAGS or panel.tag in SECTION_TITLES:
        return None
    title = _previous_element(panel)
    if title is None:
        return None
    labels = [title] if title in switches else [label for label in title.iter("label") if label in switches]
    if len(labels) != 1:
        return None
    label = labels[0]
    if switches[label] is not None and panel.getparent() is not switches[label]:
        return None
    words = word_count(label.text_content())
    if not words or word_count(title.text_content()) > words + TITLE_EXTRA_WORDS:
        return None
    before = _previous_element(title)
    if before is not None and (before in switches or any(inner in switches for inner in before.iter("label"))):
        return None
    # A block holding only other labels is the next title (a wrapper of the next section), not a panel.
    if word_count(panel.text_content()) <= sum(
        word_count(inner.text_content()) for inner in panel.iter("label") if inner in switches
    ):
        return None
    return None if is_link_block(panel) else label


def switch_opens(panel: lxml.html.HtmlElement, switches: Switches) -> bool:
    """``panel`` is one a style sheet shows when a checkbox or radio button is checked, hidden until then: the
    block after the label naming that input (:func:`switch_title_before`), among the input's siblings. A label
    wrapping its input titles a block it stands before, but opens none hidden: so a consent dialog's switches are
    built (``<label for="x"><span>Enable or disable cookies</span><input id="x"><span class="slider">``), the
    hidden block after them a warning waiting for a script."""
    label = switch_title_before(panel, switches)
    return label is not None and switches[label] is not None


def _titles_a_switch_panel(label: lxml.html.HtmlElement, switches: Switches) -> bool:
    """``label`` titles the panel after it, or after the element wrapping it and little else (an icon)."""
    title, most_words = label, word_count(label.text_content()) + TITLE_EXTRA_WORDS
    while title is not None and word_count(title.text_content()) <= most_words:
        following = _next_element(title)
        if following is not None and switch_title_before(following, switches) is label:
            return True
        title = title.getparent()
    return False


def _previous_element(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The element before ``element`` among its siblings, past comments and processing instructions."""
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    return previous


def _next_element(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The element after ``element`` among its siblings, past comments and processing instructions."""
    following = element.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()
    return following


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
