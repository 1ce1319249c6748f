"""Where examflow keeps things: flags first, then environment variables, then these defaults."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = Path("examflow_data")


def warehouse_path(flag: str | os.PathLike | None = None) -> Path:
    """The read-write warehouse (`EXAMFLOW_WAREHOUSE`, default `examflow_data/warehouse.duckdb`)."""
    return Path(flag or os.environ.get("EXAMFLOW_WAREHOUSE") or DEFAULT_HOME / "warehouse.duckdb")


def output_dir(flag: str | os.PathLike | None = None) -> Path:
    """Printouts and extracts (`EXAMFLOW_OUTPUT`, default `examflow_data/output`)."""
    return Path(flag or os.environ.get("EXAMFLOW_OUTPUT") or DEFAULT_HOME / "output")


def exams_dir(flag: str | os.PathLike | None = None) -> Path:
    """The folder of exam folders the sensor watches (`EXAMFLOW_EXAMS`, default `exams`)."""
    return Path(flag or os.environ.get("EXAMFLOW_EXAMS") or "exams")


def memory_limit() -> str:
    """DuckDB's memory limit (`EXAMFLOW_MEMORY_LIMIT`, default 4GB): beyond it, joins and sorts spill
    to `<warehouse>.tmp/` instead of growing, so a province-scale exam runs within a small machine's
    memory (DuckDB's own default, 80 % of RAM, leaves nothing for Python)."""
    return os.environ.get("EXAMFLOW_MEMORY_LIMIT") or "4GB"


def lock_timeout() -> float:
    """Seconds to wait for the warehouse while another process writes it (`EXAMFLOW_LOCK_TIMEOUT`,
    default 300): DuckDB lets one process open the file for writing, so a command started during a run
    waits for it instead of failing; past this it fails with its own message."""
    value = os.environ.get("EXAMFLOW_LOCK_TIMEOUT")
    try:
        return max(0.0, float(value)) if value else 300.0
    except ValueError:
        raise ValueError(f"EXAMFLOW_LOCK_TIMEOUT={value!r}: give a number of seconds") from None


def sensor_interval() -> int:
    """Seconds between two looks of the exam-folder sensor (`EXAMFLOW_SENSOR_INTERVAL`, default 30)."""
    return int(os.environ.get("EXAMFLOW_SENSOR_INTERVAL") or 30)
