"""Exam arrangement (考务编排, rules.md §10): timetable, rooms and seats, invigilators, and their
printouts (door lists 门贴, desk labels 桌贴, class lists, invigilation rota).

    from examflow.arrange import arrange, write_printouts, InfeasibleArrangement
    arr = arrange(roster, subjects, rooms, teachers, cfg.settings.get("arrangement"), cfg.date,
                  previous_ranks=prev)          # raises InfeasibleArrangement before any file
    arr.timetable     # session, subject, subject_name, starts_at, ends_at, n_students
    arr.seating       # session, student_id, room, seat, exam_no, subject, class_id
    arr.invigilation  # session, room, slot, teacher_id
    files = write_printouts(arr, out_dir / exam_id, exam_name=cfg.name)   # -> 考务/...

Inputs are the ingest's normalised frames: roster (student_id, name, class_id, track,
electives: list[str], exam_no), subjects ({code, name, role} dicts or objects), rooms (room,
location, capacity), teachers (teacher_id, name, class_id, subject, role), optional previous
ranks (student_id, grade_rank) and the `arrangement:` mapping of exam.yaml.

Everything that can make the request infeasible is checked first and reported together in one
`InfeasibleArrangement` (a ValueError) carrying the numbers: pinned subjects that share
students in one session, pins or session counts beyond the sessions available, a session with
more students than seats, a session needing more invigilators than teachers, exam numbers that
cannot be generated. `arrange` itself writes nothing; `write_printouts` writes only after
`arrange` succeeded. Design decisions are documented in the submodules: `timetable` (exact
colouring), `seating` (order, fill, same-class neighbours, exam numbers), `invigilation`
(flow with lower bounds), `printouts` (the 考务 files).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import polars as pl

from examflow.arrange.invigilation import Rota, Teacher, invigilation_problems, normalise_teachers, plan_invigilation
from examflow.arrange.seating import (
    Room,
    SeatingPlan,
    exam_numbers,
    normalise_rooms,
    order_positions,
    rooms_needed,
    seat_sessions,
    seating_problems,
)
from examflow.arrange.settings import ArrangementSettings
from examflow.arrange.timetable import (
    InfeasibleArrangement,
    Session,
    SubjectInfo,
    Timetable,
    normalise_subjects,
    plan_timetable,
)

__all__ = [
    "Arrangement",
    "arrange_schools",
    "ArrangementSettings",
    "InfeasibleArrangement",
    "arrange",
    "write_printouts",
    "write_scanner_roster",
]


@dataclass
class Arrangement:
    """The result of `arrange`: the three mart frames plus what the printouts need."""

    timetable: pl.DataFrame  # session, subject, subject_name, starts_at, ends_at, n_students
    seating: pl.DataFrame  # session, student_id, room, seat, exam_no, subject, class_id
    invigilation: pl.DataFrame  # session, room, slot, teacher_id
    sessions: list[Session]
    exam_numbers: pl.DataFrame | None  # student_id, name, class, exam_no - when generated
    numbering_session: int | None
    notes: list[str]
    settings: ArrangementSettings
    roster: pl.DataFrame
    subjects: list[SubjectInfo]
    rooms: list[Room]
    teachers: list[Teacher]
    layout_of: dict[int, int]  # session -> seating layout id (identical seatings share one)
    load: dict[str, int]  # invigilation duties per teacher
    stats: dict[str, Any] = field(default_factory=dict)
    timetable_plan: Timetable | None = None

    def scanner_roster(self) -> pl.DataFrame | None:
        """student_id, name, class, exam_no for the scanner, when exam numbers were generated."""
        return self.exam_numbers


def _roster_frame(roster: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in ("student_id", "name", "class_id") if c not in roster.columns]
    if missing:
        raise ValueError(f"roster lacks column(s) {', '.join(missing)}")
    df = roster
    if "track" not in df.columns:
        df = df.with_columns(pl.lit("all").alias("track"))
    if "electives" not in df.columns:
        df = df.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("electives"))
    if "exam_no" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("exam_no"))
    df = df.with_columns(pl.col("student_id").cast(pl.String), pl.col("class_id").cast(pl.String))
    dup = df.filter(pl.col("student_id").is_duplicated())["student_id"].unique().sort().to_list()
    if dup:
        raise ValueError(f"roster lists student_id(s) twice: {', '.join(dup[:10])}")
    return df


def arrange(
    roster: pl.DataFrame,
    subjects: Sequence[Any],
    rooms: pl.DataFrame,
    teachers: pl.DataFrame | None,
    settings: Mapping[str, Any] | ArrangementSettings | None,
    exam_date: Any = None,
    previous_ranks: pl.DataFrame | None = None,
) -> Arrangement:
    """Timetable, seating and invigilation for one exam. Raises InfeasibleArrangement (with the
    numbers) or ValueError (malformed input) before producing anything."""
    roster = _roster_frame(roster)
    subj = normalise_subjects(subjects)
    cfg = settings if isinstance(settings, ArrangementSettings) else ArrangementSettings.from_mapping(settings, exam_date)
    room_list = normalise_rooms(rooms)
    pool = normalise_teachers(teachers) if teachers is not None else []

    tt = plan_timetable(roster, subj, cfg)  # raises on pins / session count

    # every remaining infeasibility, all at once, before any seat is given
    problems = seating_problems(tt, room_list)
    rooms_in_use = [r for r in room_list if r.capacity > 0]
    n_rooms = {s.no: rooms_needed(sum(len(tt.sitters[c]) for c in s.subjects), rooms_in_use)
               for s in tt.sessions}
    problems += invigilation_problems(n_rooms, cfg.invigilators_per_room, len(pool))
    if problems:
        raise InfeasibleArrangement(problems)

    sids = roster["student_id"].to_list()
    classes = roster["class_id"].to_list()
    pos, order_used = order_positions(sids, previous_ranks, cfg.order, cfg.seed)
    plan: SeatingPlan = seat_sessions(tt, room_list, classes, pos, order_used)

    numbers: list[str] | None = None
    numbering = None
    if cfg.exam_no_format:
        numbering, numbers = exam_numbers(plan, tt, subj, room_list, cfg.exam_no_format, roster.height)

    sess_rooms = [(s.session, next(x.subjects for x in tt.sessions if x.no == s.session), s.rooms_used)
                  for s in plan.sessions]
    rota: Rota = plan_invigilation(sess_rooms, pool, cfg.invigilators_per_room, cfg.seed)

    # frames
    old_no = roster["exam_no"].to_list()
    exam_no = numbers if numbers is not None else [None if x in (None, "") else str(x) for x in old_no]
    seat_rows = {"session": [], "student_id": [], "room": [], "seat": [], "exam_no": [], "subject": [],
                 "class_id": []}
    for s in plan.sessions:
        for i, room, seat, code in s.rows:
            seat_rows["session"].append(s.session)
            seat_rows["student_id"].append(sids[i])
            seat_rows["room"].append(room)
            seat_rows["seat"].append(seat)
            seat_rows["exam_no"].append(exam_no[i])
            seat_rows["subject"].append(code)
            seat_rows["class_id"].append(classes[i])
    seating = pl.DataFrame(seat_rows, schema={"session": pl.Int64, "student_id": pl.String, "room": pl.String,
                                              "seat": pl.Int64, "exam_no": pl.String, "subject": pl.String,
                                              "class_id": pl.String})
    numbers_df = None
    if numbers is not None:
        numbers_df = pl.DataFrame({"student_id": sids, "name": roster["name"].cast(pl.String).to_list(),
                                   "class": classes, "exam_no": numbers},
                                  schema={"student_id": pl.String, "name": pl.String, "class": pl.String,
                                          "exam_no": pl.String})
    notes = tt.notes + plan.notes + rota.notes
    if order_used != cfg.order:
        notes.insert(0, "seating: no previous ranks given, seats follow the seeded shuffle")
    stats = {
        "n_sessions": tt.n_sessions,
        "session_lower_bound": tt.lower_bound,
        "clique": tt.clique,
        "refuted_session_counts": tt.refuted,
        "order": order_used,
        "swaps": plan.swaps,
        "adjacent_pairs": sum(s.adjacent_pairs for s in plan.sessions),
        "own_subject_duties": rota.own_subject_duties,
        "rooms_per_session": {s.session: len(s.rooms_used) for s in plan.sessions},
    }
    return Arrangement(
        timetable=tt.frame(subj),
        seating=seating,
        invigilation=rota.frame(),
        sessions=tt.sessions,
        exam_numbers=numbers_df,
        numbering_session=numbering,
        notes=notes,
        settings=cfg,
        roster=roster,
        subjects=subj,
        rooms=room_list,
        teachers=pool,
        layout_of={s.session: s.layout for s in plan.sessions},
        load=rota.load,
        stats=stats,
        timetable_plan=tt,
    )


def arrange_schools(roster: pl.DataFrame, subjects: Sequence[Any], rooms: pl.DataFrame, teachers: pl.DataFrame | None,
                    settings: Mapping[str, Any] | ArrangementSettings | None, exam_date: Any = None,
                    previous_ranks: pl.DataFrame | None = None) -> tuple[pl.DataFrame, dict[str, Arrangement]]:
    """A joint exam (联考): one timetable for every school, the joint cohort's (every school sits a paper
    in the same session), then each school arranged on its own as `arrange` does: its students in its
    own rooms, invigilated by its own teachers. roster, rooms and teachers carry a `school` column.
    Returns the joint timetable and {school: Arrangement}; infeasibility of any school raises one
    InfeasibleArrangement naming every school's problems, before anything is written."""
    cfg = settings if isinstance(settings, ArrangementSettings) else ArrangementSettings.from_mapping(settings, exam_date)
    if cfg.exam_no_format:
        raise InfeasibleArrangement("exam_no_format in a joint exam would give two schools the same exam numbers; "
                                    "arrange with the roster's own exam numbers (联考考号)")
    subj = normalise_subjects(subjects)
    joint = plan_timetable(_roster_frame(roster.drop("school")), subj, cfg)
    cfg = replace(cfg, pinned={code: s.no for s in joint.sessions for code in s.subjects})
    problems, out = [], {}
    for school in sorted(roster["school"].unique().to_list()):
        try:
            out[school] = arrange(roster.filter(pl.col("school") == school).drop("school"), subjects,
                                  rooms.filter(pl.col("school") == school).drop("school"),
                                  None if teachers is None else teachers.filter(pl.col("school") == school).drop("school"),
                                  cfg, previous_ranks=previous_ranks)
        except InfeasibleArrangement as e:
            problems += [f"{school}: {p}" for p in e.problems]
    if problems:
        raise InfeasibleArrangement(problems)
    return joint.frame(subj), out


def write_printouts(arrangement: Arrangement, folder: str | Path, *, exam_name: str | None = None,
                    printing: dict | None = None):
    """Write the 考务 printouts under `folder/考务/`; returns the PrintedFile list (see
    `examflow.printing.arrangement`)."""
    from examflow.printing.arrangement import write_printouts as _write

    return _write(arrangement, folder, exam_name=exam_name, printing=printing)


def write_scanner_roster(arrangement: Arrangement, path: str | Path):
    """Write the generated exam numbers as the roster CSV the scanner uses (owner-only)."""
    from examflow.printing.arrangement import write_scanner_roster as _write

    return _write(arrangement, path)
