"""Configuration validation: every problem names the file, the key and the reason."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from standin.cli import run_cli

from policy_archive.config import SHIPPED_CONFIG_DIR
from policy_archive.config.bounds import FASTEST_PER_MINUTE, SLOWEST_PER_MINUTE
from policy_archive.config.checks import ConfigError
from policy_archive.config.settings import load_config
from policy_archive.config.writer import DeclaredPages
from policy_archive.crawler.ratelimit import MAX_PAUSE_SECONDS
from policy_archive.errors import ConfigurationError
from policy_archive.records import ID_MAX_LENGTH, Render
from policy_archive.text import invisible_character, lookalike_space

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
        # A fragment is never sent to the server: the URL written into trailers would not be the one fetched (F2).
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/privacy#x"\n', "url", "fragment (#…)"),
        (
            "acme",
            'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/p#x"\nrender = "auto"\n',
            "url",
            'never sent to the server: remove it, or set render = "always"',
        ),
        (
            "acme",
            'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nrender = "always"\n'
            '[[documents.privacy-policy.history]]\nurl = "https://a.b/old#top"\nvalid_until = 2017-01-01\n',
            "history[0].url",
            "never sent to the server",
        ),
        ("acme", 'name = "A"\n[documents."../../etc"]\nurl = "https://a.b/"\n', "documents.../../etc", "must match"),
        ("Bad_Name", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\n', "", "service id"),
        ("acme", '[documents.privacy-policy]\nurl = "https://a.b/"\n', "name", "required"),
        ("acme", 'name = "A"\n', "documents", "required"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nselect = ["main"]\n', "url", "required"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nselect = "main"\n', "select", "list"),
        ("acme", 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nselect = ["di[v"]\n', "select", "CSS"),
        (
            "acme",
            'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nselect = ["\\\\1", "p\\\\0"]\n',
            "select",
            "'\\\\1' cannot be applied: it names NUL or a control character",
        ),
        (
            "acme",
            'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\nremove = [".x:nth-of-type(2)"]\n',
            "remove",
            "'.x:nth-of-type(2)' is not supported by the selector engine (cssselect)",
        ),
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


SLOWEST_RATE = "at least 0.0167 (one request an hour, the slowest rate the rate limiter keeps)"


@pytest.mark.parametrize(
    ("settings", "key", "reason"),
    [
        ("[wayback]\ncdx_per_minute = 0\n", "wayback.cdx_per_minute", f"must be {SLOWEST_RATE}, got 0"),
        # A tiny positive rate waited ~16 h per request, silently (audit 3 #12).
        ("[wayback]\nreplay_per_minute = 0.001\n", "wayback.replay_per_minute", f"must be {SLOWEST_RATE}, got 0.001"),
        ("[wayback]\ncdx_per_minute = 1e-300\n", "wayback.cdx_per_minute", "got 1e-300"),
        ("[wayback]\nreplay_per_minute = 0.0166\n", "wayback.replay_per_minute", "at least 0.0167"),
        ("[wayback]\nmax_listing_bytes = 0\n", "wayback.max_listing_bytes", "greater than 0"),
        ("[wayback]\nmax_listing_bytes = -5\n", "wayback.max_listing_bytes", "greater than 0"),
        ("[wayback]\nmax_listing_bytes = 1.5e8\n", "wayback.max_listing_bytes", "an integer"),
        ("[wayback]\nmax_listing_bytes = nan\n", "wayback.max_listing_bytes", "an integer"),
        ('[wayback]\nmax_listing_bytes = "100MB"\n', "wayback.max_listing_bytes", "an integer"),
        ("[wayback]\nmax_listing_rows = 0\n", "wayback.max_listing_rows", "greater than 0"),
        ("[wayback]\nmax_listing_rows = 1e6\n", "wayback.max_listing_rows", "an integer"),
        ("[wayback]\nmax_listing_rows = 2_000_000_000\n", "wayback.max_listing_rows", "at most 1000000000"),
        ("[wayback]\ntimeout_seconds = inf\n", "wayback.timeout_seconds", ""),
        ("[wayback]\ntimeout_seconds = nan\n", "wayback.timeout_seconds", ""),
        ("[wayback]\ncdx_per_minute = true\n", "wayback.cdx_per_minute", "boolean"),
        ('[wayback]\nreplay_url = "ftp://x/web"\n', "wayback.replay_url", "http or https"),
        (
            '[wayback]\ncdx_url = "http://127.0.0.1/cdx"\nreplay_url = "http://127.0.0.1/web"\nbackoff_seconds = -1\n',
            "wayback.backoff_seconds",
            "at least 0",
        ),
        ('[crawl]\nobey_robots = "yes"\n', "crawl.obey_robots", "true or false"),
        ('[schedule]\ntrack = "every day"\n', "schedule.track", ""),
        # crontab's own rule, not the one-line text rule (which refused a tab as a control character)
        ('[schedule]\ntrack = "0 0 * * 1\\n"\n', "schedule.track", "day-of-week field '1\\n' is not crontab's"),
        ('[schedule]\ntrack = "0 0 last * *"\n', "schedule.track", "day-of-month field 'last'"),
        ('[archive]\ndata = "x"\n', "archive.data", "unknown"),
        ("[nonsense]\nx = 1\n", "nonsense", "unknown"),
        ("[crawl]\nrender_timeout_seconds = 0\n", "crawl.render_timeout_seconds", "at least 1"),
        ('[wayback]\napi = "cdxj"\n', "wayback.api", 'must be one of "auto", "wayback", "pywb", got \'cdxj\''),
        ("[wayback]\napi = 1\n", "wayback.api", "string"),
    ],
)
def test_bad_settings_are_reported_with_key_and_reason(tmp_path, settings, key, reason):
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)
    assert error.file.endswith("settings.toml")
    assert error.key == key
    assert reason in error.reason


def test_a_tab_between_the_cron_fields_is_crontabs_separator(tmp_path):
    """Outside audit 5 (2026-11-29): `track = "0 0 * *\t1"` was refused as holding a control character; crontab(5)
    separates its fields with spaces or tabs."""
    config = load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, '[schedule]\ntrack = "0\\t0 * *\\t1"\n'))
    assert config.settings.schedule.track == "0\t0 * *\t1"


def test_the_bounds_that_keep_the_safety_nets_on_are_allowed_themselves(tmp_path):
    settings = (
        "[wayback]\ncdx_per_minute = 60000\nreplay_per_minute = 60000\nbackoff_seconds = 60\ntimeout_seconds = 1\n"
        "[crawl]\nrender_timeout_seconds = 1\n"
    )
    loaded = load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)).settings
    assert loaded.wayback.cdx_per_minute == loaded.wayback.replay_per_minute == FASTEST_PER_MINUTE
    assert loaded.wayback.timeout_seconds == loaded.crawl.render_timeout_seconds == 1
    assert loaded.wayback.backoff_seconds == 60  # the Internet Archive's endpoints, by default


@pytest.mark.parametrize(
    ("cdx_url", "replay_url"),
    [
        ("http://127.0.0.1:8080/cdx/search/cdx", "http://127.0.0.1:8080/web"),  # the tests' stand-in archive
        ("http://[::1]:8080/coll/cdx", "http://[::1]:8080/coll"),  # one's own pywb
        ("https://archive.org.example/cdx", "https://notarchive.org/web"),  # names that only look alike
    ],
)
def test_another_archive_than_the_internet_archives_may_be_asked_again_at_once(tmp_path, cdx_url, replay_url):
    # The floor of backoff_seconds protects the Internet Archive (it firewalls an IP that ignores its 429s): an
    # archive of one's own may be asked again without a pause, as the tests' stand-in is.
    settings = f'[wayback]\ncdx_url = "{cdx_url}"\nreplay_url = "{replay_url}"\nbackoff_seconds = 0\n'
    assert load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)).settings.wayback.backoff_seconds == 0


@pytest.mark.parametrize(
    ("cdx_url", "replay_url"),
    [
        ("https://web.archive.org/cdx/search/cdx", "https://web.archive.org/web"),
        ("http://127.0.0.1:8080/cdx/search/cdx", "https://web.archive.org/web"),
        ("https://web.archive.org/cdx/search/cdx", "http://127.0.0.1:8080/web"),
        ("https://archive.org/wayback/cdx", "http://127.0.0.1:8080/web"),
    ],
)
@pytest.mark.parametrize("backoff", ["0", "1", "59.9"])
def test_the_internet_archive_is_never_asked_again_within_the_minute_after_its_429(
    tmp_path, cdx_url, replay_url, backoff
):
    # A pause under the rate limiter's spacing changes nothing (1 s at 24 CDX requests a minute: 24 requests in the
    # minute after a 429, as with none): only a minute's sends nothing in it (config/settings.py).
    settings = f'[wayback]\ncdx_url = "{cdx_url}"\nreplay_url = "{replay_url}"\nbackoff_seconds = {backoff}\n'
    root = config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)
    result = run_cli(root, tmp_path / "data", "validate")
    assert result.returncode == 2
    host = "archive.org" if "//archive.org" in cdx_url else "web.archive.org"
    assert result.stderr.splitlines() == [
        f"policy-archive: configuration error: {root / 'settings.toml'}: wayback.backoff_seconds: must be at least 60"
        f" with the Internet Archive ({host}): a shorter pause asks it again within the minute after its 429, and as"
        f" of 2026-11 it firewalls an IP that goes on asking through its 429s for a minute; got {backoff}"
    ]
    accepted = root.parent / "accepted"
    settings = settings.replace(f"backoff_seconds = {backoff}", "backoff_seconds = 60")
    wayback = load_config(config_dir(accepted, {"acrcloud": GOOD_SERVICE}, settings)).settings.wayback
    assert wayback.backoff_seconds == 60


def test_a_fragment_is_declared_with_a_page_rendered_by_its_scripts(tmp_path):
    # A hash-routed page (Open Terms Archive declares Alibaba.com's and wire.com's so) shows what its fragment
    # names once its scripts run: with render = "always", the URL with its fragment is the one opened.
    service = (
        'name = "Wire"\n[documents.privacy-policy]\nurl = "https://wire.com/en/legal/#legal3"\nrender = "always"\n'
        '[[documents.privacy-policy.history]]\nurl = "https://wire.com/legal/#/privacy?x=1"\nvalid_until = 2020-01-01\n'
        'render = "always"\n'
    )
    (document,) = load_config(config_dir(tmp_path, {"wire": service})).documents
    assert document.url == "https://wire.com/en/legal/#legal3"
    assert document.history[0].url == "https://wire.com/legal/#/privacy?x=1"


def test_the_slowest_rate_is_one_request_an_hour_as_the_rate_limiter_keeps(tmp_path):
    settings = "[wayback]\ncdx_per_minute = 0.0167\nreplay_per_minute = 0.0167\n"
    wayback = load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)).settings.wayback
    assert wayback.cdx_per_minute == wayback.replay_per_minute == 0.0167
    # The limiter never queues a request further ahead than MAX_PAUSE_SECONDS: a slower rate would not be kept.
    assert 60 / SLOWEST_PER_MINUTE == MAX_PAUSE_SECONDS


@pytest.mark.parametrize(
    ("written", "said"), [("9999999999999999999999", "9999999999999999999999"), ("1_000_000_001", "1000000001")]
)
def test_a_number_over_its_bound_is_quoted_as_the_integer_written(tmp_path, written, said):
    """Outside audit 31, F6: 9999999999999999999999 was refused as "got 1e+22", a float shown for an integer."""
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, f"[wayback]\nmax_listing_rows = {written}\n")
    assert (error.key, error.reason) == ("wayback.max_listing_rows", f"must be at most 1000000000, got {said}")


def test_an_integer_of_thousands_of_digits_is_a_configuration_error(tmp_path):
    """Python reads no int of more than 4,300 digits: tomllib's ValueError ended `validate` in a traceback."""
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, f"[wayback]\nmax_listing_rows = {'9' * 5000}\n")
    assert error.file.endswith("settings.toml") and error.key == ""
    assert error.reason.startswith("a number in it cannot be read: Exceeds the limit (4300 digits)"), error.reason
    assert "sys." not in error.reason


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


SERVICE_WITH = "name = {name}\n[documents.{doc}]\nurl = {url}\n"


@pytest.mark.parametrize(
    ("name", "doc", "url", "key", "reason"),
    [
        ('"ACME\\u0000"', "privacy-policy", '"https://a.b/"', "name", "U+0000"),
        ('"ACME\\n\\nCaptured-At: 1999-01-01T00:00:00Z"', "privacy-policy", '"https://a.b/"', "name", "U+000A"),
        ('"ACME\\r"', "privacy-policy", '"https://a.b/"', "name", "U+000D"),
        ('"\\u001b[31mACME"', "privacy-policy", '"https://a.b/"', "name", "U+001B"),
        ('"ACME\\u2028x"', "privacy-policy", '"https://a.b/"', "name", "U+2028"),
        ('"ACME\\u202ex"', "privacy-policy", '"https://a.b/"', "name", "U+202E"),
        # Invisible format characters (Cf) make a name look like another (outside audit A, F3).
        ('"A\\u200bB"', "privacy-policy", '"https://a.b/"', "name", "invisible format character (U+200B)"),
        ('"A\\ufeffB"', "privacy-policy", '"https://a.b/"', "name", "invisible format character (U+FEFF)"),
        ('"A\\u00adB"', "privacy-policy", '"https://a.b/"', "name", "U+00AD"),
        ('"A\\u2060B"', "privacy-policy", '"https://a.b/"', "name", "U+2060"),
        ('"A\\u200cB"', "privacy-policy", '"https://a.b/"', "name", "U+200C"),  # not between letters of a script
        ('"A"', '"privacy-policy\\n"', '"https://a.b/"', "documents.privacy-policy\n", "must match"),
        ('"A"', '"Privacy"', '"https://a.b/"', "documents.Privacy", "must match"),
        # Spaces that make a name look like another (issue 11): two in a row, one at an end.
        ('"ACME  Corp"', "privacy-policy", '"https://a.b/"', "name", "has two spaces in a row"),
        ('"ACME Corp "', "privacy-policy", '"https://a.b/"', "name", "has a space at its start or end"),
        ('" ACME"', "privacy-policy", '"https://a.b/"', "name", "has a space at its start or end"),
        ('"A"', "privacy-policy", '"https://user:secret@a.b/"', "url", "user:password@"),
        ('"A"', "privacy-policy", '"https://user@a.b/"', "url", "user:password@"),
        ('"A"', "privacy-policy", '"https://a.b:99999/"', "url", "not a valid URL"),
        ('"A"', "privacy-policy", '"https://a.b:0/"', "url", "its port is 0, on which no server can listen"),
        ('"A"', "privacy-policy", '"https://a.b/\\u001b[2J"', "url", "control characters"),
        ('"A"', "privacy-policy", '"https://a.b/\\u0000"', "url", "control characters"),
    ],
)
def test_names_ids_and_urls_that_could_forge_or_leak_are_refused(tmp_path, name, doc, url, key, reason):
    error = error_of(tmp_path, {"acme": SERVICE_WITH.format(name=name, doc=doc, url=url)})
    assert error.file.endswith("acme.toml")
    assert error.key.endswith(key)
    assert reason in error.reason


def test_a_joiner_between_letters_of_a_script_that_needs_it_is_kept_in_a_name(tmp_path):
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # Persian: the ZWNJ between two letters is spelling
    root = config_dir(
        tmp_path, {"acme": SERVICE_WITH.format(name=f'"{name}"', doc="privacy-policy", url='"https://a.b/"')}
    )
    assert load_config(root).documents[0].service_name == name


def test_a_service_file_name_ending_in_a_newline_is_not_an_id(tmp_path):
    error = error_of(tmp_path, {"acme\n": GOOD_SERVICE})
    assert "must match" in error.reason


def test_a_service_file_that_is_not_utf8_is_named(tmp_path):
    root = config_dir(tmp_path, {})
    (root / "services" / "acme.toml").write_bytes('name = "Société"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as raised:
        load_config(root)
    assert raised.value.file.endswith("acme.toml")
    assert "not UTF-8" in raised.value.reason and "0xE9" in raised.value.reason


@pytest.mark.parametrize(
    ("settings", "key", "reason"),
    [
        ("[wayback]\ncdx_per_minute = nan\n", "wayback.cdx_per_minute", "finite"),
        ("[wayback]\nreplay_per_minute = nan\n", "wayback.replay_per_minute", "finite"),
        ("[wayback]\nreplay_per_minute = -5\n", "wayback.replay_per_minute", "at least 0.0167"),
        ("[wayback]\ntimeout_seconds = inf\n", "wayback.timeout_seconds", "finite"),
        ("[wayback]\ntimeout_seconds = nan\n", "wayback.timeout_seconds", "finite"),
        ("[wayback]\ntimeout_seconds = 0\n", "wayback.timeout_seconds", "at least 1 (a shorter deadline cuts"),
        # Finite and positive, yet each switched a safety net off (outside audit A, F2).
        ("[wayback]\nreplay_per_minute = 1e300\n", "wayback.replay_per_minute", "at most 60000 (a thousand a second"),
        ("[wayback]\ncdx_per_minute = 1e300\n", "wayback.cdx_per_minute", "more is no limit in effect"),
        ("[wayback]\ncdx_per_minute = 60001\n", "wayback.cdx_per_minute", "at most 60000"),
        ("[wayback]\nreplay_per_minute = 1e9\n", "wayback.replay_per_minute", "at most 60000"),
        ("[wayback]\ntimeout_seconds = 1e-9\n", "wayback.timeout_seconds", "at least 1"),
        ("[wayback]\ntimeout_seconds = 0.5\n", "wayback.timeout_seconds", "at least 1"),
        ("[crawl]\nrender_timeout_seconds = 0.01\n", "crawl.render_timeout_seconds", "at least 1"),
        # The Internet Archive's endpoints by default: asking through its 429s for a minute gets an IP firewalled.
        ("[wayback]\nbackoff_seconds = 0\n", "wayback.backoff_seconds", "at least 60 with the Internet Archive"),
        ("[wayback]\nbackoff_seconds = 1\n", "wayback.backoff_seconds", "(web.archive.org)"),
        (
            '[wayback]\ncdx_url = "http://127.0.0.1:8080/cdx"\nbackoff_seconds = 0\n',
            "wayback.backoff_seconds",
            "with the Internet Archive (web.archive.org)",  # replay_url is still the Wayback Machine's
        ),
        (
            '[wayback]\ncdx_url = "https://ARCHIVE.org./cdx"\nreplay_url = "http://127.0.0.1/web"\n'
            "backoff_seconds = 0\n",
            "wayback.backoff_seconds",
            "with the Internet Archive (archive.org.)",
        ),
        ('[wayback]\nreplay_url = "http://127.0.0.1/web?x=1"\n', "wayback.replay_url", "no query (?) or fragment"),
        ('[wayback]\nreplay_url = "http://127.0.0.1/web#x"\n', "wayback.replay_url", "no query (?) or fragment"),
        ('[wayback]\nreplay_url = "http://127.0.0.1/web?"\n', "wayback.replay_url", "appending /TIMESTAMPid_/URL"),
        ("[wayback]\ntimeout_seconds = 1e300\n", "wayback.timeout_seconds", "at most"),
        ("[wayback]\nbackoff_seconds = nan\n", "wayback.backoff_seconds", "finite"),
        ("[wayback]\nbackoff_seconds = -inf\n", "wayback.backoff_seconds", "finite"),
        ("[crawl]\nmax_page_bytes = 0\n", "crawl.max_page_bytes", "greater than 0"),
        ("[crawl]\nmax_page_bytes = -1\n", "crawl.max_page_bytes", "greater than 0"),
        ('[crawl]\nuser_agent = "bot\\r\\nX-Injected: 1"\n', "crawl.user_agent", "U+000D"),
        ('[crawl]\nuser_agent = "bot\\n"\n', "crawl.user_agent", "U+000A"),
        ('[archive]\ndata_dir = "da\\u0000ta"\n', "archive.data_dir", "U+0000"),
        ('[schedule]\nwebhook_url = "https://u:p@hooks.example/x"\n', "schedule.webhook_url", "user:password@"),
    ],
)
def test_numbers_and_header_values_that_disarm_safety_nets_are_refused(tmp_path, settings, key, reason):
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)
    assert error.file.endswith("settings.toml")
    assert error.key == key
    assert reason in error.reason


def test_a_data_dir_that_is_a_file_is_named_with_where_it_was_set(tmp_path, monkeypatch):
    monkeypatch.delenv("POLICY_ARCHIVE_DATA", raising=False)
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    root = config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, f'[archive]\ndata_dir = "{a_file}"\n')
    with pytest.raises(ConfigError) as from_settings:
        load_config(root)
    assert from_settings.value.key == "archive.data_dir" and "is a file" in from_settings.value.reason
    assert from_settings.value.file.endswith("settings.toml")
    with pytest.raises(ConfigError) as below_a_file:
        load_config(root, a_file / "data")
    assert (below_a_file.value.file, below_a_file.value.key) == ("command line", "--data")
    monkeypatch.setenv("POLICY_ARCHIVE_DATA", str(a_file))
    with pytest.raises(ConfigError) as from_env:
        load_config(root)
    assert (from_env.value.file, from_env.value.key) == ("environment", "POLICY_ARCHIVE_DATA")


def test_a_config_option_naming_a_file_says_so_and_names_its_directory(tmp_path):
    """Outside audit 9: ``--config cfg/settings.toml`` said "configuration directory not found"."""
    settings = config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}) / "settings.toml"
    settings.write_text("")
    with pytest.raises(ConfigError) as raised:
        load_config(settings)
    assert "not a directory" in str(raised.value) and str(settings.parent) in str(raised.value)


# --- every problem at once (audit F4), ids too long (F5), one page declared twice -------------------------------

BAD_SERVICES = {
    # The audit's reproduction: two files, two problems each.
    "bad1": 'name = "B"\n[documents.Privacy-Policy]\nurl = "file:///etc/passwd"\n',
    "bad2": 'name = "C\\u0007"\n[documents.ok]\nurl = "https://u:p@x.org/"\n',
    # Not TOML: one problem for the file, whatever else it holds.
    "broken": 'name = "A"\n[documents.privacy-policy\nurl = "ftp://x/"\n',
    "good": GOOD_SERVICE,
}
BAD_SETTINGS = '[wayback]\ncdx_per_minute = 0\napi = "cdxj"\n[crawl]\nobey_robots = "yes"\n'


def test_every_problem_of_every_file_is_named_in_file_then_key_order(tmp_path):
    error = error_of(tmp_path, BAD_SERVICES, BAD_SETTINGS)
    found = [(Path(p.file).name, p.key) for p in error.problems]
    assert found == [
        ("settings.toml", "crawl.obey_robots"),
        ("settings.toml", "wayback.api"),
        ("settings.toml", "wayback.cdx_per_minute"),
        ("bad1.toml", "documents.Privacy-Policy"),
        ("bad1.toml", "documents.Privacy-Policy.url"),
        ("bad2.toml", "documents.ok.url"),
        ("bad2.toml", "name"),
        ("broken.toml", ""),
    ]
    # Each in the words it had when it was the only one; the first is also the error's file, key and reason.
    reasons = [p.reason for p in error.problems]
    assert reasons[1] == 'must be one of "auto", "wayback", "pywb", got \'cdxj\''
    assert reasons[3] == "document id must match [a-z0-9][a-z0-9.-]* (e.g. privacy-policy)"
    assert reasons[4] == "must be an absolute http or https URL, got 'file:///etc/passwd'"
    assert reasons[5] == "URL carries a user name or password (user:password@): they would be recorded"
    assert reasons[6] == "contains a control character (U+0007): 'C\\x07'"
    assert reasons[7].startswith("not valid TOML: ")
    assert (error.key, error.reason) == ("crawl.obey_robots", "must be true or false, got str")
    assert isinstance(error, ConfigurationError) and error.exit_status == 2


def test_every_key_of_one_document_is_checked_and_named_once(tmp_path):
    service = (
        'name = "A"\nextra = 1\n[documents.privacy-policy]\nurl = "https://a.b/"\nselect = ["p:::x", "main"]\n'
        'remove = [1]\nrender = "js"\nsurprise = true\n'
        '[[documents.privacy-policy.history]]\nurl = "https://a.b/1"\n'
        '[[documents.privacy-policy.history]]\nurl = "mailto:x@a.b"\nvalid_until = "2016-13-01"\n'
    )
    error = error_of(tmp_path, {"acme": service})
    assert [p.key for p in error.problems] == [
        "documents.privacy-policy.history[0].valid_until",
        "documents.privacy-policy.history[1].url",
        "documents.privacy-policy.history[1].valid_until",
        "documents.privacy-policy.remove",
        "documents.privacy-policy.render",
        "documents.privacy-policy.select",
        "documents.privacy-policy.surprise",
        "extra",
    ]
    assert error.problems[0].reason == "required"
    assert "invalid CSS selector 'p:::x'" in error.problems[5].reason


def test_history_entries_are_ordered_by_number_not_as_text(tmp_path):
    entries = "".join(
        f'[[documents.privacy-policy.history]]\nurl = "https://a.b/{i}"\nvalid_until = "2016-01-{i + 1:02}"\n'
        for i in range(11)
    )
    service = 'name = "A"\n[documents.privacy-policy]\nurl = "https://a.b/"\n' + entries
    broken = service.replace('url = "https://a.b/2"', "url = 2").replace('url = "https://a.b/10"', "url = 10")
    error = error_of(tmp_path, {"acme": broken})
    assert [p.key for p in error.problems] == [
        "documents.privacy-policy.history[2].url",
        "documents.privacy-policy.history[10].url",
    ]


def test_a_file_that_is_not_toml_is_one_problem_and_the_others_are_still_read(tmp_path):
    error = error_of(tmp_path, {"a": 'name = "A"\n[documents.x\n', "b": 'name = "B"\n'}, "[wayback\n")
    assert [(Path(p.file).name, p.key) for p in error.problems] == [
        ("settings.toml", ""),
        ("a.toml", ""),
        ("b.toml", "documents"),
    ]


def test_a_single_problem_is_one_line_and_every_command_names_them_all(tmp_path):
    root = config_dir(tmp_path, {"good": GOOD_SERVICE, "bad1": BAD_SERVICES["bad1"]})
    single = BAD_SERVICES["bad1"].replace("Privacy-Policy", "ok")
    one = run_cli(config_dir(tmp_path / "one", {"bad2": single}), tmp_path / "data", "validate")
    assert one.returncode == 2 and one.stdout == ""
    assert one.stderr.splitlines() == [
        f"policy-archive: configuration error: {tmp_path / 'one' / 'config' / 'services' / 'bad2.toml'}: "
        "documents.ok.url: must be an absolute http or https URL, got 'file:///etc/passwd'"
    ]
    for command in (["validate"], ["status"], ["backfill"]):
        result = run_cli(root, tmp_path / "data", *command)
        bad1 = root / "services" / "bad1.toml"
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            f"policy-archive: configuration error: {bad1}: documents.Privacy-Policy: document id must match "
            "[a-z0-9][a-z0-9.-]* (e.g. privacy-policy)",
            f"policy-archive: configuration error: {bad1}: documents.Privacy-Policy.url: must be an absolute http or "
            "https URL, got 'file:///etc/passwd'",
            "policy-archive: 2 configuration problems",
        ], command
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("length", [ID_MAX_LENGTH, ID_MAX_LENGTH + 1])
def test_an_id_too_long_is_said_to_be_too_long(tmp_path, length):
    long_id = "p" * length
    service = GOOD_SERVICE.replace("privacy-policy", long_id)
    if length == ID_MAX_LENGTH:
        assert {d.key for d in load_config(config_dir(tmp_path, {long_id: service})).documents} == {
            f"{long_id}/{long_id}"
        }
        return
    error = error_of(tmp_path, {long_id: service})
    assert [(p.key, p.reason) for p in error.problems] == [
        ("", f"service id '{long_id}' is 101 characters long: at most 100 (rename the file)"),
        (f"documents.{long_id}", "document id is 101 characters long: at most 100"),
    ]
    # Too long and not matching: the pattern is what is said (renaming to fit it is the first step).
    error = error_of(tmp_path / "b", {"acme": GOOD_SERVICE.replace("privacy-policy", "P" * length)})
    assert error.problems[0].reason == "document id must match [a-z0-9][a-z0-9.-]* (e.g. privacy-policy)"


def test_validate_warns_of_one_page_declared_twice_and_still_passes(tmp_path):
    other = (
        'name = "Other"\n[documents.terms]\nurl = "HTTPS://WWW.ACRCloud.com:443/privacy#top"\nrender = "always"\n'
        '[documents.privacy-policy]\nurl = "https://www.acrcloud.com/privacy?lang=en"\n'
    )
    same = 'name = "Same"\n[documents.copy]\nurl = "http://www.acrcloud.com:80/privacy"\n'
    root = config_dir(tmp_path, {"acrcloud": GOOD_SERVICE, "other": other, "same": same})
    result = run_cli(root, tmp_path / "data", "validate")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "policy-archive: warning: acrcloud/privacy-policy and other/terms and same/copy declare the same page "
        "(https://www.acrcloud.com/privacy and HTTPS://WWW.ACRCloud.com:443/privacy#top and "
        "http://www.acrcloud.com:80/privacy): each is fetched and recorded separately"
    ]
    assert result.stdout.startswith("configuration OK: 4 documents of 3 services")
    alone = run_cli(config_dir(tmp_path / "b", {"acrcloud": GOOD_SERVICE}), tmp_path / "data", "validate")
    assert alone.returncode == 0 and alone.stderr == ""


def test_an_id_too_long_on_the_command_line_is_said_to_be_too_long(tmp_path):
    root = config_dir(tmp_path, {"acrcloud": GOOD_SERVICE})
    result = run_cli(root, tmp_path / "data", "discover", "--service", "p" * 101, "example.com")
    assert result.returncode == 2
    assert result.stderr == (
        "policy-archive: configuration error: command line: --service: an id is at most 100 characters, got 101\n"
    )


def test_declared_pages_are_read_once_and_a_file_edited_since_read_again(tmp_path):
    """``discover --write``'s index of the pages a directory declares (config.writer.DeclaredPages): one page as
    validate compares them, the asking service's own file left out, a file edited since it was read read again."""
    acme = tmp_path / "www.acme.test.toml"
    acme.write_text('name = "Acme"\n[documents.privacy-policy]\nurl = "https://www.acme.test/privacy"\n')
    (tmp_path / "broken.toml").write_text("not toml [")
    pages = DeclaredPages(tmp_path)
    assert pages.declared_elsewhere("acme.test", "http://acme.test/privacy#top") == (acme, "privacy-policy")
    assert pages.declared_elsewhere("www.acme.test", "https://www.acme.test/privacy") is None
    assert pages.declared_elsewhere("acme.test", "https://www.acme.test/terms") is None
    acme.write_text('name = "Acme"\n[documents.privacy-policy]\nurl = "https://www.acme.test/legal"\n')
    assert pages.declared_elsewhere("acme.test", "https://www.acme.test/privacy") is None
    later = tmp_path / "later.toml"
    later.write_text('name = "Later"\n[documents.terms]\nurl = "https://www.acme.test/privacy"\n')
    pages.add(later)
    assert pages.declared_elsewhere("acme.test", "https://www.acme.test/privacy") == (later, "terms")


# --- names that look like another service's: invisible characters outside category Cf (outside audit 31, F4) ------

# Unicode's Default_Ignorable_Code_Point, as DerivedCoreProperties.txt of Unicode 16.0.0 lists it (4,174 code points)
# with the categories it gives them, and the characters drawn blank.
DEFAULT_IGNORABLE_CATEGORIES = {"Cf", "Mn", "Lo", "Cn"}
INVISIBLE_OUTSIDE_CF = {
    "\u3164": "HANGUL FILLER",
    "\u115f": "HANGUL CHOSEONG FILLER",
    "\u1160": "HANGUL JUNGSEONG FILLER",
    "\uffa0": "HALFWIDTH HANGUL FILLER",
    "\u2800": "BRAILLE PATTERN BLANK",
    "\U0001d159": "MUSICAL SYMBOL NULL NOTEHEAD",
    "\u034f": "COMBINING GRAPHEME JOINER",
    "\u17b4": "KHMER VOWEL INHERENT AQ",
    "\ufe0f": "VARIATION SELECTOR-16",  # after an ASCII letter: it changes nothing there
    "\U000e0100": "VARIATION SELECTOR-17",
}


@pytest.mark.parametrize("character", list(INVISIBLE_OUTSIDE_CF), ids=list(INVISIBLE_OUTSIDE_CF.values()))
def test_a_name_holding_an_invisible_letter_mark_or_blank_is_refused(tmp_path, character):
    """``Exa\u3164mple`` shows as ``Example``: it passed, as only category Cf was refused."""
    point = f"U+{ord(character):04X}"
    name = f'"Exa\\U{ord(character):08X}mple"'
    error = error_of(tmp_path, {"acme": SERVICE_WITH.format(name=name, doc="privacy-policy", url='"https://a.b/"')})
    said = f"contains an invisible format character ({point}): 'Exa{character}mple'"
    assert (error.key, error.reason) == ("name", said)


def test_every_default_ignorable_code_point_is_invisible():
    """The table in policy_archive/text.py against the property's count, and against this Python's categories (a
    mistyped range would take in visible letters or digits)."""
    ranges = [(0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5)]
    ranges += [(0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164)]
    ranges += [(0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3)]
    ranges += [(0x1D173, 0x1D17A), (0xE0000, 0xE0FFF)]
    points = [chr(point) for first, last in ranges for point in range(first, last + 1)]
    assert len(points) == 4174
    assert {unicodedata.category(point) for point in points} == DEFAULT_IGNORABLE_CATEGORIES
    assert [point for point in points if invisible_character(f"a{point}b") is None] == []


@pytest.mark.parametrize(
    "name",
    [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: a ZWNJ between two letters is spelling
        "I \u2764\ufe0f Privacy",  # the emoji form of the heart: VS16 after a symbol
        "\u1824\u180b\u1828",  # Mongolian: a free variation selector after a letter chooses its form
        "\u845b\U000e0100\u98fe",  # an ideograph's registered variant (VS17)
    ],
)
def test_a_joiner_or_variation_selector_a_script_writes_is_kept_in_a_name(tmp_path, name):
    root = config_dir(
        tmp_path, {"acme": SERVICE_WITH.format(name=f'"{name}"', doc="privacy-policy", url='"https://a.b/"')}
    )
    assert load_config(root).documents[0].service_name == name


# The last: a joiner where one stands (after a virama), then a selector with nothing to vary.
@pytest.mark.parametrize("name", ["A\ufe0f\ufe0fB", "\u2764\ufe0f\ufe0f", "\u0915\u094d\u200d\ufe0f"])
def test_a_variation_selector_after_nothing_it_can_vary_is_refused(name):
    assert invisible_character(name) == "U+FE0F"


# --- names that look like another: spaces other than U+0020, joiners where no script needs them (issue 11) -------

LOOKALIKE_SPACES = [chr(point) for point in range(0x110000) if unicodedata.category(chr(point)) == "Zs"][1:]


def test_the_spaces_refused_are_every_space_separator_but_u0020():
    assert [f"U+{ord(space):04X}" for space in LOOKALIKE_SPACES] == [
        "U+00A0", "U+1680", *(f"U+{point:04X}" for point in range(0x2000, 0x200B)), "U+202F", "U+205F", "U+3000"
    ]  # fmt: skip


@pytest.mark.parametrize("space", LOOKALIKE_SPACES, ids=[f"U+{ord(space):04X}" for space in LOOKALIKE_SPACES])
def test_a_name_holding_a_space_other_than_u0020_is_refused_in_one_line(tmp_path, space):
    """``Acme\u200aCorp`` (a hair space) shows as ``AcmeCorp``, ``Acme\u00a0Corp`` as ``Acme Corp``: both passed."""
    point = f"U+{ord(space):04X}"
    name = f'"Acme\\u{ord(space):04X}Corp"'
    error = error_of(tmp_path, {"acme": SERVICE_WITH.format(name=name, doc="privacy-policy", url='"https://a.b/"')})
    said = f"contains a space other than U+0020 ({point}), with which it looks like another name: write a plain space"
    assert (error.key, error.reason) == ("name", f"{said}: {'Acme' + space + 'Corp'!r}")
    assert "\n" not in str(error) and space not in str(error)  # one line, the space shown escaped


def test_an_archive_name_holding_a_no_break_space_is_refused_and_a_plain_space_kept(tmp_path):
    service = SERVICE_WITH.format(name='"Acme Corp"', doc="privacy-policy", url='"https://a.b/"')
    error = error_of(tmp_path, {"acme": service}, '[wayback]\narchive_name = "My\\u00a0Archive"\n')
    assert (error.key, error.reason.split(" (")[0]) == ("wayback.archive_name", "contains a space other than U+0020")
    root = config_dir(tmp_path / "plain", {"acme": service}, '[wayback]\narchive_name = "My Archive"\n')
    config = load_config(root)
    assert (config.settings.wayback.archive_name, config.documents[0].service_name) == ("My Archive", "Acme Corp")


@pytest.mark.parametrize(
    "name",
    [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: ZWNJ between two joining letters
        "\u0915\u094d\u200d\u0937",  # Devanagari: ZWJ after a virama (a half form)
        "\u0915\u094d\u200c\u0937",  # ZWNJ after a virama
        "\u0dc1\u0dca\u200d\u0dbb\u0dd3 \u0dbd\u0d82\u0d9a\u0dcf",  # Sinhala: Sri Lanka, ZWJ after al-lakuna
        "\u0d28\u0d4d\u200d",  # Malayalam: a chillu written with ZWJ, at the end of the name
    ],
)
def test_a_joiner_where_idna_allows_one_is_kept_in_a_name(tmp_path, name):
    root = config_dir(
        tmp_path, {"acme": SERVICE_WITH.format(name=f'"{name}"', doc="privacy-policy", url='"https://a.b/"')}
    )
    assert load_config(root).documents[0].service_name == name


@pytest.mark.parametrize(
    ("name", "point"),
    [
        # Each passed before: between two non-ASCII letters or symbols.
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "U+200D"),  # an emoji ZWJ sequence (a family)
        ("Acme \u2764\u200d\U0001f525", "U+200D"),  # another (a heart on fire)
        ("\u0915\u200d\u0937", "U+200D"),  # Devanagari without the virama
        ("\u0645\u06cc\u200d\u062e", "U+200D"),  # ZWJ where Persian writes ZWNJ
        ("\u0627\u200c\u062e", "U+200C"),  # ZWNJ after ALEF, which joins on no side it could break
        ("\u00e9\u200c\u00e8", "U+200C"),  # Latin letters
        ("\u4e2d\u200d\u6587", "U+200D"),  # ideographs
    ],
)
def test_a_joiner_no_script_needs_there_is_refused_in_one_line(tmp_path, name, point):
    service = SERVICE_WITH.format(name=f'"{name}"', doc="privacy-policy", url='"https://a.b/"')
    error = error_of(tmp_path, {"acme": service})
    joiner = "a zero width joiner" if point == "U+200D" else "a zero width non-joiner"
    said = (
        f"contains {joiner} ({point}) where no script needs one (only after a virama, and a non-joiner also between "
        f"two joining letters, as in domain names): {name!r}"
    )
    assert (error.key, error.reason) == ("name", said)


@settings(deadline=None)  # no time limit: the suite runs under heavy load
@example("\u062e\u200c\u094d\u0627")  # a virama after the non-joiner is a transparent mark there
@given(st.text(st.sampled_from(["\u200d", "\u200c", "\u094d", "\u0dca", "\u0915", "\u062e", "\u0627", "\u064b",
                                "\u2764", "\U0001f468", "\ufe0f", "a", " ", "\u4e2d"]), max_size=12))  # fmt: skip
def test_a_joiner_passes_only_after_a_virama_or_as_a_non_joiner_between_joining_letters(text):
    """A check independent of idna's: every zero width joiner that passes follows a character of canonical
    combining class 9 (a virama), read from this Python's unicodedata; every non-joiner that passes follows one too
    or has, beyond any transparent marks (category Mn: U+064B, the viramas, U+FE0F), a dual-joining letter (U+062E)
    on its left and a right- or dual-joining letter (U+062E, U+0627) on its right."""
    if invisible_character(text) is not None:
        return
    for at, character in enumerate(text):
        if character not in "\u200c\u200d":
            continue
        after_virama = at > 0 and unicodedata.combining(text[at - 1]) == 9
        if character == "\u200d":
            assert after_virama, ascii(text)
            continue
        left = [ch for ch in reversed(text[:at]) if unicodedata.category(ch) != "Mn"][:1]
        right = [ch for ch in text[at + 1 :] if unicodedata.category(ch) != "Mn"][:1]
        assert after_virama or (left == ["\u062e"] and right in (["\u062e"], ["\u0627"])), ascii(text)


@settings(deadline=None)  # no time limit: the suite runs under heavy load
@given(st.text(max_size=20))
def test_a_space_other_than_u0020_is_found_wherever_it_is_and_nothing_else(text):
    spaces = [ch for ch in text if ch != " " and unicodedata.category(ch) == "Zs"]
    assert lookalike_space(text) == (f"U+{ord(spaces[0]):04X}" if spaces else None)


# --- a URL that may hold a secret is never echoed whole by a configuration problem (issue 11) ---------------------

SECRET = "XOXB-SECRET-TOKEN"
SECRET_URL_KEYS = ("schedule.webhook_url", "wayback.cdx_url", "wayback.replay_url")


def settings_with(key: str, url: str) -> str:
    table, name = key.split(".")
    return f"[{table}]\n{name} = {toml_string(url)}\n"


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string, every character outside printable ASCII escaped (controls included)."""
    inner = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else f"\\U{ord(ch):08X}" for ch in text)
    return f'"{inner}"'


@pytest.mark.parametrize("key", SECRET_URL_KEYS)
@pytest.mark.parametrize(
    ("url", "said"),
    [
        # The three of the report (Slack-style: the token is the path), each named by its scheme and host only.
        (f"https://hooks.slack.com/services/T000/B000/{SECRET} extra", "whitespace or control characters in its path"),
        (f"https://hooks.example.com:700000/services/{SECRET}", "its port is not a number in 0-65535"),
        (f"https://hooks.example.com/services/{SECRET}\u0007", "whitespace or control characters in its path"),
        (f"https://hooks.example.com/services?token={SECRET}#x y", "whitespace or control characters in its path"),
        (f"https://hooks.example.com:port/{SECRET}", "its port is not a number in 0-65535"),
        (f"https://hooks.example.com/a\u2028/{SECRET}", "whitespace or control characters in its path"),
    ],
)
def test_a_secret_url_is_named_by_scheme_and_host_only(tmp_path, key, url, said):
    """README: the webhook is named "never [by] its path (webhook URLs often carry their secret token there)"; the
    configuration's problems printed the whole URL, which ``schedule`` under systemd writes to the journal."""
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, settings_with(key, url))
    assert error.key == key
    assert said in error.reason
    assert error.reason.endswith("://hooks.slack.com/… (the rest not shown: it may hold a secret token)") or (
        error.reason.endswith("://hooks.example.com/… (the rest not shown: it may hold a secret token)")
    )
    assert SECRET not in str(error) and "services" not in str(error)


@pytest.mark.parametrize(
    "url",
    [
        f"https://hooks.exa mple.com/services/{SECRET}",  # a space in the host
        f"https://hooks.example.com\u0007/services/{SECRET}",  # a control character in it
        f"https://[::1/services/{SECRET}",  # an IPv6 host not closed
        f"hooks.example.com/services/{SECRET}",  # no scheme: no host either
        f"https://user:{SECRET}@hooks.example.com:99999/x",  # a password, and a port out of range
        f"https://{SECRET}@hooks.example.com/a b",  # a user name, and a space
        f"https://hooks.example.com\uff03{SECRET}/x",  # a netloc NFKC makes another (U+FF03, a full-width #)
        f"ftp://hooks.example.com/{SECRET} x",
    ],
)
def test_a_secret_url_whose_host_cannot_be_read_is_not_shown_at_all(tmp_path, url):
    error = error_of(tmp_path, {"acrcloud": GOOD_SERVICE}, settings_with("schedule.webhook_url", url))
    assert error.key == "schedule.webhook_url"
    assert SECRET not in str(error) and "services" not in str(error)
    assert "hooks.exa" not in str(error) or "/… (the rest not shown" in str(error)


def test_a_replay_url_with_a_query_is_refused_without_its_query(tmp_path):
    error = error_of(
        tmp_path, {"acrcloud": GOOD_SERVICE}, settings_with("wayback.replay_url", f"https://a.b/web?k={SECRET}")
    )
    assert "no query (?) or fragment" in error.reason and SECRET not in str(error)


def test_a_document_url_is_still_quoted_whole(tmp_path):
    """A page's URL is recorded in every commit of its document: its problems show it as written."""
    url = "https://a.b/privacy policy"
    error = error_of(tmp_path, {"acme": SERVICE_WITH.format(name='"Acme"', doc="privacy-policy", url=f'"{url}"')})
    assert error.reason == f"URL contains whitespace or control characters: {url!r}"


def test_validate_and_schedule_print_no_secret_of_the_webhook_url(tmp_path):
    """The report's reproduction, through the command line: both commands exit 2 naming the key, not the token."""
    root = config_dir(
        tmp_path,
        {"acrcloud": GOOD_SERVICE},
        settings_with("schedule.webhook_url", f"https://hooks.slack.com/services/T000/B000/{SECRET} extra"),
    )
    for command in ("validate", "schedule"):
        result = run_cli(root, tmp_path / "data", command)
        assert result.returncode == 2, (command, result.stderr)
        assert "schedule.webhook_url" in result.stderr and "https://hooks.slack.com/…" in result.stderr, command
        assert SECRET not in result.stdout + result.stderr, command


# The parts of a URL a secret may be in, drawn from characters a URL may hold, and the mistakes made in one.
SECRET_TEXT = st.text(st.sampled_from("ABCXYZabcxyz0123456789-_.~"), max_size=16)
TYPOS = st.sampled_from([" ", "\t", "\u0007", "\x7f", "\u2028", "\u0085", "\u00a0", "\u3000", "\x00"])


@settings(deadline=None, max_examples=300)  # no time limit: the suite runs under heavy load
@given(
    key=st.sampled_from(SECRET_URL_KEYS),
    scheme=st.sampled_from(["https", "http", "ftp", "", "HTTPS"]),
    host=st.sampled_from(["hooks.slack.com", "h.example", "[::1]", "[::1", "ex ample.com", "", "b\u00fccher.example"]),
    port=st.sampled_from(["", ":443", ":700000", ":-1", ":x"]),
    where=st.sampled_from(["user", "password", "path", "query", "fragment"]),
    text=SECRET_TEXT,
    typo=TYPOS,
    typo_at=st.sampled_from(["host", "path", "secret", "end"]),
)
def test_no_problem_of_a_secret_url_holds_its_secret_part(tmp_path_factory, key, scheme, host, port, where, text,
                                                        typo, typo_at):  # fmt: skip
    """Whatever is wrong with the URL (a typo in its host, its path, the secret itself or at its end, which is
    stripped), its problems hold no part of its user name, password, path, query or fragment: the secret is two
    marked halves, ``SECRETA`` and ``SECRETB…``, neither of which may be shown."""
    secret = f"SECRETA{typo if typo_at == 'secret' else ''}SECRETB{text}"
    user = f"{secret}@" if where == "user" else f"u:{secret}@" if where == "password" else ""
    path = f"/services/{secret}" if where == "path" else "/hook"
    query = f"?token={secret}" if where == "query" else ""
    fragment = f"#{secret}" if where == "fragment" else ""
    host = f"{host[:1]}{typo}{host[1:]}" if typo_at == "host" else host
    path = f"/se{typo}{path[3:]}" if typo_at == "path" else path
    url = f"{scheme}://{user}{host}{port}{path}{query}{fragment}{typo if typo_at == 'end' else ''}"
    try:
        load_config(config_dir(tmp_path_factory.mktemp("secret"), {"acrcloud": GOOD_SERVICE}, settings_with(key, url)))
    except ConfigError as error:
        said = str(error)
        assert "SECRETA" not in said and "SECRETB" not in said and "services" not in said, (url, said)


# --- a variation selector only where Unicode gives the character before it variation sequences (issue 11) ---------


@pytest.mark.parametrize(
    ("name", "point"),
    [
        # Each passed before: a selector after any non-ASCII letter was kept, and each shows as the name without it.
        ("Caf\u00e9\ufe0f", "U+FE0F"),
        ("Caf\u00e9\ufe00", "U+FE00"),
        ("Gro\u00df\U000e0100", "U+E0100"),  # an ideographic variation selector after a Latin letter
        ("\u0410\ufe0fcme", "U+FE0F"),  # after a Cyrillic letter
        ("Acme\u0301\ufe0f", "U+FE0F"),  # after a combining mark
        ("\ud55c\ufe0f", "U+FE0F"),  # after a Hangul syllable
        ("Caf\u00e9\u180b", "U+180B"),  # a Mongolian selector after a Latin letter
        ("\u2764\u180b", "U+180B"),  # ... after a symbol
        ("\u2764\U000e0100", "U+E0100"),  # an ideographic one after a symbol
        ("\u845b\ufe0f", "U+FE0F"),  # VS16 after an ideograph, which has none (VS1..VS3 only)
        ("\u1824\ufe0f", "U+FE0F"),  # VS16 after a Mongolian letter, which has the free variation selectors only
    ],
)
def test_a_variation_selector_after_a_character_it_does_not_vary_is_refused(tmp_path, name, point):
    """``Café\ufe0f`` and ``Café`` are drawn alike: two services that look the same (issue 11, 2026-11-29)."""
    assert invisible_character(name) == point
    error = error_of(
        tmp_path, {"acme": SERVICE_WITH.format(name=f'"{name}"', doc="privacy-policy", url='"https://a.b/"')}
    )
    assert (error.key, error.reason) == ("name", f"contains an invisible format character ({point}): {name!r}")


@pytest.mark.parametrize(
    "name",
    [
        "I \u2764\ufe0f Privacy",  # the emoji form of a symbol (So)
        "\u263a\ufe0e",  # the text form of one
        "A \u2229\ufe00 B",  # a math symbol's standardized variant (Sm: the serifed intersection)
        "Hello\u203c\ufe0f",  # an emoji base that is punctuation (Po)
        "\u2139\ufe0f Info",  # ... a letter (Ll)
        "\u845b\ufe00",  # a CJK compatibility variant (VS1 after a unified ideograph)
        "\u845b\U000e0100\u98fe",  # an ideographic variation sequence (VS17)
        "\U00020000\U000e01ef",  # ... after an ideograph of extension B, with the last selector
        "\u1824\u180b\u1828\u180f",  # Mongolian letters' forms
    ],
)
def test_a_variation_selector_after_a_character_it_varies_is_kept(name):
    assert invisible_character(name) is None


SELECTORS = ["\u180b", "\u180d", "\u180f", "\ufe00", "\ufe02", "\ufe0e", "\ufe0f", "\U000e0100", "\U000e01ef"]
LETTERS = st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Nd"))


@settings(deadline=None)  # no time limit: the suite runs under heavy load
@given(base=LETTERS, selector=st.sampled_from(SELECTORS))
def test_a_variation_selector_passes_after_a_letter_only_if_an_ideograph_or_mongolian(base, selector):
    """The letters of every script but the two whose letters have variation sequences of these selectors: any
    selector after one is refused (the four emoji bases of other categories are punctuation or ℹ, not drawn)."""
    ideograph = unicodedata.name(base, "").startswith("CJK UNIFIED IDEOGRAPH-")
    mongolian = 0x1800 <= ord(base) <= 0x18AF
    if not ideograph and not mongolian and base != "\u2139" and invisible_character(base) is None:
        assert invisible_character(base + selector) == f"U+{ord(selector):04X}", ascii(base + selector)


# --- a cdx_url's query never carries a key the listing adds itself (outside audit A, 2026-11-29) -----------------


@pytest.mark.parametrize(
    ("cdx_url", "api", "keys"),
    [
        # the audit's: the listing's own url= came second, so the archive answered for another URL
        (f"https://archive.example/cdx/search/cdx?url=https://a.b/p&matchType=exact&token={SECRET}", "", "url="),
        ("https://archive.example/cdx/search/cdx?from=2019&to=2020", "", "from=, to="),
        ("https://archive.example/cdx/search/cdx?showResumeKey=true&limit=5", '"wayback"', "showResumeKey=, limit="),
        ("http://127.0.0.1:8080/coll/cdx?output=json", "", "output="),
        ("http://127.0.0.1:8080/coll/cdx?fl=url,timestamp", "", "fl="),
        ("http://127.0.0.1:8080/index?fl=url&url=x", '"pywb"', "fl=, url="),
    ],
)
def test_a_cdx_url_carrying_a_key_the_listing_sets_is_refused(tmp_path, cdx_url, api, keys):
    settings = f"[wayback]\ncdx_url = {toml_string(cdx_url)}\n" + (f"api = {api}\n" if api else "")
    with pytest.raises(ConfigError) as refused:
        load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, settings))
    assert refused.value.key == "wayback.cdx_url"
    assert refused.value.reason.startswith(f"its query must not carry {keys}: policy-archive adds url=")
    assert "twice" in refused.value.reason
    assert SECRET not in str(refused.value) and "archive.example/cdx" not in str(refused.value)


@pytest.mark.parametrize(
    "cdx_url",
    [
        "https://archive.example/cdx/search/cdx?matchType=exact&filter=statuscode:200",
        # the Internet Archive's listing sends no fl or output: a cdx_url's own are kept (README, "Other archives")
        "https://archive.example/cdx/search/cdx?fl=urlkey,timestamp,original,mimetype,statuscode,digest,length",
        f"http://127.0.0.1:8080/coll/cdx?token={SECRET}",
    ],
)
def test_a_cdx_url_with_a_query_of_its_own_is_accepted(tmp_path, cdx_url):
    settings = f"[wayback]\ncdx_url = {toml_string(cdx_url)}\n"
    assert load_config(config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, settings)).settings.wayback.cdx_url == cdx_url


def test_validate_refuses_a_cdx_url_carrying_url_with_exit_2(tmp_path):
    cdx_url = "http://127.0.0.1:9/cdx/search/cdx?url=https://example.com/legal/privacy&matchType=exact"
    config = config_dir(tmp_path, {"acrcloud": GOOD_SERVICE}, f"[wayback]\ncdx_url = {toml_string(cdx_url)}\n")
    result = run_cli(config, tmp_path / "data", "validate")
    assert result.returncode == 2
    assert "wayback.cdx_url: its query must not carry url=: policy-archive adds url=" in result.stderr
    assert "example.com" not in result.stderr
    assert not (tmp_path / "data").exists()
