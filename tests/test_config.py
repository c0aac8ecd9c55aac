"""Configuration validation: every problem names the file, the key and the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from policy_archive.config import SHIPPED_CONFIG_DIR
from policy_archive.config.settings import ConfigError, load_config
from policy_archive.records import Render

GOOD_SERVICE = """
name = "ACRCloud"
[documents.privacy-policy]
url = "https://www.acrcloud.com/privacy"
select = ["main"]
remove = [".cookie-banner"]
[[documents.privacy-policy.history]]
url = "https://www.acrcloud.com/privacy.html"
select = ["#content"]
valid_until = "2016-05-01"
"""


def config_dir(tmp_path: Path, services: dict[str, str], settings: str | None = None) -> Path:
    root = tmp_path / "config"
    (root / "services").mkdir(parents=True)
    for name, text in services.items():
        (root / "services" / f"{name}.toml").write_text(text)
    if settings is not None:
        (root / "settings.toml").write_text(settings)
    return root


def error_of(tmp_path: Path, services: dict[str, str], settings: str | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        load_config(config_dir(tmp_path, services, settings))
    return raised.value


def test_shipped_configuration_is_valid_and_declares_the_five_seed_services():
    config = load_config(SHIPPED_CONFIG_DIR)
    assert {d.key for d in config.documents} == {
        "acrcloud/privacy-policy",
        "cimediacloud/privacy-policy",
        "cloudinary/privacy-policy",
        "mediaocean/privacy-policy",
        "sonymusic/privacy-policy",
    }
    assert config.settings.wayback.cdx_per_minute == 24 and config.settings.wayback.replay_per_minute == 480
    assert "policy-archive/" in config.settings.crawl.user_agent


def test_a_full_declaration_loads_with_history_and_rules(tmp_path):
    (declaration,) = load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}), tmp_path / "data").documents
    assert declaration.path == "a/acrcloud/privacy-policy.md"
    assert declaration.display_name == "ACRCloud Privacy Policy"
    old_url, old_rules = declaration.entry_at(datetime(2016, 5, 1, 23, 59, tzinfo=UTC))
    new_url, new_rules = declaration.entry_at(datetime(2016, 5, 2, tzinfo=UTC))
    assert (old_url, old_rules.select) == ("https://www.acrcloud.com/privacy.html", ("#content",))
    assert (new_url, new_rules.select, new_rules.remove) == (declaration.url, ("main",), (".cookie-banner",))
    assert declaration.history[0].valid_until == date(2016, 5, 1)


def test_render_mode_defaults_to_auto_and_may_differ_in_history(tmp_path):
    text = GOOD_SERVICE.replace('select = ["main"]', 'select = ["main"]\nrender = "always"')
    text += 'render = "never"\n'  # the history entry's
    (declaration,) = load_config(config_dir(tmp_path, {"acrcloud": text}), tmp_path / "data").documents
    assert declaration.render is Render.ALWAYS
    assert declaration.render_at(datetime(2016, 5, 1, tzinfo=UTC)) is Render.NEVER
    assert declaration.render_at(datetime(2016, 5, 2, tzinfo=UTC)) is Render.ALWAYS
    (default,) = load_config(config_dir(tmp_path / "b", {"acrcloud": GOOD_SERVICE}), tmp_path / "data").documents
    assert default.render is Render.AUTO and default.history[0].render is Render.AUTO


@pytest.mark.parametrize(
    ("service", "text", "key", "reason"),
    [
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "file:///etc/passwd"\n', "url", "http or https"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "s3://bucket/x"\n', "url", "http or https"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "/privacy"\n', "url", "http or https"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https:///x"\n', "url", "no host"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\ncolour = 1\n', "colour", "unknown"),
        ("acme", 'name = "A"\n[documents."../../etc"]\nurl = "https://a.b/"\n', "documents.../../etc", "must match"),
        ("Bad_Name", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\n', "", "service id"),
        ("acme", '[documents.privacy-policy]\nurl = "https://a.b/"\n', "name", "required"),
        ("acme", 'name = "A"\n', "documents", "required"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nselect = ["main"]\n', "url", "required"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nselect = "main"\n', "select", "list"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nselect = ["di[v"]\n', "select", "CSS"),
        (
            "acme",
            'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\n'
            '[[documents.privacy-policy.history]]\nurl = "https://a.b/old"\nvalid_until = "2016-13-01"\n',
            "valid_until",
            "YYYY-MM-DD",
        ),
        (
            "acme",
            'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\n'
            '[[documents.privacy-policy.history]]\nurl = "https://a.b/1"\nvalid_until = 2017-01-01\n'
            '[[documents.privacy-policy.history]]\nurl = "https://a.b/2"\nvalid_until = 2016-01-01\n',
            "history",
            "oldest first",
        ),
        ("acme", 'name = "A"\n[documents.privacy-policy\n', "", "not valid TOML"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nrender = "yes"\n', "render", "auto"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nrender = true\n', "render", "never"),
        (
            "acme",
            'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\n'
            '[[documents.privacy-policy.history]]\nurl = "https://a.b/1"\nvalid_until = 2017-01-01\nrender = "js"\n',
            "history[0].render",
            "always",
        ),
    ],
)
def test_bad_service_files_are_reported_with_file_key_and_reason(tmp_path, service, text, key, reason):
    error = error_of(tmp_path, {service: text})
    assert error.file.endswith(f"{service}.toml")
    assert error.key.endswith(key)
    assert reason in error.reason


@pytest.mark.parametrize(
    ("settings", "key", "reason"),
    [
        ("[wayback]\ncdx_per_minute = 0\n", "wayback.cdx_per_minute", "greater than 0"),
        ("[wayback]\nmax_listing_bytes = 0\n", "wayback.max_listing_bytes", "greater than 0"),
        ("[wayback]\nmax_listing_bytes = -5\n", "wayback.max_listing_bytes", "greater than 0"),
        ("[wayback]\nmax_listing_bytes = 1.5e8\n", "wayback.max_listing_bytes", "an integer"),
        ("[wayback]\nmax_listing_bytes = nan\n", "wayback.max_listing_bytes", "an integer"),
        ('[wayback]\nmax_listing_bytes = "100MB"\n', "wayback.max_listing_bytes", "an integer"),
        ("[wayback]\ntimeout_seconds = inf\n", "wayback.timeout_seconds", ""),
        ("[wayback]\ntimeout_seconds = nan\n", "wayback.timeout_seconds", ""),
        ("[wayback]\ncdx_per_minute = true\n", "wayback.cdx_per_minute", "boolean"),
        ('[wayback]\nreplay_url = "ftp://x/web"\n', "wayback.replay_url", "http or https"),
        ("[wayback]\nbackoff_seconds = -1\n", "wayback.backoff_seconds", "negative"),
        ('[crawl]\nobey_robots = "yes"\n', "crawl.obey_robots", "true or false"),
        ('[schedule]\ntrack = "every day"\n', "schedule.track", ""),
        ('[archive]\ndata = "x"\n', "archive.data", "unknown"),
        ("[nonsense]\nx = 1\n", "nonsense", "unknown"),
        ("[crawl]\nrender_timeout_seconds = 0\n", "crawl.render_timeout_seconds", "greater than 0"),
    ],
)
def test_bad_settings_are_reported_with_key_and_reason(tmp_path, settings, key, reason):
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)
    assert error.file.endswith("settings.toml")
    assert error.key == key
    assert reason in error.reason


def test_data_directory_precedence(tmp_path, monkeypatch):
    root = config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, '[archive]\ndata_dir = "from-settings"\n')
    monkeypatch.delenv("POLICY_ARCHIVE_DATA", raising=False)
    assert load_config(root).settings.data_dir == Path("from-settings")
    monkeypatch.setenv("POLICY_ARCHIVE_DATA", "from-env")
    assert load_config(root).settings.data_dir == Path("from-env")
    assert load_config(root, "from-option").settings.data_dir == Path("from-option")


def test_document_selection_by_service_or_document(tmp_path):
    other = GOOD_SERVICE.replace("ACRCloud", "Other")
    config = load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE, "other": other}))
    assert [d.key for d in config.select(["acrcloud"])] == ["acrcloud/privacy-policy"]
    assert len(config.select([])) == 2
    with pytest.raises(ConfigError, match="no such document or service"):
        config.select(["acrcloud/terms"])
