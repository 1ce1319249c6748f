"""Synthetic exam folders for trials, tests and benchmarks (`examflow generate`).

`generate(out, students, seed)` writes two exam folders under `out`:

* ``gen-2026-10-monthly`` (previous exam): a clean folder — roster, teachers, rooms,
  one UTF-8 scan CSV per subject, one 小题分 (wide) marks CSV per subject, absent
  students only, no other anomaly.
* ``gen-2026-11-midterm`` (current exam, ``previous:`` the first): every export shape
  of inputs.md (UTF-8 with/without BOM, ``;`` and tab delimiters, GBK, XLSX with
  title rows and merged cells, files without a subject column, a subject split in two
  batches, OMRChecker output with Manual/ErrorFiles and MultiMarkedFiles, long and wide
  marks) and every abnormal situation of rules.md §3 planted at realistic rates (each at
  least once), plus a ``resolutions/`` CSV.

Beside the folders, ``<current id>.planted.csv`` lists every planted problem with the
abnormal_id rules.md §3 gives it (for accounting tests); it is not part of any exam
folder. Without resolutions, validating the current folder yields exactly these ids.

How each problem is planted (current exam; rates per subject's takers, at least 1 each):
  UNKNOWN_EXAM_NO      chinese/math/physics: a digit changed to a number not in the roster;
                       english/biology: a digit dropped; physics: one empty exam number (that
                       script has no marks). Marks carry the exam number as scanned. The
                       student also gets MISSING_SCRIPT.
  DUPLICATE_SCAN       english/chemistry: a row re-scanned identically at the end of the file
                       (new script id, no extra marks); biology: the same OMRChecker row
                       appended again (same file_id).
  DUPLICATE_CONFLICT   math/geography: student A's sheet bubbled with B's exam number, appended
                       at the end (the later copy); A gets MISSING_SCRIPT; no marks for it.
  MISSING_SCRIPT       chinese/history/politics: rows removed; biology: every absent student
                       (OMRChecker has no absent field); plus the side effects above and the
                       unrescanned SCAN_ERROR sheets.
  ABSENT_BUT_ANSWERED  english/geography: absent mark set on an answered, marked script.
  NOT_ENROLLED         history (a physics-track student), chemistry, politics: an extra script
                       (with marks) for a student outside the subject.
  ORPHAN_MARKS         chinese/math (long), politics (wide): marks for a made-up number 099….
  PAGE_MISSING         chinese/math: 页数 1 of 2 (marks complete).
  UNMARKED             chinese/physics (row missing), geography (empty wide cell).
  MARKER_DISAGREEMENT  chinese/math/english/physics: 二评 beyond tolerance, no 仲裁.
  SCORE_OUT_OF_RANGE   math (single-marked item above full), geography (wide, above full),
                       chinese (x.3 on a single-marked item).
  MARKER_FLAGGED       chinese/history: 问题卷 text on one item row.
  MULTI_MARK           chinese/english/history/biology: two letters on a single item;
                       biology also in Manual/MultiMarkedFiles.csv.
  UNREADABLE_MARK      math `*`, physics `?`, english `H` on 七选五, chemistry `E`.
  ALL_BLANK            physics/politics: a present script with every objective item blank.
  SCAN_ERROR           biology: sheets in Manual/ErrorFiles.csv; the first was rescanned into
                       Results (new file_id), the others give MISSING_SCRIPT.
  VERSION_UNKNOWN      math: 试卷类型 empty on a present script.
  OPTIONAL_CHOICE_CONFLICT chemistry: 选做 empty, 选做 "18,19", or both 18 and 19 marked.
Every other script is clean (natural all-blank scripts are prevented, natural marker
disagreements always carry an arbitration). About 1.4 % of students are absent per subject
(absent mark, no responses, no marks). Planted students are distinct within a subject.

Scores are ability-driven (IRT-like objective items, ability-driven subjective marks),
generated vectorised with numpy per subject and written with polars in row chunks,
so large grades (500,000 students) stay feasible. Deterministic for a given seed.

The package by concern: ``world`` (students, abilities; ``school`` one school's classes and teachers,
``joint`` a joint exam's schools, ``names`` personal names), ``subjects`` (items, keys),
``scores`` (responses and marks), ``anomalies`` (the planted problems and resolutions),
``layouts`` (how each file looks), ``exam`` (one exam folder, exam.yaml) and ``common``.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from examflow.generate.exam import write_exam
from examflow.generate.joint import school_names
from examflow.generate.subjects import subject_definitions
from examflow.generate.world import CURRENT_ID, JOINT_IDS, PREVIOUS_ID, build_world

__all__ = ["generate", "PREVIOUS_ID", "CURRENT_ID", "JOINT_IDS", "school_names", "subject_definitions"]


def generate(out: Path, students: int, seed: int = 7,
             progress: Callable[[str], None] | None = None, schools: int = 0) -> list[Path]:
    """Write a previous exam folder and a current exam folder under `out`; return [previous_folder, current_folder].
    With schools ≥ 2 both are joint exams (联考) of that many schools (JOINT_IDS), of different sizes
    and strengths, each with its own classes, teachers and rooms."""
    students, schools = int(students), int(schools)
    if students < 1:
        raise ValueError("students must be at least 1")
    if schools == 1 or schools < 0 or (schools and students < 2 * schools):
        raise ValueError("a joint exam needs at least 2 schools, and at least 2 students per school")
    say = progress or (lambda _msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(students, int(seed), schools)
    prev_dir, cur_dir = out / world.ids[0], out / world.ids[1]
    for d in (prev_dir, cur_dir):
        if d.exists():
            shutil.rmtree(d)
    stale = out / f"{world.ids[1]}.planted.csv"
    if stale.exists():
        stale.unlink()
    write_exam(prev_dir, world, "previous", say, out)
    write_exam(cur_dir, world, "current", say, out)
    return [prev_dir, cur_dir]
