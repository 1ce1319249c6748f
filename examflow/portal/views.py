"""The portal's pages (rules.md §12), in Chinese. Every page reads through the account's cells
(sql/portal/_scope.sql over the extracts' scope): a class, subject, student or exam outside them
answers the same 404 as one that does not exist, and the refusal is logged; pages showing student
rows and downloads are logged too (audit.access)."""
from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote

from flask import Blueprint, render_template, request, send_file, url_for
from markupsafe import Markup

from examflow import extracts
from examflow.portal import charts
from examflow.portal.app import audit, current_account, login_required, num, portal, refuse, signed, viewer
from examflow.portal.data import NoCopy, Reader
from examflow.status import exam_status

bp = Blueprint("pages", __name__)
BINS = 10
STATUS_ZH = extracts.STATUS_ZH
OPTION_ZH = {"class_id": "班级", "subject": "科目", "line": "线", "min_change": "名次变化至少", "gap": "低于年级得分率至少",
             "student_id": "学号"}
SORTS = {"student_id", "name"}  # besides the subjects shown


def reader() -> Reader:
    """This request's reads (NoCopy, answered by no_copy(), while nothing has been published)."""
    return Reader(portal().copy.snapshot(), viewer())


def _exam(r: Reader, exam_id: str, what: str) -> dict:
    """The exam, if the account sees anything of it; else the 404 of refuse()."""
    exam = next((e for e in r.rows("exams") if e["exam_id"] == exam_id), None)
    if exam is None:
        refuse(what, "no such exam", exam_id)
    if not r.cells(exam_id):
        refuse(what, "exam outside scope", exam_id)
    return exam


def _class_page(exam_id: str, class_id: str, what: str) -> tuple[Reader, dict, list[dict]]:
    """A class page's reader, exam and the class's visible cells; else the 404 of refuse()."""
    r = reader()
    e = _exam(r, exam_id, what)
    cells = r.classes(exam_id).get(class_id)
    if not cells:
        refuse(what, "class outside scope or unknown", exam_id, class_id=class_id)
    return r, e, cells


@bp.app_errorhandler(NoCopy)
def no_copy(_e):
    return render_template("message.html", title="暂无数据", message="还没有已发布的考试数据：教务处完成第一次运行后即可查看。")


# ------------------------------------------------------------------------------------ exams
@bp.route("/")
@login_required
def exams():
    r = reader()
    listed = []
    for e in r.rows("exams"):
        classes = r.classes(e["exam_id"])
        if not classes:
            continue
        roles = [] if r.viewer.office else [x["role"] for x in r.rows("roles", exam_id=e["exam_id"])]
        listed.append({**e, "classes": classes, "roles": roles})
    return render_template("exams.html", exams=listed)


@bp.route("/exam/<exam_id>/")
@login_required
def exam(exam_id: str):
    r = reader()
    e = _exam(r, exam_id, "exam")
    classes = r.classes(exam_id)
    roles = [] if r.viewer.office else [x["role"] for x in r.rows("roles", exam_id=exam_id)]
    return render_template("exam.html", exam=e, classes=classes, roles=roles)


# ------------------------------------------------------------------------------------ class report
def _page_part(r: Reader, key: tuple, build) -> tuple[Markup, int]:
    """The part of a class page below its header and tabs, and the number of student rows it shows,
    made once per published copy: `key` names everything it depends on (the page, exam, class, the
    subjects shown — already checked against the account's cells — and the page's options), and the
    copy never changes. The caller still checks scope and writes the audit row on every request."""
    return r.snapshot.pages.get(key, build)


@bp.route("/exam/<exam_id>/class/<class_id>/")
@login_required
def class_report(exam_id: str, class_id: str):
    r, e, cells = _class_page(exam_id, class_id, "class_report")
    subjects = [c["subject"] for c in cells]
    chosen = request.args.get("subject") or ("total" if "total" in subjects else subjects[0])
    if chosen not in subjects:
        refuse("class_report", "subject outside scope or unknown", exam_id, class_id=class_id,
               subject=chosen)
    part, shown = _page_part(r, ("class_report", exam_id, class_id, tuple(subjects), chosen),
                             lambda: _class_report_part(r, e, class_id, cells, chosen))
    audit("shown", "class_report", {"class_id": class_id, "subject": chosen}, exam_id, rows=shown)
    return render_template("class_page.html", page_title="班级报告", exam=e, class_id=class_id, part=part)


def _class_report_part(r: Reader, e: dict, class_id: str, cells: list[dict], chosen: str) -> tuple[Markup, int]:
    subjects = [c["subject"] for c in cells]
    p = {"exam_id": e["exam_id"], "class_id": class_id, "subjects": subjects}
    quant = r.rows("class_quant", **p)
    bands = r.rows("rank_bands", **p) if "total" in subjects else []
    lines = r.rows("line_analysis", **p)
    borderline = r.rows("borderline", **p)
    dist = r.rows("distribution", exam_id=e["exam_id"], class_id=class_id, subject=chosen, bins=BINS)
    chart = _distribution_chart(dist, class_id, next(c["subject_name"] for c in cells if c["subject"] == chosen))
    html = render_template("class_report.html", exam=e, cells=cells, chosen=chosen, quant=quant, bands=bands,
                           lines=lines, borderline=borderline, chart=chart, student_href=_student_href(e["exam_id"]))
    return Markup(html), len(borderline)


def _student_href(exam_id: str):
    """A student's page link: url_for once per page, the id quoted into it per row (url_for per row
    was a third of the student list's time)."""
    base = url_for("pages.student", exam_id=exam_id, student_id="-")[:-1]
    return lambda student_id: base + quote(str(student_id), safe="")


def _distribution_chart(dist: list[dict], class_id: str, subject_name: str):
    if not dist:
        return None
    full = dist[0]["full_marks"] or 0
    by_bin = {d["bin"]: d for d in dist}
    n_class = sum(d["n_class"] for d in dist) or 1
    n_grade = sum(d["n_grade"] for d in dist) or 1
    width = full / BINS
    cats = [f"{b * width:g}-{(b + 1) * width:g}" for b in range(BINS)]
    cls = [by_bin[b]["n_class"] / n_class if b in by_bin else 0.0 for b in range(BINS)]
    grade = [by_bin[b]["n_grade"] / n_grade if b in by_bin else 0.0 for b in range(BINS)]
    top = max(cls + grade + [0.05])
    return charts.bars(f"{subject_name}分数分布：{class_id}班与年级（人数占比）", cats,
                       [(f"{class_id}班", cls), ("年级", grade)], y_max=min(1.0, top * 1.15))


# ------------------------------------------------------------------------------------ students
class StudentRow(NamedTuple):
    """One line of the student list, ready to print: per subject shown, (score, rank, change) of an
    ok score, (status,) otherwise, or () for a subject the student does not sit."""

    href: str
    student_id: str
    name: str
    cells: list[tuple]


@bp.route("/exam/<exam_id>/class/<class_id>/students")
@login_required
def students(exam_id: str, class_id: str):
    r, e, cells = _class_page(exam_id, class_id, "students")
    subjects = [c["subject"] for c in cells]
    sort = request.args.get("sort") or ("total" if "total" in subjects else "student_id")
    order = request.args.get("order") or ("asc" if sort in SORTS else "desc")
    if (sort not in SORTS and sort not in subjects) or order not in ("asc", "desc"):
        refuse("students", "unknown sort", exam_id, class_id=class_id, sort=sort, order=order)
    part, shown = _page_part(r, ("students", exam_id, class_id, tuple(subjects), sort, order),
                             lambda: _students_part(r, e, class_id, cells, sort, order))
    audit("shown", "students", {"class_id": class_id, "sort": sort, "order": order}, exam_id, rows=shown)
    return render_template("class_page.html", page_title="学生成绩", exam=e, class_id=class_id, part=part)


def _students_part(r: Reader, e: dict, class_id: str, cells: list[dict], sort: str, order: str) -> tuple[Markup, int]:
    subjects = [c["subject"] for c in cells]
    table: dict[str, dict] = {}
    for row in r.rows("students", exam_id=e["exam_id"], class_id=class_id, subjects=subjects):
        s = table.setdefault(row["student_id"], {"student_id": row["student_id"], "name": row["name"], "cells": {}})
        if row["subject"] is not None:
            s["cells"][row["subject"]] = row
    rows = list(table.values())

    def key(s):
        if sort in SORTS:
            return (s[sort] is None, s[sort] or "")
        v = s["cells"].get(sort, {}).get("score")
        return (v is None, v if v is not None else 0)

    rows.sort(key=key, reverse=order == "desc")
    if order == "desc":  # blanks last either way
        rows.sort(key=lambda s: key(s)[0])
    href = _student_href(e["exam_id"])
    lines = [StudentRow(href(s["student_id"]), s["student_id"], s["name"],
                        [_student_cell(s["cells"].get(subject)) for subject in subjects]) for s in rows]
    html = render_template("students.html", exam=e, class_id=class_id, cells=cells, rows=lines, sort=sort, order=order)
    return Markup(html), len(lines)


def _student_cell(x: dict | None) -> tuple:
    if x is None:
        return ()
    if x["status"] != "ok":
        return (STATUS_ZH.get(x["status"], x["status"]),)
    return (num(x["score"]), num(x["grade_rank"], 0), signed(x["rank_change"]))


@bp.route("/exam/<exam_id>/student/<student_id>")
@login_required
def student(exam_id: str, student_id: str):
    r = reader()
    e = _exam(r, exam_id, "student")
    me = r.rows("student", exam_id=exam_id, student_id=student_id)
    cells = r.classes(exam_id).get(me[0]["class_id"]) if me else None
    if not cells:
        refuse("student", "student outside scope or unknown", exam_id, student_id=student_id)
    subjects = [c["subject"] for c in cells]
    history = r.rows("history", student_id=student_id, subjects=subjects)
    scans = r.rows("scans", exam_id=exam_id, student_id=student_id) if r.viewer.office else []
    exams_seen: list[tuple[str, str]] = []
    for h in history:
        if (h["exam_id"], h["exam_name"]) not in exams_seen:
            exams_seen.append((h["exam_id"], h["exam_name"]))
    names = {c["subject"]: c["subject_name"] for c in cells}
    grid = {(h["exam_id"], h["subject"]): h for h in history}
    series = [(names[s], [grid.get((x, s), {}).get("grade_rank") for x, _ in exams_seen]) for s in subjects]
    series = [s for s in series if any(v is not None for v in s[1])]
    chart = charts.rank_lines(f"{me[0]['name']} 历次年级名次", [n for _, n in exams_seen], series) if series else None
    audit("shown", "student", {"student_id": student_id}, exam_id, rows=1)
    return render_template("student.html", exam=e, me=me[0], cells=cells, exams_seen=exams_seen, grid=grid,
                           chart=chart, scans=scans, status_zh=STATUS_ZH)


# ------------------------------------------------------------------------------------ items
@bp.route("/exam/<exam_id>/class/<class_id>/items")
@login_required
def items(exam_id: str, class_id: str):
    r, e, cells = _class_page(exam_id, class_id, "items")
    cells = [c for c in cells if c["subject"] != "total"]
    if not cells:
        refuse("items", "no subject of the class in scope", exam_id, class_id=class_id)
    subjects = [c["subject"] for c in cells]
    chosen = request.args.get("subject") or subjects[0]
    if chosen not in subjects:
        refuse("items", "subject outside scope or unknown", exam_id, class_id=class_id,
               subject=chosen)
    p = {"exam_id": exam_id, "class_id": class_id, "subject": chosen}
    rates = r.rows("class_items", **p)
    options = r.rows("item_options", **p)
    knowledge = r.rows("knowledge", **p)
    name = next(c["subject_name"] for c in cells if c["subject"] == chosen)
    chart = charts.bars(f"{name} 各题得分率：{class_id}班与年级", [x["item"] for x in rates],
                        [(f"{class_id}班", [x["difficulty"] for x in rates]),
                         ("年级", [x["cohort_difficulty"] for x in rates])]) if rates else None
    by_item: dict[str, list[dict]] = {}
    for o in options:
        by_item.setdefault(o["item"], []).append(o)
    return render_template("items.html", page_title="小题分析", exam=e, class_id=class_id, cells=cells, chosen=chosen, rates=rates,
                           options=by_item, knowledge=knowledge, chart=chart)


# ------------------------------------------------------------------------------------ downloads
def _forms(r: Reader, exam_id: str) -> list[dict]:
    classes = r.classes(exam_id)
    subjects: dict[str, str] = {}
    for cs in classes.values():
        for c in cs:
            subjects.setdefault(c["subject"], c["subject_name"])
    lines = [x["line"] for x in r.rows("lines", exam_id=exam_id)]
    forms = []
    for t in extracts.load_templates().values():
        fields = []
        for p in t.options:
            field = {"name": p.name, "label": OPTION_ZH.get(p.name, p.name), "required": p.required,
                     "default": "" if p.required or p.default in ("*", "") else p.default}
            if p.name == "class_id":
                field["choices"] = [("*", "全部")] + [(c, f"{c}班") for c in classes]
            elif p.name == "subject":
                field["choices"] = [("*", "全部")] + list(subjects.items())
            elif p.name == "line":
                field["choices"] = [("", "各类别第一条线")] + [(x, x) for x in lines]
            fields.append(field)
        forms.append({"name": t.name, "title": t.title, "fields": fields})
    return forms


@bp.route("/exam/<exam_id>/downloads")
@login_required
def downloads(exam_id: str):
    r = reader()
    e = _exam(r, exam_id, "downloads")
    forms = _forms(r, exam_id)
    return render_template("downloads.html", exam=e, forms=forms)


@bp.route("/exam/<exam_id>/downloads/<template>", methods=["POST"])
@login_required
def download(exam_id: str, template: str):
    """The extract a teacher would get from `examflow extract` (examflow.extracts.extract: the same file
    and the same audit.extracts row), checked first against the account's cells."""
    what = f"download/{template}"
    account = current_account()
    r = reader()
    e = _exam(r, exam_id, what)
    templates = extracts.load_templates()
    if template not in templates:
        refuse(what, "no such template", exam_id)
    tpl = templates[template]
    form = {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}
    teacher = form.pop("teacher", "")
    if account.office:
        if not teacher:
            return _bad(e, "请填写要代为提取的教师工号。")
    elif teacher and teacher != account.name:
        refuse(what, "another teacher's id", exam_id, teacher=teacher)
    else:
        teacher = account.name
    fmt = form.pop("format", "xlsx") or "xlsx"
    options = {p.name: form[p.name] for p in tpl.options if form.get(p.name) not in (None, "")}
    classes = r.classes(exam_id)
    cls, subj = options.get("class_id", "*"), options.get("subject", "*")
    if cls != "*" and cls not in classes:
        refuse(what, "class outside scope or unknown", exam_id, **options)
    visible = {c["subject"] for cs in ([classes[cls]] if cls != "*" else classes.values()) for c in cs}
    if subj != "*" and subj not in visible:
        refuse(what, "subject outside scope or unknown", exam_id, **options)
    if "student_id" in options:
        me = r.rows("student", exam_id=exam_id, student_id=options["student_id"])
        if not me or me[0]["class_id"] not in classes:
            refuse(what, "student outside scope or unknown", exam_id, **options)
    params = {"teacher_id": teacher, **options, "format": fmt}
    try:
        done = extracts.extract(template, teacher_id=teacher, exam_id=exam_id, options=options, fmt=fmt,
                                warehouse=portal().warehouse, output=portal().output, audit_wait=0)
    except extracts.ExtractError as err:
        audit("refused", what, params, exam_id, reason=f"{err.outcome}: {err.reason}")
        return _bad(e, f"未能生成：{err.reason}")
    audit("downloaded", what, {**params, "file": done.path.name, "sha256": done.sha256}, exam_id, rows=done.rows)
    return send_file(done.path, as_attachment=True, download_name=done.path.name, max_age=0)


def _bad(exam: dict, message: str):
    return render_template("message.html", title="无法提取", message=message, exam=exam), 400


# ------------------------------------------------------------------------------------ office
def _office_page(exam_id: str, what: str) -> tuple[Reader, dict]:
    """An office page's reader and exam; a teacher gets the 404 of refuse()."""
    if not current_account().office:
        refuse(what, "office only", exam_id)
    r = reader()
    return r, _exam(r, exam_id, what)


@bp.route("/exam/<exam_id>/abnormal")
@login_required
def abnormal(exam_id: str):
    r, e = _office_page(exam_id, "abnormal")
    rows = r.rows("abnormal", exam_id=exam_id)
    audit("shown", "abnormal", {}, exam_id, rows=len(rows))
    return render_template("abnormal.html", exam=e, rows=rows)


@bp.route("/exam/<exam_id>/status")
@login_required
def status(exam_id: str):
    r, e = _office_page(exam_id, "status")
    st = exam_status(r.cursor, exam_id)
    return render_template("status.html", exam=e, st=st)
