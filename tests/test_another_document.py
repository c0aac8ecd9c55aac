"""A declared document whose URL now serves another document (outside audit B, 2026-11-29): a site redirects its old
terms URL to its privacy page. `track` refuses the capture ``not-the-document``: the privacy policy never becomes a
version of the terms. End to end through the CLI on a stand-in site."""

from __future__ import annotations

from pathlib import Path

from standin.cli import cli_environment, run_cli_with_names
from standin.legal_text import policy_page
from standin.pages import redirect
from standin.sites import StandinSites
from test_fidelity import catalog_rows


def test_a_terms_url_redirected_to_the_privacy_page_is_refused_not_recorded(sites: StandinSites, tmp_path: Path):
    sites.set_page("http://shop.test/terms", redirect("http://shop.test/privacy"))
    sites.set_page("http://shop.test/privacy", policy_page("shop.test", "privacy-policy"))
    config, data = tmp_path / "config", tmp_path / "data"
    (config / "services").mkdir(parents=True)
    (config / "services" / "shop.toml").write_text(
        'name = "Shop"\n[documents.terms-of-service]\nurl = "http://shop.test/terms"\n'
        '[documents.privacy-policy]\nurl = "http://shop.test/privacy"\n',
        encoding="utf-8",
    )
    (config / "settings.toml").write_text("[wayback]\ntimeout_seconds = 5\n")
    env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
    result = run_cli_with_names((), config, data, "track", env=env, said=False)
    rows = {row["document"]: row for row in catalog_rows(data)}
    assert rows["shop/privacy-policy"]["outcome"] != "refused", result.stderr
    terms = rows["shop/terms-of-service"]
    assert terms["outcome"] == "refused", result.stderr
    assert terms["reason"].startswith("not-the-document: the page is a privacy-policy"), terms["reason"]
    assert not (data / "versions" / "s" / "shop" / "terms-of-service.md").exists()
