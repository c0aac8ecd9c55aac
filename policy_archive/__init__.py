"""policy-archive: track how websites' legal documents change over time, as a dated Git history.

The installed package is one namespace, ``policy_archive``, whose floors are the repository's top folders
(see docs/decisions/0006-package-layout.md). Imports run one way, from the top floor down:

    policy_archive.pipeline   jobs, extraction, scheduling, commands (CLI)
    policy_archive.crawler    fetching: Scrapy spiders, archive sources, rate limits
    policy_archive.archive    storage: WARC captures, SQLite catalog, Git versions
    policy_archive.config     configuration: types, loading, validation, shipped TOML
    policy_archive.records / .errors   the records passed between stages and the error family
"""
