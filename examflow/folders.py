"""The exams folder the sensor watches: which exam folders it holds and a fingerprint of each, so
that a new or changed folder runs and an unchanged one does not."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from examflow import yamlfile


@dataclass(frozen=True)
class ExamFolder:
    folder: Path
    exam_id: str  # the id in exam.yaml; the folder name when exam.yaml has no usable id
    fingerprint: str


def _exam_field(folder: Path, field: str) -> str | None:
    for name in ("exam.yaml", "exam.yml"):
        path = folder / name
        if path.exists():
            try:
                data = yamlfile.read(path)
            except (yaml.YAMLError, UnicodeDecodeError):
                return None
            value = data.get(field) if isinstance(data, dict) else None
            return str(value).strip() if value else None
    return None


def exam_id_of(folder: Path) -> str | None:
    return _exam_field(folder, "id")


def previous_of(folder: Path) -> str | None:
    """The exam id exam.yaml names as `previous` (rank changes and value added are computed against it)."""
    return _exam_field(folder, "previous")


def fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of every file: cheap, and changes whenever an export
    or a resolution is added or rewritten."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        st = path.stat()
        h.update(f"{path.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def exam_folders(root: Path) -> list[tuple[Path, str]]:
    """(folder, exam id) of every sub-folder of `root` that holds an exam.yaml."""
    if not Path(root).is_dir():
        return []
    return [(folder, exam_id_of(folder) or folder.name)
            for folder in sorted(p for p in Path(root).iterdir() if p.is_dir())
            if (folder / "exam.yaml").exists() or (folder / "exam.yml").exists()]


def scan(root: Path) -> list[ExamFolder]:
    """Every exam folder under `root` with its fingerprint (what the sensor and schedule compare)."""
    return [ExamFolder(folder, exam_id, fingerprint(folder)) for folder, exam_id in exam_folders(root)]


def ready_to_run(changed: list[ExamFolder], found: list[ExamFolder], materialised: set[str]
                 ) -> tuple[list[ExamFolder], dict[str, str]]:
    """Split the changed folders into those that may run now and those that wait (exam id -> its
    previous): an exam waits while its `previous` has a folder here and is itself changed (it runs
    first) or is not yet in `materialised`, so its changes are never computed against nothing or
    against half of the previous exam."""
    here = {f.exam_id for f in found}
    pending = {f.exam_id for f in changed}
    ready, waiting = [], {}
    for f in changed:
        previous = previous_of(f.folder)
        if previous and previous != f.exam_id and previous in here and (previous in pending
                                                                         or previous not in materialised):
            waiting[f.exam_id] = previous
        else:
            ready.append(f)
    return ready, waiting


def previous_first(found: list[ExamFolder]) -> list[ExamFolder]:
    """The folders ordered so that an exam comes after its `previous` when both are present."""
    by_id = {f.exam_id: f for f in found}
    ordered: dict[str, ExamFolder] = {}

    def place(f: ExamFolder, chain: frozenset) -> None:
        previous = previous_of(f.folder)
        if previous in by_id and previous not in chain:
            place(by_id[previous], chain | {f.exam_id})
        ordered.setdefault(f.exam_id, f)

    for f in found:
        place(f, frozenset())
    return list(ordered.values())
