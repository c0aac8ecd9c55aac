"""`show SERVICE` and `diff SERVICE`: DESIGN.md's `SERVICE` means all its documents, and these commands give one
document at a time, so a service of one document is that document, and a service of several is refused (exit 2)
naming each of its documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_data import copy_of, recorded_history
from standin.cli import run_cli

DOC = "acrcloud/privacy-policy"  # the only document of the recorded service


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return recorded_history(tmp_path_factory.mktemp("recorded"))


@pytest.mark.parametrize("command", [["show"], ["show", "--at", "2018-01-01"], ["diff"]])
def test_a_service_of_one_document_is_that_document(recorded, command):
    by_service = run_cli(*recorded, command[0], "acrcloud", *command[1:])
    by_document = run_cli(*recorded, command[0], DOC, *command[1:])
    assert by_document.returncode == 0 and by_document.stdout, by_document.stderr
    assert (by_service.returncode, by_service.stdout, by_service.stderr) == (0, by_document.stdout, "")


@pytest.mark.parametrize("command", ["show", "diff"])
def test_a_service_of_several_documents_is_refused_naming_them(recorded, tmp_path, command):
    config, data = copy_of(recorded, tmp_path)
    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text() + '[documents.terms-of-service]\nurl = "https://www.acrcloud.com/terms"\n')
    result = run_cli(config, data, command, "acrcloud")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "policy-archive: configuration error: command line: acrcloud: name one document as SERVICE/DOCUMENT "
        "(acrcloud/privacy-policy, acrcloud/terms-of-service)\n"
    )
