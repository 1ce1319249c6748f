"""Shared fixtures: copies of the spec's example folders and a real warehouse per test."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.pop("DAGSTER_HOME", None)

FIXTURES = Path(__file__).parent / "fixtures"


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(FIXTURES / name, target)
    return target


def run(folder: Path, wh: Path, printouts: bool = False) -> str:
    from pipelines.runner import run_exam

    return run_exam(folder, wh, wh.parent / "output", printouts=printouts)


def query(wh: Path, sql: str, params: list | tuple = ()) -> list[tuple]:
    from examflow import warehouse

    with warehouse.connect(wh, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def query_dicts(wh: Path, sql: str, params: list | tuple = ()) -> list[dict]:
    from examflow import warehouse

    with warehouse.connect(wh, read_only=True) as con:
        cur = con.execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def exam_state(wh: Path, exam_id: str) -> dict[str, list]:
    """Every row of every table for one exam, minus the run's own timestamps: what 'the same
    warehouse' means in re-run tests."""
    from examflow import warehouse

    state = {}
    with warehouse.connect(wh, read_only=True) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_schema IN ('raw', 'staging', 'mart') ORDER BY 1, 2").fetchall()
        for schema, table in tables:
            cols = [r[0] for r in con.execute(f"DESCRIBE {schema}.{table}").fetchall()]
            if "exam_id" not in cols:
                continue
            keep = [f'"{c}"' for c in cols if c not in ("ingested_at", "materialised_at")]
            rows = con.execute(f"SELECT {', '.join(keep)} FROM {schema}.{table} WHERE exam_id = ?", [exam_id]).fetchall()
            state[f"{schema}.{table}"] = sorted(map(repr, rows))
    return state


@contextlib.contextmanager
def writer_holding(wh: Path):
    """Another process holding the warehouse read-write (as a run does) until the block ends or
    `release(holder)`."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(wh)!r})
        con.execute("BEGIN TRANSACTION")
        print("locked", flush=True)
        sys.stdin.readline()
        con.close()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        release(holder)
        holder.wait(timeout=60)


def release(holder: subprocess.Popen) -> None:
    if holder.poll() is None:
        holder.stdin.write("\n")
        holder.stdin.flush()


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "warehouse.duckdb"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return copy_fixture("tiny", tmp_path / "exams")


@pytest.fixture(scope="session")
def tiny_wh(tmp_path_factory) -> Path:
    """The tiny example run once through `examflow run` for the read-only assertions."""
    base = tmp_path_factory.mktemp("tiny")
    folder = copy_fixture("tiny", base / "exams")
    warehouse = base / "wh" / "warehouse.duckdb"
    run(folder, warehouse)
    return warehouse


@pytest.fixture(scope="session")
def press():
    """The machine's fonts and the package's templates, for tests that typeset directly."""
    from examflow.printing.exam import typesetter

    with typesetter({}) as setter:
        yield setter.press
