"""The analysts' copy of the warehouse.

Runs write `warehouse.duckdb`; after every successful run the whole file is checkpointed, copied and
swapped in atomically (os.replace) as `warehouse.analyst.duckdb`. Analysts open only the copy, read
only: a query never sees a half-written exam, never blocks a run (the writer never opens the copy),
and is never refused for a lock (nobody writes the copy). A session open during a swap keeps reading
the snapshot it opened.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import duckdb


def analyst_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.stem + ".analyst" + warehouse.suffix)


def publish(warehouse: Path, wait: float | None = None) -> Path:
    """Checkpoint the warehouse and swap a fresh copy in for the analysts (waiting up to `wait` seconds,
    default EXAMFLOW_LOCK_TIMEOUT, for another process's lock)."""
    warehouse = Path(warehouse)
    from examflow import warehouse as wh

    with wh.connect(warehouse, wait=wait) as con:
        con.execute("CHECKPOINT")
    target = analyst_path(warehouse)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(warehouse, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target


@contextlib.contextmanager
def read_only(path: Path):
    if not Path(path).exists():
        raise FileNotFoundError(f"no analysts' copy at {path}: it is published after the first successful run")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def published_exams(warehouse: Path) -> set[str]:
    """Exam ids in the analysts' copy's mart.exams: exams whose last successful run has finished
    (the copy is published after it). Read-only, so it never waits for a run."""
    path = analyst_path(warehouse)
    if not path.exists():
        return set()
    with read_only(path) as con:
        try:
            return {r[0] for r in con.execute("SELECT exam_id FROM mart.exams").fetchall()}
        except duckdb.CatalogException:
            return set()
