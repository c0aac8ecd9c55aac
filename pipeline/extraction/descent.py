"""Where in a page (its furniture dropped) the document's text is: descend from ``<body>`` to the block holding
nearly all of it, unless what stands beside that block may be the document's own (a section under a heading, the
title and date set apart, a list's introduction). What the descent leaves beside the block is reported by
``content_edges``; ``locate`` drops what is never text before and calls this."""

from __future__ import annotations

from collections.abc import Iterable

import lxml.etree
import lxml.html

from policy_archive.pipeline.extraction.content_edges import Weights
from policy_archive.pipeline.extraction.dropped import word_count
from policy_archive.pipeline.extraction.markdown import BLOCK_TAGS
from policy_archive.pipeline.extraction.parse import post_order
from policy_archive.pipeline.extraction.stated_date import stated_date

# A single child holding this share of a block's text is where the content is (generic mode).
DESCEND_SHARE = 0.85
# Lists are parts of a text, never the block holding it: what stands beside a list in its container is the
# list's introduction (Qwen's terms: a 239-word preamble, with its acceptance clause, before an <ol> of sections).
LIST_TAGS = {"ol", "ul", "dl", "menu", "dir"}
# A newsletter sign-up: a form asking for an e-mail address and little else, with its pitch around it (Withings'
# "Commencez votre parcours de santé Withings … S'inscrire", twice after its policies, each under an <h2>). Its
# box, reaching up from the form while it stays this short, does not keep the locator from descending past it as
# a section of the document would; it is left beside the content then, and reported. It is never dropped
# outright: a policy's own opt-out form asks for an e-mail address too.
SIGNUP_MAX_WORDS = 80
SIGNUP_FORMS = lxml.etree.XPath("//form[.//input[@type='email']]")
TEXT_INPUT_TYPES = {"", "text", "email", "tel", "search", "url", "number", "password"}
# A page's main landmark (``<main>``, ``role="main"``: where its author says the page's own content is), holding
# at least this share of the page's text once furniture is gone, bounds the document: the locator descends to it
# past whatever stands beside it but a dated header or an ``<h1>`` (a promotion after a policy, "Try Acme Pro
# today / Get 50% off … Upgrade now" under an ``<h2>``, was recorded as the policy's last section: a rotating
# promotion would make false versions). On the 172 benchmark pages (2026-11-29) every non-empty ``<main>`` held
# 92–100 % of the text and the located block (an empty one held 0 %: the share keeps such pages as they were).
MAIN_SHARE = 0.5
MAIN_LANDMARKS = lxml.etree.XPath(".//main | .//*[@role='main']")
# A call to action beside the content: a heading (``<h2>``–``<h6>``, never the document's ``<h1>``) over a pitch
# and a link to another page or a button, at most this many words in all ("Try Acme Pro today / Get 50% off your
# first year … Upgrade now"). Read from its structure, not its words; like a newsletter sign-up it does not keep
# the locator from descending past it, nor count as text beside the content, and is reported as left beside it
# (``content_edges``). A policy's short last section ("Contact / write to privacy@…") has no such action
# (``mailto:`` and ``tel:`` links are none) and stands among the document's sections, not beside their block.
CALL_TO_ACTION_MAX_WORDS = 40
CTA_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
BUTTONS = lxml.etree.XPath("//button | //input[@type='submit' or @type='button']")
SECTION_HEADINGS = ("h1", "h2", "h3")
# A block this short before the content that states a date ("Terms of Service / Last updated: May 19, 2026") is
# the document's header, not furniture: the locator keeps it with the content rather than descend past it.
HEADER_BLOCK_WORDS = 40


def signup_boxes(page: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Newsletter sign-ups (see ``SIGNUP_MAX_WORDS``): a form whose only text fields are one e-mail address
    (and a name, at most), each with the largest block around it holding at most ``SIGNUP_MAX_WORDS`` words and
    no ``<h1>`` or ``<main>``. Read before inputs are dropped as never text; the blocks stay in the page."""
    boxes = []
    for form in SIGNUP_FORMS(page):
        fields = [field for field in form.iter("input", "textarea", "select") if _is_text_field(field)]
        if len(fields) > 2 or any(field.tag != "input" for field in fields):
            continue
        box = form
        for ancestor in form.iterancestors():
            if ancestor.tag in ("body", "html") or word_count(ancestor.text_content()) > SIGNUP_MAX_WORDS:
                break
            if ancestor.xpath(".//h1 | .//main"):
                break
            box = ancestor
        boxes.append(box)
    return boxes


def _is_text_field(field: lxml.html.HtmlElement) -> bool:
    return field.tag != "input" or field.get("type", "").lower() in TEXT_INPUT_TYPES


def locate_content(
    body: lxml.html.HtmlElement,
    words: Weights,
    prose: Weights,
    signups: Iterable[lxml.html.HtmlElement] = (),
    actions: Iterable[lxml.html.HtmlElement] = (),
) -> lxml.html.HtmlElement:
    """Descend from ``<body>`` while one child holds nearly all the text, is not a list, and its siblings hold no
    headings (but those of newsletter sign-ups, ``signups``: see ``SIGNUP_MAX_WORDS``) and no header stating the
    document's date. Calls to action beside the child (see ``CALL_TO_ACTION_MAX_WORDS``; ``actions``: elements
    that held a button) count neither as its siblings' headings nor as text. Towards the page's ``<main>``
    landmark (see ``MAIN_SHARE``) the locator descends whatever share it holds and whatever headings but an
    ``<h1>`` stand beside it."""
    signups, actions = set(signups), set(actions)
    main = _main_landmark(body, prose)
    towards_main = {main, *main.iterancestors()} if main is not None else set()
    node = body
    while True:
        children = list(node.iterchildren(lxml.etree.Element))
        beside = {child for child in children if _is_call_to_action(child, words, actions)}
        weights = [(prose[child], child) for child in children if child not in beside]
        if not weights:
            return node
        total = sum(weight for weight, _ in weights) + _own_text_words(node)
        best_weight, best = max(weights, key=lambda pair: pair[0])
        landmark = next((child for child in children if child in towards_main), None)
        if landmark is not None:
            best_weight, best = total, landmark
        if total == 0 or best_weight < DESCEND_SHARE * total or _continues_own_text(node, best):
            return node
        if best.tag in LIST_TAGS or _has_dated_header(children, best, prose):
            return node
        levels = SECTION_HEADINGS[:1] if landmark is not None else SECTION_HEADINGS
        others = (sibling for sibling in children if sibling is not best and sibling not in beside)
        if any(_holds_section_heading(sibling, signups, levels) for sibling in others):
            return node
        node = best


def _main_landmark(body: lxml.html.HtmlElement, prose: Weights) -> lxml.html.HtmlElement | None:
    """The page's one outermost ``<main>`` (or ``role="main"``) holding at least ``MAIN_SHARE`` of its text."""
    landmarks = MAIN_LANDMARKS(body)
    outermost = [element for element in landmarks if not any(other in landmarks for other in element.iterancestors())]
    if len(outermost) != 1 or prose.get(outermost[0], 0) < MAIN_SHARE * max(prose.get(body, 0), 1):
        return None
    return outermost[0]


def _is_call_to_action(element: lxml.html.HtmlElement, words: Weights, actions: set[lxml.html.HtmlElement]) -> bool:
    """A short block titled by a heading (below ``<h1>``) around an action: a link to another page or a button
    (see ``CALL_TO_ACTION_MAX_WORDS``)."""
    if not 0 < words.get(element, 0) <= CALL_TO_ACTION_MAX_WORDS or element.tag in LIST_TAGS:
        return False
    inside = list(element.iter())
    if any(part.tag in ("h1", "main") for part in inside) or not any(part.tag in CTA_HEADINGS for part in inside):
        return False
    return any(part in actions or part.tag == "a" and _leads_away(part) for part in inside)


def _leads_away(link: lxml.html.HtmlElement) -> bool:
    href = (link.get("href") or "").strip().lower()
    return bool(href) and not href.startswith(("#", "javascript:", "mailto:", "tel:"))


def action_holders(page: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """The elements holding a button (``<button>``, ``<input type="submit|button">``): read before controls go."""
    return {button.getparent() for button in BUTTONS(page) if button.getparent() is not None}


def _holds_section_heading(
    element: lxml.html.HtmlElement, signups: set[lxml.html.HtmlElement], levels: tuple[str, ...]
) -> bool:
    """A heading of ``levels`` in ``element`` outside a newsletter sign-up."""
    headings = [part for part in element.iter(*levels)]
    if not signups:
        return bool(headings)
    return any(signups.isdisjoint((heading, *heading.iterancestors())) for heading in headings)


def _has_dated_header(children: list[lxml.html.HtmlElement], best: lxml.html.HtmlElement, prose: Weights) -> bool:
    """A short block before ``best`` states a date: the document's title and "Last updated" line set apart from
    its body (Qwen's ``<div>``s styled as a title), which descending would lose with the stated date."""
    for child in children:
        if child is best:
            return False
        if 0 < prose[child] <= HEADER_BLOCK_WORDS and stated_date(" ".join(child.text_content().split())):
            return True
    return False


def _continues_own_text(node: lxml.html.HtmlElement, child: lxml.html.HtmlElement) -> bool:
    """``child`` is inline (``<font>``, ``<span>``, ``<b>``) beside text of ``node``'s own: one run of text, not
    a block holding the content. Legacy pages that never close ``<font>`` nest every paragraph inside the one
    before it; descending there would keep only the last few paragraphs."""
    return child.tag not in BLOCK_TAGS and _own_text_words(node) > 0


def text_weights(root: lxml.html.HtmlElement) -> tuple[Weights, Weights]:
    """Words, and words outside links ("prose": navigation is mostly links, policy text mostly is not), of
    every element under ``root``, counted in one pass from the leaves up: descending level by level and
    re-reading each subtree's text was most of generic extraction's time on deep pages."""
    words: Weights = {}
    prose: Weights = {}
    for element in post_order(root):
        in_link = element.tag == "a"
        text = element.text
        own = word_count(text) if text else 0  # most elements have no text or tail: spare the call
        total, outside_links = own, 0 if in_link else own
        for child in element:
            tail = child.tail
            tail = word_count(tail) if tail else 0
            total += words.get(child, 0) + tail
            if not in_link:
                outside_links += prose.get(child, 0) + tail
        words[element], prose[element] = total, outside_links
    return words, prose


def _own_text_words(element: lxml.html.HtmlElement) -> int:
    return word_count((element.text or "") + " " + " ".join(child.tail or "" for child in element))
