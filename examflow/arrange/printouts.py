"""The 考务 printouts of an arrangement (outputs.md: `考务/`), each as .xlsx and .pdf:

| file | what |
|------|------|
| 考试时间表 | sessions: date, weekday, times, subjects, students, rooms, invigilators |
| 门贴 | door lists: per room x session the room, its location, the session time, the subjects (with head counts when a room holds two papers) and the students by seat (seat, exam number, name, class[, subject]); PDF: one page per room x session; xlsx: one sheet per session, a page break before each room |
| 桌贴 | desk labels: name, class, exam number, room, seat and the sessions they hold for; PDF: a 2 x 5 grid of labels per A4 page with cut lines, in room and seat order; one set per seating layout (sessions with identical seats - typically the three core sessions - share one set) |
| 班级考场安排表 | per class: every student's room and seat in every session (one sheet / one PDF page group per class), for the class head to hand out |
| 监考安排表 | invigilation rota: per session x room its invigilators (slot 1 = 主监考); a per-teacher summary of duties |
| 考号名单.csv | only when exam numbers were generated: student_id, name, class, exam_no - the roster the scanner uses (UTF-8 with BOM, which Excel and the scanner software read) |

Privacy (rules.md §9): file names are fixed titles (no student name, no class list in a name);
every file is written owner-only (0o600) and atomically by `examflow.printing`; names that
look like formulas stay text in Excel. Sensitive columns (id_card, phone) are never read here.

Rooms print as 第03考场 when their id is a number, else as given (实验楼201).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from examflow.printing import PrintedFile, ensure_owner_only_dir, sha256_file, write_owner_only
from examflow.printing.excel import Column, WorkbookWriter
from examflow.printing.pdf import CJKPdf, PdfColumn
from examflow.printouts.data import class_key, class_label

if TYPE_CHECKING:  # pragma: no cover
    from examflow.arrange import Arrangement
    from examflow.arrange.timetable import Session

__all__ = ["FOLDER", "room_label", "session_time", "write_printouts", "write_scanner_roster"]

FOLDER = "考务"
WEEKDAYS = "一二三四五六日"


def room_label(room: str) -> str:
    return f"第{int(room):02d}考场" if str(room).isdigit() else str(room)


def session_time(s: "Session") -> str:
    a, b = s.starts_at, s.ends_at
    return f"{a.month}月{a.day}日（周{WEEKDAYS[a.weekday()]}）{a:%H:%M}–{b:%H:%M}"


class _Ctx:
    """Lookups shared by the printouts."""

    def __init__(self, arr: "Arrangement", exam_name: str | None):
        self.arr = arr
        self.exam_name = exam_name or "考试"
        r = arr.roster
        self.sids: list[str] = r["student_id"].to_list()
        self.names = dict(zip(self.sids, r["name"].cast(str).to_list()))
        self.classes = dict(zip(self.sids, r["class_id"].to_list()))
        self.subject_name = {s.code: s.name for s in arr.subjects}
        self.sessions = {s.no: s for s in arr.sessions}
        self.rooms = {x.room: x for x in arr.rooms}
        self.room_pos = {x.room: i for i, x in enumerate(arr.rooms)}
        self.teacher = {t.teacher_id: t for t in arr.teachers}
        # seats[session] = list of rows sorted by room order, seat
        self.seats: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in arr.seating.iter_rows(named=True):
            self.seats[row["session"]].append(row)
        for rows in self.seats.values():
            rows.sort(key=lambda x: (self.room_pos[x["room"]], x["seat"]))
        self.rota: dict[tuple[int, str], list[str]] = defaultdict(list)
        for row in arr.invigilation.sort(["session", "slot"]).iter_rows(named=True):
            self.rota[(row["session"], row["room"])].append(row["teacher_id"])

    def subjects_text(self, s: "Session") -> str:
        return "、".join(self.subject_name.get(c, c) for c in s.subjects)

    def teacher_text(self, tid: str) -> str:
        t = self.teacher.get(tid)
        return f"{t.name}（{tid}）" if t and t.name != tid else tid


# --------------------------------------------------------------------------------------------
def write_printouts(arr: "Arrangement", folder: str | Path, *, exam_name: str | None = None) -> list[PrintedFile]:
    """Write every 考务 printout into `folder/考务/` and return the files written."""
    out = ensure_owner_only_dir(Path(folder) / FOLDER)
    ctx = _Ctx(arr, exam_name)
    files: list[PrintedFile] = []
    files += _timetable(ctx, out)
    files += _door_lists(ctx, out)
    files += _desk_labels(ctx, out)
    files += _class_lists(ctx, out)
    files += _rota(ctx, out)
    if arr.exam_numbers is not None:
        files.append(write_scanner_roster(arr, out / "考号名单.csv"))
    return files


def write_scanner_roster(arr: "Arrangement", path: str | Path) -> PrintedFile:
    """The generated exam numbers as the scanner's roster: student_id, name, class, exam_no."""
    if arr.exam_numbers is None:
        raise ValueError("no exam numbers were generated (arrangement.exam_no_format is not set)")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["student_id", "name", "class", "exam_no"])
    for row in arr.exam_numbers.sort("exam_no").iter_rows():
        w.writerow(row)
    p = write_owner_only(path, "\ufeff" + buf.getvalue())
    return PrintedFile(p, "scanner_roster.csv", arr.exam_numbers.height, sha256_file(p))


# --------------------------------------------------------------------------------------------
def _timetable(ctx: _Ctx, out: Path) -> list[PrintedFile]:
    arr = ctx.arr
    k = arr.settings.invigilators_per_room
    rows = []
    for s in arr.sessions:
        seats = ctx.seats.get(s.no, [])
        n_rooms = len({x["room"] for x in seats})
        counts = defaultdict(int)
        for x in seats:
            counts[x["subject"]] += 1
        subj = "、".join(f"{ctx.subject_name.get(c, c)}" for c in s.subjects)
        rows.append([s.no, s.starts_at.date(), f"周{WEEKDAYS[s.starts_at.weekday()]}", s.starts_at.time(),
                     s.ends_at.time(), subj, len(seats), n_rooms, n_rooms * k])
    cols = [Column(0, "场次", "int"), Column(1, "日期", "date"), Column(2, "星期"), Column(3, "开始", "time"),
            Column(4, "结束", "time"), Column(5, "科目"), Column(6, "考生人数", "int"), Column(7, "考场数", "int"),
            Column(8, "监考人数", "int")]
    title = f"{ctx.exam_name} 考试时间表"
    with WorkbookWriter(out / "考试时间表.xlsx", kind="timetable.xlsx") as wb:
        wb.add_table("考试时间表", rows, cols, title=title)
    pdf = CJKPdf(title, kind="timetable.pdf")
    pdf.add_page()
    pdf.heading(title, 16)
    pdf.ln(3)
    pdf_rows = [[f"第{r[0]}场", f"{r[1].month}月{r[1].day}日", r[2], f"{r[3]:%H:%M}–{r[4]:%H:%M}", r[5], r[6], r[7]]
                for r in rows]
    pdf.draw_table([PdfColumn("场次", 14), PdfColumn("日期", 18), PdfColumn("星期", 12), PdfColumn("时间", 26),
                    PdfColumn("科目", 40), PdfColumn("考生人数", 16), PdfColumn("考场数", 14)], pdf_rows,
                   row_height=9)
    if arr.notes:
        pdf.ln(4)
        pdf.line_text("说明：", style="B")
        for n in arr.notes[:20]:
            pdf.paragraph("· " + n, size=8, h=4.5)
    return [wb.printed, pdf.save(out / "考试时间表.pdf", rows=len(rows))]  # type: ignore[list-item]


def _door_lists(ctx: _Ctx, out: Path) -> list[PrintedFile]:
    arr = ctx.arr
    xlsx = WorkbookWriter(out / "门贴.xlsx", kind="door_lists.xlsx")
    pdf = CJKPdf(ctx.exam_name, kind="door_lists.pdf", header_text=f"{ctx.exam_name} 门贴")
    n_rows = 0
    for s in arr.sessions:
        seats = ctx.seats.get(s.no, [])
        multi = len(s.subjects) > 1
        rows, breaks = [], []
        by_room: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for x in seats:
            by_room[x["room"]].append(x)
        for room, members in by_room.items():
            if rows:
                breaks.append(len(rows))
            loc = ctx.rooms[room].location or ""
            for x in members:
                rows.append([room_label(room), loc, x["seat"], x["exam_no"], ctx.names[x["student_id"]],
                             class_label(ctx.classes[x["student_id"]]), ctx.subject_name.get(x["subject"], x["subject"])])
        cols = [Column(0, "考场"), Column(1, "地点"), Column(2, "座位号", "int"), Column(3, "考号", "id"),
                Column(4, "姓名"), Column(5, "班级"), Column(6, "科目")]
        xlsx.add_table(f"第{s.no}场", rows, cols, page_breaks_before=breaks,
                       title=f"{ctx.exam_name} 第{s.no}场 {session_time(s)} {ctx.subjects_text(s)}")
        n_rows += len(rows)
        for room, members in by_room.items():
            _door_page(pdf, ctx, s, room, members, multi)
    xlsx.save()
    pages = sum(len({x["room"] for x in ctx.seats.get(s.no, [])}) for s in arr.sessions)
    return [xlsx.printed, pdf.save(out / "门贴.pdf", rows=pages)]  # type: ignore[list-item]


def _door_page(pdf: CJKPdf, ctx: _Ctx, s: "Session", room: str, members: list[dict[str, Any]], multi: bool) -> None:
    pdf.add_page()
    loc = ctx.rooms[room].location

    def title_block(p: CJKPdf, cont: bool = False) -> None:
        p.heading(room_label(room) + ("（续）" if cont else ""), 30 if not cont else 16, h=14 if not cont else 9)
        if not cont:
            if loc:
                p.line_text(f"地点：{loc}", 12, align="C", h=7)
            p.line_text(f"第{s.no}场  {session_time(s)}", 14, align="C", h=8, style="B")
            counts = defaultdict(int)
            for x in members:
                counts[x["subject"]] += 1
            if multi:
                subj = "  ".join(f"{ctx.subject_name.get(c, c)} {counts[c]}人" for c in s.subjects if counts[c])
            else:
                subj = ctx.subjects_text(s)
            p.line_text(f"科目：{subj}    考生 {len(members)} 人", 13, align="C", h=8)
            p.ln(2)

    title_block(pdf)
    cols = [PdfColumn("座位号", 14), PdfColumn("考号", 26), PdfColumn("姓名", 30), PdfColumn("班级", 22)]
    if multi:
        cols.append(PdfColumn("科目", 18))
    rows = []
    for x in members:
        r = [x["seat"], x["exam_no"] or "", ctx.names[x["student_id"]], class_label(ctx.classes[x["student_id"]])]
        if multi:
            r.append(ctx.subject_name.get(x["subject"], x["subject"]))
        rows.append(r)
    avail = pdf.h - pdf.b_margin - pdf.get_y()
    row_h = max(5.5, min(9.0, int(avail / (len(rows) + 1.5) * 10) / 10))
    pdf.draw_table(cols, rows, row_height=row_h, font_size=11 if row_h >= 7 else 9,
                   on_new_page=lambda p: title_block(p, cont=True))


def _desk_labels(ctx: _Ctx, out: Path) -> list[PrintedFile]:
    arr = ctx.arr
    layouts: dict[int, list[int]] = defaultdict(list)
    for s in arr.sessions:
        layouts[arr.layout_of[s.no]].append(s.no)
    xlsx = WorkbookWriter(out / "桌贴.xlsx", kind="desk_labels.xlsx")
    pdf = CJKPdf(ctx.exam_name, kind="desk_labels.pdf", header_text=f"{ctx.exam_name} 桌贴")
    total = 0
    for layout, nos in sorted(layouts.items(), key=lambda kv: kv[1][0]):
        sess = [ctx.sessions[n] for n in nos]
        label_sessions = "、".join(str(n) for n in nos)
        seats = ctx.seats[nos[0]]
        subj_of: dict[str, list[str]] = defaultdict(list)
        for n in nos:
            for x in ctx.seats[n]:
                subj_of[x["student_id"]].append(ctx.subject_name.get(x["subject"], x["subject"]))
        items = []
        for x in seats:
            sid = x["student_id"]
            items.append({
                "room": x["room"], "seat": x["seat"], "exam_no": x["exam_no"] or "", "name": ctx.names[sid],
                "class": class_label(ctx.classes[sid]), "subjects": "、".join(dict.fromkeys(subj_of[sid])),
                "sessions": f"第{label_sessions}场",
            })
        cols = [Column("room", "考场"), Column("seat", "座位号", "int"), Column("exam_no", "考号", "id"),
                Column("name", "姓名"), Column("class", "班级"), Column("subjects", "科目"), Column("sessions", "场次")]
        rows = [dict(it, room=room_label(it["room"])) for it in items]
        xlsx.add_table(f"第{label_sessions}场", rows, cols,
                       title=f"{ctx.exam_name} 桌贴 第{label_sessions}场 {'、'.join(ctx.subjects_text(s) for s in sess)}")
        total += pdf.draw_label_grid(items, lambda p, x, y, w, h, it: _draw_label(p, x, y, w, h, it, ctx.exam_name))
    xlsx.save()
    return [xlsx.printed, pdf.save(out / "桌贴.pdf", rows=total)]  # type: ignore[list-item]


def _draw_label(pdf: CJKPdf, x: float, y: float, w: float, h: float, it: dict[str, Any], exam: str) -> None:
    pad = 4.0
    iw = w - 2 * pad
    pdf.set_xy(x + pad, y + pad)
    pdf.fit_cell(iw, 5, exam, border=0, size=8, align="C")
    pdf.set_xy(x + pad, y + pad + 6)
    pdf.fit_cell(iw, 12, it["name"], border=0, size=22, style="B", align="C")
    pdf.set_xy(x + pad, y + pad + 19)
    pdf.fit_cell(iw / 2, 7, f"班级：{it['class']}", border=0, size=11, align="L")
    pdf.fit_cell(iw / 2, 7, f"考号：{it['exam_no']}", border=0, size=11, align="L", style="B")
    pdf.set_xy(x + pad, y + pad + 27)
    pdf.fit_cell(iw / 2, 9, room_label(it["room"]), border=0, size=15, style="B", align="L")
    pdf.fit_cell(iw / 2, 9, f"座位 {it['seat']}号", border=0, size=15, style="B", align="L")
    pdf.set_xy(x + pad, y + pad + 38)
    pdf.fit_cell(iw, 6, f"{it['sessions']}  {it['subjects']}", border=0, size=9, align="L")


def _class_lists(ctx: _Ctx, out: Path) -> list[PrintedFile]:
    arr = ctx.arr
    where: dict[tuple[str, int], str] = {}
    for s in arr.sessions:
        multi = len(s.subjects) > 1
        for x in ctx.seats.get(s.no, []):
            text = f"{room_label(x['room'])} {x['seat']}号"
            if multi:
                text = f"{ctx.subject_name.get(x['subject'], x['subject'])} {text}"
            where[(x["student_id"], s.no)] = text
    exam_no: dict[str, str] = {}
    for x in arr.seating.select("student_id", "exam_no").unique("student_id").iter_rows():
        exam_no[x[0]] = x[1] or ""
    for sid, no in zip(ctx.sids, arr.roster["exam_no"].to_list()):
        exam_no.setdefault(sid, no or "")
    by_class: dict[str, list[str]] = defaultdict(list)
    for sid in sorted(ctx.sids):
        by_class[ctx.classes[sid]].append(sid)
    heads = [f"第{s.no}场 {ctx.subjects_text(s)}" for s in arr.sessions]
    xlsx = WorkbookWriter(out / "班级考场安排表.xlsx", kind="class_lists.xlsx")
    pdf = CJKPdf(ctx.exam_name, orientation="L", kind="class_lists.pdf",
                 header_text=f"{ctx.exam_name} 班级考场安排表")
    cols = [Column(0, "学号", "id"), Column(1, "姓名"), Column(2, "考号", "id")] + [
        Column(3 + j, h) for j, h in enumerate(heads)]
    n_sess = len(arr.sessions)
    pcols = [PdfColumn("学号", 20), PdfColumn("姓名", 20), PdfColumn("考号", 18)] + [
        PdfColumn(f"第{s.no}场 {ctx.subjects_text(s)}", max(20.0, 215.0 / max(1, n_sess)))
        for s in arr.sessions]
    n = 0
    for c in sorted(by_class, key=class_key):
        rows = [[sid, ctx.names[sid], exam_no.get(sid, "")] + [where.get((sid, s.no), "—") for s in arr.sessions]
                for sid in by_class[c]]
        xlsx.add_table(class_label(c), rows, cols, title=f"{ctx.exam_name} {class_label(c)} 考场安排")
        pdf.add_page()
        pdf.heading(f"{class_label(c)} 考场安排", 16)
        pdf.paragraph("；".join(f"第{s.no}场 {session_time(s)} {ctx.subjects_text(s)}" for s in arr.sessions),
                      size=8, h=4.5)
        pdf.ln(1)
        pdf.draw_table(pcols, rows, row_height=6.2, font_size=9)
        n += len(rows)
    xlsx.save()
    return [xlsx.printed, pdf.save(out / "班级考场安排表.pdf", rows=n)]  # type: ignore[list-item]


def _rota(ctx: _Ctx, out: Path) -> list[PrintedFile]:
    arr = ctx.arr
    k = arr.settings.invigilators_per_room
    rows = []
    per_teacher: dict[str, list[str]] = defaultdict(list)
    for s in arr.sessions:
        counts = defaultdict(int)
        for x in ctx.seats.get(s.no, []):
            counts[x["room"]] += 1
        for room in sorted(counts, key=lambda r: ctx.room_pos[r]):
            tids = ctx.rota.get((s.no, room), [])
            names = [ctx.teacher_text(t) for t in tids] + [""] * (k - len(tids))
            rows.append([s.no, session_time(s), ctx.subjects_text(s), room_label(room),
                         ctx.rooms[room].location or "", counts[room], *names])
            for t in tids:
                per_teacher[t].append(f"第{s.no}场{room_label(room)}")
    cols = [Column(0, "场次", "int"), Column(1, "时间"), Column(2, "科目"), Column(3, "考场"), Column(4, "地点"),
            Column(5, "考生人数", "int")] + [Column(6 + j, "主监考" if j == 0 else f"监考{j + 1}") for j in range(k)]
    trows = []
    for t in arr.teachers:
        trows.append([t.teacher_id, t.name, "、".join(ctx.subject_name.get(x, x) for x in sorted(t.subjects)),
                      arr.load.get(t.teacher_id, 0), "；".join(per_teacher.get(t.teacher_id, []))])
    tcols = [Column(0, "工号", "id"), Column(1, "姓名"), Column(2, "任教科目"), Column(3, "监考场次", "int"),
             Column(4, "安排")]
    title = f"{ctx.exam_name} 监考安排表"
    with WorkbookWriter(out / "监考安排表.xlsx", kind="invigilation.xlsx") as wb:
        wb.add_table("监考安排", rows, cols, title=title)
        wb.add_table("教师监考统计", trows, tcols, title=f"{ctx.exam_name} 教师监考统计")
    pdf = CJKPdf(title, kind="invigilation.pdf")
    for s in arr.sessions:
        srows = [[r[3], r[4], r[5], *r[6:]] for r in rows if r[0] == s.no]
        if not srows:
            continue
        pdf.add_page()
        pdf.heading(f"第{s.no}场 监考安排", 16)
        pdf.line_text(f"{session_time(s)}  {ctx.subjects_text(s)}", 12, align="C", h=8)
        pdf.draw_table([PdfColumn("考场", 22), PdfColumn("地点", 30), PdfColumn("人数", 12)] +
                       [PdfColumn("主监考" if j == 0 else f"监考{j + 1}", 30) for j in range(k)], srows,
                       row_height=6.5, font_size=9.5)
    pdf.add_page()
    pdf.heading("教师监考统计", 16)
    pdf.draw_table([PdfColumn("工号", 16), PdfColumn("姓名", 18), PdfColumn("任教科目", 22), PdfColumn("次数", 10),
                    PdfColumn("安排", 90, align="L")], trows, row_height=6, font_size=8.5)
    return [wb.printed, pdf.save(out / "监考安排表.pdf", rows=len(rows))]  # type: ignore[list-item]
