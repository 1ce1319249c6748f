"""Property tests (hypothesis) of scoring and ranking on random grades: a permutation of input rows
changes no score; ties always share a competition rank; 赋分 never splits equal raw scores and stays
in its band's range; more files arriving gives what one run on all of them gives.

These drive the plain functions the assets call (ingest, write_raw, run_models), not Dagster, so
that each example takes a fraction of a second."""
import random
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examflow import stages, warehouse
from examflow.ingest import read_exam_folder
from tests.builders import MATH_MARK_HEADER, MATH_SCAN_HEADER, MINI_EXAM, write_csv, write_yaml

ANSWERS = ["A", "B", "C", "D", "AB", "ABD", "AD", "", "BD"]
PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def grades(draw):
    n = draw(st.integers(min_value=3, max_value=40))
    students = []
    for i in range(n):
        marks = draw(st.integers(min_value=0, max_value=12)) / 2
        bio = draw(st.sampled_from(["B", "A", "C", ""]))
        students.append({
            "sid": f"S{i:03d}", "exam_no": f"{i:05d}", "cls": f"高三({draw(st.integers(1, 3))})班",
            "answers": [draw(st.sampled_from(ANSWERS)) for _ in range(3)],
            "m1": marks, "m2": min(6.0, marks + draw(st.sampled_from([0, 0.5, 1, 2]))),
            "bio": bio, "bio_mark": draw(st.integers(min_value=0, max_value=10)) / 2,
        })
    return students


def write_grade(folder: Path, students, order=None, split=False):
    """A mini-exam folder for `students`; `order` permutes the rows of every file; `split` writes the
    math scans in two files."""
    order = order or list(range(len(students)))
    rows = [students[i] for i in order]
    write_yaml(folder / "exam.yaml", MINI_EXAM)
    write_csv(folder / "roster.csv", ["学号", "姓名", "班级", "考号", "类别", "选科"],
              [(s["sid"], "学生" + s["sid"], s["cls"], s["exam_no"], "物理类", "生物 化学") for s in rows])
    scans = [(s["exam_no"], "0", *s["answers"]) for s in rows]
    if split:
        half = len(scans) // 2
        write_csv(folder / "scans" / "math_a.csv", MATH_SCAN_HEADER, scans[:half])
        write_csv(folder / "scans" / "math_b.csv", MATH_SCAN_HEADER, scans[half:])
    else:
        write_csv(folder / "scans" / "math.csv", MATH_SCAN_HEADER, scans)
    write_csv(folder / "scans" / "biology.csv", ["考号", "1"], [(s["exam_no"], s["bio"]) for s in rows])
    write_csv(folder / "marks" / "math_marks.csv", MATH_MARK_HEADER,
              [(s["exam_no"], "4", f"{s['m1']:g}", "T1", f"{s['m2']:g}", "T2") for s in rows])
    write_csv(folder / "marks" / "生物小题分.csv", ["考号", "2"], [(s["exam_no"], f"{s['bio_mark']:g}") for s in rows])


def materialise(folder: Path, wh: Path) -> dict:
    raw = read_exam_folder(folder)
    with warehouse.connect(wh) as con:
        warehouse.write_raw(con, raw)
        warehouse.run_models(con, raw.config.id, stages.VALIDATE + stages.SCORE)
        scores = con.execute("SELECT student_id, subject, status, raw_score, converted_score, band, grade_rank, "
                             "class_rank FROM mart.subject_scores WHERE exam_id = ? ORDER BY 1, 2",
                             [raw.config.id]).fetchall()
        totals = con.execute("SELECT student_id, status, total, raw_total, grade_rank, class_rank FROM mart.totals "
                             "WHERE exam_id = ? ORDER BY 1", [raw.config.id]).fetchall()
    return {"scores": scores, "totals": totals}


def fresh(tmp_path: Path, name: str) -> tuple[Path, Path]:
    base = tmp_path / name
    shutil.rmtree(base, ignore_errors=True)
    return base / "exam", base / "w.duckdb"


@PROPERTY
@given(grade=grades(), seed=st.integers(0, 10_000))
def test_row_order_changes_nothing(tmp_path, grade, seed):
    a, wa = fresh(tmp_path, "a")
    b, wb = fresh(tmp_path, "b")
    write_grade(a, grade)
    order = list(range(len(grade)))
    random.Random(seed).shuffle(order)
    write_grade(b, grade, order=order)
    assert materialise(a, wa) == materialise(b, wb)


@PROPERTY
@given(grade=grades())
def test_ties_share_a_competition_rank(tmp_path, grade):
    folder, wh = fresh(tmp_path, "t")
    write_grade(folder, grade)
    result = materialise(folder, wh)
    for subject in ("math", "biology"):
        ok = [(raw, rank) for _, subj, status, raw, _, _, rank, _ in result["scores"] if subj == subject and status == "ok"]
        for raw, rank in ok:
            assert rank == 1 + sum(1 for other, _ in ok if other > raw)
    ranked = [(total, rank) for _, status, total, _, rank, _ in result["totals"] if status == "ok"]
    for total, rank in ranked:
        assert rank == 1 + sum(1 for other, _ in ranked if other > total)


BANDS = {"A": (86, 100), "B": (71, 85), "C": (56, 70), "D": (41, 55), "E": (30, 40)}


@PROPERTY
@given(grade=grades())
def test_conversion_never_splits_ties_and_stays_in_range(tmp_path, grade):
    folder, wh = fresh(tmp_path, "c")
    write_grade(folder, grade)
    bio = [(raw, conv, band) for _, subj, status, raw, conv, band, _, _ in materialise(folder, wh)["scores"]
           if subj == "biology" and status == "ok"]
    by_raw = {}
    for raw, conv, band in bio:
        assert BANDS[band][0] <= conv <= BANDS[band][1]
        assert conv == int(conv)
        by_raw.setdefault(raw, set()).add((conv, band))
    assert all(len(v) == 1 for v in by_raw.values())
    ordered = sorted(bio)
    assert all(x[1] <= y[1] for x, y in zip(ordered, ordered[1:]))  # a higher raw never converts lower


@PROPERTY
@given(grade=grades())
def test_more_files_equal_one_run_on_all(tmp_path, grade):
    split, ws = fresh(tmp_path, "s")
    whole, ww = fresh(tmp_path, "w")
    write_grade(whole, grade)
    write_grade(split, grade, split=True)
    (split / "scans" / "math_b.csv").rename(tmp_path / "math_b.csv")
    materialise(split, ws)
    (tmp_path / "math_b.csv").rename(split / "scans" / "math_b.csv")
    assert materialise(split, ws) == materialise(whole, ww)
