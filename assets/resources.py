"""The resources the assets take: the warehouse (one writer at a time, connections always closed)
and the places exam folders and printouts live. pipelines/ binds them to the settings."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from examflow import folders, warehouse
from examflow.errors import WarehouseBusy

# every asset that writes the warehouse is in this pool; dagster.yaml limits it to one run at a time
WAREHOUSE_POOL = "examflow_warehouse"
# and every job that writes it carries this tag, limited to one run at a time in the run queue
WAREHOUSE_TAG = "examflow/warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse. Not dagster-duckdb's resource: that one keeps the file locked while an
    exception unwinds (engineering notes); this one closes in a finally. A connection waits while
    another process holds the file (an `examflow` command, an extract's audit row) up to
    `lock_timeout` seconds; a step that still finds it held asks Dagster to run it again, up to
    `lock_retries` times, `lock_retry_seconds` apart (each step is one transaction, so a retry is safe)."""

    path: str
    lock_timeout: float | None = Field(default=None, description="seconds; default EXAMFLOW_LOCK_TIMEOUT")
    lock_retries: int = Field(default=3, description="step retries after a lock wait ran out; 0: fail at once")
    lock_retry_seconds: float = Field(default=60, description="seconds between such retries")

    @contextmanager
    def connect(self, read_only: bool = False):
        with self.retry_when_busy(), warehouse.connect(Path(self.path), read_only=read_only, wait=self.lock_timeout,
                                                       on_wait=dg.get_dagster_logger().warning) as con:
            yield con

    @contextmanager
    def retry_when_busy(self):
        """Turn a lock wait that ran out into Dagster's step retry (STEP_UP_FOR_RETRY in the UI)."""
        try:
            yield
        except WarehouseBusy as e:
            if self.lock_retries <= 0:
                raise
            raise dg.RetryRequested(max_retries=self.lock_retries, seconds_to_wait=self.lock_retry_seconds) from e


class ExamFoldersResource(dg.ConfigurableResource):
    """Where exam folders are found (the sensor's folder) and where printouts are written."""

    exams_dir: str
    output_dir: str

    def find(self, exam_id: str, wh: WarehouseResource | None = None) -> Path:
        """The folder of `exam_id`: an `exam.yaml` with that id under the exams folder, else the
        folder the warehouse last ingested it from."""
        for folder, found_id in folders.exam_folders(Path(self.exams_dir)):
            if found_id == exam_id:
                return folder
        if wh is not None and Path(wh.path).exists():
            with wh.connect() as con:
                warehouse.ensure_schema(con)
                row = warehouse.one(con, "SELECT folder FROM raw.exams WHERE exam_id = ?", [exam_id])
            if row and Path(row[0]).is_dir():
                return Path(row[0])
        raise FileNotFoundError(f"no exam folder with id {exam_id!r} under {self.exams_dir} (EXAMFLOW_EXAMS) or in the "
                                "warehouse")
