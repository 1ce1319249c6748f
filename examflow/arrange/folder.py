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

from examflow import audit, settings, stages, warehouse
from examflow.arrange import Arrangement, arrange, arrange_schools, write_printouts
from examflow.config import load_exam
from examflow.errors import ContractError
from examflow.ingest import FolderReader, read_people
from examflow.printing import safe_filename
from examflow.printing.fonts import FontMissing

MODELS = stages.stage_models()["arrange"]


@dataclass
class ArrangedExam:
    """What was arranged (the mart frames), its notes, the files written and the folders they are in
    (one per school in a joint exam)."""
    exam_id: str
    timetable: pl.DataFrame
    seating: pl.DataFrame
    invigilation: pl.DataFrame
    notes: list
    files: list
    folders: list


def _normalised(raw) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Students and teachers as staging.students / staging.teacher_roles make them, in memory."""
    con = duckdb.connect()
    try:
        warehouse.ensure_schema(con)
        warehouse.write_raw(con, raw)
        warehouse.run_models(con, raw.config.id, ["staging/students", "staging/teacher_roles"])
        roster = con.sql("SELECT student_id, name, class_id, track, electives, electives_unused, exam_no, school, joint "
                         "FROM staging.students ORDER BY source_row").pl()
        teachers = con.sql("SELECT teacher_id, teacher_name AS name, class_id, subject, role, school "
                           "FROM staging.teacher_roles ORDER BY source_file, source_row").pl()
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
    out = output / cfg.id
    printing = cfg.settings.get("printing")
    if roster["joint"].any():
        timetable, seating, invigilation, notes, files, folders, font_missing = _arrange_joint(
            raw, cfg, roster, teachers, rooms, subjects, wh, out, printing, progress)
    else:
        arr = arrange(roster.drop("school", "joint"), subjects, rooms, teachers.drop("school"),
                      cfg.settings.get("arrangement") or {}, cfg.date, previous_ranks=_previous_ranks(wh, cfg.previous))
        progress(f"{cfg.id}: {len(arr.sessions)} sessions, {arr.seating.height} seats, "
                 f"{arr.invigilation.height} invigilation duties")
        files, font_missing = _printouts(arr, out, cfg.name, printing)
        timetable, seating, invigilation, notes, folders = arr.timetable, arr.seating, arr.invigilation, arr.notes, [out]
    with warehouse.connect(wh) as con:
        warehouse.ensure_schema(con)
        con.register("arranged_timetable", timetable)
        con.register("arranged_seating", seating)
        con.register("arranged_invigilation", invigilation)
        warehouse.run_models(con, cfg.id, MODELS)
        for f in files:
            audit.record(con, "examflow", f"arrange/{f.kind}", {"exam_id": cfg.id}, f.rows, str(f.path), f.sha256,
                         exam_id=cfg.id)
    progress(f"{cfg.id}: {len(files)} printouts under {out}")
    if font_missing is not None:
        raise font_missing
    return ArrangedExam(cfg.id, timetable, seating, invigilation, notes, files, [f / "考务" for f in folders])


def _printouts(arr: Arrangement, folder: Path, exam_name: str, printing: dict | None
               ) -> tuple[list, FontMissing | None]:
    """The 考务 printouts of one arrangement. Without a Chinese font the workbooks are still written:
    they are returned (to be recorded) with the FontMissing to raise once the arrangement is stored."""
    try:
        return write_printouts(arr, folder, exam_name=exam_name, printing=printing), None
    except FontMissing as e:
        return list(getattr(e, "written", [])), e


def _arrange_joint(raw, cfg, roster, teachers, rooms, subjects, wh, out, printing, progress):
    """Each school of a joint exam arranged on its own (examflow.arrange.arrange_schools): its 考务
    printouts under schools/<school>/考务/, and in the mart its rooms named `school:room` (as class ids)."""
    extra = pl.col("extra").fill_null("{}")
    school = raw.frames["rooms"].select(pl.coalesce(extra.str.json_path_match("$.学校"),
                                                    extra.str.json_path_match("$.school")).alias("school"))["school"]
    if school.is_null().any():
        raise ContractError("a joint exam is arranged school by school, each in its own rooms: rooms.csv needs "
                            "a 学校 (school) on every row", "rooms")
    timetable, by_school = arrange_schools(roster.drop("joint"), subjects, rooms.with_columns(school),
                                           teachers, cfg.settings.get("arrangement") or {}, cfg.date,
                                           previous_ranks=_previous_ranks(wh, cfg.previous))
    files, seating, invigilation, notes, folders, font_missing = [], [], [], [], [], None
    for name, arr in by_school.items():
        folders.append(out / "schools" / safe_filename(name))
        notes += [f"{name}: {n}" for n in arr.notes]
        progress(f"{cfg.id} {name}: {len(arr.sessions)} sessions, {arr.seating.height} seats, "
                 f"{arr.invigilation.height} invigilation duties")
        written, missing = _printouts(arr, folders[-1], f"{cfg.name} {name}", printing)
        files += written
        font_missing = font_missing or missing
        room = pl.lit(f"{name}:") + pl.col("room")
        seating.append(arr.seating.with_columns(room.alias("room")))
        invigilation.append(arr.invigilation.with_columns(room.alias("room")))
    return timetable, pl.concat(seating), pl.concat(invigilation), notes, files, folders, font_missing
