"""Write ``services/<id>.toml`` files that the loader accepts (used by ``import-ota`` and ``discover --write``,
which adds a document to a service file that declares others).

A small writer of our own rather than ``tomli-w``: a service file is a narrow shape (strings, lists of strings,
dates, tables, arrays of tables), and a generated declaration is meant to be reviewed by a person, so it carries
comments (what was not translated, where a URL came from, why a ``written_by`` line marks the document), which
``tomli-w`` cannot write.

Every file is loaded back with the real loader (:func:`load_service`) before it takes its place, so a file this
module writes always passes ``validate``; an existing file is replaced only when asked (``force``).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from policy_archive.config.checks import ConfigError
from policy_archive.config.declarations import load_service, page_key
from policy_archive.errors import ConfigurationError
from policy_archive.files import write_whole
from policy_archive.records import ID_MAX_LENGTH, DocumentDeclaration, ExtractionRules, Render, is_valid_id
from policy_archive.text import one_line

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# TOML basic strings: these must be escaped; every other control character (and DEL) as \uXXXX.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class ServiceFileExists(ConfigurationError):
    """A service file is already there and ``--force`` was not given: nothing was written for it."""


@dataclass(frozen=True)
class DocumentDraft:
    """A document as it will be written: its declaration, extra keys (``render``) and comments for a reviewer."""

    declaration: DocumentDeclaration
    options: tuple[tuple[str, str], ...] = ()
    comments: tuple[str, ...] = ()


def slug_id(text: str, fallback: str) -> str:
    """A service or document id from a name: ``Open Terms Archive`` → ``open-terms-archive``, ``Amazon.com`` →
    ``amazon.com``, ``L'Oréal`` → ``l-oreal``; always a valid id (``is_valid_id``: ``[a-z0-9][a-z0-9.-]*``, at
    most ``ID_MAX_LENGTH`` characters). A name with no Latin letter or digit (``微信``) gets ``fallback`` and a
    short hash of the name; a slug longer than the limit is cut and ends with a short hash of the whole name
    (``the-very-long-…-company-3f2a9c1e``): distinct names stay apart, and a name always gives the same id."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    dashed = re.sub(r"[^a-z0-9.]+", "-", ascii_text)
    # No ".-", "-." or ".." runs: they read as typing mistakes in a file name.
    cleaned = re.sub(r"[.-]*\.[.-]*", ".", dashed).strip(".-")
    if not cleaned:
        return f"{fallback}-{name_hash(text)}"
    if len(cleaned) <= ID_MAX_LENGTH:
        return cleaned
    suffix = name_hash(text)
    return f"{cleaned[: ID_MAX_LENGTH - len(suffix) - 1].rstrip('.-')}-{suffix}"


def name_hash(text: str) -> str:
    """Eight hex digits of the name's SHA-1: what keeps two long names apart once cut (ids, export folders)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string, every character that needs it escaped."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """A bare key when TOML allows one (``privacy-policy``), else quoted (``"amazon.com"``: a dot splits keys)."""
    return key if _BARE_KEY.match(key) else toml_string(key)


def _value(value: str | date | Sequence[str]) -> str:
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, date):
        return toml_string(value.isoformat())
    return "[" + ", ".join(toml_string(item) for item in value) + "]"


def _comment_lines(comments: Iterable[str]) -> list[str]:
    # A comment runs to the end of the line: a newline inside one would start a line of TOML, and TOML refuses
    # any other control character in a comment (one_line makes each a space).
    return ["# " + one_line(comment) for comment in comments]


def _rules_lines(rules: ExtractionRules) -> list[str]:
    lines = []
    if rules.select:
        lines.append(f"select = {_value(rules.select)}")
    if rules.remove:
        lines.append(f"remove = {_value(rules.remove)}")
    return lines


def service_toml(name: str, documents: Sequence[DocumentDraft], comments: Iterable[str] = ()) -> str:
    """The text of a service file declaring ``documents`` (each history oldest first, as declared)."""
    lines = [*_comment_lines(comments), f"name = {toml_string(name)}"]
    for draft in documents:
        lines += ["", *_document_lines(draft)]
    return "\n".join(lines) + "\n"


def _document_lines(draft: DocumentDraft) -> list[str]:
    declaration = draft.declaration
    table = f"documents.{toml_key(declaration.document_id)}"
    lines = [*_comment_lines(draft.comments), f"[{table}]", *_written_by_lines(declaration.written_by)]
    lines.append(f"url = {_value(declaration.url)}")
    lines += _rules_lines(declaration.rules)
    lines += [f"{toml_key(key)} = {_value(value)}" for key, value in draft.options]
    document_render = str(dict(draft.options).get("render", declaration.render))
    for entry in declaration.history:
        lines += [f"[[{table}.history]]", f"url = {_value(entry.url)}"]
        lines += _rules_lines(entry.rules)
        # A history entry does not take its document's render (config/declarations.py): written where it is not
        # the default, and where the document's is not, so that a reader sees the earlier form renders otherwise.
        if entry.render is not Render.AUTO or document_render != Render.AUTO:
            lines.append(f"render = {_value(entry.render.value)}")
        lines.append(f"valid_until = {_value(entry.valid_until)}")
    return lines


def _written_by_lines(writer: str | None) -> list[str]:
    """The marker of a tool-written document, said to the person who reviews the file (Config.declared_origins)."""
    if writer is None:
        return []
    why = [
        f"Written by `policy-archive {writer}` from pages or files other people control: no private-address",
        "exemption for its URLs (internal addresses refused, as for a redirect) until a person deletes the next line.",
    ]
    return [*_comment_lines(why), f"written_by = {toml_string(writer)}"]


def write_service_file(directory: Path, service_id: str, text: str, *, force: bool = False) -> Path:
    """Write ``directory/<service_id>.toml`` after loading it back with the real loader.

    Raises :class:`ServiceFileExists` if the file exists and ``force`` is false, :class:`ConfigError` if the
    text does not load (a bug of the caller: nothing is written then either).
    """
    target = _target(directory, service_id)
    if target.exists() and not force:
        raise ServiceFileExists(f"{target} exists (use --force to replace it)")
    return _replace_checked(directory, target, text)


def check_addable(target: Path, document_id: str, *, force: bool = False) -> None:
    """Raise :class:`ServiceFileExists` unless :func:`add_document` may write ``document_id`` into ``target``."""
    if not target.exists():
        return
    declared = {declaration.document_id for declaration in load_service(target)}  # a broken file: ConfigError
    if document_id not in declared:
        return
    if not force:
        raise ServiceFileExists(f"{target} already declares {document_id} (use --force to replace the file)")
    if declared != {document_id}:
        others = ", ".join(sorted(declared - {document_id}))
        raise ServiceFileExists(f"{target} also declares {others}: --force would drop it; edit or delete the file")


def add_document(directory: Path, service_id: str, name: str, draft: DocumentDraft, *, force: bool = False) -> Path:
    """Declare one document in ``directory/<service_id>.toml``: a new file, or the document's table added at the
    end of the existing file, whose text (other documents, a person's edits and comments) is kept as it is.

    A file declaring the document already is replaced with ``force`` when it declares nothing else, refused
    otherwise (:func:`check_addable`); the result is loaded back before it takes its place.
    """
    target = _target(directory, service_id)
    document_id = draft.declaration.document_id
    check_addable(target, document_id, force=force)
    if target.exists() and document_id not in {declaration.document_id for declaration in load_service(target)}:
        text = target.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + "\n".join(_document_lines(draft)) + "\n"
    else:
        text = service_toml(name, [draft])
    return _replace_checked(directory, target, text)


class DeclaredPages:
    """The pages the service files of one directory declare (each document's ``url``, compared as ``validate``
    compares them: :func:`~policy_archive.config.declarations.page_key`), so that ``discover --write`` does not
    declare under a second service a page another file declares: both would be fetched, tracked and recorded
    twice (a list resumed after the default service id left out ``www.``: ``www.acme.com.toml`` and
    ``acme.com.toml``). The files are read once, at the first question (a list of 1,000 domains does not read
    1,000 files per domain); a file written since is added with :meth:`add`. A file that does not load is left
    out (``validate`` names it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._pages: dict[str, list[tuple[Path, str]]] | None = None  # page key -> (file, document id) each

    def declared_elsewhere(self, service_id: str, url: str) -> tuple[Path, str] | None:
        """Another service file (and its document) declaring the page ``url``, None when none does; the service's
        own file may declare it again (its terms and privacy policy on one page)."""
        key = page_key(url)
        found = self._elsewhere(service_id, key)
        if found is not None and not _declares_page(found[0], key):  # edited or deleted since: all read again
            self._pages = None
            found = self._elsewhere(service_id, key)
        return found

    def add(self, path: Path) -> None:
        """Note the pages the service file at ``path`` declares (none when it does not load)."""
        if self._pages is None:
            return  # not read yet: it will be, whole
        try:
            declarations = load_service(path)
        except (ConfigurationError, OSError):
            return
        for declaration in declarations:
            self._pages.setdefault(page_key(declaration.url), []).append((path, declaration.document_id))

    def _elsewhere(self, service_id: str, key: str) -> tuple[Path, str] | None:
        if self._pages is None:
            self._pages = {}
            for path in sorted(self.directory.glob("*.toml")):
                self.add(path)
        return next((found for found in self._pages.get(key, []) if found[0].stem != service_id), None)


def _declares_page(path: Path, key: str) -> bool:
    try:
        return any(page_key(declaration.url) == key for declaration in load_service(path))
    except (ConfigurationError, OSError):
        return False


def _target(directory: Path, service_id: str) -> Path:
    if not is_valid_id(service_id):
        raise ConfigError(directory, service_id, "not a valid service id")
    return directory / f"{service_id}.toml"


def _replace_checked(directory: Path, target: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    # Checked under its final name (the loader takes the service id from the file stem), in a scratch folder.
    with tempfile.TemporaryDirectory(dir=directory, prefix=".writing-") as scratch:
        draft = Path(scratch) / target.name
        draft.write_text(text, encoding="utf-8")
        try:
            load_service(draft)
        except ConfigError as error:  # said of the file it was to become, not of the scratch folder's copy
            raise ConfigError(target, error.key, f"not written: {error.reason}") from None
    write_whole(target, text.encode("utf-8"))
    return target
