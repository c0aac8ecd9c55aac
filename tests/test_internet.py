"""Against the real Internet Archive (skipped by default: `python -m pytest --run-internet tests/test_internet.py`).

Uses the shipped configuration and the default, polite rate limits; a handful of requests.
"""

from __future__ import annotations

import pytest
from test_backfill_e2e import cli, git

from policy_archive.config import SHIPPED_CONFIG_DIR


@pytest.mark.internet
def test_acrcloud_gdpr_update_from_the_wayback_machine(tmp_path):
    data = tmp_path / "data"
    result = cli(
        SHIPPED_CONFIG_DIR,
        data,
        "backfill",
        "acrcloud/privacy-policy",
        "--since",
        "2018-04-01",
        "--until",
        "2018-08-31",
    )
    assert result.returncode == 0, result.stderr
    dates = git(data / "versions", "log", "--format=%aI", "main").splitlines()
    assert dates, "at least one version of ACRCloud's privacy policy between April and August 2018"
    assert "GDPR" in git(data / "versions", "show", "main:a/acrcloud/privacy-policy.md")
