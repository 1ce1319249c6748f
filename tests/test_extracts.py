"""Teacher extracts (issue 7; outputs.md `examflow extract`; rules.md §9): every template against an
independent computation (polars over the mart tables, the teacher's scope derived here from
teachers.csv), what each role may and may not see, hostile requests, the audit trail (append-only,
with a JSONL fallback while a run holds the warehouse), file safety, and a grep of every file the
demo-like run wrote for an unmasked id card or phone number of the roster."""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import warnings
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from openpyxl import load_workbook
from pypdf import PdfReader

from examflow import extracts as ex
from pipelines.cli import main
from examflow.printing import sha256_file
from tests.conftest import query, query_dicts, run, writer_holding

ROLE_ZH = {"任课": "teacher", "班主任": "head", "备课组长": "subject_lead", "年级主任": "director"}
INJECTION = '=HYPERLINK("x")'


# ----------------------------------------------------------------------------------- the world
@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A generated grade (~200 students) and its previous exam, run through the pipeline (printouts
    of the current exam too, when the printouts stage works at this point)."""
    from examflow.generate import generate

    base = tmp_path_factory.mktemp("extracts")
    previous, current = generate(base / "exams", 200, seed=5)
    wh = base / "wh" / "warehouse.duckdb"
    prev_id = run(previous, wh)
    try:
        cur_id = run(current, wh, printouts=True)
    except Exception as e:  # noqa: BLE001 - printouts are another stage's work; extracts must be tested anyway
        warnings.warn(f"the printouts stage failed ({e}); the privacy grep covers the extracts only")
        cur_id = run(current, wh, printouts=False)
    cfg = yaml.safe_load((current / "exam.yaml").read_text(encoding="utf-8"))
    subjects = {s["code"]: s for s in cfg["subjects"]}
    by_name = {s["name"]: s["code"] for s in cfg["subjects"]}
    teachers = list(csv.DictReader((current / "teachers.csv").read_text(encoding="utf-8-sig").splitlines()))
    roster = list(csv.DictReader((current / "roster.csv").read_text(encoding="utf-8-sig").splitlines()))
    roles: dict[str, set] = {}
    for t in teachers:
        role = ROLE_ZH[t["职务"]]
        cls = t["班级"]
        code = by_name.get(t["科目"])
        cell = {"teacher": (cls, code), "head": (cls, "*"), "subject_lead": ("*", code),
                "director": ("*", "*")}[role]
        roles.setdefault(t["工号"], set()).add((role, cell))
    return {"wh": wh, "out": wh.parent / "output", "prev": prev_id, "exam": cur_id, "folder": current,
            "cfg": cfg, "subjects": subjects, "roles": roles, "roster": roster,
            "order": [s["code"] for s in cfg["subjects"]]}


def cells(world, tid) -> set:
    """The teacher's scope, derived here from teachers.csv (independent of sql/extracts/_scope.sql)."""
    return {cell for _, cell in world["roles"].get(tid, set())}


def covers(scope: set, class_id: str, subject: str) -> bool:
    return any(c in ("*", class_id) and s in ("*", subject) for c, s in scope)


def teacher_with(world, wanted: set[str], without: set[str] = frozenset()) -> str:
    for tid, rs in sorted(world["roles"].items()):
        have = {r for r, _ in rs}
        if wanted <= have and not (have & without):
            return tid
    raise AssertionError(f"no teacher with roles {wanted} without {without}")


@pytest.fixture(scope="module")
def teachers(world) -> dict[str, str]:
    """One teacher per role: a plain subject teacher, a class head (not lead, not director), a subject
    lead (not head, not director) and the director."""
    return {
        "teacher": teacher_with(world, {"teacher"}, {"head", "subject_lead", "director"}),
        "head": teacher_with(world, {"head"}, {"subject_lead", "director"}),
        "subject_lead": teacher_with(world, {"subject_lead"}, {"head", "director"}),
        "director": teacher_with(world, {"director"}),
    }


def frame(world, sql: str, params=()) -> pl.DataFrame:
    rows = query_dicts(world["wh"], sql, params)
    return pl.DataFrame(rows, infer_schema_length=None)


def do(world, template, tid, **options) -> ex.Extract:
    fmt = options.pop("fmt", None)
    out = options.pop("out", None)
    return ex.extract(template, teacher_id=tid, exam_id=options.pop("exam", world["exam"]), options=options,
                      fmt=fmt, out=out, warehouse=world["wh"], output=world["out"])


def refused(world, template, tid, **options) -> ex.ExtractRefused:
    with pytest.raises(ex.ExtractRefused) as info:
        do(world, template, tid, **options)
    return info.value


def audit_rows(world) -> list[dict]:
    return query_dicts(world["wh"], 'SELECT * FROM audit.extracts ORDER BY "at", file NULLS FIRST')


def mask_id(v: str) -> str:
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_phone(v: str) -> str:
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def r1(v):
    return None if v is None else round(float(v), 6)


def keyed(df: pl.DataFrame, key: list[str], vals: list[str]) -> dict:
    out = {}
    for row in df.iter_rows(named=True):
        out[tuple(row[k] for k in key)] = tuple(r1(row[v]) if isinstance(row[v], float) else row[v] for v in vals)
    return out


# ----------------------------------------------------------------------------------- expectations
def expect_class_scores(world, tid) -> dict:
    scope = cells(world, tid)
    heads = {c for (role, (c, _)) in world["roles"][tid] if role == "head"}
    phone = {r["学号"]: r["联系电话"] for r in world["roster"]}
    subj = frame(world, "SELECT student_id, class_id, subject, status, raw_score AS score, converted_score, band, "
                        "grade_rank, class_rank, rank_change FROM mart.subject_scores WHERE exam_id = ?",
                 [world["exam"]])
    tot = frame(world, "SELECT student_id, class_id, 'total' AS subject, status, total AS score, grade_rank, "
                       "class_rank, rank_change FROM mart.totals WHERE exam_id = ?", [world["exam"]])
    out = {}
    for row in [*subj.iter_rows(named=True), *tot.iter_rows(named=True)]:
        if not covers(scope, row["class_id"], row["subject"]):
            continue
        out[(row["class_id"], row["student_id"], row["subject"])] = (
            row["status"], r1(row["score"]), r1(row.get("converted_score")), row.get("band"), row["grade_rank"],
            row["class_rank"], row["rank_change"],
            mask_phone(phone[row["student_id"]]) if row["class_id"] in heads else None)
    return out


def got_class_scores(e: ex.Extract) -> dict:
    return keyed(e.frame, ["class_id", "student_id", "subject"],
                 ["status", "score", "converted_score", "band", "grade_rank", "class_rank", "rank_change",
                  "phone_masked"])


def first_lines(world) -> set:
    return {(track, lines[0]["name"]) for track, lines in world["cfg"]["cut_lines"].items()}


def expect_borderline(world, tid, line: str | None = None) -> dict:
    scope = cells(world, tid)
    exam = world["exam"]
    bl = frame(world, "SELECT * FROM mart.borderline WHERE exam_id = ?", [exam])
    wanted = first_lines(world) if line is None else {(t, line) for t in world["cfg"]["cut_lines"]}
    students = {r["student_id"]: r for r in frame(world, "SELECT * FROM mart.students WHERE exam_id = ?",
                                                   [exam]).iter_rows(named=True)}
    scores = frame(world, "SELECT student_id, subject, status, total_score FROM mart.subject_scores WHERE exam_id = ?",
                   [exam])
    score_of = {(r["student_id"], r["subject"]): r for r in scores.iter_rows(named=True)}
    eff = {(r["track"], r["line"], r["subject"]): r["effective_score"]
           for r in frame(world, "SELECT * FROM mart.line_analysis WHERE exam_id = ? AND class_id = '*'",
                          [exam]).iter_rows(named=True)}
    pos = {s: i for i, s in enumerate(world["order"])}
    out = {}
    for b in bl.iter_rows(named=True):
        if (b["track"], b["line"]) not in wanted:
            continue
        st = students[b["student_id"]]
        # the subjects of the student's total: the core, the first choice, the electives (roster)
        mine = {"chinese", "math", "english", "physics" if b["track"] == "physics" else "history"}
        mine |= {e for e in (st["electives"] or "").split(",") if e}
        gaps = []
        for s in mine:
            r = score_of.get((b["student_id"], s))
            e = eff.get((b["track"], b["line"], s))
            if r is None or r["status"] != "ok" or e is None or not covers(scope, b["class_id"], s):
                continue
            gaps.append((r["total_score"] / e, pos[s], s, r["total_score"], e))
        if not gaps and not covers(scope, b["class_id"], "total"):
            continue
        w = min(gaps) if gaps else None
        out[(b["class_id"], b["student_id"], b["line"])] = (
            r1(b["total"]), r1(b["distance"]), w[2] if w else None, r1(w[3]) if w else None, r1(w[4]) if w else None,
            sum(1 for g in gaps if g[3] < g[4] - 1e-9) if w else None)
    return out


def got_borderline(e: ex.Extract) -> dict:
    return keyed(e.frame, ["class_id", "student_id", "line"],
                 ["total", "distance", "weakest_subject_code", "weakest_score", "effective_score",
                  "n_below_effective"])


def expect_rank_movers(world, tid, n=50) -> dict:
    scope = cells(world, tid)
    rows = [*frame(world, "SELECT student_id, class_id, subject, grade_rank, rank_change FROM mart.subject_scores "
                          "WHERE exam_id = ?", [world["exam"]]).iter_rows(named=True),
            *frame(world, "SELECT student_id, class_id, 'total' AS subject, grade_rank, rank_change FROM mart.totals "
                          "WHERE exam_id = ?", [world["exam"]]).iter_rows(named=True)]
    return {(r["student_id"], r["subject"]): (r["grade_rank"] + r["rank_change"], r["grade_rank"], r["rank_change"])
            for r in rows if r["rank_change"] is not None and abs(r["rank_change"]) >= n
            and covers(scope, r["class_id"], r["subject"])}


def got_rank_movers(e: ex.Extract) -> dict:
    return keyed(e.frame, ["student_id", "subject"], ["previous_rank", "grade_rank", "rank_change"])


def expect_weak_items(world, tid, gap=0.1) -> dict:
    scope = cells(world, tid)
    df = frame(world, "SELECT * FROM mart.class_items WHERE exam_id = ?", [world["exam"]])
    df = df.filter(pl.col("difficulty_diff") <= -gap + 1e-9)
    return {(r["class_id"], r["subject"], r["item"]): (r1(r["difficulty"]), r1(r["difficulty_diff"]))
            for r in df.iter_rows(named=True) if covers(scope, r["class_id"], r["subject"])}


def got_weak_items(e: ex.Extract) -> dict:
    return keyed(e.frame, ["class_id", "subject", "item"], ["difficulty", "difficulty_diff"])


def expect_knowledge(world, tid) -> dict:
    scope = cells(world, tid)
    df = frame(world, "SELECT * FROM mart.knowledge WHERE exam_id = ?", [world["exam"]])
    return {(r["class_id"], r["subject"], r["knowledge"]): (r1(r["score_rate"]), r1(r["cohort_score_rate"]))
            for r in df.iter_rows(named=True) if r["class_id"] != "*" and covers(scope, r["class_id"], r["subject"])}


def got_knowledge(e: ex.Extract) -> dict:
    return keyed(e.frame, ["class_id", "subject", "knowledge"], ["score_rate", "cohort_score_rate"])


def expect_low_scorers(world, tid) -> dict:
    scope = cells(world, tid)
    pass_share = (world["cfg"].get("thresholds") or {}).get("pass", 0.60)
    df = frame(world, "SELECT student_id, class_id, subject, status, raw_score FROM mart.subject_scores "
                      "WHERE exam_id = ?", [world["exam"]])
    return {(r["student_id"], r["subject"]): (r1(r["raw_score"]),)
            for r in df.iter_rows(named=True)
            if r["status"] == "ok" and r["raw_score"] < pass_share * world["subjects"][r["subject"]]["full"]
            and covers(scope, r["class_id"], r["subject"])}


def got_low_scorers(e: ex.Extract) -> dict:
    return keyed(e.frame, ["student_id", "subject"], ["raw_score"])


def student_of(world, tid) -> str:
    """A student of one of the teacher's classes who sits one of the teacher's subjects."""
    scope = cells(world, tid)
    df = frame(world, "SELECT student_id, class_id, subject FROM mart.subject_scores WHERE exam_id = ? "
                      "ORDER BY student_id, subject", [world["exam"]])
    return next(r["student_id"] for r in df.iter_rows(named=True) if covers(scope, r["class_id"], r["subject"]))


def expect_student_history(world, tid, sid) -> dict:
    scope = cells(world, tid)
    cls = query(world["wh"], "SELECT class_id FROM mart.students WHERE exam_id = ? AND student_id = ?",
                [world["exam"], sid])[0][0]
    rows = [*frame(world, "SELECT exam_id, subject, raw_score AS score, grade_rank, rank_change "
                          "FROM mart.subject_scores WHERE student_id = ?", [sid]).iter_rows(named=True),
            *frame(world, "SELECT exam_id, 'total' AS subject, total AS score, grade_rank, rank_change "
                          "FROM mart.totals WHERE student_id = ?", [sid]).iter_rows(named=True)]
    return {(r["exam_id"], r["subject"]): (r1(r["score"]), r["grade_rank"], r["rank_change"])
            for r in rows if covers(scope, cls, r["subject"])}


def got_student_history(e: ex.Extract) -> dict:
    return keyed(e.frame, ["exam_id", "subject"], ["score", "grade_rank", "rank_change"])


# ----------------------------------------------------------------------------------- templates
def test_every_template_is_declared_and_listed(capsys):
    templates = ex.load_templates()
    assert set(templates) == {"class_scores", "borderline", "rank_movers", "weak_items", "knowledge", "low_scorers",
                              "student_history", "schools"}
    for t in templates.values():
        names = [p.name for p in t.params]
        assert names[:2] == ["exam_id", "teacher_id"] and t.description and t.title
        # the scope is data, joined in every template; parameters are DuckDB's, never Python formatting
        assert "extract_scope($exam_id, $teacher_id)" in t.sql and "FROM scope sc" in t.sql
        assert not re.search(r"\{[a-z_]+\}|%\(|%s", t.sql)
    assert templates["borderline"].param("line").default == ""
    assert templates["rank_movers"].param("min_change").default == 50
    assert templates["weak_items"].param("gap").default == pytest.approx(0.1)
    assert templates["student_history"].param("student_id").required
    assert main(["extract", "--list"]) == 0
    text = capsys.readouterr().out
    for name in templates:
        assert name in text
    for option in ("--line", "--min-change", "--gap", "--student", "--class", "--subject"):
        assert option in text


def test_a_template_must_use_exactly_what_it_declares(tmp_path):
    (tmp_path / "bad.sql").write_text("-- @template bad\n-- @param exam_id text --exam: e\n"
                                      "-- @param teacher_id text --teacher: t\nSELECT $exam_id, $other\n")
    with pytest.raises(ValueError, match="declares"):
        ex.parse_template(tmp_path / "bad.sql")


def test_masking_macros():
    con = duckdb.connect()
    con.execute(ex.MACROS_SQL.read_text(encoding="utf-8"))
    m = lambda f, v: con.execute(f"SELECT {f}(?)", [v]).fetchone()[0]  # noqa: E731
    assert m("mask_id_card", "410728200901011234") == "410728********1234"
    assert m("mask_id_card", "41072820090101123X") == "410728********123X"
    assert m("mask_id_card", "410728900101123") == "410728*****1123"  # 15-digit old card
    assert m("mask_phone", "13812345678") == "138****5678"
    assert m("mask_phone", "138-1234-5678") == "138****5678"
    assert m("mask_phone", "+86 138 1234 5678") == "138****5678"
    assert m("mask_phone", "123456") == "******"  # too short to keep anything
    assert m("mask_phone", None) is None and m("mask_id_card", "") is None


ROLES = ["teacher", "head", "subject_lead", "director"]


@pytest.mark.parametrize("role", ROLES)
def test_class_scores(world, teachers, role):
    tid = teachers[role]
    e = do(world, "class_scores", tid)
    assert got_class_scores(e) == expect_class_scores(world, tid)
    assert e.rows == e.frame.height > 0


@pytest.mark.parametrize("role", ROLES)
def test_borderline_with_weakest_subject(world, teachers, role):
    tid = teachers[role]
    got = got_borderline(do(world, "borderline", tid))
    assert got == expect_borderline(world, tid)
    if role in ("head", "director"):
        assert got and any(v[2] is not None for v in got.values())


def test_borderline_of_a_named_line(world, teachers):
    tid = teachers["director"]
    second = world["cfg"]["cut_lines"]["physics"][1]["name"]
    got = got_borderline(do(world, "borderline", tid, line=second))
    assert got == expect_borderline(world, tid, line=second) and got
    assert {k[2] for k in got} == {second}


@pytest.mark.parametrize("role", ROLES)
def test_rank_movers(world, teachers, role):
    tid = teachers[role]
    assert got_rank_movers(do(world, "rank_movers", tid)) == expect_rank_movers(world, tid)
    got = got_rank_movers(do(world, "rank_movers", tid, min_change="20"))
    assert got == expect_rank_movers(world, tid, 20)
    assert all(abs(v[2]) >= 20 for v in got.values())


def test_rank_movers_move_both_ways(world, teachers):
    got = got_rank_movers(do(world, "rank_movers", teachers["director"], min_change=10))
    assert any(v[2] > 0 for v in got.values()) and any(v[2] < 0 for v in got.values())


@pytest.mark.parametrize("role", ROLES)
def test_weak_items(world, teachers, role):
    tid = teachers[role]
    assert got_weak_items(do(world, "weak_items", tid)) == expect_weak_items(world, tid)
    assert got_weak_items(do(world, "weak_items", tid, gap="0.05")) == expect_weak_items(world, tid, 0.05)


@pytest.mark.parametrize("role", ROLES)
def test_knowledge(world, teachers, role):
    tid = teachers[role]
    got = got_knowledge(do(world, "knowledge", tid))
    assert got == expect_knowledge(world, tid) and got


@pytest.mark.parametrize("role", ROLES)
def test_low_scorers(world, teachers, role):
    tid = teachers[role]
    e = do(world, "low_scorers", tid)
    assert got_low_scorers(e) == expect_low_scorers(world, tid)
    # and the count agrees with class_quant's pass rate: n_sat − n_pass per class × subject
    cq = frame(world, "SELECT class_id, subject, sum(n_sat) AS n_sat, sum(coalesce(pass_rate, 0) * n_sat) AS n_pass "
                      "FROM mart.class_quant WHERE exam_id = ? AND class_id <> '*' AND subject <> 'total' "
                      "GROUP BY ALL", [world["exam"]])
    counts = e.frame.group_by("class_id", "subject").len()
    have = {(r["class_id"], r["subject"]): r["len"] for r in counts.iter_rows(named=True)}
    scope = cells(world, tid)
    for r in cq.iter_rows(named=True):
        if covers(scope, r["class_id"], r["subject"]):
            assert have.get((r["class_id"], r["subject"]), 0) == round(r["n_sat"] - r["n_pass"])


@pytest.mark.parametrize("role", ROLES)
def test_student_history(world, teachers, role):
    tid = teachers[role]
    sid = student_of(world, tid)
    e = do(world, "student_history", tid, student_id=sid)
    got = got_student_history(e)
    assert got == expect_student_history(world, tid, sid)
    assert {k[0] for k in got} == {world["prev"], world["exam"]}  # every exam of the warehouse
    order = [world["prev"], world["exam"]]  # oldest first
    assert e.frame["exam_id"].to_list() == sorted(e.frame["exam_id"].to_list(), key=order.index)


# ----------------------------------------------------------------------------------- roles
def seen(e: ex.Extract) -> set:
    return set(e.frame.select("class_id", "subject").unique().iter_rows())


def other_class(world, scope: set) -> str:
    classes = [r[0] for r in query(world["wh"], "SELECT DISTINCT class_id FROM mart.students WHERE exam_id = ? "
                                                "ORDER BY 1", [world["exam"]])]
    return next(c for c in classes if not any(sc in ("*", c) for sc, _ in scope))


def student_in(world, class_id: str) -> str:
    return query(world["wh"], "SELECT min(student_id) FROM mart.students WHERE exam_id = ? AND class_id = ?",
                 [world["exam"], class_id])[0][0]


def test_a_subject_teacher_sees_their_classes_and_subjects_only(world, teachers):
    tid = teachers["teacher"]
    scope = cells(world, tid)
    e = do(world, "class_scores", tid)
    assert seen(e) == scope  # exactly the classes × subjects taught
    assert "total" not in e.frame["subject"].to_list() and e.frame["phone_masked"].null_count() == e.rows
    mine_class, mine_subject = sorted(scope)[0]
    other = other_class(world, scope)
    other_subject = next(s for s in world["order"] if (mine_class, s) not in scope)
    r = refused(world, "class_scores", tid, class_id=other)
    assert f"class {other} is not one of {tid}'s classes" in r.reason
    r = refused(world, "low_scorers", tid, subject=other_subject)
    assert f"({other_subject}) is not {tid}'s subject" in r.reason
    r = refused(world, "class_scores", tid, subject="total")
    assert "is not" in r.reason
    r = refused(world, "student_history", tid, student_id=student_in(world, other))
    assert "is not in" in r.reason and f"{tid}'s classes" in r.reason
    # its own class and subject are fine, alone or together
    alone = do(world, "class_scores", tid, class_id=mine_class, subject=mine_subject)
    assert seen(alone) == {(mine_class, mine_subject)}


def test_a_head_teacher_sees_every_subject_of_their_class(world, teachers):
    tid = teachers["head"]
    scope = cells(world, tid)
    head_class = next(c for c, s in scope if s == "*")
    e = do(world, "class_scores", tid)
    mine = e.frame.filter(pl.col("class_id") == head_class)
    subjects_of_class = {r[0] for r in query(world["wh"], "SELECT DISTINCT subject FROM mart.subject_scores "
                                             "WHERE exam_id = ? AND class_id = ?", [world["exam"], head_class])}
    assert set(mine["subject"]) == subjects_of_class | {"total"}
    # masked phones for their own class only
    assert mine["phone_masked"].null_count() == 0
    assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", p) for p in mine["phone_masked"])
    others = e.frame.filter(pl.col("class_id") != head_class)
    assert others["phone_masked"].null_count() == others.height
    assert set(others.select("class_id", "subject").unique().iter_rows()) <= scope
    other = other_class(world, scope)
    refused(world, "class_scores", tid, class_id=other)
    refused(world, "rank_movers", tid, class_id=other, subject="total")
    # the class's totals and any student of it
    assert do(world, "class_scores", tid, class_id=head_class, subject="total").rows > 0
    sid = student_in(world, head_class)
    assert "total" in do(world, "student_history", tid, student_id=sid).frame["subject"].to_list()


def test_a_subject_lead_sees_every_class_of_their_subject(world, teachers):
    tid = teachers["subject_lead"]
    scope = cells(world, tid)
    lead_subject = next(s for c, s in scope if c == "*")
    e = do(world, "class_scores", tid)
    takers = {r[0] for r in query(world["wh"], "SELECT DISTINCT class_id FROM mart.subject_scores "
                                  "WHERE exam_id = ? AND subject = ?", [world["exam"], lead_subject])}
    assert {c for c, s in seen(e) if s == lead_subject} == takers
    assert {s for _, s in seen(e)} <= {s for _, s in scope}
    assert "total" not in e.frame["subject"].to_list() and e.frame["phone_masked"].null_count() == e.rows
    other_subject = next(s for s in world["order"] if s not in {s for _, s in scope})
    refused(world, "class_scores", tid, subject=other_subject)
    refused(world, "knowledge", tid, subject=other_subject)


def test_the_director_sees_the_whole_grade(world, teachers):
    tid = teachers["director"]
    e = do(world, "class_scores", tid)
    everything = set(query(world["wh"], "SELECT DISTINCT class_id, subject FROM mart.subject_scores WHERE exam_id = ? "
                                        "UNION SELECT DISTINCT class_id, 'total' FROM mart.totals WHERE exam_id = ?",
                           [world["exam"], world["exam"]]))
    assert seen(e) == everything
    assert e.rows == query(world["wh"], "SELECT (SELECT count(*) FROM mart.subject_scores WHERE exam_id = $1) + "
                                        "(SELECT count(*) FROM mart.totals WHERE exam_id = $1)", [world["exam"]])[0][0]
    # contacts only where the director is also the class head
    heads = {c for (role, (c, _)) in world["roles"][tid] if role == "head"}
    with_phone = set(e.frame.filter(pl.col("phone_masked").is_not_null())["class_id"])
    assert with_phone == heads


def test_an_unknown_teacher_is_refused_and_logged(world):
    before = len(audit_rows(world))
    r = refused(world, "class_scores", "T9999")
    assert "unknown teacher 'T9999'" in r.reason and "teachers.csv" in r.reason
    rows = audit_rows(world)
    assert len(rows) == before + 1
    last = rows[-1]
    assert (last["who"], last["template"], last["outcome"], last["file"], last["rows"]) == \
        ("T9999", "extracts/class_scores", "refused", None, None)
    assert last["reason"] == r.reason and json.loads(last["params"])["teacher_id"] == "T9999"


# ----------------------------------------------------------------------------------- hostile input
def test_a_teacher_id_carrying_sql_is_refused(world):
    hostile = "T01' OR '1'='1"
    before = len(audit_rows(world))
    r = refused(world, "class_scores", hostile)
    assert "unknown teacher" in r.reason
    last = audit_rows(world)[-1]
    assert len(audit_rows(world)) == before + 1
    assert (last["who"], last["outcome"]) == (hostile, "refused")
    assert not list((world["out"] / world["exam"] / "extracts").glob("*OR*"))


def test_a_parameter_carrying_sql_is_bound_not_run(world, teachers):
    tid = teachers["director"]
    n_totals = query(world["wh"], "SELECT count(*) FROM mart.totals")[0][0]
    hostile = "x'; DROP TABLE mart.totals; --"
    r = refused(world, "borderline", tid, line=hostile)
    assert "no cut line" in r.reason
    last = audit_rows(world)[-1]
    assert last["outcome"] == "refused" and json.loads(last["params"])["line"] == hostile
    for options in ({"class_id": "1' OR '1'='1"}, {"subject": "math' --"}, {"student_id": "x' OR 1=1 --"}):
        template = "student_history" if "student_id" in options else "class_scores"
        refused(world, template, tid, **options)
    assert query(world["wh"], "SELECT count(*) FROM mart.totals")[0][0] == n_totals
    analyst = ex.publish.analyst_path(world["wh"])
    with ex.publish.read_only(analyst) as con:
        assert con.execute("SELECT count(*) FROM mart.totals").fetchone()[0] == n_totals
        # defence in depth: even past the request checks, the SQL binds the values and joins the scope
        ex.prepare(con)
        templates = ex.load_templates()
        tpl = templates["class_scores"]
        vals = ex.bind(tpl, world["exam"], tid, {"class_id": "1' OR '1'='1"})
        assert ex.run_template(con, tpl, vals).height == 0
        for name, t in templates.items():
            opts = {"student_id": student_of(world, tid)} if name == "student_history" else {}
            v = ex.bind(t, world["exam"], "T01' OR '1'='1", opts)
            assert ex.run_template(con, t, v).height == 0, name  # an unknown teacher's scope is empty


def test_bad_numbers_and_unknown_options_are_refused(world, teachers):
    tid = teachers["director"]
    assert "--min-change must be a whole number" in refused(world, "rank_movers", tid, min_change="5; DROP").reason
    assert "--gap must lie in" in refused(world, "weak_items", tid, gap="2").reason
    assert "takes no --line" in refused(world, "class_scores", tid, line="特控线").reason
    assert "needs --student" in refused(world, "student_history", tid).reason
    assert "no extract template" in refused(world, "../../etc/passwd", tid).reason
    assert "no exam" in refused(world, "class_scores", tid, exam="../../x").reason
    # exam and teacher are never template options: no widening one's scope through --param
    assert "takes no --teacher-id" in refused(world, "class_scores", teachers["teacher"], teacher_id=tid).reason
    assert "not an acceptable value" in refused(world, "class_scores", tid, class_id="1\n2").reason


def test_a_contact_column_must_be_masked():
    ex._check_masked(pl.DataFrame({"phone_masked": ["138****5678", None]}))
    with pytest.raises(ex.ExtractError, match="unmasked"):
        ex._check_masked(pl.DataFrame({"phone": ["13812345678"]}))
    with pytest.raises(ex.ExtractError, match="unmasked"):
        ex._check_masked(pl.DataFrame({"id_card_masked": ["410728200901011234"]}))
    with pytest.raises(ex.ExtractError, match="unmasked"):
        ex._check_masked(pl.DataFrame({"phone": ["*13812345678"]}))  # a star is not enough


def test_out_must_stay_inside_the_output_folder(world, teachers, tmp_path):
    tid = teachers["head"]
    before = len(audit_rows(world))
    r = refused(world, "class_scores", tid, out="../../etc/x")
    assert "must stay inside the output folder" in r.reason
    assert not (world["out"] / "../../etc/x.xlsx").resolve().exists()
    refused(world, "class_scores", tid, out=str(tmp_path / "elsewhere.xlsx"))
    refused(world, "class_scores", tid, out="/etc/x.csv")
    link = world["out"] / "escape"
    link.symlink_to(tmp_path, target_is_directory=True)
    try:
        refused(world, "class_scores", tid, out="escape/x.xlsx")
    finally:
        link.unlink()
    assert not list(tmp_path.iterdir())
    rows = audit_rows(world)[before:]
    assert [r["outcome"] for r in rows] == ["refused"] * 4 and all("output folder" in r["reason"] for r in rows)
    # inside is fine: relative, absolute inside, a folder, a format from the suffix
    e = do(world, "class_scores", tid, out="mine/scores.csv")
    assert e.path == (world["out"] / "mine" / "scores.csv").resolve() and e.format == "csv"
    e = do(world, "knowledge", tid, out=str(world["out"] / "mine") + "/")
    assert e.path.parent == (world["out"] / "mine").resolve() and e.path.name == f"{world['exam']}_knowledge_{tid}.xlsx"
    assert "--format is xlsx" in refused(world, "knowledge", tid, out="mine/k.csv", fmt="xlsx").reason


def test_a_formula_name_arrives_as_text(world):
    roster = {r["学号"]: r for r in world["roster"]}
    sid = next(s for s, r in roster.items() if r["姓名"] == INJECTION)
    cls = query(world["wh"], "SELECT class_id FROM mart.students WHERE exam_id = ? AND student_id = ?",
                [world["exam"], sid])[0][0]
    head = next(t for t, rs in world["roles"].items() if ("head", (cls, "*")) in rs)
    e = do(world, "class_scores", head, class_id=cls)
    ws = load_workbook(e.path).worksheets[0]
    header = [c.value for c in ws[1]]
    name_cells = [row[header.index("姓名")] for row in ws.iter_rows(min_row=2)
                  if row[header.index("学号")].value == sid]
    assert name_cells and all(c.value == INJECTION and c.data_type == "s" for c in name_cells)
    assert INJECTION not in e.path.name and "HYPERLINK" not in str(e.path)
    # in CSV the cell gets an apostrophe, so Excel / WPS opening the CSV keep it text
    c = do(world, "class_scores", head, class_id=cls, fmt="csv")
    text = c.path.read_text(encoding="utf-8-sig")
    assert "'" + INJECTION.replace('"', '""') in text
    assert not re.search(r'(^|,)"?=HYPERLINK', text, re.M)


def test_no_student_name_in_a_file_name(world, teachers):
    tid = teachers["head"]
    e = do(world, "class_scores", tid)
    name = next(n for n in e.frame["name"] if n and len(n) >= 2 and not n.startswith("="))
    r = refused(world, "class_scores", tid, out=f"{name}.xlsx")
    assert "student's name" in r.reason
    names = {r["姓名"] for r in world["roster"] if len(r["姓名"]) >= 2}
    for f in world["out"].rglob("*"):
        assert not [n for n in names if n in f.name], f.name


# ----------------------------------------------------------------------------------- audit and files
def test_every_extract_writes_an_audit_row_append_only(world, teachers):
    tid = teachers["subject_lead"]
    before = audit_rows(world)
    e = do(world, "weak_items", tid, gap="0.05", fmt="csv")
    after = audit_rows(world)
    assert not Counter(map(repr, before)) - Counter(map(repr, after))  # nothing earlier changed or went
    assert len(after) == len(before) + 1
    row = after[-1]
    assert (row["who"], row["template"], row["outcome"], row["rows"], row["file"], row["sha256"], row["exam_id"]) == \
        (tid, "extracts/weak_items", "written", e.rows, str(e.path), sha256_file(e.path), world["exam"])
    params = json.loads(row["params"])
    assert params["gap"] == 0.05 and params["teacher_id"] == tid and params["format"] == "csv"
    assert isinstance(row["at"], dt.datetime) and row["reason"] is None


def test_files_are_owner_only_and_named_by_ids(world, teachers):
    tid = teachers["teacher"]
    e = do(world, "low_scorers", tid)
    assert e.path.name == f"{world['exam']}_low_scorers_{tid}.xlsx"
    assert e.path.parent == (world["out"] / world["exam"] / "extracts").resolve()
    assert e.path.stat().st_mode & 0o777 == 0o600
    assert e.path.parent.stat().st_mode & 0o777 == 0o700
    wb = load_workbook(e.path)
    assert wb.sheetnames == ["不及格", "说明"]
    ws = wb["不及格"]
    assert [c.value for c in ws[1]][:3] == ["班级", "学号", "姓名"] and ws.freeze_panes == "A2"
    assert ws.max_row == e.rows + 1
    e2 = do(world, "rank_movers", tid, min_change=20)
    assert e2.path.name == f"{world['exam']}_rank_movers_{tid}_20.xlsx"


def test_a_locked_warehouse_sends_the_audit_row_to_jsonl_then_merges_it(world, teachers):
    """A run holding the warehouse (another process with a read-write connection): the extract still
    reads the analysts' copy, the audit row goes to the JSONL file beside the warehouse, and the next
    extract that reaches the warehouse copies it into audit.extracts, once."""
    tid = teachers["head"]
    jsonl = ex.audit_jsonl_path(world["wh"])
    with writer_holding(world["wh"]):
        # the extract itself reads the analysts' copy, which nobody holds
        e = ex.extract("knowledge", teacher_id=tid, exam_id=world["exam"], warehouse=world["wh"], output=world["out"],
                       audit_wait=0.3)
        assert e.rows > 0 and e.path.exists()
        assert e.audit.where == "jsonl" and e.audit.path == jsonl and "locked" in e.audit.note
        with pytest.raises(ex.ExtractRefused) as info:
            ex.extract("knowledge", teacher_id="T9999", exam_id=world["exam"], warehouse=world["wh"],
                       output=world["out"], audit_wait=0.2)
        assert info.value.audit.where == "jsonl"
    assert jsonl.stat().st_mode & 0o777 == 0o600
    pending = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [(p["who"], p["outcome"]) for p in pending[-2:]] == [(tid, "written"), ("T9999", "refused")]
    assert pending[-2]["sha256"] == sha256_file(e.path)
    assert not [r for r in audit_rows(world) if r["sha256"] == e.sha256]
    do(world, "knowledge", tid)  # reaches the warehouse: the pending rows are copied in
    do(world, "knowledge", tid)  # and not twice
    merged = [r for r in audit_rows(world) if r["file"] == str(e.path) and r["sha256"] == e.sha256
              and r["at"].isoformat() == pending[-2]["at"]]
    assert len(merged) == 1 and merged[0]["rows"] == e.rows
    assert len([r for r in audit_rows(world) if r["who"] == "T9999" and r["outcome"] == "refused"
                and r["at"].isoformat() == pending[-1]["at"]]) == 1
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == len(pending)  # the file is kept as written


# ----------------------------------------------------------------------------------- the CLI
def test_cli_extract(world, teachers, capsys):
    tid = teachers["head"]
    common = ["--warehouse", str(world["wh"]), "--output", str(world["out"])]
    rc = main(["extract", "--teacher", tid, "--exam", world["exam"], "rank_movers", "--min-change", "30",
               "--format", "csv", *common])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = Path(out.out.split(" (")[0])
    assert path.name == f"{world['exam']}_rank_movers_{tid}_30.csv" and path.exists()
    rc = main(["extract", "--teacher", "T01' OR '1'='1", "--exam", world["exam"], "class_scores", *common])
    err = capsys.readouterr().err
    assert rc == 3 and "refused: unknown teacher" in err and "logged in audit.extracts" in err
    rc = main(["extract", "--teacher", tid, "--exam", world["exam"], "class_scores", "--out", "../../etc/x", *common])
    assert rc == 3 and "inside the output folder" in capsys.readouterr().err
    rc = main(["extract", "--teacher", tid, "class_scores", *common])
    assert rc == 2 and "--exam" in capsys.readouterr().err
    rc = main(["extract", "--teacher", tid, "--exam", world["exam"], "borderline", "--param", "line=" +
               world["cfg"]["cut_lines"]["physics"][0]["name"], *common])
    assert rc == 0, capsys.readouterr().err


# ----------------------------------------------------------------------------------- nothing leaks
def file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        parts = []
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                parts.extend(str(v) for v in row if v is not None)
        wb.close()
        return "\n".join(parts)
    if path.suffix == ".pdf":
        reader = PdfReader(str(path))
        return re.sub(r"\s+", "", "".join((p.extract_text() or "") for p in reader.pages).replace("\x00", ""))
    return path.read_bytes().decode("utf-8", errors="replace")


def test_no_unmasked_id_card_or_phone_in_any_output_file(world, teachers):
    """Every file the run and the extracts wrote (printouts when that stage ran, every extract of every
    template for every role in both formats) holds no id card or phone number of the roster unmasked."""
    for tid in teachers.values():
        for name in ex.load_templates():
            opts = {"student_id": student_of(world, tid)} if name == "student_history" else {}
            for fmt in ("xlsx", "csv"):
                do(world, name, tid, fmt=fmt, **opts)
    ids = {r["身份证号"] for r in world["roster"] if r["身份证号"]}
    phones = {r["联系电话"] for r in world["roster"] if r["联系电话"]}
    assert len(ids) > 150 and len(phones) > 150
    files = [p for p in world["out"].rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".xlsx", ".csv"} <= kinds
    printouts = world["out"] / world["exam"]
    printed = [p for p in files if "extracts" not in p.parts and p.is_relative_to(printouts)]
    if (printouts / "成绩总表.xlsx").exists():  # the printouts stage ran: its files are searched too
        assert ".pdf" in kinds and len(printed) >= 5
    masked_seen = 0
    for p in files:
        text = file_text(p)
        digits = re.sub(r"[ \t-]", "", text)  # "138 1234 5678" within one cell, never across cells
        leaked = [v for v in ids | phones if v in text or v in digits]
        assert not leaked, (p, leaked[:3])
        masked_seen += sum(1 for v in phones if mask_phone(v) in text)
    assert masked_seen > 0  # the class heads' extracts carry masked phones, so the search saw them
