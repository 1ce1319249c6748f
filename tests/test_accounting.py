"""Nothing is lost: over a generated exam with thousands of scripts, every raw scan and mark row is
either counted in a score or referenced by an abnormal row, and the problems found are exactly the
ones the generator planted (less those the folder's resolutions make disappear)."""
import csv

import pytest

from examflow.generate import CURRENT_ID, generate
from tests.conftest import query, run


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    base = tmp_path_factory.mktemp("acc")
    previous, current = generate(base / "exams", 700, seed=11)
    wh = base / "wh" / "warehouse.duckdb"
    run(previous, wh)
    run(current, wh)
    planted = list(csv.DictReader(open(base / "exams" / f"{CURRENT_ID}.planted.csv", encoding="utf-8")))
    return wh, planted


def test_thousands_of_scripts(generated):
    wh, _ = generated
    assert query(wh, "SELECT count(*) > 3000 FROM raw.scans WHERE exam_id = ?", [CURRENT_ID]) == [(True,)]


def test_every_scan_row_is_counted_or_referenced(generated):
    wh, _ = generated
    lost = query(wh, """
        SELECT s.source_file, s.source_row FROM raw.scans s
        JOIN staging.script_owners so ON so.exam_id = s.exam_id AND so.source_file = s.source_file
             AND so.source_row = s.source_row
        WHERE s.exam_id = ?
          AND NOT (so.is_counting AND EXISTS (SELECT 1 FROM mart.subject_scores ss WHERE ss.exam_id = s.exam_id
                   AND ss.student_id = so.owner AND ss.subject = so.subject))
          AND NOT EXISTS (SELECT 1 FROM mart.abnormal_scripts a WHERE a.exam_id = s.exam_id
                          AND a.source_file = s.source_file AND a.source_row = s.source_row)""", [CURRENT_ID])
    assert lost == []
    n_raw = query(wh, "SELECT count(*) FROM raw.scans WHERE exam_id = ?", [CURRENT_ID])
    n_staged = query(wh, "SELECT count(*) FROM staging.script_owners WHERE exam_id = ?", [CURRENT_ID])
    assert n_raw == n_staged


def test_every_mark_row_is_counted_or_referenced(generated):
    wh, _ = generated
    lost = query(wh, """
        SELECT m.source_file, m.source_row, m.subject, m.exam_no, m.item FROM raw.marks m
        WHERE m.exam_id = ?
          AND NOT EXISTS (  -- its mark is the score of a counted item, or an item problem names it
                SELECT 1 FROM staging.item_scores i WHERE i.exam_id = m.exam_id AND i.subject = m.subject
                AND i.mark_ref = trim(m.exam_no) AND i.item = m.item)
          AND NOT EXISTS (  -- its exam number's marks are an abnormal script of the subject
                SELECT 1 FROM mart.abnormal_scripts a WHERE a.exam_id = m.exam_id AND a.subject = m.subject
                AND a.exam_no = trim(m.exam_no))""", [CURRENT_ID])
    assert lost == []


def test_problems_found_are_the_planted_ones(generated):
    wh, planted = generated
    found = {r[0] for r in query(wh, "SELECT abnormal_id FROM mart.abnormal_scripts WHERE exam_id = ?", [CURRENT_ID])}
    expected = {p["abnormal_id"] for p in planted}
    assert found - expected == set()
    # only MISSING_SCRIPTs disappear: their scripts were assigned by the folder's resolutions
    assert {a.split(":")[0] for a in expected - found} <= {"MISSING_SCRIPT"}
    assert len({p["code"] for p in planted}) == 18


def test_blocking_problems_leave_every_statistic(generated):
    wh, _ = generated
    # a student with an open blocking problem in a subject is pending there, without score or rank
    leaked = query(wh, """
        SELECT a.abnormal_id FROM mart.abnormal_scripts a
        JOIN mart.subject_scores s ON s.exam_id = a.exam_id AND s.student_id = a.student_id AND s.subject = a.subject
        WHERE a.exam_id = ? AND a.status = 'open' AND a.severity = 'blocking'
          AND (s.status <> 'pending' OR s.raw_score IS NOT NULL OR s.grade_rank IS NOT NULL)""", [CURRENT_ID])
    assert leaked == []
    # a total exists only when every subject the student should sit is ok (a NOT_ENROLLED script is
    # pending in its subject but that subject is not part of the total)
    pending_in_totals = query(wh, """
        SELECT count(*) FROM mart.totals t WHERE t.exam_id = ? AND t.status = 'ok' AND EXISTS (
            SELECT 1 FROM staging.subject_ranked s WHERE s.exam_id = t.exam_id AND s.student_id = t.student_id
            AND s.status <> 'ok' AND s.expected)""", [CURRENT_ID])
    assert pending_in_totals == [(0,)]
    not_enrolled_pending = query(wh, """
        SELECT count(*) FROM staging.subject_ranked s JOIN mart.abnormal_scripts a ON a.exam_id = s.exam_id
          AND a.student_id = s.student_id AND a.subject = s.subject AND a.code = 'NOT_ENROLLED' AND a.status = 'open'
        WHERE s.exam_id = ? AND s.status = 'pending' AND NOT s.expected""", [CURRENT_ID])
    assert not_enrolled_pending[0][0] > 0
