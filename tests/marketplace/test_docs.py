"""The project's own docs stand alone: nothing in the repository points a reader at a file
outside it, and the architecture doc keeps the sections a maintainer starts from."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("marketplace", "policies", "sellers", "catalog", "orders", "affiliates", "tests", "docs")
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
