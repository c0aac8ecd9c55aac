"""What the network can hold a run with, bounded: an answer's header block, a name lookup that never answers, and
how `track` says whether running again can help (servers on 127.0.0.1; the CLI in a subprocess)."""

from __future__ import annotations

from standin.cli import run_cli
from standin.hostile import EndlessHeaders
from test_hostile import tracked_config

from policy_archive.crawler.failures import HeadersTooLarge, for_now, lasting, plain_reason
from policy_archive.crawler.transport import MAX_HEADER_BYTES, MAX_HEADER_LINES

HEADERS_WORDS = (
    f"the answer's headers are too large: over {MAX_HEADER_LINES:,} lines, more than this client reads"
    " (no setting changes it)"
)


def failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("FAILED ")]


# --- the header block ------------------------------------------------------------------------------------------


def test_an_answer_whose_headers_never_end_fails_at_the_bound_not_at_the_timeout(tmp_path):
    """200,000 headers, or more: each line is short (Twisted's 16,384-byte line limit never trips), so before the
    bound only the download's timeout ended the answer, all of it read into memory. The timeout here is a minute:
    the reason would say it if the headers were read until then."""
    with EndlessHeaders() as server:
        config = tracked_config(tmp_path / "config", server.url("/privacy"), "[crawl]\nobey_robots = false\n")
        config.joinpath("settings.toml").write_text(
            config.joinpath("settings.toml").read_text().replace("timeout_seconds = 5", "timeout_seconds = 60")
        )
        result = run_cli(config, tmp_path / "data", "track")
        assert result.returncode == 1, result.stderr
        assert failed_lines(result.stderr) == [f"FAILED acme/privacy-policy: {HEADERS_WORDS}"], result.stderr
        assert "Traceback" not in result.stderr
        assert server.paths == ["/privacy"], "refused at once, not asked again"
    # The client hung up on the answer: it stopped reading a little past the bound (what the socket buffers took
    # in besides: about 1 MB on Linux's loopback), not at the end of what the server would send, which has none.
    assert server.cut_off == 1 and server.sent[0] < 16 * 1024 * 1024, server.sent


def test_a_header_block_too_large_is_said_as_such_and_never_asked_again_as_if_it_could_pass():
    for limit in (f"{MAX_HEADER_LINES:,} lines", f"{MAX_HEADER_BYTES:,} bytes"):
        error = HeadersTooLarge(limit)
        words = plain_reason(error)
        assert words == (
            f"the answer's headers are too large: over {limit}, more than this client reads (no setting changes it)"
        )
        assert lasting(words) and not for_now(error)
