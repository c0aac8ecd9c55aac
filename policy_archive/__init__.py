"""policy-archive: track how websites' legal documents change over time, as a dated Git history.

The installed package is one namespace, ``policy_archive``, whose floors are the repository's top folders
(see docs/decisions/0006-package-layout.md). Imports run one way, from the top floor down:

    policy_archive.pipeline   jobs, extraction, scheduling, commands (CLI)
    policy_archive.crawler    fetching: Scrapy spiders, archive sources, rate limits
    policy_archive.archive    storage: WARC captures, SQLite catalog, Git versions
    policy_archive.config     configuration: types, loading, validation, shipped TOML
    policy_archive.records / .errors   the records passed between stages and the error family; small helpers
                                       every floor uses (.text, .files: writing a file whole)
"""

from pathlib import Path as _Path

# `python -m policy_archive` run inside a source checkout imports this folder, not the installed package (the
# current directory comes first on sys.path), and here the floors are the checkout's top folders, not
# subfolders (pyproject's package-dir): without this, a non-editable install used from the clone's root fails
# with "No module named policy_archive.pipeline". An installed package has no pyproject.toml beside it.
_CHECKOUT = _Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "pipeline" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))
