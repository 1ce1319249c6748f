"""The resources of the code location, bound to the settings (flags and EXAMFLOW_* variables); the
classes and the pool and tag names are the assets' own (assets/resources.py)."""
from __future__ import annotations

from assets.resources import WAREHOUSE_POOL, WAREHOUSE_TAG, ExamFoldersResource, WarehouseResource
from examflow import settings

__all__ = ["WAREHOUSE_POOL", "WAREHOUSE_TAG", "ExamFoldersResource", "WarehouseResource", "default_resources"]


def default_resources() -> dict:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path())),
        "exam_folders": ExamFoldersResource(exams_dir=str(settings.exams_dir()), output_dir=str(settings.output_dir())),
    }
