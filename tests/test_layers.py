"""The top-level packages depend one way: `examflow` (the library) imports nothing of ours above it,
`assets` imports `examflow` only, `pipelines` imports `assets` and `examflow`. Every import
statement is read from the source (an AST walk), including imports inside functions, so a lazy
import cannot hide a cycle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"examflow", "assets", "pipelines"}
ALLOWED = {"examflow": {"examflow"}, "assets": {"assets", "examflow"}, "pipelines": {"pipelines", "assets", "examflow"}}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the file that names one of ours."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, n.split(".")[0]) for n in names if n.split(".")[0] in OURS]
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_one_way(package):
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {target}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for line, target in imported_packages(path) if target not in ALLOWED[package]]
    assert not wrong, "\n".join(wrong)


def test_the_walk_sees_lazy_imports(tmp_path):
    """A function-level import is found like a module-level one (the test itself can fail)."""
    f = tmp_path / "m.py"
    f.write_text("import os\n\ndef run():\n    from pipelines.definitions import ASSETS\n    import assets.print\n")
    assert imported_packages(f) == [(4, "pipelines"), (5, "assets")]
