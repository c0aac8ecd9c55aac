"""Every public function and class of ``crawler/``, ``archive/``, ``config/``, ``pipeline/`` (all its subpackages)
and ``policy_archive/`` has a docstring, and so has every public method of their module-level classes (STYLE.md,
"comments"): read from the source with ``ast``, so no module is imported. Public: a name not starting with ``_``;
dunder methods, nested functions and nested classes are not counted."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "archive", "config", "pipeline", "policy_archive")

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def public_definitions(tree: ast.Module) -> list[tuple[str, Definition]]:
    """The module's public functions and classes, and the public methods of those classes, by qualified name."""
    found: list[tuple[str, Definition]] = []
    for node in tree.body:
        if isinstance(node, Definition) and not node.name.startswith("_"):
            found.append((node.name, node))
            if isinstance(node, ast.ClassDef):
                found.extend(
                    (f"{node.name}.{member.name}", member)
                    for member in node.body
                    if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) and not member.name.startswith("_")
                )
    return found


def sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def undocumented(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT).as_posix()
    return [f"{where}:{node.lineno}: {name}" for name, node in public_definitions(tree) if not ast.get_docstring(node)]


def test_every_public_definition_has_a_docstring() -> None:
    missing = [line for path in sources() for line in undocumented(path)]
    assert not missing, "public definitions without a docstring:\n" + "\n".join(missing)


def test_the_walk_sees_the_packages() -> None:
    """Not vacuous: the five packages' modules are read, pipeline's subpackages among them, with hundreds of public
    definitions (over 900 on 2026-11-28, some 400 of them in pipeline/)."""
    paths = sources()
    assert {path.relative_to(ROOT).parts[0] for path in paths} == set(PACKAGES)
    count = sum(len(public_definitions(ast.parse(path.read_text(encoding="utf-8")))) for path in paths)
    assert count > 800
    parts = [path.relative_to(ROOT).parts for path in paths]
    subpackages = {part[1] for part in parts if part[0] == "pipeline" and len(part) > 2}
    assert {"commands", "exports", "extraction", "imports", "jobs", "scheduling", "webreport"} <= subpackages


def test_the_check_finds_a_missing_docstring() -> None:
    """The check reports a public function, class and method without one, and not the private or dunder ones."""
    tree = ast.parse(
        "def shown(): pass\n"
        "def _hidden(): pass\n"
        "class Kept:\n"
        '    """Documented."""\n'
        "    def __init__(self): pass\n"
        "    def method(self): pass\n"
        "    async def later(self): pass\n"
        "class Bare: pass\n"
    )
    names = [name for name, node in public_definitions(tree) if not ast.get_docstring(node)]
    assert names == ["shown", "Kept.method", "Kept.later", "Bare"]
