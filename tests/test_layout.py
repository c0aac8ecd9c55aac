"""The house's floors run one way, and the wheel holds every package (decision record 0006).

Floors, from the ground up: ``policy_archive.records``/``policy_archive.errors`` → ``config`` → ``archive`` →
``crawler`` → ``pipeline``. A module may import its own floor and the floors below it, never one above.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FLOORS = {"policy_archive": 0, "config": 1, "archive": 2, "crawler": 3, "pipeline": 4}
ENTRY_POINTS = {REPO / "policy_archive" / "__main__.py"}  # `python -m policy_archive` starts the CLI on top
ONE_MODULE_LIBRARIES = ("waybackpy", "trafilatura", "git", "warcio")


def source_files() -> list[Path]:
    return sorted(path for folder in FLOORS for path in (REPO / folder).rglob("*.py") if path not in ENTRY_POINTS)


def floor_of_file(path: Path) -> str:
    return path.relative_to(REPO).parts[0]


def imported_modules(path: Path) -> list[str]:
    """Every absolute module name ``path`` imports, at any depth (lazy imports inside functions count too)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def floor_of_import(module: str) -> str | None:
    """The floor a module of ours lives on, whether imported as ``policy_archive.crawler…`` or ``crawler…``."""
    parts = module.split(".")
    if parts[0] == "policy_archive":
        return parts[1] if len(parts) > 1 and parts[1] in FLOORS else "policy_archive"
    return parts[0] if parts[0] in FLOORS else None


def upward_imports() -> list[str]:
    found = []
    for path in source_files():
        own = floor_of_file(path)
        for module in imported_modules(path):
            target = floor_of_import(module)
            if target is not None and FLOORS[target] > FLOORS[own]:
                found.append(f"{path.relative_to(REPO)} imports {module}")
    return found


def test_no_module_imports_a_floor_above_its_own() -> None:
    assert upward_imports() == []


def test_every_import_of_ours_goes_through_the_installed_namespace() -> None:
    """A bare ``import pipeline`` works only from a checkout: installed, only ``policy_archive.…`` exists."""
    bare = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in source_files()
        for module in imported_modules(path)
        if module.split(".")[0] in FLOORS and module.split(".")[0] != "policy_archive"
    ]
    assert bare == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule is not vacuous: an archive module importing the pipeline is reported."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from policy_archive.pipeline.jobs import backfill\n")
    assert floor_of_import(imported_modules(module)[0]) == "pipeline"
    assert FLOORS["pipeline"] > FLOORS["archive"]


@pytest.mark.parametrize("library", ONE_MODULE_LIBRARIES)
def test_each_wrapped_library_is_imported_by_at_most_one_module(library: str) -> None:
    users = [
        str(path.relative_to(REPO))
        for path in source_files()
        if any(module == library or module.startswith(f"{library}.") for module in imported_modules(path))
    ]
    assert len(users) <= 1, users


def private_imports(paths: list[Path]) -> list[str]:
    """Each import of a library's ``_private`` module or name (ours may use their own) in ``paths``."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in imported:
                parts = name.split(".")
                if floor_of_import(name) is None and any(_is_private(part) for part in parts[1:]):
                    found.append(f"{path.name} imports {name}")
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_imports_a_private_name_of_a_library() -> None:
    """A library's ``_private`` names change without notice (Twisted's ``_DataLoss`` was one: crawler/failures.py)."""
    assert private_imports(source_files()) == []


def test_the_checker_sees_a_private_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from twisted.web.http import _DataLoss, Request\nimport twisted.web._newclient\n"
        "from policy_archive.crawler.sources.cdx import _Answer\nfrom pathlib import Path as _Path\n"
    )
    found = private_imports([module])
    assert found == ["m.py imports twisted.web.http._DataLoss", "m.py imports twisted.web._newclient"]


def test_pyproject_lists_every_package_folder() -> None:
    """setuptools installs only the packages listed: a forgotten subpackage breaks a non-editable install. A folder
    of data files (config/services) is listed too: Python can import any folder, and setuptools warns at every
    build about one left out of ``packages`` (acceptance report 7, F10), so every folder is listed."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    directories = setuptools["package-dir"]
    expected = set()
    for package, folder in directories.items():
        for directory in [REPO / folder, *(REPO / folder).rglob("*")]:
            if directory.is_dir() and directory.name != "__pycache__" and not directory.name.startswith("."):
                expected.add(".".join((package, *directory.relative_to(REPO / folder).parts)))
    assert set(setuptools["packages"]) == expected
    assert {
        package
        for package in expected
        if not (REPO / _folder_of(package, directories)).joinpath("__init__.py").exists()
    } <= set(setuptools["package-data"]), "a folder without code is shipped for its data"


def _folder_of(package: str, directories: dict[str, str]) -> Path:
    """The repository folder of an installed package name (``policy_archive.config.services`` → config/services)."""
    parts = package.split(".")
    for length in range(len(parts), 0, -1):
        if (mapped := ".".join(parts[:length])) in directories:
            return Path(directories[mapped], *parts[length:])
    raise AssertionError(f"{package}: under no folder of package-dir")


def declared_distributions() -> set[str]:
    """The distributions pyproject.toml names: the dependencies and the optional extras a module may import."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["browser"]
    return {canonical(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]) for requirement in requirements}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_library_imported_is_a_declared_dependency() -> None:
    """A library that only arrives with another (zope.interface with Twisted) can leave with its next release."""
    providers = importlib.metadata.packages_distributions()
    undeclared = set()
    for path in source_files():
        for module in imported_modules(path):
            top = module.split(".")[0]
            if floor_of_import(module) is None and top not in sys.stdlib_module_names:
                distributions = {canonical(name) for name in providers.get(top, [top])}
                if not distributions & declared_distributions():
                    undeclared.add(f"{top} ({path.relative_to(REPO)})")
    assert sorted(undeclared) == []
