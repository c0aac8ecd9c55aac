"""Rebuild the OTA extraction benchmark from its manifest: ``python -m benchmarks.fetch_ota --output DIR``.

The project does not commit data fetched from public repositories, so the 88 Open Terms Archive pages of
``benchmarks.extraction --ota`` and ``benchmarks.stated_dates --ota`` are not in the repository; their manifest
is (``benchmarks/ota_extraction/manifest.json``): for each case, where its two files are (repository, commit,
path), their sha256 and size, and the project's labels. This fetches each file from GitHub at its pinned commit
(``raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH``), checks it byte for byte against the manifest, and writes
DIR as those benchmarks read it: ``cases.json`` and ``CASE/page.html`` (the snapshot OTA took) and
``CASE/expected.md`` (the version OTA recorded from exactly that snapshot), both stored unchanged — the set was
built with ``git show COMMIT:PATH`` and GitHub serves the same blob bytes (these repositories have no
``.gitattributes``, no Git LFS). Data: Open Terms Archive, ODC-By 1.0 (the manifest's ``attribution``).
``--manifest`` names another manifest (``benchmarks/ota_unseen/manifest.json``, made by ``benchmarks.build_ota``);
``--mirror DIR`` reads the files from local bare copies of the repositories (``DIR/OWNER+NAME/repo``, as the
project's ``fetch`` tool leaves them) instead of GitHub, with the same checks.

Requests go through the HTTP proxy the environment names (``https_proxy``), as the CDX listing's do (the same
bounded fetch). Gentle with GitHub: one request at a time, ``--delay`` seconds between them, a 429 or 5xx answer
(or a network failure) asked again after its Retry-After or a doubling backoff, :data:`ATTEMPTS` times in all.
A host name that does not resolve (or a network with no route) is not a failure that waiting mends: the run stops
at once, in one line saying the network is unreachable and that ``--mirror`` rebuilds the set offline.
Resumable: a file already in DIR with the manifest's sha256 is kept, not fetched again. A file that does not
match (or could not be fetched) is one line on stderr naming the case, which is left out of ``cases.json``; the
exit status is then 1.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.parse import quote, urlsplit

from policy_archive.config.settings import PROJECT_URL, package_version
from policy_archive.crawler.exchange import AnswerCutShort, AnswerTooLarge, fetch, proxy_host
from policy_archive.crawler.ratelimit import parse_retry_after

MANIFEST = Path(__file__).resolve().parent / "ota_extraction" / "manifest.json"
RAW_GITHUB = "https://raw.githubusercontent.com"
USER_AGENT = f"policy-archive-benchmarks/{package_version()} (+{PROJECT_URL})"
ATTEMPTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LONGEST_WAIT_SECONDS = 300.0  # a Retry-After longer than this is not waited for: the case is left out
TIMEOUT_SECONDS = 60.0  # for a whole answer (the largest page is under 600 KB)
# The source of each file of a case, as the manifest's "source" names it: (repository, commit, path) keys.
SOURCES = {
    "page.html": ("snapshot_repo", "snapshot_commit", "snapshot_path"),
    "expected.md": ("version_repo", "version_commit", "version_path"),
}


# Failures that say this machine reaches no network (offline, no DNS), not that the server is busy: retrying them
# with a backoff took ~85 s a case, ~2 h for the 88 cases, to fail (outside audit B, 2026-11-29).
NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH})


class Unusable(Exception):
    """Why a file could not be had as the manifest describes it; ``str()`` is the reason."""


class NetworkUnreachable(Exception):
    """The host's name did not resolve or no route leads to it: no file of the run can be fetched; ``str()`` is
    the one line saying so."""


@dataclass(frozen=True)
class Wanted:
    """One file of one case: where it is fetched from and what its bytes must be."""

    case: str
    name: str
    url: str
    sha256: str
    size: int
    repo: str = ""  # OWNER/NAME, COMMIT and PATH: where a local mirror holds the same bytes
    commit: str = ""
    path: str = ""


@dataclass(frozen=True)
class Fetcher:
    """Fetches files one at a time, ``delay`` seconds apart, retrying what may pass."""

    delay: float
    backoff: float
    sleep: Callable[[float], None] = time.sleep

    def get(self, wanted: Wanted) -> bytes:
        """The bytes at ``wanted.url``, or :class:`Unusable` after the last attempt."""
        attempt = 1
        while True:
            self.sleep(self.delay)
            body, problem, wait = self._attempt(wanted)
            if body is not None:
                return body
            if attempt == ATTEMPTS:
                raise Unusable(f"{problem} ({ATTEMPTS} attempts)")
            wait = self.backoff * 2 ** (attempt - 1) if wait is None else wait
            if wait > LONGEST_WAIT_SECONDS:
                raise Unusable(f"{problem}, asked to wait {wait:.0f} s")
            self.sleep(wait)
            attempt += 1

    @staticmethod
    def _attempt(wanted: Wanted) -> tuple[bytes | None, str, float | None]:
        """One request: the body, or what went wrong and the Retry-After asked; :class:`Unusable` if a retry
        cannot help (an answer longer than the file, a 404)."""
        try:
            answer = fetch(wanted.url, USER_AGENT, TIMEOUT_SECONDS, wanted.size)
        except AnswerTooLarge:
            raise Unusable(f"longer than the manifest's {wanted.size} bytes") from None
        except (OSError, HTTPException, AnswerCutShort) as error:
            if isinstance(error, socket.gaierror) or (isinstance(error, OSError) and error.errno in NO_ROUTE):
                raise NetworkUnreachable(unreachable(wanted.url, error)) from None
            return None, f"network error: {str(error) or type(error).__name__}", None
        if answer.status == 200:
            return answer.body, "", None
        problem = f"answered {answer.status} {answer.reason}".rstrip()
        if answer.status not in RETRY_STATUSES:
            raise Unusable(problem)
        return None, problem, parse_retry_after(answer.headers.get("Retry-After"))


def unreachable(url: str, error: OSError) -> str:
    """The line that stops the run: which host, through which proxy if any, and how to do without the network."""
    host = urlsplit(url).netloc
    through = f" through the proxy {proxy}" if (proxy := proxy_host(url)) else ""
    said = "host not found" if isinstance(error, socket.gaierror) else "no route to it"
    return (
        f"network unreachable: {host}{through}: {said} ({error.strerror or error}); nothing fetched is retried. "
        "Offline, rebuild from local Git copies with --mirror DIR (DIR/OWNER+NAME/repo)"
    )


@dataclass(frozen=True)
class MirrorReader:
    """Reads files from local bare Git copies of the source repositories: ``mirror/OWNER+NAME/repo`` (or its
    ``.git``), the layout the project's ``fetch`` tool writes. No network, no delay."""

    mirror: Path

    def get(self, wanted: Wanted) -> bytes:
        git_dir = mirror_git_dir(self.mirror, wanted.repo)
        if git_dir is None:
            raise Unusable(f"no copy of {wanted.repo} in {self.mirror}")
        try:
            return git_show(git_dir, wanted.commit, wanted.path)
        except subprocess.CalledProcessError:
            raise Unusable(f"{wanted.commit}:{wanted.path} is not in {git_dir}") from None


def mirror_git_dir(mirror: Path, repo: str) -> Path | None:
    """The Git directory of ``repo`` (``OWNER/NAME``) under ``mirror``, or None."""
    folder = mirror / repo.replace("/", "+") / "repo"
    for candidate in (folder / ".git", folder):
        if (candidate / "HEAD").is_file():
            return candidate
    return None


def git_show(git_dir: Path, commit: str, path: str) -> bytes:
    """The blob at ``commit:path``, bytes as stored (``git show`` of a blob applies no filter without a work
    tree); :class:`subprocess.CalledProcessError` if there is none."""
    command = ["git", f"--git-dir={git_dir}", "cat-file", "blob", f"{commit}:{path}"]
    return subprocess.run(command, capture_output=True, check=True).stdout


def wanted_files(entry: dict, base_url: str) -> list[Wanted]:
    """The two files of a manifest case, each at ``base_url/OWNER/REPO/COMMIT/PATH``."""
    source = entry["source"]
    found = []
    for name, (repo, commit, path) in SOURCES.items():
        url = f"{base_url.rstrip('/')}/{source[repo]}/{source[commit]}/{quote(source[path], safe='/')}"
        described = entry["files"][name]
        found.append(
            Wanted(
                entry["case"],
                name,
                url,
                described["sha256"],
                described["bytes"],
                source[repo],
                source[commit],
                source[path],
            )
        )
    return found


def matches(wanted: Wanted, body: bytes) -> bool:
    return len(body) == wanted.size and hashlib.sha256(body).hexdigest() == wanted.sha256


def mismatch(wanted: Wanted, body: bytes) -> str:
    return (
        f"sha256 {hashlib.sha256(body).hexdigest()} ({len(body)} bytes), "
        f"the manifest says {wanted.sha256} ({wanted.size} bytes)"
    )


def place(wanted: Wanted, output: Path, fetcher: Fetcher | MirrorReader) -> bool:
    """Make ``output/CASE/NAME`` the wanted file; True if it was fetched, False if already there."""
    target = output / wanted.case / wanted.name
    if target.is_file() and matches(wanted, target.read_bytes()):
        return False
    body = fetcher.get(wanted)
    if not matches(wanted, body):
        raise Unusable(mismatch(wanted, body))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{wanted.name}.part")
    partial.write_bytes(body)
    partial.replace(target)  # never a half-written file where a verified one is expected
    return True


def rebuild(manifest: dict, output: Path, base_url: str, fetcher: Fetcher | MirrorReader) -> list[str]:
    """Write ``output`` from ``manifest``; the names of the cases left out (one line each said on stderr)."""
    cases = manifest["cases"]
    kept, left_out, fetched = [], [], 0
    for number, entry in enumerate(cases, 1):
        done = []
        try:
            for wanted in wanted_files(entry, base_url):
                try:
                    done.append(place(wanted, output, fetcher))
                except Unusable as error:
                    raise Unusable(f"{wanted.name} from {wanted.url}: {error}") from None
        except Unusable as error:
            print(f"[{number}/{len(cases)}] {entry['case']}: {error}: left out", file=sys.stderr)
            left_out.append(entry["case"])
            continue
        fetched += sum(done)
        kept.append({key: value for key, value in entry.items() if key != "files"})
        print(f"[{number}/{len(cases)}] {entry['case']}: {_said(done)}", file=sys.stderr)
    listing = {"license": manifest["license"], "excluded": manifest["excluded"], "cases": kept}
    # The format the set was published in (indent 1, no final newline): a complete rebuild is byte for byte it.
    (output / "cases.json").write_text(json.dumps(listing, indent=1, ensure_ascii=False), encoding="utf-8")
    print(
        f"{len(kept)} of {len(cases)} cases in {output} ({fetched} files fetched, "
        f"{2 * len(kept) - fetched} already there), each file's sha256 as the manifest says",
        file=sys.stderr,
    )
    return left_out


def _said(done: list[bool]) -> str:
    fetched = sum(done)
    return "already there, verified" if not fetched else f"{fetched} fetched, verified"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="folder to write (created; kept files reused)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the manifest (default: the repository's)")
    parser.add_argument(
        "--base-url", default=RAW_GITHUB, help=f"where OWNER/REPO/COMMIT/PATH is fetched from (default {RAW_GITHUB})"
    )
    parser.add_argument(
        "--mirror", type=Path, help="read the files from local Git copies DIR/OWNER+NAME/repo instead of GitHub"
    )
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between two requests (default 1)")
    parser.add_argument(
        "--backoff", type=float, default=5.0, help="seconds before the first retry, doubled at each (default 5)"
    )
    arguments = parser.parse_args()
    try:
        manifest = json.loads(arguments.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        sys.exit(f"{arguments.manifest}: not a readable manifest: {error}")
    print(f"Data: {manifest['attribution']}", file=sys.stderr)
    try:
        arguments.output.mkdir(parents=True, exist_ok=True)
        reader = MirrorReader(arguments.mirror) if arguments.mirror else Fetcher(arguments.delay, arguments.backoff)
        left_out = rebuild(manifest, arguments.output, arguments.base_url, reader)
    except NetworkUnreachable as error:
        sys.exit(str(error))
    except OSError as error:  # the network's are caught per file: this is the output folder's
        sys.exit(f"{arguments.output}: cannot be written: {error}")
    if left_out:
        sys.exit(f"{len(left_out)} of {len(manifest['cases'])} cases left out: {', '.join(left_out)}")


if __name__ == "__main__":
    main()
