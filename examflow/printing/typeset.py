"""The PDF layer: typst templates filled with JSON, compiled by typst's Python binding.

Why typst (measured here, README "Printouts"): one page of 45 Chinese rows × 15 columns with an
embedded Noto subset takes ~0.02 s of CPU with a reused `typst.Compiler`; fpdf2's public API took
~1.5 s for the same page (it parses and subsets the CJK collection in Python for every file), and
fpdf2 was only fast through its private internals. typst subsets and embeds fonts itself, falls back
from face to face per character (生僻字), and its templates are text files a school can change.

- Templates are `.typ` files in `examflow/printing/templates/` (one per printout, and `common.typ`
  they share). A school's folder (`printing.templates` in school.yaml) is laid over them: a file
  there replaces the package's file of the same name, and may bring images (a badge) beside it.
- The data is one JSON document per file, passed as `sys.inputs.data` (no temporary files); the
  font families as `sys.inputs.fonts`. The template does the layout, Python only the figures.
- Fonts: the files `examflow.printing.fonts` chose are linked (copied where links are not allowed)
  into a private folder, the only one typst reads (system fonts are ignored: the same pages on
  every machine that has the same font).
- Many files: `Press.render_many` compiles in worker processes started with the spawn method (as on
  Windows and macOS: nothing relies on fork), each keeping one compiler (fonts parsed once per
  worker), and yields the PDFs in order, so the caller writes files and audit rows in the same order
  whatever the number of processes. It takes the jobs as they are made: the data of the next files
  is computed while the workers typeset the first ones.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from examflow.printing.fonts import FontSet

__all__ = ["TEMPLATES", "Press", "TemplateError", "Typesetter", "default_workers"]

TEMPLATES = Path(__file__).with_name("templates")
CLASSES_PER_WORKER = 8  # a worker's start (Python, typst, the fonts) costs ~0.5 s: worth it from here
MAX_WORKERS = 4
IN_FLIGHT_PER_WORKER = 4  # jobs queued per worker: enough to keep it busy, few enough to bound memory


class TemplateError(RuntimeError):
    """A template that does not compile (typst's message, naming the file and line)."""


@dataclass(frozen=True)
class Press:
    """What a process needs to compile: the merged templates folder, the fonts folder and the
    families (main face first). Small and picklable: it is what worker processes receive."""

    root: str
    fonts_dir: str
    families: tuple[str, ...]

    def render(self, template: str, data: dict[str, Any] | str) -> bytes:
        """One PDF: `template`.typ filled with `data` (a dict, or its JSON text)."""
        import typst

        path = Path(self.root) / f"{template}.typ"
        if not path.is_file():
            raise TemplateError(f"no template {template}.typ in {self.root}")
        text = data if isinstance(data, str) else to_json(data)
        try:
            return _compiler(self).compile(input=str(path), format="pdf", pdf_tags=False,
                                           sys_inputs={"data": text, "fonts": json.dumps(list(self.families))})
        except typst.TypstError as e:
            hints = "; ".join(e.hints or [])
            raise TemplateError(f"template {template}.typ: {e.message}" + (f" ({hints})" if hints else "")
                                + (f"\n{e.diagnostic}" if e.diagnostic else "")) from None

    def render_many(self, jobs: Iterable[tuple[str, dict[str, Any]]], workers: int = 1) -> Iterator[bytes]:
        """The PDFs of `jobs` (template, data), in order; by `workers` spawned processes when > 1.
        `jobs` may be a generator: it is consumed as the workers go (a bounded number in flight), so
        the caller's data for the next files is built while the workers typeset the previous ones,
        and each result is yielded as soon as it and those before it are done."""
        if workers <= 1:
            for template, data in jobs:
                yield self.render(template, data)
            return
        import collections
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        in_flight = IN_FLIGHT_PER_WORKER * workers
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            pending: collections.deque = collections.deque()
            for template, data in jobs:
                pending.append(pool.submit(_render_job, (self, template, to_json(data))))
                if len(pending) >= in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


def _render_job(job: tuple[Press, str, str]) -> bytes:
    press, template, text = job
    return press.render(template, text)


_COMPILERS: dict[Press, Any] = {}


def _compiler(press: Press):
    """This process's compiler for `press`: reusing one keeps fonts parsed and layouts cached."""
    import typst

    if press not in _COMPILERS:
        _COMPILERS[press] = typst.Compiler(root=press.root, font_paths=[press.fonts_dir], ignore_system_fonts=True)
    return _COMPILERS[press]


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))


def _link(src: Path, dst: Path) -> None:
    try:
        os.symlink(src, dst)
    except (OSError, NotImplementedError):  # Windows without the symlink privilege
        shutil.copyfile(src, dst)


class Typesetter:
    """The run's press: templates (the package's, a school's laid over them) and fonts in a private
    temporary folder, removed on close. Use as a context manager."""

    def __init__(self, fonts: FontSet, templates: str | os.PathLike | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="examflow-typeset-"))  # 0o700
        try:
            root = self.dir / "templates"
            shutil.copytree(TEMPLATES, root, ignore=shutil.ignore_patterns("__pycache__"))
            if templates:
                override = Path(templates)
                if not override.is_dir():
                    raise TemplateError(f"printing.templates: no folder {override}")
                shutil.copytree(override, root, dirs_exist_ok=True)
            fonts_dir = self.dir / "fonts"
            fonts_dir.mkdir()
            for i, f in enumerate(fonts.files):
                _link(f, fonts_dir / f"{i:02d}-{f.name}")
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.press = Press(str(root), str(fonts_dir), tuple(fonts.families))

    def render(self, template: str, data: dict[str, Any]) -> bytes:
        return self.press.render(template, data)

    def render_many(self, jobs: Iterable[tuple[str, dict[str, Any]]], workers: int = 1) -> Iterable[bytes]:
        return self.press.render_many(jobs, workers)

    def close(self) -> None:
        _COMPILERS.pop(self.press, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Typesetter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def default_workers(n_files: int, per_worker: int = CLASSES_PER_WORKER) -> int:
    """Processes for many PDFs: `EXAMFLOW_PRINT_WORKERS` when set, else one per CPU this process may
    use (at most MAX_WORKERS) while each gets `per_worker` files or more."""
    env = os.environ.get("EXAMFLOW_PRINT_WORKERS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return max(1, min(int(env), n_files))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS, n_files // per_worker))
