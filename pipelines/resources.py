"""Resources: the warehouse (one writer at a time, connections always closed) and the places
exam folders and printouts live."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from examflow import folders, settings, warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse. Not dagster-duckdb's resource: that one keeps the file locked while an
    exception unwinds (engineering notes); this one closes in a finally."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False):
        with warehouse.connect(Path(self.path), read_only=read_only) as con:
            yield con


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


def default_resources() -> dict:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path())),
        "exam_folders": ExamFoldersResource(exams_dir=str(settings.exams_dir()), output_dir=str(settings.output_dir())),
    }
