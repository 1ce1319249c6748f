"""Joint exams (联考, rules.md §11) on a hand-computed example: two schools with two classes each, both
tracks, a previous joint exam (tests/builders.py JOINT_*). Figures below are worked out by hand.

This exam (objective 4 or 0 + subjective mark; total = math + first choice):
  physics track  math: A1 10, A2 5, A4 8 | B1 6, B3 10   physics: A1 9, A2 6, A4 6 | B1 7, B3 10
                 total: A1 19, A2 11, A4 14 | B1 13, B3 20
  history track  math: A3 7 | B2 4, B4 absent            history: A3 8 | B2 5, B4 5
                 total: A3 15 | B2 9, B4 incomplete
Previous exam: physics-track math A1 8, A2 7, A4 9 | B1 4, B3 6; totals A1 14, A2 13, A4 13 | B1 9, B3 13.
"""
from __future__ import annotations

import pytest
import yaml

from examflow.errors import ContractError
from tests.builders import JOINT_PREVIOUS_SCORES, joint_exam, write_yaml
from tests.conftest import query, query_dicts, run

EXAM, PREVIOUS = "joint-2026-11", "joint-2026-10"


@pytest.fixture(scope="module")
def joint_wh(tmp_path_factory):
    base = tmp_path_factory.mktemp("joint")
    wh = base / "wh" / "warehouse.duckdb"
    run(joint_exam(base / "exams", PREVIOUS, None, JOINT_PREVIOUS_SCORES), wh)
    run(joint_exam(base / "exams"), wh)
    return wh


def _rows(wh, sql, key):
    return {tuple(r[k] for k in key): r for r in query_dicts(wh, sql, [EXAM])}


def test_class_ids_carry_the_school(joint_wh):
    assert dict(query(joint_wh, "SELECT student_id, class_id FROM mart.students WHERE exam_id = ?", [EXAM])) == {
        "A1": "一中:1", "A2": "一中:1", "A3": "一中:2", "A4": "一中:2",
        "B1": "二中:1", "B2": "二中:1", "B3": "二中:2", "B4": "二中:2"}
    assert query(joint_wh, "SELECT count(*) FROM mart.abnormal_scripts WHERE exam_id = ?", [EXAM]) == [(0,)]


def test_joint_and_school_ranks(joint_wh):
    math = _rows(joint_wh, "SELECT * FROM mart.subject_scores WHERE exam_id = ? AND subject = 'math'", ["student_id"])
    ranks = {k[0]: (r["raw_score"], r["grade_rank"], r["school_rank"]) for k, r in math.items()}
    assert ranks == {"A1": (10, 1, 1), "A2": (5, 5, 3), "A4": (8, 3, 2), "B1": (6, 4, 2), "B3": (10, 1, 1),
                     "A3": (7, 1, 1), "B2": (4, 2, 1), "B4": (None, None, None)}
    totals = _rows(joint_wh, "SELECT * FROM mart.totals WHERE exam_id = ?", ["student_id"])
    got = {k[0]: (r["total"], r["grade_rank"], r["school_rank"], r["rank_change"]) for k, r in totals.items()}
    # previous physics ranks: A1 14 → 1; A2, A4, B3 13 → 2; B1 9 → 5
    assert got == {"B3": (20, 1, 1, 1), "A1": (19, 2, 1, -1), "A4": (14, 3, 2, -1), "B1": (13, 4, 2, 1),
                   "A2": (11, 5, 3, -3), "A3": (15, 1, 1, 0), "B2": (9, 2, 1, 0), "B4": (None, None, None, None)}


def test_school_quant(joint_wh):
    q = _rows(joint_wh, "SELECT * FROM mart.school_quant WHERE exam_id = ?", ["school", "subject", "track"])
    assert set(q) == {(s, subj, tr) for s in ("一中", "二中", "*") for subj, tr in (
        ("math", "physics"), ("math", "history"), ("physics", "physics"), ("history", "history"),
        ("total", "physics"), ("total", "history"))}
    a, b, c = q[("一中", "math", "physics")], q[("二中", "math", "physics")], q[("*", "math", "physics")]
    # 一中 10, 5, 8; 二中 10, 6; cohort mean 39 / 5
    assert (a["n_enrolled"], a["n_sat"], a["max"], a["min"], a["median"]) == (3, 3, 10, 5, 8)
    assert a["mean"] == pytest.approx(23 / 3) and a["sd"] == pytest.approx((38 / 9) ** 0.5)
    assert (b["mean"], b["sd"], c["mean"]) == (8, 2, pytest.approx(7.8))
    assert a["mean_diff"] == pytest.approx(23 / 3 - 7.8) and b["mean_ratio"] == pytest.approx(8 / 7.8)
    # excellent ≥ 8.5, good ≥ 7.5, pass ≥ 6, low < 4 (of full 10)
    assert (a["excellent_rate"], a["good_rate"], a["pass_rate"], a["low_rate"]) == pytest.approx((1 / 3, 2 / 3, 2 / 3, 0))
    assert (b["excellent_rate"], b["good_rate"], b["pass_rate"], b["low_rate"]) == (0.5, 0.5, 1, 0)
    # 三率一分 = 0.4 mean% + 0.4 pass% + 0.2 excellent%
    assert a["three_rates_one_score"] == pytest.approx(0.4 * 230 / 3 + 0.4 * 200 / 3 + 0.2 * 100 / 3)
    assert b["three_rates_one_score"] == pytest.approx(82)
    assert (a["rank_by_mean"], b["rank_by_mean"], c["rank_by_mean"]) == (2, 1, None)
    # previous means 一中 (8 + 7 + 9) / 3 = 8 (rank 1), 二中 (4 + 6) / 2 = 5 (rank 2)
    assert (a["mean_change"], a["rank_by_mean_change"]) == (pytest.approx(-1 / 3), -1)
    assert (b["mean_change"], b["rank_by_mean_change"]) == (pytest.approx(3), 1)
    # history-track math: 二中 has B4 absent
    h = q[("二中", "math", "history")]
    assert (h["n_enrolled"], h["n_sat"], h["n_absent"], h["mean"], h["rank_by_mean"]) == (2, 1, 1, 4, 2)
    assert q[("一中", "math", "history")]["mean_diff"] == pytest.approx(7 - 5.5)
    p = q[("一中", "physics", "physics")]
    assert (p["mean"], p["median"], p["sd"], p["rank_by_mean"]) == (7, 6, pytest.approx(2 ** 0.5), 2)
    # totals: 一中 19, 11, 14 (previous 14, 13, 13); 二中 20, 13 (previous 9, 13); full marks 20
    ta, tb = q[("一中", "total", "physics")], q[("二中", "total", "physics")]
    assert (ta["mean"], tb["mean"], q[("*", "total", "physics")]["mean"]) == pytest.approx((44 / 3, 16.5, 15.4))
    assert (ta["rank_by_mean"], tb["rank_by_mean"]) == (2, 1)
    assert (ta["mean_change"], tb["mean_change"]) == pytest.approx((44 / 3 - 40 / 3, 5.5))
    assert (ta["rank_by_mean_change"], tb["rank_by_mean_change"]) == (-1, 1)
    th = q[("二中", "total", "history")]
    assert (th["n_enrolled"], th["n_sat"], th["n_absent"], th["mean"]) == (2, 1, 1, 9)


def test_school_lines(joint_wh):
    lines = _rows(joint_wh, "SELECT * FROM mart.school_lines WHERE exam_id = ?", ["school", "line", "track"])
    got = {k: (r["line_score"], r["n_over"], r["over_rate"]) for k, r in lines.items()}
    # physics 本科线 = the 2nd total (19): B3 20, A1 19 over; history 本科线 = 10: A3 over, B2 not, B4 incomplete
    assert got == {("一中", "本科线", "physics"): (19, 1, pytest.approx(1 / 3)),
                   ("二中", "本科线", "physics"): (19, 1, 0.5), ("*", "本科线", "physics"): (19, 2, 0.4),
                   ("一中", "本科线", "history"): (10, 1, 1.0), ("二中", "本科线", "history"): (10, 0, 0.0),
                   ("*", "本科线", "history"): (10, 1, 0.5)}


def test_class_quant_ranks_classes_across_schools(joint_wh):
    q = _rows(joint_wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND subject = 'total'",
              ["class_id", "track"])
    # physics-track class means: 一中:1 (19 + 11) / 2 = 15, 一中:2 14, 二中:1 13, 二中:2 20
    assert {k: r["rank_by_mean"] for k, r in q.items() if k[1] == "physics"} == {
        ("一中:1", "physics"): 2, ("一中:2", "physics"): 3, ("二中:1", "physics"): 4, ("二中:2", "physics"): 1,
        ("*", "physics"): None}


def test_joint_flag_with_one_school(tmp_path, wh):
    """`joint: true` makes an exam joint even when its roster names one school: class ids carry it."""
    folder = joint_exam(tmp_path / "exams", "solo", None)
    cfg = yaml.safe_load((folder / "exam.yaml").read_text(encoding="utf-8"))
    roster = (folder / "roster.csv").read_text(encoding="utf-8").replace("二中", "一中")
    (folder / "roster.csv").write_text(roster, encoding="utf-8")
    write_yaml(folder / "exam.yaml", {**cfg, "joint": True})
    run(folder, wh)
    assert {r[0] for r in query(wh, "SELECT DISTINCT class_id FROM mart.students")} == {"一中:1", "一中:2"}
    assert query(wh, "SELECT count(*) FROM mart.totals WHERE school_rank IS NOT NULL") == [(7,)]  # B4 incomplete
    write_yaml(folder / "exam.yaml", cfg)     # one school, no flag: not joint, plain class ids
    run(folder, wh)
    assert {r[0] for r in query(wh, "SELECT DISTINCT class_id FROM mart.students")} == {"1", "2"}
    assert query(wh, "SELECT count(school_rank) FROM mart.totals") == [(0,)]
    assert query(wh, "SELECT count(*) FROM mart.school_quant") == [(0,)]


def test_a_joint_roster_names_every_school(tmp_path, wh):
    folder = joint_exam(tmp_path / "exams", "gap", None)
    lines = (folder / "roster.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("一中", "")                  # A3 (row 4) without a school
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContractError) as e:
        run(folder, wh)
    assert "school is empty" in str(e.value) and "roster.csv" in str(e.value) and "row 4" in str(e.value)


# ----------------------------------------------------------------------------------- scope (§9, §11)
def _extract(wh, template, teacher, **options):
    from examflow import extracts as ex

    return ex.extract(template, teacher_id=teacher, exam_id=EXAM, options=options, warehouse=wh,
                      output=wh.parent.parent / "output")


def _students(frame):
    return set(frame["student_id"].to_list()) if "student_id" in frame.columns else set()


SCHOOL_A = {"A1", "A2", "A3", "A4"}
SCHOOL_B = {"B1", "B2", "B3", "B4"}


def test_scope_stops_at_the_school(joint_wh):
    from examflow.extracts import ExtractRefused

    # a math teacher of 一中 (classes 1 and 2): 一中's math students only
    assert _students(_extract(joint_wh, "class_scores", "TA1").frame) == SCHOOL_A
    # the director of 一中: all of 一中, no one of 二中; the director of 二中 the reverse
    assert _students(_extract(joint_wh, "class_scores", "TA9").frame) == SCHOOL_A
    assert _students(_extract(joint_wh, "class_scores", "TB9").frame) == SCHOOL_B
    # the math lead of 二中: math of 二中's classes only
    lead = _extract(joint_wh, "class_scores", "TB8").frame
    assert _students(lead) == SCHOOL_B and set(lead["subject"]) == {"math"}
    # 联考负责人 sees every school
    assert _students(_extract(joint_wh, "class_scores", "TD1").frame) == SCHOOL_A | SCHOOL_B
    # a teacher of 一中 asking for a class of 二中 is refused as outside scope (and logged)
    with pytest.raises(ExtractRefused, match="outside scope: it is a class of 二中"):
        _extract(joint_wh, "class_scores", "TA1", class_id="二中:1")
    with pytest.raises(ExtractRefused, match="outside scope"):
        _extract(joint_wh, "class_scores", "TA9", class_id="二中:2")
    with pytest.raises(ExtractRefused):
        _extract(joint_wh, "student_history", "TA9", student_id="B1")
    assert query(joint_wh, "SELECT count(*) FROM audit.extracts WHERE outcome = 'refused' AND who IN ('TA1', 'TA9')") \
        == [(3,)]


def test_every_teacher_sees_every_schools_aggregates(joint_wh):
    for teacher in ("TA3", "TB1", "TD1"):
        f = _extract(joint_wh, "schools", teacher).frame
        assert set(f["school"]) == {"一中", "二中", "*"} and "student_id" not in f.columns
    with pytest.raises(Exception, match="unknown teacher"):
        _extract(joint_wh, "schools", "NOBODY")


# ----------------------------------------------------------------------------------- a generated joint exam
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """`examflow generate --schools 3` (500 students), previous and current exam run through the pipeline."""
    from examflow.generate import generate

    base = tmp_path_factory.mktemp("joint-gen")
    previous, current = generate(base / "exams", 500, seed=11, schools=3)
    wh = base / "wh" / "warehouse.duckdb"
    run(previous, wh)
    exam = run(current, wh, printouts=True)
    return {"wh": wh, "exam": exam, "folder": current, "out": wh.parent / "output" / exam}


def test_generated_joint_folders(generated):
    import polars as pl

    folder = generated["folder"]
    roster = pl.read_csv(folder / "roster.csv", infer_schema=False)
    sizes = roster.group_by("学校").len()
    assert sizes.height == 3 and sizes["len"].n_unique() == 3          # schools of different sizes
    teachers = pl.read_csv(folder / "teachers.csv", infer_schema=False)
    for school in sizes["学校"]:
        mine = teachers.filter(pl.col("学校") == school)
        assert set(mine["职务"]) >= {"任课", "班主任", "备课组长", "年级主任"}
        assert set(mine["工号"]).isdisjoint(teachers.filter(pl.col("学校") != school)["工号"])
    assert teachers.filter(pl.col("职务") == "联考负责人").height == 1
    rooms = pl.read_csv(folder / "rooms.csv", infer_schema=False)
    assert set(rooms["学校"]) == set(sizes["学校"])
    wh, exam = generated["wh"], generated["exam"]
    assert query(wh, "SELECT previous FROM mart.exams WHERE exam_id = ?", [exam]) == [("gen-2026-10-joint-monthly",)]
    # schools differ in strength: their mean totals are not all within a point of each other
    means = [r[0] for r in query(wh, "SELECT mean FROM mart.school_quant WHERE exam_id = ? AND subject = 'total' "
                                     "AND track = 'physics' AND school <> '*'", [exam])]
    assert max(means) - min(means) > 5


def test_school_quant_properties(generated):
    wh, exam = generated["wh"], generated["exam"]
    rows = query_dicts(wh, "SELECT * FROM mart.school_quant WHERE exam_id = ?", [exam])
    cohort = {(r["subject"], r["track"]): r for r in rows if r["school"] == "*"}
    schools: dict = {}
    for r in rows:
        if r["school"] != "*":
            schools.setdefault((r["subject"], r["track"]), []).append(r)
    assert set(cohort) == set(schools) and len(cohort) >= 10
    for key, group in schools.items():
        c = cohort[key]
        assert 1 <= len(group) <= 3       # (history × physics: an accepted NOT_ENROLLED script)
        # school n_sat sums to the cohort's; the n_sat-weighted mean of school means is the cohort mean
        assert sum(r["n_sat"] for r in group) == c["n_sat"]
        assert sum(r["n_enrolled"] for r in group) == c["n_enrolled"]
        sat = [r for r in group if r["n_sat"]]
        if not sat:                          # nobody sat (a pending NOT_ENROLLED script): NULL figures
            assert c["mean"] is None and all(r["mean"] is None for r in group)
            continue
        assert sum(r["mean"] * r["n_sat"] for r in sat) / c["n_sat"] == pytest.approx(c["mean"], rel=1e-9)
        # rank by mean: a competition rank of the means, highest first
        for r in sat:
            assert r["rank_by_mean"] == 1 + sum(o["mean"] > r["mean"] + 1e-9 for o in sat)
            assert r["mean_diff"] == pytest.approx(r["mean"] - c["mean"])
        # with a previous joint exam every school has its changes
        assert all(r["mean_change"] is not None and r["rank_by_mean_change"] is not None for r in sat)


def test_school_rank_is_the_rank_within_the_school(generated):
    import polars as pl

    wh, exam = generated["wh"], generated["exam"]
    for table, score, part in (("totals", "total", ["track"]), ("subject_scores", "raw_score", ["subject", "cohort_track"])):
        frame = pl.DataFrame(query_dicts(wh, f"SELECT t.*, s.school FROM mart.{table} t JOIN mart.students s "
                                             "USING (exam_id, student_id) WHERE exam_id = ? AND t.status = 'ok'", [exam]))
        again = frame.with_columns(pl.col(score).rank("min", descending=True).over([*part, "school"]).alias("again"))
        assert again.filter(pl.col("again") != pl.col("school_rank")).height == 0, table
        assert again["school_rank"].null_count() == 0
        # and the joint rank is over every school
        joint = frame.with_columns(pl.col(score).rank("min", descending=True).over(part).alias("again"))
        assert joint.filter(pl.col("again") != pl.col("grade_rank")).height == 0, table


# ----------------------------------------------------------------------------------- arrangement (§10 per school)
def test_a_joint_exam_is_arranged_school_by_school(tmp_path, wh):
    from examflow.arrange.folder import arrange_folder
    from tests.builders import write_csv

    folder = joint_exam(tmp_path / "exams", "joint-arr", None)
    write_csv(folder / "rooms.csv", ["考场", "座位数", "学校"], [("1", 3, "一中"), ("2", 3, "一中"), ("1", 5, "二中")])
    done = arrange_folder(folder, wh, tmp_path / "out")
    seats = {r["student_id"]: r for r in query_dicts(wh, "SELECT * FROM mart.seating WHERE session = 1")}
    # every student seated in a room of their own school (rooms named school:room, as class ids)
    assert {s: r["room"].split(":")[0] for s, r in seats.items()} == {
        s: ("一中" if s.startswith("A") else "二中") for s in ("A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4")}
    # one timetable for every school: a subject in one session
    assert query(wh, "SELECT count(*) FROM (SELECT subject FROM mart.seating GROUP BY subject "
                     "HAVING count(DISTINCT session) > 1)") == [(0,)]
    # invigilators are the school's own teachers
    for room, teacher in query(wh, "SELECT room, teacher_id FROM mart.invigilation"):
        assert teacher[1] == {"一中": "A", "二中": "B"}[room.split(":")[0]], (room, teacher)   # TA… of 一中
    assert [f.name for f in done.folders] == ["考务", "考务"]
    assert {f.parent.name for f in done.folders} == {"一中", "二中"}
    assert all((f / "门贴.xlsx").exists() for f in done.folders)
    # rooms without a school cannot be split between the schools
    write_csv(folder / "rooms.csv", ["考场", "座位数"], [("1", 10)])
    with pytest.raises(ContractError, match="学校"):
        arrange_folder(folder, wh, tmp_path / "out")


# ----------------------------------------------------------------------------------- printouts and privacy
def _texts(path):
    """Every text of a printout: each XML part of a workbook, the extracted text of each PDF page."""
    import zipfile

    from pypdf import PdfReader

    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_each_school_bundle_names_no_student_of_another_school(generated):
    import re

    import polars as pl

    roster = pl.read_csv(generated["folder"] / "roster.csv", infer_schema=False)
    teachers = set(pl.read_csv(generated["folder"] / "teachers.csv", infer_schema=False)["姓名"])
    counts = roster.group_by("姓名").len()
    unique = set(counts.filter(pl.col("len") == 1)["姓名"]) - teachers   # names no one else carries
    schools = sorted(set(roster["学校"]))
    out = generated["out"]
    assert sorted(p.name for p in (out / "schools").iterdir()) == schools
    assert (out / "联考总表.xlsx").exists()
    for school in schools:
        bundle = out / "schools" / school
        files = sorted(p for p in bundle.rglob("*") if p.is_file())
        assert {p.name for p in files} >= {"成绩总表.xlsx", "班级量化表.xlsx", "教师量化表.xlsx"}
        mine = roster.filter(pl.col("学校") == school)
        number = re.compile(r"(\d+)")
        classes = {f"{school}_{int(number.search(c).group(1))}.pdf" for c in mine["班级"]}
        assert {p.name for p in files if p.parent.name == "成绩单"} == classes
        assert {p.name for p in files if p.parent.name == "成绩条"} == classes
        others = roster.filter(pl.col("学校") != school)
        other_ids = re.compile("|".join(rf"(?<!\d){i}(?!\d)" for i in others["学号"]))
        other_names = [n for n in others["姓名"] if n in unique and len(n) >= 3 and "=" not in n]
        own_ids = set(mine["学号"])
        seen_own = set()
        for f in files:
            text = _texts(f)
            hit = other_ids.search(text)
            assert hit is None, (school, f.name, hit and hit.group(0))
            named = [n for n in other_names if n in text]
            assert not named, (school, f.name, named[:3])
            seen_own |= {i for i in own_ids if i in text}
        assert seen_own == own_ids          # the scan sees ids: every own student is in the bundle
        # 成绩总表 carries joint and school ranks
        from openpyxl import load_workbook

        head = [c.value for c in load_workbook(bundle / "成绩总表.xlsx", read_only=True)["年级"][1]]
        assert {"年级名次", "校内名次", "班级名次"} <= set(head)



def test_school_bundle_pdfs_are_the_exams_files(generated, tmp_path):
    """A bundle's class PDFs are the exam's own files (hard links: one file, one sha256), 0o600, each
    with its audit row. Printing again over an older output (bundle PDFs written as copies, and a
    class that no longer exists) puts the new files in the bundles and removes the stale one,
    leaving no temporary file."""
    import json
    import os
    import shutil
    from pathlib import Path

    from examflow.printing import sha256_file
    from examflow.printing.exam import print_pdfs

    out, exam = generated["out"], generated["exam"]
    bundled = sorted((out / "schools").glob("*/成绩*/*.pdf"))
    assert bundled
    for pdf in bundled:
        own = out / pdf.parent.name / pdf.name
        assert os.path.samefile(pdf, own) and (pdf.stat().st_mode & 0o777) == 0o600
    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(generated["wh"], wh)
    again = tmp_path / "output" / exam
    shutil.copytree(out, again)          # copies: no file shared with the exam's
    stale = next((again / "schools").glob("*/成绩单")) / "gone_99.pdf"
    stale.write_bytes(b"%PDF-1.4 old")
    last = query(wh, 'SELECT max("at") FROM audit.extracts')[0][0]
    run = print_pdfs(wh, exam, tmp_path / "output")
    assert not stale.exists()
    assert not [p for p in again.rglob("*") if p.name.startswith(".tmp")]
    for pdf in (again / "schools").glob("*/成绩*/*.pdf"):
        assert os.path.samefile(pdf, again / pdf.parent.name / pdf.name)
    rows = query_dicts(wh, 'SELECT file, sha256, params FROM audit.extracts WHERE "at" > ?', [last])
    assert sorted(r["file"] for r in rows) == sorted(str(f.path) for f in run.files) == sorted(
        str(p) for p in again.rglob("*.pdf"))
    for r in rows:
        assert r["sha256"] == sha256_file(r["file"])
        assert json.loads(r["params"])["class_id"].replace(":", "_") == Path(r["file"]).stem

def test_joint_summary_compares_the_schools(generated):
    from openpyxl import load_workbook

    wb = load_workbook(generated["out"] / "联考总表.xlsx")
    assert wb.sheetnames[0] == "总分" and {"上线", "均分对比", "图表"} <= set(wb.sheetnames)
    assert len(wb["图表"]._charts) == 1
    rows = list(wb["均分对比"].iter_rows(values_only=True))
    wh, exam = generated["wh"], generated["exam"]
    expected = dict(query(wh, "SELECT school, mean FROM mart.school_quant WHERE exam_id = ? AND subject = 'total' "
                              "AND track = 'physics'", [exam]))
    assert rows[0][1] == "总分(物理类)"
    assert {r[0]: r[1] for r in rows[1:]} == {("联考全体" if k == "*" else k): pytest.approx(v, abs=0.05)
                                              for k, v in expected.items()}
