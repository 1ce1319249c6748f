"""An exam folder's arrangement, end to end: read the roster, rooms and teachers (no scans needed:
this runs before the exam), normalise them with the same SQL the pipeline uses, arrange, then
write mart.timetable / seating / invigilation and the 考务 printouts, with an audit row per file."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import polars as pl

from examflow import audit, settings, warehouse
from examflow.arrange import Arrangement, arrange, write_printouts
from examflow.config import load_exam
from examflow.ingest import FolderReader, read_people
from examflow.printing.fonts import FontMissing

MODELS = ["mart/timetable", "mart/seating", "mart/invigilation"]


@dataclass
class ArrangedExam:
    exam_id: str
    arrangement: Arrangement
    files: list


def _normalised(raw) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Students and teachers as staging.students / staging.teacher_roles make them, in memory."""
    con = duckdb.connect()
    try:
        warehouse.ensure_schema(con)
        warehouse.write_raw(con, raw)
        warehouse.run_models(con, raw.config.id, ["staging/students", "staging/teacher_roles"])
        roster = con.sql("SELECT student_id, name, class_id, track, electives, exam_no FROM staging.students "
                         "ORDER BY source_row").pl()
        teachers = con.sql("SELECT teacher_id, teacher_name AS name, class_id, subject, role FROM staging.teacher_roles "
                           "ORDER BY source_file, source_row").pl()
    finally:
        con.close()
    return roster, teachers


def _previous_ranks(wh: Path, previous: str | None) -> pl.DataFrame | None:
    if not previous or not wh.exists():
        return None
    with warehouse.connect(wh, read_only=True) as con:
        found = warehouse.one(con, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mart' "
                            "AND table_name = 'totals'")[0]
        if not found:
            return None
        ranks = con.sql("SELECT student_id, grade_rank FROM mart.totals WHERE exam_id = ? AND grade_rank IS NOT NULL",
                        params=[previous]).pl()
    return ranks if ranks.height else None


def arrange_folder(folder: Path, wh: Path | None = None, output: Path | None = None,
                   progress: Callable[[str], None] = lambda _: None) -> ArrangedExam:
    """Arrange the exam in `folder`. InfeasibleArrangement or ContractError leave everything as it was."""
    folder = Path(folder)
    wh, output = settings.warehouse_path(wh), settings.output_dir(output)
    cfg = load_exam(folder)
    raw = read_people(folder, cfg, FolderReader(folder, cfg, dt.datetime.now(), progress), rooms_required=True)
    roster, teachers = _normalised(raw)
    rooms = raw.frames["rooms"].select("room", "location", pl.col("capacity").cast(pl.Int64))
    subjects = [{"code": s.code, "name": s.name, "role": s.role} for s in cfg.subjects]
    arr = arrange(roster, subjects, rooms, teachers, cfg.settings.get("arrangement") or {}, cfg.date,
                  previous_ranks=_previous_ranks(wh, cfg.previous))
    progress(f"{cfg.id}: {len(arr.sessions)} sessions, {arr.seating.height} seats, "
             f"{arr.invigilation.height} invigilation duties")
    out = output / cfg.id
    font_missing: FontMissing | None = None
    try:
        files = write_printouts(arr, out, exam_name=cfg.name, printing=cfg.settings.get("printing"))
    except FontMissing as e:  # the workbooks are written: record them, then say why the PDFs are not
        font_missing, files = e, list(getattr(e, "written", []))
    with warehouse.connect(wh) as con:
        warehouse.ensure_schema(con)
        con.register("arranged_timetable", arr.timetable)
        con.register("arranged_seating", arr.seating)
        con.register("arranged_invigilation", arr.invigilation)
        warehouse.run_models(con, cfg.id, MODELS)
        for f in files:
            audit.record(con, "examflow", f"arrange/{f.kind}", {"exam_id": cfg.id}, f.rows, str(f.path), f.sha256,
                         exam_id=cfg.id)
    progress(f"{cfg.id}: {len(files)} printouts under {out / '考务'}")
    if font_missing is not None:
        raise font_missing
    return ArrangedExam(cfg.id, arr, files)
