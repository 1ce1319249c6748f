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


def test_readme_layout_matches_the_tree():
    """Every top-level entry of the repository and every module of the three packages is in the
    README's layout section, and the section names nothing that is not there."""
    import itertools
    import re
    import subprocess

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Project layout")[1].split("```")[1]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip("\0").split("\0")
    top = {p.split("/")[0] + ("/" if "/" in p else "") for p in tracked} - {".gitignore", "README.md", "pyproject.toml"}
    named = set(re.findall(r"^([.\w-]+/?)", block, flags=re.M)) | set(re.findall(r"^(\.ci/)run", block, flags=re.M))
    assert top <= named, f"not in the layout: {sorted(top - named)}"
    for package in sorted(ALLOWED):
        modules = {p.stem for p in (ROOT / package).glob("*.py") if p.stem != "__init__"}
        modules |= {p.name + "/" for p in (ROOT / package).iterdir() if (p / "__init__.py").exists()}
        lines = block.split(f"\n{package}/")[1].split("\n")[1:]
        part = "\n".join(itertools.takewhile(lambda line: line.startswith(" "), lines))
        shown = {m for m in modules if re.search(rf"(?<![\w/]){re.escape(m)}(\.py)?(?![\w])", part)}
        assert shown == modules, f"{package}/ modules missing from the layout: {sorted(modules - shown)}"
