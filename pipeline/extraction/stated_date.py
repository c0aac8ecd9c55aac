"""The date a document states for itself ("Last Updated: May 25th, 2018", "Stand: 01.02.2023").

Read from the extracted Markdown, so navigation is already gone; only a date introduced by a phrase that
dates the document (updated, revised, effective, mise à jour, en vigueur, Stand, gültig ab, …) counts, or a
line holding nothing but a date among the first lines under the title. The first such date in reading order
wins. Copyright lines never count, nor a date its clause gives another version ("The previous version,
effective January 1, 2015, is archived") or the end of validity ("effective until March 1, 2016"): see
``OTHER_VERSION``. Why our own patterns rather than ``dateparser``/``htmldate``: measured on
the 88 hand-labelled pages of the OTA benchmark (``python -m benchmarks.stated_dates``), see decision 0002.

Numeric dates (``a/b/yyyy``, ``a-b-yyyy``, ``a.b.yyyy``) are read in both orders. A pair with only one valid
reading (a number over 12: ``12/31/2019``, ``31/12/2019``) is read that way on every page. A pair read both ways
(``05/06/2018``) is ambiguous, and a guess is never recorded as the document's date, so in this order:
1. a reading after the capture day is dropped (a policy rarely dates itself after its capture);
2. dots are day first (``01.02.2023``: the German, Russian, … convention, rare in US usage; measured: LOVOO's
   ``lang="en-US"`` pages write ``Last updated: 02.01.2025`` for 2 January);
3. a phrase not in English (``mise à jour``, ``Stand``, ``gelten ab``, …) is day first: every language of our
   phrases writes day first, and the text's language beats a ``lang`` left at a template's default;
4. the page's ``lang``: region US (``en-US``) is month first; English without a region (``en``) or Canadian
   English (``en-CA``) tells nothing, as ``en`` is what templates write for American, British, Indian and
   European sites alike (on the labelled benchmark, one ``lang="en"`` page wrote 3/11/2025 month first, another
   06/04/2020 day first); any other language or region (``en-GB``, ``fr``, ``de-DE``, …) is day first;
5. otherwise (no ``lang``, or ``en``, and an English phrase or none) there is no date.
"""

from __future__ import annotations

import re
from datetime import date
from enum import Enum

MONTHS = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
    # French
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
    "janv": 1, "févr": 2, "avr": 4, "juil": 7, "déc": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "juni": 6, "juli": 7, "oktober": 10,
    "dezember": 12, "okt": 10, "dez": 12,
    # Spanish, Italian, Dutch, Portuguese (the common forms)
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12, "gennaio": 1, "febbraio": 2,
    "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7, "settembre": 9, "ottobre": 10, "dicembre": 12,
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
}  # fmt: skip
MONTH = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|\.)?"
YEAR = r"(?P<year>(?:19|20)\d\d)"
DATE_FORMS = tuple(
    re.compile(form, re.IGNORECASE)
    for form in (
        # May 25th, 2018 · Mar 18, 2026
        rf"(?P<month_name>{MONTH})\.?\s+{DAY},?\s+{YEAR}",
        # 25 May 2018 · 16 July, 2026 · 3 mars 2024 · 18. März 2025 · 1er mai 2018 · 5 de mayo de 2020 ·
        # the 1st of June, 2020
        rf"(?:the\s+)?{DAY}\s*(?:de\s+|of\s+)?(?P<month_name>{MONTH})\.?,?\s+(?:de\s+)?{YEAR}",
        # 2018-05-25
        r"(?P<iso_year>(?:19|20)\d\d)-(?P<iso_month>[01]\d)-(?P<iso_day>[0-3]\d)",
        # 01.02.2023 · 12/31/2019 · 31-01-2018 · 3/11/2025 (both ways: see _numeric)
        rf"(?<!\d)(?P<first>[0-3]?\d)(?P<separator>[./-])(?P<second>[0-3]?\d)(?P=separator){YEAR}(?!\d)",
    )
)
# Phrases that date the document itself, in the languages met in the benchmark and the seeds. English ones apart:
# an ambiguous numeric date after any other is read day first (see the module docstring).
STATING_ENGLISH = (
    r"(?:last\s+)?(?:updated|revised|modified|amended|adjustment|update|revision)(?:\s+(?:on|as\s+of|at))?"
    r"|effective(?:\s+date)?(?:\s+(?:on|as\s+of|from))?|date\s+of\s+(?:last\s+)?(?:update|revision)"
    r"|(?:published|release\s+date|publication\s+date)(?:\s+on)?|(?:applies|valid|in\s+force)\s+(?:from|since|as\s+of)"
    r"|version(?:\s+(?:of|dated))?"
)
STATING_OTHER = (
    r"(?:dernière\s+)?mise\s+à\s+jour(?:\s+(?:le|du|au))?|mis(?:e|es)?\s+à\s+jour(?:\s+(?:le|du|au))?"
    r"|à\s+jour\s+(?:du|au)|en\s+date\s+du|en\s+vigueur(?:\s+(?:au|le|du|depuis\s+le|à\s+compter\s+du|à\s+partir\s+du))?"
    r"|(?:date\s+d['’]\s*)?(?:entrée\s+en\s+vigueur|effet)|à\s+compter\s+du|s['’]\s*applique\s+à\s+partir\s+d[eu]"
    r"|date\s+de\s+(?:la\s+)?(?:dernière\s+)?(?:révision|publication|mise\s+à\s+jour)"
    r"|stand|zuletzt\s+(?:aktualisiert|geändert)(?:\s+am)?|letzte\s+(?:aktualisierung|änderung)"
    r"|(?:gültig|gilt|gelten|in\s+kraft)\s+(?:ab|seit)|(?:fassung|version)\s+vom"
    r"|última\s+actualización|ultimo\s+aggiornamento|laatst\s+bijgewerkt"
)
STATING = f"{STATING_ENGLISH}|{STATING_OTHER}"
STATED = re.compile(rf"(?<!\w)(?:{STATING})(?!\w)", re.IGNORECASE)
ENGLISH_PHRASE = re.compile(STATING_ENGLISH, re.IGNORECASE)
# Between the phrase and its date: a few words at most ("Date de la publication de la politique : 21/06/2021"),
# never the end of a sentence.
GAP_CHARS = 50
SENTENCE_END = re.compile(r"[.;!?](?:\s|$)")
YEAR_HINT = re.compile(r"(?:19|20)\d\d")
COPYRIGHT = re.compile(r"©|\(c\)|\bcopyright\b", re.IGNORECASE)
MARKUP = re.compile(r"[*_`>#|\\]+")
# A backslash escaping a character: the renderer's "1\. Januar 2024" is "1. Januar 2024".
ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
LEADING_LINES = 3
# A date spoken of as another version's is not the document's ("The previous version of this policy, effective
# January 1, 2015, is archived"; "La version précédente, en vigueur depuis le 1er janvier 2015"; "this version
# replaces the version of 1 May 2017"). Two kinds of words say so, each of the date it governs in its clause (a
# clause ends at a sentence's end or a semicolon):
# - a name of another version, or a verb whose object is one ("replaces"), governs the first date after it; a date
#   before it is the document's own ("Effective 01.02.2026 Bis dahin gilt die bisherige Version", LoveScout24);
OTHER_VERSION = re.compile(
    r"(?<!\w)(?:"
    r"(?:previous|prior|earlier|former|older|old|past|preceding)\s+(?:[\w'’-]+\s+){0,2}?"
    r"(?:versions?|editions?|polic(?:y|ies)|terms|statements?|agreements?)|(?:replac|supersed)(?:es|ing)"
    r"|(?:précédente|ancienne|antérieure)s?\s+(?:[\w'’-]+\s+){0,2}?(?:versions?|éditions?|politiques?|conditions)"
    r"|versions?\s+(?:précédente|antérieure|ancienne|archivée)s?|remplac(?:e|ent|ant)"
    r"|(?:vorherig|vorig|früher|alt|älter|bisherig|vorangegangen|vorhergehend)e[nrsm]?\s+(?:[\w-]+\s+){0,2}?"
    r"(?:fassung|version|datenschutz\w*|bedingungen|agb|nutzungsbedingungen)(?:en)?|ersetzt"
    r"|versi[oó]n(?:es)?\s+(?:anterior|previa|antigua|archivada)(?:e?s)?|(?:anterior|previa|antigua)s?\s+versi[oó]n"
    r"|reemplaza|sustituye|version[ei]\s+(?:precedent|anterior|archiviat)[ei]|precedent[ei]\s+version[ei]"
    r"|sostituisce|(?:vorige|eerdere|oude)\s+versies?|vervangt"
    r")(?!\w)",
    re.IGNORECASE,
)
# - a word saying a version is set aside (archived, replaced, superseded) governs the first date after it or, with
#   none after it, the last one before it and not across a bracket ("The version effective March 1, 2017 is
#   archived", but "Last updated: May 25, 2018 (the 2015 version is archived)").
SET_ASIDE = re.compile(
    r"(?<!\w)(?:archived|replaced|superseded|no\s+longer\s+(?:in\s+(?:force|effect)|applies|valid)"
    r"|archivée?s?|remplacée?s?|archiviert\w*|außer\s+kraft|archivad[ao]s?|archiviat[aoei]|gearchiveerd)(?!\w)",
    re.IGNORECASE,
)
# Between a phrase and its date, a word bounding the end of validity: "Version effective until March 1, 2016" is
# the day the version stopped applying, not its own date ("jusqu'au", "bis zum", "hasta", "fino al", "tot").
END_BOUND = re.compile(
    r"(?<!\w)(?:until|till|through|thru|up\s+to|ending|expir\w*|before|prior\s+to"
    r"|jusqu['’]\s*(?:au|aux|à|en)|avant|bis|vor\s+dem|hasta|antes\s+del?|fino\s+al?|tot)(?!\w)",
    re.IGNORECASE,
)
CLAUSE_END = re.compile(r"[.;!?](?=\s|$)")
BRACKET = re.compile(r"[()\[\]]")
# A BCP 47 tag's primary language and region ("en-US", "en_us", "fr-FR", "zh-Hant-TW", "es-419").
LANGUAGE_TAG = re.compile(r"(?P<primary>[a-z]{2,3})(?:[-_][a-z]{4})?(?:[-_](?P<region>[a-z]{2}|\d{3}))?(?![a-z])", re.I)
MONTH_FIRST_REGIONS = {"us"}
UNKNOWN_ORDER_ENGLISH = {None, "ca"}  # en-CA writes both orders


class Unread(Enum):
    """A stated date read both ways with nothing to tell which: the document's date is unknown, and a later date
    (often the previous version's) must not stand in for it."""

    AMBIGUOUS = "ambiguous"


def _plain(line: str) -> str:
    return MARKUP.sub(" ", ESCAPE.sub("", line))


def stated_date(markdown: str, language: str | None = None, captured: date | None = None) -> date | None:
    """The first date the text gives itself, or ``None``; see the module docstring for the rules."""
    # Every date form holds a four-digit year: most lines have none, and skipping them is most of the speed.
    lines = markdown.splitlines()
    leading = [line for line in lines if line.strip()][:LEADING_LINES]
    for line in leading:
        match = _date_at(_plain(line).strip(" ,.;"), 0, whole=True) if YEAR_HINT.search(line) else None
        found = _date(match, language, captured, None) if match and not COPYRIGHT.search(line) else None
        if found:
            return None if found is Unread.AMBIGUOUS else found
    for line in lines:
        if not YEAR_HINT.search(line) or COPYRIGHT.search(line):
            continue
        line = _plain(line)
        for phrase in STATED.finditer(line):
            match = _date_after(line, phrase.end())
            if match and _another_versions(line, phrase.end(), match):
                continue
            found = _date(match, language, captured, phrase.group()) if match else None
            if found:
                return None if found is Unread.AMBIGUOUS else found
    return None


def _date_at(text: str, position: int, whole: bool = False) -> re.Match[str] | None:
    for form in DATE_FORMS:
        match = form.fullmatch(text, position) if whole else form.match(text, position)
        if match:
            return match
    return None


def _date_after(line: str, position: int) -> re.Match[str] | None:
    """The first date starting within ``GAP_CHARS`` after ``position``, with no sentence end between."""
    window_end = min(len(line), position + GAP_CHARS)
    starts = [match for form in DATE_FORMS if (match := form.search(line, position, window_end + 30))]
    starts = [match for match in starts if match.start() <= window_end]
    if not starts:
        return None
    first = min(starts, key=lambda match: match.start())
    return None if SENTENCE_END.search(line, position, first.start()) else first


def _another_versions(line: str, phrase_end: int, match: re.Match[str]) -> bool:
    """Whether the date ``match`` is spoken of as another version's, or as the end of validity (``OTHER_VERSION``,
    ``END_BOUND``): checked only for a date found, so the common line costs nothing."""
    if END_BOUND.search(line, phrase_end, match.start()):
        return True
    dates = _date_spans(line)
    # Boundaries inside a date ("Jan. 1, 2015", "1. Januar 2024") end no clause.
    ends = [end.start() for end in CLAUSE_END.finditer(line) if not any(a <= end.start() < b for a, b in dates)]
    start = max((end + 1 for end in ends if end < match.start()), default=0)
    stop = min((end for end in ends if end >= match.end()), default=len(line))
    dates = [(a, b) for a, b in dates if start <= a and b <= stop]
    for words, backward in ((OTHER_VERSION, False), (SET_ASIDE, True)):
        for marker in words.finditer(line, start, stop):
            after = [span for span in dates if span[0] >= marker.end()]
            before = [span for span in dates if span[1] <= marker.start()] if backward else []
            before = [span for span in before[-1:] if not BRACKET.search(line, span[1], marker.start())]
            spoken_of = after[0] if after else before[-1] if before else None
            if spoken_of and spoken_of[0] < match.end() and match.start() < spoken_of[1]:
                return True
    return False


def _date_spans(line: str) -> list[tuple[int, int]]:
    """Every date written in the line, in order, overlapping readings merged."""
    spans = sorted(match.span() for form in DATE_FORMS for match in form.finditer(line))
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _date(
    match: re.Match[str], language: str | None, captured: date | None, phrase: str | None
) -> date | Unread | None:
    groups = match.groupdict()
    if groups.get("iso_year"):
        return _valid(int(match.group("iso_year")), int(match.group("iso_month")), int(match.group("iso_day")))
    if groups.get("first"):
        return _numeric(match, language, captured, phrase)
    month = MONTHS[match.group("month_name").lower()]
    return _valid(int(match.group("year")), month, int(match.group("day")))


def _numeric(
    match: re.Match[str], language: str | None, captured: date | None, phrase: str | None
) -> date | Unread | None:
    """``a/b/yyyy`` in the only order it reads, or in the page's order; ``AMBIGUOUS`` when nothing tells the order,
    ``None`` when neither order is a date (02/30/2020)."""
    first, second, year = int(match.group("first")), int(match.group("second")), int(match.group("year"))
    day_first, month_first = _valid(year, second, first), _valid(year, first, second)
    readings = {reading for reading in (day_first, month_first) if reading}
    if captured and len(readings) > 1:
        readings = {reading for reading in readings if reading <= captured} or readings
    if len(readings) <= 1:
        return next(iter(readings), None)
    order = _day_first(match.group("separator"), language, phrase)
    if order is None:
        return Unread.AMBIGUOUS
    return day_first if order else month_first


def _day_first(separator: str, language: str | None, phrase: str | None) -> bool | None:
    """Whether the page writes day first (``True``), month first (``False``), or no telling (``None``)."""
    if separator == "." or (phrase is not None and not ENGLISH_PHRASE.fullmatch(phrase)):
        return True
    tag = LANGUAGE_TAG.match(language.strip()) if language else None
    if tag is None:
        return None
    primary, region = tag.group("primary").lower(), (tag.group("region") or "").lower() or None
    if region in MONTH_FIRST_REGIONS:
        return False
    if primary == "en" and region in UNKNOWN_ORDER_ENGLISH:
        return None
    return True


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
