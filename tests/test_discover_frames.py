"""`discover` on home pages whose links are in frames, archived and live alike (pipeline/jobs/home_pages.py
FrameReading): a frameset's frames, the frames of a frameset in a frame (one level further), an iframe-only page
("masked forwarding"); never more than FRAME_PAGES frame pages for one home page, never a frame three levels
deep, and a live frame on an internal address refused as `track` refuses it. End to end through the CLI, on the
stand-in archive and stand-in sites (127.0.0.1)."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime

from standin.cli import cli_environment, run_cli, run_cli_with_names
from standin.hostile import RouteServer
from standin.pages import Page, frameset_html, frameset_page, iframe_page
from standin.sites import StandinSites
from test_discover_links import footer_page, write_settings
from test_discover_list import eras_declared, failed_lines

from policy_archive.pipeline.extraction.links import choose_link
from policy_archive.pipeline.jobs.home_pages import FRAME_LEVELS, FRAME_PAGES, Sighting

SECRET = b'{"AccessKeyId": "ASIA-SECRET"}'


def links(*anchors: tuple[str, str]) -> Page:
    body = "<html><body>" + " | ".join(f"<a href='{href}'>{text}</a>" for href, text in anchors) + "</body></html>"
    return Page(body=body.encode())


NEWS = links(("/news/1", "New shop opened"), ("/blog/privacy", "New privacy rules"))


def framed_sites(sites: StandinSites, secret: RouteServer) -> None:
    # A frameset whose bottom frame links the policy.
    sites.set_page("http://frames.test/", frameset_page("main.html", "bottom.html"))
    sites.set_page("http://frames.test/main.html", NEWS)
    sites.set_page("http://frames.test/bottom.html", links(("/about.html", "About"), ("/privacy.html", "Privacy")))
    # Masked forwarding: the domain's page only frames the real site, which links its policy.
    sites.set_page("http://forward.test/", iframe_page("http://realsite.test/"))
    sites.set_page("http://realsite.test/", links(("/legal/privacy", "Privacy Policy"), ("/shop", "Shop")))
    # A frameset in a frame: banner beside a frameset of menu and content; the menu links the policy.
    sites.set_page("http://nested.test/", frameset_page("banner.html", "body.html"))
    sites.set_page("http://nested.test/banner.html", links(("/", "Home")))
    sites.set_page("http://nested.test/body.html", frameset_page("menu.html", "content.html"))
    sites.set_page("http://nested.test/menu.html", links(("/products", "Products"), ("/privacy", "Privacy Policy")))
    sites.set_page("http://nested.test/content.html", NEWS)
    # Three levels of framesets: the third is not read.
    sites.set_page("http://deep.test/", frameset_page("l1.html"))
    sites.set_page("http://deep.test/l1.html", frameset_page("l2.html"))
    sites.set_page("http://deep.test/l2.html", frameset_page("l3.html"))
    sites.set_page("http://deep.test/l3.html", links(("/privacy", "Privacy Policy")))
    # Framesets all the way: each of the home page's four frames frames three pages of its own.
    sites.set_page("http://many.test/", frameset_page("a.html", "b.html", "c.html", "d.html"))
    for name in "abcd":
        sites.set_page(f"http://many.test/{name}.html", frameset_page(*(f"{name}{n}.html" for n in range(3))))
        for n in range(3):
            sites.set_page(f"http://many.test/{name}{n}.html", links(("/about", "About")))
    # A frameset whose only frame is itself.
    sites.set_page("http://mirror.test/", frameset_page("/"))
    # A frame on an internal service (server-side request forgery through a frame).
    sites.set_page("http://inside.test/", frameset_page(secret.url("/latest/meta-data/iam")))


def test_live_reads_frames_one_level_further_bounded_and_guarded(tmp_path):
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    domains = ("frames.test", "forward.test", "nested.test", "deep.test", "many.test", "mirror.test", "inside.test")
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        with StandinSites() as sites:
            framed_sites(sites, secret)
            env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
            command = ("discover", "--live", *(f"http://{domain}" for domain in domains), "--write")
            # realsite.test, a name the frame leads to, is looked up before it is proposed: answered from a table
            # (a public address), so no name server is asked.
            result = run_cli_with_names(("realsite.test=93.184.216.34",), config, tmp_path / "data", *command, env=env)
            asked = {site: sorted(r.path for r in sites.requests(site) if r.path != "/robots.txt") for site in domains}
            asked_elsewhere = {r.site for r in sites.requests() if r.site not in domains}
        assert secret.paths == []

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    services = config / "services"
    assert eras_declared(services / "frames.test.toml") == [("http://frames.test/privacy.html", "")]
    assert eras_declared(services / "forward.test.toml") == [("http://realsite.test/legal/privacy", "")]
    assert eras_declared(services / "nested.test.toml") == [("http://nested.test/privacy", "")]
    written = sorted(path.name for path in services.iterdir())
    assert written == ["forward.test.toml", "frames.test.toml", "nested.test.toml"]
    assert asked["frames.test"] == ["/", "/bottom.html", "/main.html"]
    assert asked["nested.test"] == ["/", "/banner.html", "/body.html", "/content.html", "/menu.html"]
    assert asked_elsewhere == {"realsite.test"}  # not the tag manager's iframe in <noscript>

    failed = failed_lines(result.stderr)
    unread = "today's home page could not be read"
    assert f"FAILED deep.test: {unread}: frameset: no frame could be read (http://deep.test/l1.html: a frameset " \
        "(its frames read); http://deep.test/l2.html: a frameset inside a frame inside a frame " \
        f"({FRAME_LEVELS} levels are read))" in failed  # fmt: skip
    assert asked["deep.test"] == ["/", "/l1.html", "/l2.html"]
    # many.test: three of the home page's four frames, then the first frame of each one's frameset (an equal
    # share of the rest, whatever order they answer in): six frame pages in all.
    assert "FAILED many.test: no privacy-policy link found on today's home page" in failed
    assert asked["many.test"] == ["/", "/a.html", "/a0.html", "/b.html", "/b0.html", "/c.html", "/c0.html"]
    assert len(asked["many.test"]) == 1 + FRAME_PAGES
    assert f"FAILED mirror.test: {unread}: frameset: its only frames show the home page itself" in failed
    assert asked["mirror.test"] == ["/"]
    (inside,) = [line for line in failed if line.startswith("FAILED inside.test")]
    assert inside.startswith(
        f"FAILED inside.test: {unread}: frameset: no frame could be read ({secret.url('/latest/meta-data/iam')}: "
        f"not fetched: private-address: {secret.url('/latest/meta-data/iam')} (127.0.0.1, loopback;"
    ), inside
    assert len(failed) == 4, result.stderr
    assert result.stderr.splitlines()[-1] == "7 domains: 3 declarations written, 0 unsure, 4 failed"


def test_an_archived_frameset_in_a_frame_is_read_at_the_home_pages_time(tmp_path, standin_archive):
    """nested.test 2001–2004: a frameset of a banner and a frameset of menu and content, the menu linking the
    policy; from 2005 a page of its own. Each frame page is asked of the archive at the home page's time."""
    menu = "<html><body><a href='/products'>Products</a> <a href='/privacy.html'>Privacy Policy</a></body></html>"
    for year in (2001, 2002, 2003, 2004):
        at = f"{year}0101000000"
        standin_archive.add_capture("http://nested.test/", at, frameset_html("banner.html", "body.html"))
        standin_archive.add_capture("http://nested.test/banner.html", at, "<a href='/'>Home</a>")
        standin_archive.add_capture("http://nested.test/body.html", at, frameset_html("menu.html", "news.html"))
        standin_archive.add_capture("http://nested.test/menu.html", f"{year}0101000500", menu)
        standin_archive.add_capture("http://nested.test/news.html", at, NEWS.body)
    for year in (2005, 2006):
        page = footer_page(("/legal/privacy", "Privacy Policy"))
        standin_archive.add_capture("http://nested.test/", f"{year}0101000000", page)
    config = write_settings(tmp_path, standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "nested.test")

    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "http://nested.test/legal/privacy"
    assert document["history"] == [{"url": "http://nested.test/privacy.html", "valid_until": "2004-01-01"}]
    replayed = [r.path for r in standin_archive.requests if r.endpoint == "replay" and "nested.test/" in r.path]
    assert any(path.endswith("/menu.html") for path in replayed), replayed
    assert any(path.endswith("/news.html") for path in replayed), replayed


def test_an_iframe_only_page_names_its_shown_iframes_and_a_page_with_links_none():
    base = "https://parked.example/"
    page = iframe_page("https://real.example/").body
    assert choose_link(page, "text/html", base, "privacy-policy").frames == ("https://real.example/",)
    hidden = (
        "<html><body><iframe src='/a' hidden></iframe><iframe src='/b' width='1' height='1'></iframe>"
        "<iframe src='/c' style='display: none'></iframe><iframe src='/shown'></iframe></body></html>"
    )
    assert choose_link(hidden.encode(), "text/html", base, "privacy-policy").frames == (base + "shown",)
    # A page with a link of any kind is read as itself: its iframes (ads, videos) are not where its links are.
    linked = "<html><body><a href='/about'>About</a><iframe src='/video'></iframe></body></html>"
    choice = choose_link(linked.encode(), "text/html", base, "privacy-policy")
    assert choice.frames == () and choice.iframes == (base + "video",)  # named, not read


# Audit 5 #8: a page with links of its own whose footer (with the policy link) is in an iframe.
IFRAME_FOOTER = (
    "<html><head><title>Shop</title></head><body><nav><a href='/shop'>Shop</a> <a href='/news'>News</a></nav>"
    "<main>Welcome</main><iframe src='/footer.html' style='width:100%;height:40px'></iframe></body></html>"
)
NOT_READ = (
    "the home page shows an iframe (http://iframe.test/footer.html), not read: discover reads iframes only on a"
    " page with no link of its own (elsewhere they are mostly other sites' widgets)"
)


def test_live_a_page_with_links_and_its_footer_in_an_iframe_says_so(tmp_path):
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    with StandinSites() as sites:
        sites.set_page("http://iframe.test/", Page(body=IFRAME_FOOTER.encode()))
        sites.set_page("http://iframe.test/footer.html", links(("/privacy", "Privacy Policy")))
        env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
        result = run_cli(config, tmp_path / "data", "discover", "--live", "http://iframe.test", env=env)
        asked = [r.path for r in sites.requests("iframe.test") if r.path != "/robots.txt"]

    assert result.returncode == 1, result.stderr
    # Not "no links at all (a JavaScript shell or an empty page)", as it was before iframe-only pages were read.
    assert failed_lines(result.stderr) == [
        f"FAILED iframe.test: no privacy-policy link found on today's home page; {NOT_READ}"
    ]
    assert asked == ["/"]


def test_archived_home_pages_with_their_footer_in_an_iframe_say_so_in_the_declaration(tmp_path, standin_archive):
    """2003–2004 the footer is an iframe; from 2005 the page links its policy itself. The no-link era's comment
    says why (the state file keeps it: a resumed run writes the same), and the footer is never asked for."""
    for year in (2003, 2004):
        standin_archive.add_capture("http://iframe.test/", f"{year}0101000000", IFRAME_FOOTER)
    for year in (2005, 2006):
        standin_archive.add_capture("http://iframe.test/", f"{year}0101000000", footer_page(("/privacy", "Privacy")))
    result = run_cli(write_settings(tmp_path, standin_archive), tmp_path / "data", "discover", "iframe.test")

    assert result.returncode == 1, result.stderr  # a span without a link is unsure
    era = "2003-01-01 … 2004-01-01: no link found"
    assert f"UNSURE iframe.test {era}, 2 home-page captures read: no link to the document found; {NOT_READ}\n" in (
        result.stderr
    )
    assert f"# {era} — UNSURE: no link to the document found; {NOT_READ}\n" in result.stdout
    replayed = [r.path for r in standin_archive.requests if r.endpoint == "replay"]
    assert not any(path.endswith("/footer.html") for path in replayed), replayed


def test_a_state_file_keeps_the_iframes_not_read():
    sighting = Sighting(datetime(2003, 1, 1, tzinfo=UTC), iframes=("http://iframe.test/footer.html",))
    assert Sighting.from_json(json.loads(json.dumps(sighting.to_json()))) == sighting
    # A state file written before iframes were noted reads as none.
    saved = {key: value for key, value in sighting.to_json().items() if key != "iframes"}
    assert Sighting.from_json(saved).iframes == ()
