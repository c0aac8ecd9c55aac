"""A domain's discovery state file, ``DATA/discovery/<domain>.<type>.json`` (decision 0014): what its home-page
captures showed, written after every capture read so that a killed run continues where it stopped, and where
its declaration went (``finished``), so that a rerun of a list skips the domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from policy_archive.config.declarations import load_service
from policy_archive.errors import ConfigurationError
from policy_archive.files import write_whole
from policy_archive.pipeline.jobs.home_pages import Sighting


@dataclass(frozen=True)
class Finished:
    """Where an earlier run put a domain's declaration, kept in its state file: a rerun of the list skips it
    while that file is there and the period asked is the same."""

    file: str
    since: str | None
    until: str | None
    unsure: bool
    live: bool = False  # written by ``--live`` (today's URL, no history): an archive run does not skip it

    @classmethod
    def of(cls, file: Path, since: date | None, until: date | None, unsure: bool, live: bool = False) -> Finished:
        """The mark for a declaration written to ``file`` (kept resolved, so that a rerun from another directory
        still matches) for the period ``since``–``until`` (ISO days, None: open)."""
        return cls(str(file.resolve()), since.isoformat() if since else None, until.isoformat() if until else None,
                   unsure, live)  # fmt: skip


# The key of a saved reading's row URL: the listing's own spelling (``original``), as a replay asks for it.
LISTED_URL = "listed_url"


def state_file(data_dir: Path, domain: str, document_type: str) -> Path:
    """``DATA/discovery/DOMAIN.TYPE.json``: where the readings of ``domain``'s home page for ``document_type``, and
    the mark of where its declaration went, are kept between runs. Only the path: it may not exist."""
    return data_dir / "discovery" / f"{domain}.{document_type}.json"


def saved_sightings(path: Path) -> list[tuple[str | None, Sighting]]:
    """What the home-page captures showed, as the state file at ``path`` keeps it: each reading with the URL of
    the listed row it was read from (with its second, the replay read: docs/decisions/0004, one capture per URL
    and second). None: a state file written before 2026-11-28 kept the second alone (``SearchState`` uses such a
    reading only where one row is listed at its second)."""
    try:
        return [_saved(item) for item in _read_state(path).get("sightings", [])]  # type: ignore[union-attr]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []  # a damaged state file only costs the requests again


def _saved(item: dict[str, object]) -> tuple[str | None, Sighting]:
    """One saved reading and its row's URL (None: not kept); ValueError when that URL is not a string."""
    listed_url = item.get(LISTED_URL)
    if listed_url is not None and not isinstance(listed_url, str):
        raise ValueError(f"not a listed URL: {listed_url!r}")
    return listed_url, Sighting.from_json({key: value for key, value in item.items() if key != LISTED_URL})


def save_sightings(path: Path, document_type: str, sightings: Sequence[tuple[str, Sighting]]) -> None:
    """Replace the state file at ``path`` (whole, through a rename; its directory made) with these readings, each
    with the URL of the row it was read from, without the ``finished`` mark: something new was read, so the
    declaration written before is stale and a rerun of the list searches the domain again."""
    saved = [{LISTED_URL: listed_url, **sighting.to_json()} for listed_url, sighting in sightings]
    _write_json(path, {"document_type": document_type, "sightings": saved})


def _write_json(path: Path, content: dict[str, object]) -> None:
    write_whole(path, json.dumps(content, indent=1).encode("utf-8"))


def _read_state(path: Path) -> dict[str, object]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def mark_finished(data_dir: Path, domain: str, document_type: str, finished: Finished | None) -> None:
    """Note in the domain's state file that its declaration goes where ``finished`` says (just before writing it:
    see :func:`finished_earlier`); None takes the note back (the file could not be written)."""
    path = state_file(data_dir, domain, document_type)
    state = {key: value for key, value in _read_state(path).items() if key != "finished"}
    _write_json(path, {**state, "finished": asdict(finished)} if finished else state)


def finished_earlier(data_dir: Path, domain: str, document_type: str, wanted: Finished) -> Finished | None:
    """What an earlier run noted, if it wrote this domain's declaration where ``wanted`` says, for the same
    period, and the file still declares the document (a person may delete it to have the domain searched
    again). The mark is written just before the file, so a run killed between the two searches the domain
    again instead of skipping it."""
    mark = _read_state(state_file(data_dir, domain, document_type)).get("finished")
    try:
        earlier = Finished(**mark)  # type: ignore[arg-type]
    except TypeError:
        return None  # no mark, or a damaged one: the domain is searched again (its readings are kept)
    same = (earlier.file, earlier.since, earlier.until, earlier.live) == (wanted.file, wanted.since, wanted.until,
                                                                         wanted.live)  # fmt: skip
    return earlier if same and _declares(Path(earlier.file), document_type) else None


def _declares(service_file: Path, document_type: str) -> bool:
    if not service_file.exists():
        return False
    try:
        return document_type in {declaration.document_id for declaration in load_service(service_file)}
    except ConfigurationError:
        return False  # a file that does not load is not a finished declaration (and is refused when written)
