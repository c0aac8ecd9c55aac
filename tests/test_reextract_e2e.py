"""`reextract` after a declaration fix: the new text is a technical upgrade, never a policy change."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime

from test_backfill_e2e import URL, acrcloud_history, cli, git, write_config

from policy_archive.config.settings import load_config
from policy_archive.pipeline.jobs.reextract import reextract
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.stop_signals import stop_signals_handled


def test_a_selector_fix_becomes_one_technical_upgrade_commit(standin_archive, tmp_path):
    acrcloud_history(standin_archive)
    config = write_config(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    assert cli(config, data, "backfill", "acrcloud/privacy-policy").returncode == 0
    replays = standin_archive.counts()["replay"]

    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text().replace('remove = ["footer", "nav"]', 'remove = ["footer", "nav", "h1"]'))
    before = datetime.now(UTC).replace(microsecond=0)
    result = cli(config, data, "reextract", "acrcloud")
    assert result.returncode == 0, result.stderr
    assert standin_archive.counts()["replay"] == replays, "re-extraction reads the kept WARC, not the archive"

    repo = data / "versions"
    subjects = git(repo, "log", "--format=%s", "main").splitlines()
    assert subjects == [
        "Apply technical upgrade on ACRCloud Privacy Policy",
        "Record new changes of ACRCloud Privacy Policy",
        "First record of ACRCloud Privacy Policy",
    ]
    upgrade = git(repo, "log", "-1", "--format=%aI%n%B", "main")
    assert datetime.fromisoformat(upgrade.splitlines()[0]) >= before
    assert "Captured-At: 2018-05-28T08:00:07Z" in upgrade  # still the capture it was made from
    assert f"Snapshot-Url: {standin_archive.replay_url}/20180528080007id_/{URL}" in upgrade

    again = cli(config, data, "reextract")
    assert again.returncode == 0, again.stderr
    assert len(git(repo, "log", "--format=%H", "main").splitlines()) == 3
    shown = cli(config, data, "show", "acrcloud/privacy-policy")
    assert shown.returncode == 0 and "General Data Protection Regulation" in shown.stdout


def test_rebuild_recomputes_the_history_from_the_captures(standin_archive, tmp_path):
    acrcloud_history(standin_archive)
    config = write_config(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    assert cli(config, data, "backfill", "acrcloud/privacy-policy", "--strategy", "all").returncode == 0
    repo = data / "versions"
    dates_before = git(repo, "log", "--format=%aI", "main").splitlines()
    heading = "# Privacy Policy - ACRCloud\n\n# Privacy Policy\n"  # the page's <h1>, dropped by the new rule
    assert heading in git(repo, "show", "main:a/acrcloud/privacy-policy.md")

    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text().replace('remove = ["footer", "nav"]', 'remove = ["footer", "nav", "h1"]'))
    result = cli(config, data, "reextract", "--rebuild")
    assert result.returncode == 0, result.stderr
    assert "history rebuilt: 2 versions" in result.stderr

    assert git(repo, "log", "--format=%aI", "main").splitlines() == dates_before  # same dates, no upgrade commit
    subjects = git(repo, "log", "--format=%s", "main").splitlines()
    assert not any(subject.startswith("Apply technical upgrade") for subject in subjects)
    for commit in git(repo, "log", "--format=%H", "main").splitlines():
        assert heading not in git(repo, "show", f"{commit}:a/acrcloud/privacy-policy.md")
    log = cli(config, data, "log", "acrcloud/privacy-policy")
    assert len(log.stdout.splitlines()) == 2


def test_a_stop_signal_leaves_the_documents_not_begun_as_they_were(standin_archive, tmp_path):
    """A SIGTERM (or Ctrl-C) noted before a document is begun: it is named interrupted and left as it was; here the
    signal came before the first one (policy_archive/stop_signals.py), in this process, where it only is noted."""
    acrcloud_history(standin_archive)
    config = write_config(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    assert cli(config, data, "backfill", "acrcloud/privacy-policy").returncode == 0
    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text().replace('remove = ["footer", "nav"]', 'remove = ["footer", "nav", "h1"]'))
    loaded = load_config(str(config), str(data))

    with stop_signals_handled() as stop, open_workspace(loaded, "reextract") as workspace:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.received
        report = reextract(workspace, loaded.select(()))

    assert report.recorded == []
    assert [(failure.document, failure.reason) for failure in report.failures] == [
        ("acrcloud/privacy-policy", "interrupted before it was examined again: run again to continue")
    ]
    assert len(git(data / "versions", "log", "--format=%H", "main").splitlines()) == 2, "no technical upgrade"


def test_a_rebuild_whose_every_capture_is_now_refused_fails_the_document(standin_archive, tmp_path):
    """Rules edited so that no capture gives a text any more (here a ``select`` matching nothing; in the field an
    extractor revision refusing a signpost page recorded as a policy): the rebuild makes no version of them, says so
    in one FAILED line with the refusals (exit 1, as plain `reextract` and `verify` say it), and the catalog holds
    each refusal with its reason. Until 2026-11-29 it exited 0 saying nothing, the old versions kept."""
    acrcloud_history(standin_archive)
    config = write_config(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    assert cli(config, data, "backfill", "acrcloud/privacy-policy").returncode == 0
    repo = data / "versions"
    commits = git(repo, "log", "--format=%H", "main").splitlines()
    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text().replace('remove = ["footer", "nav"]', 'select = ["#no-such-part"]'))

    result = cli(config, data, "reextract", "--rebuild", "acrcloud")

    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED acrcloud/privacy-policy:")]
    assert len(failed) == 1, result.stderr
    assert "no version rebuilt: no kept capture gives a version now (refused: " in failed[0]
    assert "history rebuilt" not in result.stderr
    assert "the history is left as it was" in failed[0]
    assert git(repo, "log", "--format=%H", "main").splitlines() == commits
    assert failed[0].endswith(
        "(refused: 5 selector-matched-nothing, 1 not-found, 1 redirected to a home page); the history is left as it was"
    )
    (document,) = json.loads(cli(config, data, "status", "--json").stdout)
    assert document["refused_captures"]["selector-matched-nothing"] == 5, document
    again = cli(config, data, "reextract", "acrcloud")  # plain: the latest version's capture is now refused
    assert again.returncode == 1 and "the capture of the latest version is now refused: selector" in again.stderr
    assert git(repo, "log", "--format=%H", "main").splitlines() == commits, "the version is left as it is"
    # Asked again, it says so again (until 2026-11-29 a second run found no extracted capture: exit 0, silent).
    second = cli(config, data, "reextract", "acrcloud")
    assert second.returncode == 1 and "the capture of the latest version is now refused: selector" in second.stderr

    service.write_text(service.read_text().replace('select = ["#no-such-part"]', 'remove = ["footer", "nav"]'))
    restored = cli(config, data, "reextract", "acrcloud")  # the rules as they were: nothing refused, no upgrade
    assert restored.returncode == 0 and "FAILED" not in restored.stderr, restored.stderr
    assert git(repo, "log", "--format=%H", "main").splitlines() == commits
