"""The product never depends on its test tools: pipelines/lib, pipelines/defs, quality and reports do not
import pipelines.sample (the generator, its defects, the evaluation, the benchmark). Only the CLI's sample
commands reach it, and only inside those commands."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("pipelines/lib", "pipelines/defs", "pipelines/definitions.py", "quality", "reports")


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module, line, at module level) for each import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, id(node) in top) for alias in node.names)
    return found


def _product_files() -> list[Path]:
    files = []
    for part in PRODUCT:
        path = ROOT / part
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def test_no_product_module_imports_the_test_tools():
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _product_files()
        for module, line, _ in _imports(path)
        if module.startswith("pipelines.sample")
    ]
    assert len(_product_files()) > 40
    assert offending == []


def test_the_cli_reaches_the_test_tools_only_inside_its_sample_commands():
    imports = [
        (m, line, top)
        for m, line, top in _imports(ROOT / "pipelines/cli.py")
        if m.startswith("pipelines.sample")
    ]
    assert imports, "the sample commands import them where they run"
    assert [f"line {line}" for _, line, top in imports if top] == []
