"""Make a manifest of OTA snapshot → version pairs from local copies: ``python -m benchmarks.build_ota``.

``benchmarks/ota_extraction/manifest.json`` (88 pages) and the shared benchmark (10 pages) have been looked at
while the extractor was tuned, so they no longer say how it does on pages it has never seen. This picks a further
set the same way, from Open Terms Archive collections those two sets did not draw on, by rules fixed before any
page is scored (no page is chosen or labelled by looking at our output):

- a collection is three public repositories, ``OpenTermsArchive/C-versions``, ``C-snapshots`` and
  ``C-declarations``, read from local bare copies (``--mirror DIR``: ``DIR/OWNER+NAME/repo``, as the project's
  ``fetch`` tool leaves them);
- for each document of the versions repository, its newest version whose commit names exactly one snapshot
  ("This version was recorded after extracting from snapshot https://github.com/…/commit/SHA"; a document
  assembled from several source pages is left out), paired with the one HTML file that snapshot commit
  changed (a PDF is left out), with the declaration in force when the version was recorded (the newest commit
  of the declarations repository before the version's);
- a page whose site (host without ``www.``) or service any earlier set holds is left out
  (``--exclude-manifest``; its templates have been seen), and so is any ``--exclude-host``; so is a version
  under :data:`SHORTEST_VERSION` bytes (OTA recorded a stub: a heading, an error page);
- at most ``--per-service`` documents per service (the privacy policy, then the terms of service, then the
  others in name order), services in name order, at most ``--limit`` cases.

Labels are mechanical, not hand-made: ``document_type`` from OTA's terms type (``Trackers Policy`` is a
cookie policy); ``declared`` when the declaration's ``select`` is plain CSS (no range selectors) and every one of
its selectors matches in the raw page (the 88-page set's rule: not selectors of a DOM made by scripts);
``language`` from the version's script when it is mostly Chinese or Japanese, else from the page's
``<html lang>``; ``several_documents`` when the declarations fetch two documents of the service from one URL (the
page holds both); ``stated_date`` null (not labelled: this set is for ``benchmarks.extraction``, not
``benchmarks.stated_dates``). ``benchmarks.fetch_ota --manifest
benchmarks/ota_unseen/manifest.json --output DIR`` then writes the pages (add ``--mirror DIR`` to read the same
copies instead of GitHub).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from lxml.cssselect import CSSSelector
from lxml.etree import ParserError, XPathError

from benchmarks.fetch_ota import git_show, mirror_git_dir

OWNER = "OpenTermsArchive"
SNAPSHOT_URL = re.compile(r"https://github\.com/([\w.-]+/[\w.-]+)/commit/([0-9a-f]{40})")
# OTA terms types whose names are not ours once lower-cased and hyphenated.
DOCUMENT_TYPES = {"Trackers Policy": "cookie-policy"}
FIRST_DOCUMENTS = ("Privacy Policy", "Terms of Service")
SHORTEST_VERSION = 1000
HAN = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
ABOUT = (
    "A third OTA extraction set (policy-archive issue 12), of pages the extractor was never tuned on, without its "
    "pages: made by `python -m benchmarks.build_ota` from the collections named in `collections`, by the rules of "
    "that module's docstring; `python -m benchmarks.fetch_ota --manifest benchmarks/ota_unseen/manifest.json "
    "--output DIR` fetches each page.html (the snapshot) and expected.md (the version) at the pinned commit, checks "
    "its sha256 and size, and writes DIR as `benchmarks.extraction --ota DIR` reads it. Labels are mechanical "
    "(document_type from OTA's type, declared when the plain CSS selectors match the raw page, language from "
    "the script or <html lang>, several_documents when one URL is declared for two documents); stated_date is not "
    "labelled."
)
LICENSE = (
    "Open Terms Archive snapshots and versions, ODC-By 1.0 (attribution: Open Terms Archive, opentermsarchive.org)"
)


@dataclass(frozen=True)
class Version:
    """The newest version of one document recorded from exactly one snapshot."""

    path: str
    commit: str
    recorded_at: str
    snapshot_repo: str
    snapshot_commit: str


def git(git_dir: Path, *arguments: str) -> str:
    command = ["git", f"--git-dir={git_dir}", *arguments]
    return subprocess.run(command, capture_output=True, check=True, text=True).stdout


def newest_versions(versions: Path) -> dict[str, Version]:
    """Each version file's newest commit that names exactly one snapshot (one pass over the history)."""
    log = git(versions, "log", "--format=%x01%H%x00%aI%x00%B%x00", "--name-only", "-z", "--no-renames", "HEAD")
    found: dict[str, Version] = {}
    seen: set[str] = set()
    for record in log.split("\x01")[1:]:
        commit, recorded_at, message, *names = record.split("\x00")
        snapshots = SNAPSHOT_URL.findall(message)
        for name in (name.strip("\n") for name in names):
            if not name.endswith(".md") or "/" not in name or name in seen:
                continue
            seen.add(name)  # the newest commit decides: an older single-snapshot version is another text
            if len(snapshots) == 1:
                found[name] = Version(name, commit, recorded_at, *snapshots[0])
    return found


def changed_html(snapshots: Path, commit: str, version_path: str) -> str | None:
    """The snapshot file of ``version_path``'s document that ``commit`` changed, if it is HTML."""
    stem = version_path.removesuffix(".md")
    names = git(snapshots, "diff-tree", "--root", "--no-commit-id", "--name-only", "-r", "-z", commit).split("\x00")
    matching = [name for name in names if name.rsplit(".", 1)[0] == stem]
    return matching[0] if len(matching) == 1 and matching[0].endswith(".html") else None


def declaration_at(declarations: Path | None, service: str, before: str) -> tuple[str | None, dict]:
    """The declarations commit in force before ``before`` and the service's declaration there ({} if none)."""
    if declarations is None:
        return None, {}
    commit = git(declarations, "rev-list", "-1", f"--before={before}", "HEAD").strip()
    if not commit:
        return None, {}
    try:
        text = git_show(declarations, commit, f"declarations/{service}.json")
    except subprocess.CalledProcessError:
        return commit, {}
    return commit, json.loads(text)


def site(url: str) -> str:
    host = re.sub(r"^[a-z]+://", "", url or "").split("/")[0].split(":")[0].lower()
    return host.removeprefix("www.")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def document_type(document: str) -> str:
    return DOCUMENT_TYPES.get(document, slug(document))


def selectors_match(page: bytes, selectors: list) -> bool:
    """Every selector plain CSS and matching in the raw page (so declared extraction can apply it)."""
    if not selectors or not all(isinstance(selector, str) for selector in selectors):
        return False
    try:
        root = lxml.html.document_fromstring(page)
        return all(CSSSelector(selector)(root) for selector in selectors)
    except (ParserError, XPathError, ValueError, SyntaxError):
        return False


def page_language(page: bytes, expected: bytes) -> str | None:
    text = expected.decode("utf-8", "replace")
    letters = sum(character.isalpha() for character in text) or 1
    if len(KANA.findall(text)) > letters * 0.05:
        return "ja"
    if len(HAN.findall(text)) > letters * 0.3:
        return "zh"
    try:
        lang = lxml.html.document_fromstring(page).get("lang") or ""
    except (ParserError, ValueError):
        return None
    return lang.split("-")[0].split("_")[0].lower() or None


def earlier_sets(manifests: list[Path]) -> tuple[set[str], set[str]]:
    """The sites and the services (lower-cased) of the earlier sets' cases."""
    sites, services = set(), set()
    for path in manifests:
        for entry in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            sites.add(site(entry["url"]))
            services.add(entry["service"].lower())
    return sites, services


def cases_of(collection: str, mirror: Path, excluded_sites: set[str], excluded_services: set[str]) -> list[dict]:
    """Every usable case of one collection, before the per-service choice."""
    repos = {part: f"{OWNER}/{collection}-{part}" for part in ("versions", "snapshots", "declarations")}
    versions, snapshots = mirror_git_dir(mirror, repos["versions"]), mirror_git_dir(mirror, repos["snapshots"])
    declarations = mirror_git_dir(mirror, repos["declarations"])
    if versions is None or snapshots is None:
        sys.exit(f"{collection}: no copy of {repos['versions']} and {repos['snapshots']} in {mirror}")
    cases = []
    for path, version in sorted(newest_versions(versions).items()):
        service, document = path.removesuffix(".md").split("/", 1)
        if "/" in document or version.snapshot_repo != repos["snapshots"] or service.lower() in excluded_services:
            continue
        try:
            snapshot_path = changed_html(snapshots, version.snapshot_commit, path)
        except subprocess.CalledProcessError:  # the copy predates the snapshot
            continue
        if snapshot_path is None:
            continue
        declaration_commit, declaration = declaration_at(declarations, service, version.recorded_at)
        terms = declaration.get("terms") or declaration.get("documents") or {}
        rules = terms.get(document) or {}
        url = rules.get("fetch")
        if not isinstance(url, str) or site(url) in excluded_sites:
            continue
        page = git_show(snapshots, version.snapshot_commit, snapshot_path)
        expected = git_show(versions, version.commit, path)
        if len(expected) < SHORTEST_VERSION:
            continue
        shared_url = [other for other, rules in terms.items() if other != document and rules.get("fetch") == url]
        select = rules.get("select")
        select = [select] if isinstance(select, (str, dict)) else select
        remove = rules.get("remove")
        remove = [remove] if isinstance(remove, (str, dict)) else remove
        filters = rules.get("filter")
        language = page_language(page, expected)
        cases.append(
            {
                "case": f"{slug(service)}-{slug(document)}",
                "service": service,
                "document": document,
                "language": language,
                "captured_at": git(snapshots, "log", "-1", "--format=%aI", version.snapshot_commit).strip(),
                "url": url,
                "select": select,
                "remove": remove,
                "needs_browser": bool(rules.get("executeClientScripts")),
                "filters_not_reproduced": filters if filters else None,
                "source": {
                    "snapshot_repo": repos["snapshots"],
                    "snapshot_commit": version.snapshot_commit,
                    "snapshot_path": snapshot_path,
                    "version_repo": repos["versions"],
                    "version_commit": version.commit,
                    "version_path": path,
                    "declaration_repo": repos["declarations"] if declarations else None,
                    "declaration_commit": declaration_commit,
                },
                "document_type": document_type(document),
                "stated_date": None,
                "several_documents": bool(shared_url),
                "declared": selectors_match(page, select or []),
                "text_language": language,
                "files": {"page.html": described(page), "expected.md": described(expected)},
            }
        )
    return cases


def described(body: bytes) -> dict:
    return {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}


def choose(cases: list[dict], per_service: int, limit: int) -> list[dict]:
    def order(case: dict) -> tuple:
        first = FIRST_DOCUMENTS.index(case["document"]) if case["document"] in FIRST_DOCUMENTS else len(FIRST_DOCUMENTS)
        return case["service"].lower(), first, case["document"]

    chosen, taken = [], {}
    for case in sorted(cases, key=order):
        if taken.get(case["service"], 0) < per_service:
            taken[case["service"]] = taken.get(case["service"], 0) + 1
            chosen.append(case)
    names = [case["case"] for case in chosen]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        sys.exit(f"two cases would have the same name: {', '.join(sorted(duplicated))}")
    return chosen[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirror", type=Path, required=True, help="local copies DIR/OWNER+NAME/repo")
    parser.add_argument("--collection", action="append", required=True, help="an OTA collection, e.g. genai-contrib")
    parser.add_argument("--exclude-manifest", type=Path, action="append", default=[], help="an earlier set's cases")
    parser.add_argument("--exclude-host", action="append", default=[], help="a site left out (host without www.)")
    parser.add_argument("--per-service", type=int, default=2)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--output", type=Path, required=True, help="the manifest to write")
    arguments = parser.parse_args()
    sites, services = earlier_sets(arguments.exclude_manifest)
    sites |= {host.removeprefix("www.") for host in arguments.exclude_host}
    found = [case for name in arguments.collection for case in cases_of(name, arguments.mirror, sites, services)]
    chosen = choose(found, arguments.per_service, arguments.limit)
    manifest = {
        "about": ABOUT,
        "license": LICENSE,
        "attribution": "Open Terms Archive (opentermsarchive.org), ODC-By 1.0",
        "collections": arguments.collection,
        "excluded": {},
        "cases": chosen,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    services = len({case["service"] for case in chosen})
    print(f"{len(chosen)} cases of {services} services ({len(found)} usable) in {arguments.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
