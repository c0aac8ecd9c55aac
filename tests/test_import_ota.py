"""`import-ota` on real Open Terms Archive declarations (tests/fixtures/ota): what translates, what is named."""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from standin.cli import run_cli, run_import_ota

from policy_archive.config.checks import ConfigError
from policy_archive.config.declarations import load_service
from policy_archive.config.settings import load_config
from policy_archive.config.writer import DocumentDraft, service_toml, slug_id, write_service_file
from policy_archive.records import (
    ID_MAX_LENGTH,
    DocumentDeclaration,
    ExtractionRules,
    HistoryEntry,
    Render,
    is_valid_id,
)

DECLARATIONS = Path(__file__).parent / "fixtures" / "ota" / "declarations"


def import_all(tmp_path: Path, *args: str) -> tuple[Path, object]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    result = run_import_ota(config, tmp_path / "data", str(DECLARATIONS), *args)
    return config, result


def loaded(config: Path) -> dict[str, DocumentDeclaration]:
    return {d.key: d for d in load_config(config).documents}


def test_real_declarations_are_translated_and_every_file_validates(tmp_path):
    config, result = import_all(tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    written = sorted(path.name for path in (config / "services").iterdir())
    assert written == [
        "alexa.toml",
        "asus.toml",
        "binance.toml",
        "bing.toml",
        "ikea.toml",
        "lingualeo.toml",
        "logitech.toml",
    ]
    assert run_cli(config, tmp_path / "data", "validate").returncode == 0
    documents = loaded(config)

    # Logitech: history given out of order, one validUntil at +04:00 (16:31 UTC on 2020-12-09).
    terms = documents["logitech/terms-of-service"]
    assert terms.url == "https://www.logitech.com/en-gb/tos/terms.html"
    assert terms.rules == ExtractionRules(("main .section-container-wrapper",), (".cta-anchor",))
    assert [(e.valid_until, e.rules.select) for e in terms.history] == [
        (date(2020, 12, 8), ("body",)),
        (date(2020, 12, 9), (".col-md-8.col-sm-7.col-xs-12.single-column",)),
        (date(2022, 4, 14), ("#section-i50f58221a2b37ea46c77cfa9452ed85a-padding-options > div:nth-child(2)",)),
    ]
    assert {e.url for e in terms.history} == {"https://www.logitech.com/en-gb/footer/terms-of-use/&id=13177"}

    # Lingualeo: the privacy policy moved to another host; its history keeps the old one.
    privacy = documents["lingualeo/privacy-policy"]
    assert privacy.url == "https://lingualeo.com/en/blog/privacy-policy-en/"
    assert [(e.url, e.valid_until) for e in privacy.history] == [
        ("https://corp.lingualeo.com/privacy-policy-en/", date(2023, 3, 31)),
        ("https://corp.lingualeo.com/privacy-policy-en/", date(2023, 10, 26)),
    ]
    assert privacy.service_name == "Lingualeo"

    # What has no faithful translation is skipped or imported without it, and always named.
    assert "asus/vulnerability-disclosure-policy" not in documents
    assert "ikea/terms-of-service" not in documents
    assert {"asus/privacy-policy", "ikea/privacy-policy", "ikea/trackers-policy", "bing/privacy-policy"} <= set(
        documents
    )
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("FAILED asus/vulnerability-disclosure-policy: not imported:") and "startBefore" in line
        for line in lines
    )
    assert any(line.startswith("FAILED ikea/terms-of-service: not imported:") and "combine" in line for line in lines)
    assert any(
        line.startswith("FAILED bing/privacy-policy: imported without:") and "removeInvisibleText" in line
        for line in lines
    )
    assert any(line.startswith("FAILED parler:") and "no terms" in line.lower() for line in lines)
    # A reviewer reading the file sees the same.
    assert "combine" in (config / "services" / "ikea.toml").read_text()
    assert "removeInvisibleText" in (config / "services" / "bing.toml").read_text()
    assert not any(line.startswith("FAILED logitech") or line.startswith("FAILED lingualeo") for line in lines)


def test_execute_client_scripts_becomes_render_always_or_is_named(tmp_path):
    source = tmp_path / "declarations"
    source.mkdir()
    (source / "Example.json").write_text(
        json.dumps(
            {
                "name": "Example",
                "terms": {"Privacy Policy": {"fetch": "https://example.org/privacy", "executeClientScripts": True}},
            }
        )
    )
    config = tmp_path / "config"
    config.mkdir()
    result = run_import_ota(config, tmp_path / "data", str(source))
    (declaration,) = load_config(config).documents
    raw = tomllib.loads((config / "services" / "example.toml").read_text())
    assert result.returncode == 0, result.stderr
    assert raw["documents"]["privacy-policy"]["render"] == "always"
    assert declaration.url == "https://example.org/privacy"


def test_a_fragment_is_kept_where_the_page_is_rendered_and_left_out_where_it_is_fetched_as_served(tmp_path):
    """A fragment is never sent to the server, so the loader refuses it but with render = "always", where the
    page's scripts may read it (outside audit A, F2): OTA's own declarations have both (2026-11-29: Alibaba.com's
    hash routes run scripts, Outbrain's anchors do not), and neither may cost the document."""
    source = tmp_path / "declarations"
    source.mkdir()
    routed = "https://rules.example/icbu?type=detail#/rule/detail?ruleId=2034"
    (source / "Example.json").write_text(
        json.dumps(
            {
                "name": "Example",
                "terms": {
                    "Privacy Policy": {"fetch": routed, "executeClientScripts": True},
                    "Trackers Policy": {"fetch": "https://example.org/legal/privacy#cookies"},
                },
            }
        )
    )
    (source / "Example.history.json").write_text(
        json.dumps({"Privacy Policy": [{"fetch": "https://example.org/old#top", "validUntil": "2020-01-01T00:00:00Z"}]})
    )
    config = tmp_path / "config"
    config.mkdir()
    result = run_import_ota(config, tmp_path / "data", str(source))
    assert "Traceback" not in result.stderr
    documents = loaded(config)
    assert documents["example/privacy-policy"].url == routed
    assert documents["example/privacy-policy"].render is Render.ALWAYS
    assert documents["example/privacy-policy"].history[0].url == "https://example.org/old"
    assert documents["example/trackers-policy"].url == "https://example.org/legal/privacy"
    text = (config / "services" / "example.toml").read_text()
    assert "# Not translated: the fragment #cookies of its URL (never sent to the server)" in text
    assert "# Not translated: the fragment #top of its URL (never sent to the server)" in text
    assert run_cli(config, tmp_path / "data", "validate").returncode == 0


def test_execute_client_scripts_of_each_history_entry_is_its_render_and_never_merged_away(tmp_path):
    """Outside audit B, finding 4: a history entry's ``executeClientScripts`` was dropped (Binance), and an entry
    differing from the current declaration only in it was merged into it (Alexa), so that captures OTA fetched as
    served would have been rendered. Real declarations (tests/fixtures/ota)."""
    config, result = import_all(tmp_path, "Alexa", "Binance")
    assert result.returncode == 0, result.stderr
    assert run_cli(config, tmp_path / "data", "validate").returncode == 0
    documents = loaded(config)

    # Binance: the current declaration and its history entry both run the page's scripts: both render.
    for kind, until in (("privacy-policy", date(2024, 3, 12)), ("terms-of-service", date(2024, 1, 23))):
        document = documents[f"binance/{kind}"]
        assert document.render is Render.ALWAYS
        (entry,) = document.history
        assert (entry.valid_until, entry.rules.select, entry.render) == (until, ("main",), Render.ALWAYS)
        assert document.render_at(datetime(2023, 6, 1, tzinfo=UTC)) is Render.ALWAYS

    # Alexa: OTA fetched the page as served until 2023-03-27 (select "body", then "div.help-content"), and ran its
    # scripts after. The second entry reads like the current declaration but for that: it is kept, with "auto".
    alexa = documents["alexa/terms-of-service"]
    assert alexa.render is Render.ALWAYS
    assert [(e.valid_until, e.rules.select, e.render) for e in alexa.history] == [
        (date(2020, 11, 9), ("body",), Render.AUTO),
        (date(2023, 3, 27), ("div.help-content",), Render.AUTO),
    ]
    assert alexa.render_at(datetime(2022, 1, 1, tzinfo=UTC)) is Render.AUTO
    assert alexa.render_at(datetime(2023, 3, 28, tzinfo=UTC)) is Render.ALWAYS
    text = (config / "services" / "alexa.toml").read_text()
    raw = tomllib.loads(text)["documents"]["terms-of-service"]
    # Written on each entry (a history entry does not take its document's render), and said in a comment.
    assert [entry.get("render") for entry in raw["history"]] == ["auto", "auto"]
    assert "executeClientScripts" in text


def test_history_entries_differing_only_in_running_scripts_stay_apart(tmp_path):
    source = tmp_path / "declarations"
    source.mkdir()
    page = {"fetch": "https://example.org/tos", "select": "main"}
    (source / "Scripts.json").write_text(json.dumps({"name": "Scripts", "terms": {"Terms of Service": page}}))
    history = [
        {**page, "validUntil": "2019-01-01T00:00:00Z"},
        {**page, "executeClientScripts": True, "validUntil": "2020-01-01T00:00:00Z"},
        {**page, "executeClientScripts": True, "validUntil": "2021-01-01T00:00:00Z"},
        {**page, "executeClientScripts": False, "validUntil": "2022-01-01T00:00:00Z"},
    ]
    (source / "Scripts.history.json").write_text(json.dumps({"Terms of Service": history}))
    config = tmp_path / "config"
    config.mkdir()
    result = run_import_ota(config, tmp_path / "data", str(source))
    assert result.returncode == 0, result.stderr
    (declaration,) = load_config(config).documents
    # The two rendering entries are one (the same in every respect); the last one reads like the current
    # declaration (no scripts, auto) and is merged into it; the first is kept: the entry after it renders.
    assert declaration.render is Render.AUTO
    assert [(e.valid_until, e.render) for e in declaration.history] == [
        (date(2019, 1, 1), Render.AUTO),
        (date(2021, 1, 1), Render.ALWAYS),
    ]
    assert declaration.render_at(datetime(2018, 6, 1, tzinfo=UTC)) is Render.AUTO
    assert declaration.render_at(datetime(2019, 6, 1, tzinfo=UTC)) is Render.ALWAYS
    assert declaration.render_at(datetime(2021, 6, 1, tzinfo=UTC)) is Render.AUTO


def test_nothing_is_overwritten_without_force(tmp_path):
    config, first = import_all(tmp_path, "Lingualeo")
    assert first.returncode == 0, first.stderr
    target = config / "services" / "lingualeo.toml"
    target.write_text(target.read_text() + "# edited by hand\n")
    edited = target.read_text()
    _, again = import_all(tmp_path, "lingualeo", "Logitech")
    assert again.returncode == 2
    assert "lingualeo.toml" in again.stderr and "--force" in again.stderr
    assert target.read_text() == edited
    assert not (config / "services" / "logitech.toml").exists()  # nothing written at all
    _, forced = import_all(tmp_path, "--force", "lingualeo")
    assert forced.returncode == 0, forced.stderr
    assert "edited by hand" not in target.read_text()


def test_output_directory_service_names_and_collection_root(tmp_path):
    collection = tmp_path / "collection"
    shutil.copytree(DECLARATIONS, collection / "declarations")
    output = tmp_path / "elsewhere"
    result = run_import_ota(
        tmp_path / "no-config", tmp_path / "data", str(collection), "Logitech", "--output", str(output)
    )
    assert result.returncode == 0, result.stderr
    assert [path.name for path in output.iterdir()] == ["logitech.toml"]
    unknown = run_import_ota(
        tmp_path / "no-config", tmp_path / "data", str(collection), "Nope", "--output", str(output)
    )
    assert unknown.returncode == 2 and "Nope" in unknown.stderr
    missing = run_import_ota(tmp_path / "no-config", tmp_path / "data", str(collection))
    assert missing.returncode == 2 and "configuration directory" in missing.stderr
    assert not (tmp_path / "data").exists()


def test_history_entries_ending_the_same_day_are_merged_and_named(tmp_path):
    source = tmp_path / "declarations"
    source.mkdir()
    (source / "Same Day.json").write_text(
        json.dumps({"name": "Same Day", "terms": {"Terms of Service": {"fetch": "https://example.org/tos"}}})
    )
    (source / "Same Day.history.json").write_text(
        json.dumps(
            {
                "Terms of Service": [
                    {"fetch": "https://example.org/b", "validUntil": "2021-05-01T18:00:00Z"},
                    {"fetch": "https://example.org/a", "validUntil": "2021-05-01T09:00:00.000Z"},
                    {"fetch": "https://example.org/tos", "select": "main", "validUntil": "2022-01-01T00:00:00Z"},
                    {"fetch": "https://example.org/tos", "select": "main", "validUntil": "2022-06-01T00:00:00Z"},
                ]
            }
        )
    )
    config = tmp_path / "config"
    config.mkdir()
    result = run_import_ota(config, tmp_path / "data", str(source))
    (declaration,) = load_config(config).documents
    assert declaration.service_id == "same-day"
    # Equal consecutive entries are one; of two ending on 2021-05-01 the later one is kept, the other named.
    assert [(e.url, e.valid_until, e.rules.select) for e in declaration.history] == [
        ("https://example.org/b", date(2021, 5, 1), ()),
        ("https://example.org/tos", date(2022, 6, 1), ("main",)),
    ]
    assert result.returncode == 1
    assert "FAILED same-day/terms-of-service: imported without:" in result.stderr
    assert "https://example.org/a" in result.stderr


def _terms(*types: str) -> dict[str, dict[str, str]]:
    return {kind: {"fetch": f"https://example.org/{slug_id(kind, 'document')}"} for kind in types}


# Two things that would get one id: the later one is named and skipped, everything else is imported (exit 1).
SAME_ID = {
    "two terms types of a service": (
        {"Bar.json": {"name": "Bar", "terms": _terms("Privacy Policy", "Privacy-Policy", "Terms of Service")}},
        "FAILED bar/privacy-policy: not imported: Privacy-Policy: same id as Privacy Policy",
        {"bar/privacy-policy", "bar/terms-of-service"},
    ),
    "two services": (
        {
            "Foo!.json": {"name": "Foo!", "terms": _terms("Privacy Policy")},
            "Foo?.json": {"name": "Foo?", "terms": _terms("Terms of Service")},
        },
        "FAILED foo: not imported: Foo?.json: same id as Foo!.json",
        {"foo/privacy-policy"},
    ),
}


@pytest.mark.parametrize("case", list(SAME_ID))
def test_two_declarations_with_one_id_name_the_later_and_import_the_rest(tmp_path, case):
    files, failed, documents = SAME_ID[case]
    source = tmp_path / "declarations"
    shutil.copytree(DECLARATIONS, source, ignore=lambda _directory, names: [n for n in names if "Logitech" not in n])
    for name, declaration in files.items():
        (source / name).write_text(json.dumps(declaration))
    config = tmp_path / "config"
    config.mkdir()
    result = run_import_ota(config, tmp_path / "data", str(source))
    assert result.returncode == 1, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("FAILED")] == [failed]
    assert ".writing-" not in result.stderr
    keys = set(loaded(config))
    assert {key for key in keys if not key.startswith("logitech/")} == documents
    assert any(key.startswith("logitech/") for key in keys)  # the good service beside them is imported too


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Open Terms Archive", "open-terms-archive"),
        ("Privacy Policy", "privacy-policy"),
        ("Amazon.com", "amazon.com"),
        ("L'Oréal", "l-oreal"),
        ("AT&T", "at-t"),
        ("..Odd -. Name..", "odd.name"),
    ],
)
def test_ids_are_slugs_of_names(name, expected):
    assert slug_id(name, "service") == expected


def test_a_name_without_latin_letters_still_gets_a_valid_distinct_id():
    first, second = slug_id("微信", "service"), slug_id("微博", "service")
    assert first != second and first.startswith("service-")


def test_writer_escapes_everything_toml_needs_and_the_loader_reads_it_back(tmp_path):
    name = 'Quote " Backslash \\ Ünïcode ✓ and a [bracket] = sign'  # no tab: a control character, refused
    rules = ExtractionRules(('div[class="a\\"b"]', "#x"), (".cookie",))
    declaration = DocumentDeclaration(
        "odd.service",
        name,
        "terms.of-use",
        'https://example.org/terms?a=1&b="2"',
        rules,
        (HistoryEntry("https://example.org/old", date(2019, 1, 2), ExtractionRules(("main",))),),
    )
    text = service_toml(name, [DocumentDraft(declaration, comments=("a comment\nwith a newline = 1",))], ["top"])
    path = write_service_file(tmp_path, "odd.service", text)
    (read,) = load_service(path)
    assert read == declaration
    assert tomllib.loads(text)["documents"]["terms.of-use"]["url"] == declaration.url
    assert "\nwith a newline = 1" not in text


def test_writer_never_writes_a_file_the_loader_refuses(tmp_path):
    declaration = DocumentDeclaration("bad", "Bad", "privacy-policy", "file:///etc/passwd")
    with pytest.raises(ConfigError) as raised:
        write_service_file(tmp_path, "bad", service_toml("Bad", [DocumentDraft(declaration)]))
    assert "http" in str(raised.value)
    # Named as the file it was to become, not as its copy in the scratch folder it was checked in.
    assert str(raised.value).startswith(f"{tmp_path / 'bad.toml'}: ") and ".writing-" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def _import(tmp_path: Path, declarations: dict[str, str]) -> tuple[Path, object]:
    """import-ota on the real declarations beside ``declarations`` (file name → text), into tmp_path/config."""
    source = tmp_path / "declarations"
    shutil.copytree(
        DECLARATIONS, source, ignore=lambda _dir, names: [n for n in names if "Lingualeo" not in n], dirs_exist_ok=True
    )
    shutil.copy(DECLARATIONS / "Lingualeo.json", source)  # and its history: one good service beside the odd ones
    shutil.copy(DECLARATIONS / "Lingualeo.history.json", source)
    for name, text in declarations.items():
        (source / name).write_text(text, encoding="utf-8")
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    return config, run_import_ota(config, tmp_path / "data", str(source))


def _failed(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("FAILED")]


def test_a_declaration_that_cannot_be_read_is_its_failed_line_and_the_others_are_imported(tmp_path):
    good = '{"name": "%s", "terms": {"Privacy Policy": {"fetch": "https://example.org/p"}}}'
    config, result = _import(
        tmp_path,
        {
            # 200,000 nested lists: json's decoder raised RecursionError (acceptance report 3, finding 3).
            "Deep.json": '{"name": "Deep", "terms": ' + "[" * 200_000 + "]" * 200_000 + "}",
            "Nested.json": '{"name": "Nested", "terms": {"P": {"fetch": "https://example.org/p", "select": '
            + "[" * 40
            + '"main"'
            + "]" * 40
            + "}}}",
            "Large.json": good % "Large" + " " * (4 * 2**20),  # valid JSON, but past the 4 MiB bound
            "Surrogate.json": good % "Surrogate\\ud800",  # a lone surrogate: no UTF-8 file can hold it
            # Python reads no integer of more than 4,300 digits: json's ValueError ended import-ota in a traceback.
            "Number.json": '{"name": "Number", "n": ' + "9" * 5000 + "}",
            "Until.json": good % "Until",
            "Until.history.json": json.dumps(
                {"Privacy Policy": [{"fetch": "https://example.org/o", "validUntil": "9999-12-31T23:00:00-05:00"}]}
            ),
        },
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert _failed(result) == [
        "FAILED deep: not imported: Deep.json cannot be read: nested deeper than Python's JSON decoder goes",
        "FAILED large: not imported: Large.json is larger than 4 MiB (not a declaration)",
        "FAILED nested: not imported: Nested.json is nested deeper than 32 levels (not a declaration)",
        "FAILED number: not imported: Number.json cannot be read: Exceeds the limit (4300 digits) for integer "
        "string conversion: value has 5000 digits",
        "FAILED surrogate: not imported: Surrogate.json cannot be read: it holds a lone surrogate (surrogates not "
        "allowed)",
        "FAILED until/privacy-policy: not imported: Privacy Policy: a history entry has no readable validUntil "
        '("9999-12-31T23:00:00-05:00")',
    ]
    assert set(loaded(config)) == {"lingualeo/privacy-policy", "lingualeo/terms-of-service"}


def test_a_declaration_that_is_not_a_regular_file_is_refused_unread(tmp_path):
    """Git keeps symbolic links: a cloned collection may hold one to a file outside it, or to /dev/stdin, and a FIFO's
    open waits for ever (audit 11: import-ota hung, nothing said). Each is its FAILED line, unread; the others are
    imported."""
    good = '{"name": "%s", "terms": {"Privacy Policy": {"fetch": "https://example.org/p"}}}'
    outside = tmp_path / "Outside.json"
    outside.write_text(good % "Outside", encoding="utf-8")  # a valid declaration, but not in the collection
    source = tmp_path / "declarations"
    source.mkdir()
    (source / "Linked.json").symlink_to(outside)
    (source / "Stdin.json").symlink_to("/dev/stdin")
    os.mkfifo(source / "Fifo.json")
    (source / "Folder.json").mkdir()
    config, result = _import(tmp_path, {})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert _failed(result) == [
        "FAILED fifo: not imported: Fifo.json is not a regular file (not read)",
        "FAILED folder: not imported: Folder.json is not a regular file (not read)",
        "FAILED linked: not imported: Linked.json is a symbolic link, not a declaration file (not followed)",
        "FAILED stdin: not imported: Stdin.json is a symbolic link, not a declaration file (not followed)",
    ]
    assert set(loaded(config)) == {"lingualeo/privacy-policy", "lingualeo/terms-of-service"}


def test_ids_from_long_names_are_cut_to_the_id_limit_and_stay_distinct():
    long_name = "The Very Long Official Legal Name Of This Company " * 6  # 306 characters (acceptance report 3)
    first, second = slug_id(long_name, "service"), slug_id(long_name + "Ltd", "service")
    assert len(first) == len(second) == ID_MAX_LENGTH
    assert is_valid_id(first) and is_valid_id(second) and first != second
    assert first.startswith("the-very-long-official-legal-name-of-this-company-the-very-long")
    assert first == slug_id(long_name, "service")  # the same name, the same id: a rerun replaces the same file
    assert slug_id("a" * ID_MAX_LENGTH, "service") == "a" * ID_MAX_LENGTH  # at the limit: not cut


def test_a_long_service_name_is_kept_whole_under_a_shortened_id_and_one_past_the_name_limit_is_named(tmp_path):
    name = ("Über Long Company Name " * 7).strip()  # 160 characters: a valid name whose slug is longer than an id
    legal = (
        "The Very Long Official Legal Name Of This Company " * 6
    ).strip()  # a long legal name (acceptance report 3)
    terms_type = "Terms " * 50
    fetch = {"fetch": "https://example.org/t"}
    declarations = {
        "Long.json": json.dumps({"name": name, "terms": {terms_type: fetch}}),
        "Legal.json": json.dumps({"name": legal, "terms": {"Privacy Policy": fetch}}),
        "Longer.json": json.dumps({"name": "x" * 1_001, "terms": {"P": {"fetch": "https://example.org/p"}}}),
    }
    config, result = _import(tmp_path, declarations)
    assert result.returncode == 1, result.stderr
    assert _failed(result) == [
        "FAILED longer: not imported: Longer.json: its name is longer than 1,000 characters (not a name)"
    ]
    documents = loaded(config).values()
    (written,) = [d for d in documents if d.service_name == name]
    assert len(written.service_id) == len(written.document_id) == ID_MAX_LENGTH
    assert (config / "services" / f"{written.service_id}.toml").is_file()
    # The 306-character name: imported whole, under its id cut to the limit with a hash of the whole name.
    (kept,) = [d for d in documents if d.service_name == legal]
    assert kept.service_id == slug_id(legal.strip(), "service") and len(kept.service_id) == ID_MAX_LENGTH
    assert kept.service_id.startswith("the-very-long-official-legal-name-of-this-company-")
    assert kept.document_id == "privacy-policy" and f"wrote {config / 'services' / kept.service_id}.toml" in (
        result.stdout
    )
    assert run_cli(config, tmp_path / "data", "validate").returncode == 0
    # Stable: imported again (--force), the same name gives the same file.
    again = run_import_ota(config, tmp_path / "data", str(tmp_path / "declarations"), "Legal", "--force")
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"wrote {config / 'services' / kept.service_id}.toml\n"


def test_text_from_a_declaration_reaches_stderr_as_one_printable_line(tmp_path):
    forged = "X\nFAILED lingualeo/privacy-policy: forged\n"
    config, result = _import(
        tmp_path,
        {
            "Inject.json": json.dumps(
                {
                    "name": "Inject",
                    "terms": {
                        forged: {"combine": [{"fetch": "https://example.org/a"}]},
                        "Privacy\x00Policy\x1b[31m": {
                            "fetch": "https://example.org/p",
                            "filter": ['a\n[documents.evil]\nurl = "http://127.0.0.1:22/"\u202e'],
                        },
                    },
                }
            )
        },
    )
    assert result.returncode == 1, result.stderr
    failed = _failed(result)
    assert len(failed) == 2 and all(line.startswith("FAILED inject/") for line in failed)
    assert "X\\nFAILED lingualeo/privacy-policy: forged\\n: combine" in failed[0]
    assert "Privacy\\x00Policy\\x1b[31m: filter functions a\\n[documents.evil]" in failed[1]
    assert "\\u202e" in failed[1]
    # Every stderr line is one of ours: nothing a declaration wrote starts a line (``LOOKUP``: the stand-in
    # resolver's, tests/standin/fixed_dns.py).
    assert all(line.startswith(("FAILED inject/", "imported ", "LOOKUP ")) for line in result.stderr.splitlines())
    # The written file keeps them as one-line comments (TOML refuses NUL and ESC in a comment) and loads.
    assert set(loaded(config)) == {
        "lingualeo/privacy-policy",
        "lingualeo/terms-of-service",
        "inject/privacy-policy-31m",
    }
    assert "[documents.evil]" not in tomllib.loads((config / "services" / "inject.toml").read_text())["documents"]


@pytest.mark.parametrize("name", ["Ze\u202ed", "Exa\u200bmple", "Acme\nCorp", "Caf\u00e9\ufe0f"])
def test_a_service_name_with_a_control_or_invisible_character_is_not_imported_and_named_as_the_service(tmp_path, name):
    """Outside audit 31 (2026-11-29), finding 5: ``Ze\u202ed`` was written as ``name = "Ze d"`` without a word, and
    a U+200B name failed as its document's problem: OTA's name is kept as it is or the service is not imported."""
    declaration = {"name": name, "terms": {"Privacy Policy": {"fetch": "https://example.org/p"}}}
    config, result = _import(tmp_path, {"Odd.json": json.dumps(declaration)})
    assert result.returncode == 1, result.stderr
    (failed,) = _failed(result)
    assert failed.startswith("FAILED odd: not imported: Odd.json: its name holds a control or invisible character (U+")
    assert not (config / "services" / "odd.toml").exists()
    assert set(loaded(config)) == {"lingualeo/privacy-policy", "lingualeo/terms-of-service"}


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Acme\u00a0Corp", "holds a space other than U+0020 (U+00A0)"),
        ("Acme\u200aCorp", "holds a space other than U+0020 (U+200A)"),
        ("Acme\u3000Corp", "holds a space other than U+0020 (U+3000)"),
        ("Acme  Corp", "has two spaces in a row"),
        (" Acme Corp", "has a space at its start or end"),
        ("Acme Corp ", "has a space at its start or end"),
    ],
)
def test_a_service_name_whose_spaces_the_loader_refuses_is_not_imported_and_named(tmp_path, name, said):
    """The loader refuses a name holding a space other than U+0020, two in a row or one at an end (issue 11): each
    makes it look like another name. OTA's name was written tidied (``Acme Corp``) without a word; now, as for a
    control character, the service is not imported, named, exit 1: the name recorded is OTA's, or none."""
    declaration = {"name": name, "terms": {"Privacy Policy": {"fetch": "https://example.org/p"}}}
    config, result = _import(tmp_path, {"Acme.json": json.dumps(declaration)})
    assert result.returncode == 1, result.stderr
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    assert _failed(result) == [
        f"FAILED acme: not imported: Acme.json: its name {said}, which the loader refuses: '{shown}'"
    ]
    assert not (config / "services" / "acme-corp.toml").exists() and not (config / "services" / "acme.toml").exists()
    assert set(loaded(config)) == {"lingualeo/privacy-policy", "lingualeo/terms-of-service"}


@pytest.mark.parametrize("name", ["\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u0915\u200d\u0937"])
def test_a_service_name_with_a_joiner_no_script_needs_is_not_imported(tmp_path, name):
    declaration = {"name": name, "terms": {"Privacy Policy": {"fetch": "https://example.org/p"}}}
    config, result = _import(tmp_path, {"Odd.json": json.dumps(declaration)})
    assert result.returncode == 1, result.stderr
    (failed,) = _failed(result)
    assert "Odd.json: its name holds a control or invisible character (U+200D)" in failed
    assert set(loaded(config)) == {"lingualeo/privacy-policy", "lingualeo/terms-of-service"}


def test_a_refused_service_name_is_quoted_shortened_with_what_it_hides_escaped(tmp_path):
    """A name with a control character is refused before its length is checked: it was quoted whole (a name of a
    million characters, a line of a million). It is shown as the other quoted values, 80 characters at most."""
    names = {"Long.json": "Acme\n" + "x" * 1_000_000, "Hidden.json": "Exa\u200bmple"}
    terms = {"P": {"fetch": "https://example.org/p"}}
    files = {file: json.dumps({"name": name, "terms": terms}) for file, name in names.items()}
    config, result = _import(tmp_path, files)
    assert result.returncode == 1, result.stderr
    assert _failed(result) == [
        "FAILED hidden: not imported: Hidden.json: its name holds a control or invisible character (U+200B): "
        "'Exa\\u200bmple'",
        "FAILED long: not imported: Long.json: its name holds a control or invisible character (U+000A): "
        f"'Acme\\n{'x' * 74}…'",
    ]


def test_execute_client_scripts_that_is_not_a_boolean_is_named(tmp_path):
    """Outside audit 31, finding 10: ``"executeClientScripts": "yes"`` was taken for false without a word."""
    page = {"fetch": "https://example.org/p", "executeClientScripts": "yes"}
    config, result = _import(tmp_path, {"F.json": json.dumps({"name": "F", "terms": {"Privacy Policy": page}})})
    assert result.returncode == 1, result.stderr
    expected = 'FAILED f/privacy-policy: imported without: Privacy Policy: executeClientScripts "yes"'
    assert expected + " (not true or false)" in _failed(result)
    assert loaded(config)["f/privacy-policy"].render == Render.AUTO


def test_valid_css_the_selector_engine_does_not_implement_is_said_so(tmp_path):
    """Acceptance report 6: cssselect cannot apply a type-less ``:nth-of-type()`` (FedEx's, Arweave's real
    declarations): "not supported by the selector engine", not "invalid CSS selector"; invalid CSS still is."""
    config, result = _import(
        tmp_path,
        {
            "FedEx.json": json.dumps(
                {
                    "name": "FedEx",
                    "terms": {
                        "Privacy Policy": {"fetch": "https://example.org/p", "select": ".fxg-wrapper:nth-of-type(2)"},
                        "Terms of Service": {
                            "fetch": "https://example.org/t",
                            "select": "main",
                            "remove": [".note:first-of-type"],
                        },
                        "Cookie Policy": {"fetch": "https://example.org/c", "select": "main["},
                    },
                }
            )
        },
    )
    assert result.returncode == 1, result.stderr
    assert _failed(result) == [
        "FAILED fedex/privacy-policy: not imported: Privacy Policy: select: CSS selector '.fxg-wrapper:nth-of-type(2)' "
        "is not supported by the selector engine (cssselect): *:nth-of-type() is not implemented",
        "FAILED fedex/terms-of-service: imported without: Terms of Service: remove: CSS selector '.note:first-of-type' "
        "is not supported by the selector engine (cssselect): *:first-of-type is not implemented: the text keeps what "
        "it removed",
        "FAILED fedex/cookie-policy: not imported: Cookie Policy: select: invalid CSS selector 'main[': Expected ident "
        "or '*', got <EOF at 5>",
    ]


def test_selectors_that_are_not_strings_are_named(tmp_path):
    config, result = _import(
        tmp_path,
        {
            "OddSel.json": json.dumps(
                {
                    "name": "OddSel",
                    "terms": {
                        "Privacy Policy": {"fetch": "https://example.org/p", "select": ["main", 5, ["x"], None]},
                        "Terms of Service": {"fetch": "https://example.org/t", "select": "main", "remove": 7},
                        "Cookie Policy": {"fetch": "https://example.org/c", "select": ""},
                    },
                }
            )
        },
    )
    assert result.returncode == 1, result.stderr
    assert _failed(result) == [
        'FAILED oddsel/privacy-policy: not imported: Privacy Policy: select: 5, ["x"], null are not CSS selectors '
        "(a selector is a non-empty string)",
        "FAILED oddsel/terms-of-service: imported without: Terms of Service: remove: 7 is not a CSS selector (left "
        "out: the text keeps what was meant to be removed)",
        'FAILED oddsel/cookie-policy: not imported: Cookie Policy: select: "" is not a CSS selector (a selector is a '
        "non-empty string)",
    ]
    terms = loaded(config)["oddsel/terms-of-service"]
    assert terms.rules == ExtractionRules(("main",), ())
    assert "remove: 7 is not a CSS selector" in (config / "services" / "oddsel.toml").read_text()
    assert {key for key in loaded(config) if key.startswith("oddsel/")} == {"oddsel/terms-of-service"}
