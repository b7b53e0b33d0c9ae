"""The project's own docs stand alone: nothing in the repository points a reader at a file
outside it, and the architecture doc keeps the sections a maintainer starts from."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (
    "marketplace",
    "policies",
    "sellers",
    "catalog",
    "orders",
    "returns",
    "affiliates",
    "tests",
    "docs",
)
OUTSIDE = re.compile(r"\.\./shared|DESIGN\.md|\]\(\.\./")


def _project_files():
    yield ROOT / "README.md"
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".html", ".txt"} and "migrations" not in path.parts:
                yield path


def test_no_file_points_outside_the_repository():
    this_file = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _project_files()
        if path.resolve() != this_file
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_architecture_doc_has_the_sections_a_maintainer_starts_from():
    text = (ROOT / "docs" / "architecture.md").read_text()
    headings = set(re.findall(r"^## (.+)$", text, flags=re.MULTILINE))
    for heading in (
        "Module map",
        "Dependencies and hook registries",
        "State machines",
        "Notifications",
        "URLs and the Seller Center",
        "Money and the ledger",
        "Catalog",
    ):
        assert heading in headings


def _test_modules_imported(tree: ast.Module, package: str):
    """(line, module) for each test_* module that an import statement in `tree` names; relative
    imports are resolved against `package`, and in `from pkg import test_x` only a test_x.py file
    counts (a function of that name would not)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if any(part.startswith("test_") for part in alias.name.split(".")):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") if node.module else []
            if node.level:
                here = package.split(".")
                parts = here[: len(here) - (node.level - 1)] + parts
            if any(part.startswith("test_") for part in parts):
                yield node.lineno, ".".join(parts)
                continue
            for alias in node.names:
                if (
                    alias.name.startswith("test_")
                    and ROOT.joinpath(*parts, f"{alias.name}.py").is_file()
                ):
                    yield node.lineno, ".".join([*parts, alias.name])


def test_no_test_module_imports_from_another_test_module():
    """Shared helpers live in factories.py, checks.py, conftest.py, tests/browser/steps.py or
    tests/concurrency/threads.py (docs/architecture.md, "Tests"), never in a test_* module."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, module in _test_modules_imported(
            ast.parse(path.read_text(), filename=str(path)),
            ".".join(path.relative_to(ROOT).parent.parts),
        )
    ]
    assert offenders == []
