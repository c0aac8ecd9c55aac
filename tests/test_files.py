"""A file written whole or not at all (``policy_archive.files``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_archive.files import whole_file, write_whole


def test_a_finished_write_replaces_the_file_and_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "page.html"  # its folder is made
    write_whole(target, b"first")
    write_whole(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(path.name for path in target.parent.iterdir()) == ["page.html"]


def test_a_write_that_fails_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), whole_file(target) as partial:
        partial.write_bytes(b"half of the ne")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]
