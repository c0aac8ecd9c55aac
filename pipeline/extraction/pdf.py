"""The text of a PDF capture, read with pypdf (the only module that imports it)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from policy_archive.pipeline.extraction.escaping import escape_line_start, escape_markup, escape_text
from policy_archive.pipeline.extraction.normalize import normalize_characters, normalize_markdown
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.records import ExtractedDocument
from policy_archive.text import one_line

SENTENCE_END = re.compile(r"[.:;!?)\]\"”]$")


def extract_pdf(body: bytes) -> ExtractedDocument:
    """PDF text via pypdf: one paragraph per run of lines, lines joined unless one ends a sentence."""
    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ExtractionRefused("pdf-unreadable", f"pypdf could not read the PDF: {error}") from error
    paragraphs = [paragraph for page in pages for paragraph in _pdf_paragraphs(page)]
    if not paragraphs:
        raise ExtractionRefused("pdf-unreadable", "the PDF has no text layer (scanned pages?)")
    title = one_line(normalize_characters(str(metadata_title))) or one_line(paragraphs[0][:200])
    return ExtractedDocument(title, normalize_markdown("\n\n".join(paragraphs)))


def _pdf_paragraphs(page_text: str) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in page_text.splitlines():
        line = " ".join(raw_line.split())
        if not line:
            if current:
                paragraphs.append(" ".join(current))
            current = []
            continue
        if current and line[:1].isupper() and SENTENCE_END.search(current[-1]):
            paragraphs.append(" ".join(current))
            current = []
        if current and current[-1].endswith("-") and line[:1].islower():
            current[-1] = current[-1][:-1] + line
        else:
            current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return [escape_markup(escape_line_start(escape_text(normalize_characters(paragraph)))) for paragraph in paragraphs]
