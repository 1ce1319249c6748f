"""`examflow status` figures: what is open in an exam and what blocks which subject. The CLI prints
them; the portal's office page shows them."""
from __future__ import annotations

from dataclasses import dataclass

from examflow.warehouse import one


@dataclass(frozen=True)
class SubjectStatus:
    subject: str
    ok: int
    pending: int
    absent: int
    void: int
    blockers: list[tuple[str, int]]  # (abnormal code, open blocking scripts)


@dataclass(frozen=True)
class ExamStatus:
    exam_id: str
    name: str
    n_students: int
    n_abnormal_open: int
    n_blocking_open: int
    materialised_at: object
    subjects: list[SubjectStatus]


def exam_status(con, exam_id: str) -> ExamStatus | None:
    exam = one(con, "SELECT name, n_students, n_abnormal_open, n_blocking_open, materialised_at FROM mart.exams "
                    "WHERE exam_id = ?", [exam_id])
    if exam is None:
        return None
    rows = con.execute("""
        SELECT subject, count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status = 'pending'),
               count(*) FILTER (WHERE status = 'absent'), count(*) FILTER (WHERE status = 'void')
        FROM mart.subject_scores WHERE exam_id = ? GROUP BY subject ORDER BY subject""", [exam_id]).fetchall()
    blockers: dict[str, list[tuple[str, int]]] = {}
    for subject, code, n in con.execute("""
            SELECT subject, code, count(*) FROM mart.abnormal_scripts WHERE exam_id = ? AND status = 'open'
            AND severity = 'blocking' GROUP BY subject, code ORDER BY subject, count(*) DESC, code""",
                                        [exam_id]).fetchall():
        blockers.setdefault(subject, []).append((code, n))
    return ExamStatus(exam_id, *exam, [SubjectStatus(*r, blockers.get(r[0], [])) for r in rows])


def pdf_failure(con, exam_id: str) -> tuple | None:
    """(when, why) when the exam's latest PDF printing failed as a whole (no Chinese font; audit.extracts)."""
    from examflow.printing.exam import PDF_STEP

    if not one(con, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' "
                    "AND table_name = 'extracts'")[0]:
        return None
    last = one(con, """SELECT "at", outcome, reason FROM audit.extracts WHERE exam_id = ?
                      AND (template = ? OR template LIKE 'printouts/%.pdf') ORDER BY "at" DESC LIMIT 1""",
               [exam_id, PDF_STEP])
    return (last[0], last[2]) if last and last[1] == "failed" else None
