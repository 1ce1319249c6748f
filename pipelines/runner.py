"""`examflow run`: one exam folder through the Dagster assets, in this process. The `examflow` command
(pipelines/cli.py) hands `run_exam` to the library's CLI."""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from examflow import contracts, settings
from examflow.config import load_exam
from examflow import warehouse as wh_lib
from examflow.errors import ContractError, WarehouseBusy
from examflow.printing.fonts import FontMissing

log = logging.getLogger("examflow")


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def _known_error(exc: BaseException) -> ContractError | WarehouseBusy | FontMissing | None:
    """The examflow error under Dagster's wrapping, if any (its message is the one to show)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ContractError, WarehouseBusy, FontMissing)):
            return exc
        exc = getattr(exc, "user_exception", None) or exc.__cause__ or exc.__context__
    return None


def run_exam(folder: Path, warehouse: Path | None = None, output: Path | None = None, printouts: bool = True,
             instance=None, timings: Path | None = None) -> str:
    """Materialise every asset of the exam in `folder`; return its id. ContractError when the folder
    breaks the input contract, WarehouseBusy when another process kept the warehouse past
    EXAMFLOW_LOCK_TIMEOUT (the warehouse is then as it was); FontMissing when the PDFs cannot be
    printed (their step runs last: the warehouse, the analysts' copy and the workbooks are written).
    `timings`: a JSON file to write each
    step's seconds to (the benchmark's per-asset breakdown)."""
    # GX's import starts now, in its own process, beside Dagster's start-up and the ingest (contracts)
    contracts.start_worker()
    import dagster as dg

    from assets.checks import CONTRACT_CHECKS
    from pipelines.definitions import ASSETS
    from pipelines.jobs import WRITES
    from pipelines.resources import ExamFoldersResource, WarehouseResource

    folder = Path(folder)
    exam_id = load_exam(folder).id
    wh_path = settings.warehouse_path(warehouse)
    # wait here for a writer in another process, before anything is read or written; each step
    # waits again if one slips in between (a command has no Dagster retries: lock_retries=0)
    with wh_lib.connect(wh_path):
        pass
    instance = instance or _instance()
    instance.add_dynamic_partitions("exam", [exam_id])
    resources = {
        "warehouse": WarehouseResource(path=str(wh_path), lock_retries=0),
        "exam_folders": ExamFoldersResource(exams_dir=str(settings.exams_dir()), output_dir=str(settings.output_dir(output))),
    }
    selection = dg.AssetSelection.all() if printouts else dg.AssetSelection.all() - dg.AssetSelection.groups("print")
    started = time.perf_counter()
    try:
        result = dg.materialize(
            [*ASSETS, *CONTRACT_CHECKS], instance=instance, partition_key=exam_id, resources=resources, selection=selection,
            run_config={"ops": {"raw__exam_files": {"config": {"folder": str(folder.resolve())}}},
                        "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            tags={"examflow/folder": str(folder.resolve()), **WRITES},
        )
    except Exception as exc:
        known = _known_error(exc)
        if known:
            raise known from None
        raise
    if not result.success:
        raise RuntimeError(f"the run for {exam_id} failed; see the Dagster event log")
    log.info(f"{exam_id}: done in {time.perf_counter() - started:.1f}s")
    if timings:
        Path(timings).write_text(json.dumps(step_seconds(instance, result.run_id), indent=1), encoding="utf-8")
    return exam_id


def step_seconds(instance, run_id: str) -> dict[str, float]:
    """Seconds from each step's start to its success, from the run's Dagster event log."""
    import dagster as dg

    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    starts, seconds = {}, {}
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        entry = record.event_log_entry
        key = entry.dagster_event.step_key
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[key] = entry.timestamp
        elif key in starts:
            seconds[key] = round(entry.timestamp - starts[key], 2)
    return seconds
