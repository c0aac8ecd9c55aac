"""The data directory as every command finds it: where its parts are, whether it holds data, and its catalog
opened for reading (no lock, nothing written). Reading commands (`log`, `status`, `export`, ...) need only this:
it imports no crawler and no extractor, unlike ``workspace``, which repairs and re-indexes for writing commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.schema import CatalogUnreadable
from policy_archive.config.settings import Config
from policy_archive.errors import EXIT_USAGE, PolicyArchiveError, StateError

if TYPE_CHECKING:  # GitPython: `status` reads no version
    from policy_archive.archive.versions import VersionStore


class NoData(PolicyArchiveError):
    """A command that works on data already collected (`log`, `show`, `diff`, `export`, `report`, `verify`,
    `reextract`, `repair`) was pointed at a data directory holding none: a wrong ``--data`` is a usage error
    (exit 2, as the contract has it for every command), and nothing is created."""

    exit_status = EXIT_USAGE


def data_paths(data_dir: Path) -> tuple[Path, Path, Path]:
    """The catalog file, the WARC directory and the versions repository of ``data_dir``, in that order; only paths:
    nothing is checked or created."""
    return data_dir / "catalog.sqlite3", data_dir / "captures", data_dir / "versions"


def holds_data(data_dir: Path) -> bool:
    """A catalog, captures or versions are there (any of them: the others can be made again from it)."""
    return any(path.exists() for path in data_paths(data_dir))


def require_data(data_dir: Path, command: str) -> None:
    """Raise :class:`NoData` unless ``data_dir`` holds a catalog, captures or versions; creates nothing."""
    if not holds_data(data_dir):
        raise NoData(f"no data in {data_dir}: nothing to {command} (run `policy-archive backfill` or `track` first)")


def require_readable(data_dir: Path, command: str) -> None:
    """What every reader checks first, in one order, so that they all say the same: no data at all
    (:class:`NoData`), or the catalog and the versions repository both gone (the WARC files are left: `repair`
    indexes them again and rebuilds the history from them)."""
    require_data(data_dir, command)
    catalog_path, captures_dir, versions_dir = data_paths(data_dir)
    if not catalog_path.exists() and not versions_dir.exists():
        raise StateError(
            f"{catalog_path} and {versions_dir} are missing: run `policy-archive repair` to index the WARC files of "
            f"{captures_dir} again and rebuild the history from them"
        )


@contextmanager
def open_catalog(config: Config, command: str) -> Iterator[Catalog]:
    """Read-only commands read the catalog without the lock and without writing (SQLite WAL allows concurrent
    readers; a read-only data directory works too). No data at all is :class:`NoData`, for ``command``."""
    catalog_path, captures_dir, versions_dir = data_paths(config.settings.data_dir)
    require_readable(config.settings.data_dir, command)
    if not catalog_path.exists():
        raise StateError(
            f"{catalog_path} is missing: run `policy-archive repair` to start a new one from {versions_dir} and "
            f"the WARC files of {captures_dir}"
        )
    try:
        catalog = Catalog(catalog_path, read_only=True)
    except CatalogUnreadable as error:
        raise StateError(f"{error}: run `policy-archive repair` to set it aside and start a new one") from None
    try:
        yield catalog
    finally:
        catalog.close()


def check_in_step(catalog: Catalog, versions: VersionStore) -> None:
    """Refuse to answer from a catalog that lists no versions while the repository holds some (an emptied
    catalog would say "no recorded version yet" about a document with a history)."""
    if catalog.versions_head() is None and versions.head() is not None:
        raise StateError(
            f"{catalog.path} lists no versions but {versions.directory} holds some: run `policy-archive repair` "
            "to read them again"
        )
