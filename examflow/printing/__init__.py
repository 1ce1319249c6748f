"""The one printing package: every printout examflow makes, split as data -> template -> file.

- data: `data` (an exam's mart tables), `class_pdfs` / `workbooks` / `arrangement` (what each
  printout shows, as rows or as one JSON document per PDF);
- template: `excel` (our own xlsx writer: Chinese headers, frozen header, filter, print set-up,
  formula-like text kept as text) and `typeset` (typst templates in `templates/`, a school's folder
  laid over them) with the fonts of `fonts`;
- file: the helpers below (owner-only, atomic) and `exam` (the exam's printouts with their audit
  rows; what the Dagster assets call).

File safety (rules.md §9):
- Every printout is created readable by its owner only: files 0o600, folders this layer creates
  0o700. Files are never opened with the process umask and chmod-ed afterwards (that leaves a
  window in which the file is world-readable): `owner_only_file` creates a temporary file in the
  target folder with `os.open(..., 0o600)`, the writer streams into it, and it is moved over the
  target with `os.replace` - so a reader never sees a half-written printout either.
- `owner_only_link` puts one printout at a second path (a school's bundle) as a hard link, or a
  copy where there are none: the same file, 0o600, swapped in atomically.
- `owner_only_umask()` is for third-party code that insists on a path; the umask is
  process-wide, so prefer `owner_only_file` in threaded code.
- No student name goes into a file name: callers build names from fixed Chinese titles, class ids
  and room ids only; `safe_filename` strips path separators and characters Windows rejects.
- `PrintedFile` (path, kind, rows, sha256) is what writers return, so the caller can write the
  audit row (who, when, what, parameters, rows, file, sha256) for every printout.

This module imports no third-party package; import the submodule you need.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700

__all__ = [
    "OWNER_ONLY_FILE",
    "OWNER_ONLY_DIR",
    "PrintedFile",
    "chmod_owner_only",
    "ensure_owner_only_dir",
    "owner_only_file",
    "owner_only_link",
    "owner_only_umask",
    "safe_filename",
    "sha256_file",
    "write_owner_only",
]


@dataclass(frozen=True)
class PrintedFile:
    """One file a printout writer produced: enough for the audit row."""

    path: Path
    kind: str  # e.g. "timetable.xlsx", "door_lists.pdf"
    rows: int  # data rows (table rows, labels, students) it holds
    sha256: str


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def chmod_owner_only(path: str | os.PathLike) -> Path:
    """Make an existing file 0o600 (a folder 0o700)."""
    p = Path(path)
    os.chmod(p, OWNER_ONLY_DIR if p.is_dir() else OWNER_ONLY_FILE)
    return p


def ensure_owner_only_dir(path: str | os.PathLike) -> Path:
    """Create `path` (and missing parents) as 0o700 folders; an existing folder is left as it is
    unless this call created it. Returns the path."""
    p = Path(path)
    missing = []
    q = p
    while not q.exists():
        missing.append(q)
        if q.parent == q:
            break
        q = q.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=OWNER_ONLY_DIR)
        except FileExistsError:
            continue
        os.chmod(d, OWNER_ONLY_DIR)  # mkdir's mode is filtered by the umask
    if not p.is_dir():
        raise NotADirectoryError(str(p))
    return p


@contextlib.contextmanager
def owner_only_file(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """Open a binary file handle whose content lands at `path` (0o600) when the block ends
    without an exception; on an exception the target is left untouched and the temporary file
    removed. The file is never visible under `path` half-written, nor readable by others."""
    target = Path(path)
    ensure_owner_only_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=target.parent)  # 0o600
    try:
        if hasattr(os, "fchmod"):  # POSIX; on Windows mkstemp's file is private to the user already
            os.fchmod(fd, OWNER_ONLY_FILE)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        os.chmod(target, OWNER_ONLY_FILE)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def owner_only_link(source: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Make `path` the same file as `source` (one of our owner-only printouts): a hard link, put in
    place atomically (a link under a temporary name, then `os.replace`), so the bytes are neither
    read nor written again. Where the file system or platform has no hard links, or `source` is not
    0o600, an owner-only copy instead (`owner_only_file`). True when linked.

    Sharing the file is safe because this package never rewrites a printout in place: writing
    either path again replaces it with a new file, and the other path keeps the old one until it is
    linked (or copied) again."""
    source, target = Path(source), Path(path)
    ensure_owner_only_dir(target.parent)
    if os.name == "posix" and stat.S_IMODE(os.stat(source).st_mode) == OWNER_ONLY_FILE:
        if target.exists() and os.path.samefile(source, target):
            return True
        tmp = target.with_name(f".tmp-{secrets.token_hex(8)}{target.suffix}")
        try:
            os.link(source, tmp)
        except OSError:  # no hard links here (FAT, some network shares), another file system
            pass
        else:
            try:
                os.replace(tmp, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            return True
    with owner_only_file(target) as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
    return False


def write_owner_only(path: str | os.PathLike, data: bytes | bytearray | str, encoding: str = "utf-8") -> Path:
    """Write bytes (or text) to `path` atomically, readable by the owner only."""
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    with owner_only_file(path) as fh:
        fh.write(payload)
    return Path(path)


@contextlib.contextmanager
def owner_only_umask() -> Iterator[None]:
    """Temporarily set the process umask to 0o077 (files 0o600, folders 0o700) for third-party
    writers that only take a path. The umask is process-wide: not for threaded code."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_filename(text: str, fallback: str = "_") -> str:
    """A file-name part without path separators or characters Windows rejects. Callers must not
    pass student names (rules.md §9); this only guards class ids, room ids and titles."""
    cleaned = _UNSAFE.sub("_", str(text)).strip().strip(".")
    return cleaned[:120] or fallback
