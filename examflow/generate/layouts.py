"""How the files look: the roster, teachers and rooms tables, each subject's scan export (CSV in
several encodings and delimiters, XLSX with title rows, OMRChecker folders) and marks export (long
评卷明细 or wide 小题分)."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import polars as pl

from examflow.generate.common import V_DASH, fmt_num, fmt_scores, response_series, row_chunks, write_csv
from examflow.generate.school import ROOM_CAPACITY
from examflow.generate.scores import Marks, Rows
from examflow.generate.subjects import Subject, key_text
from examflow.generate.world import World

XLSX_MAX_ROWS = 5_000    # rows of the XLSX batch; the rest of that subject goes to CSV
BUILDINGS = ("明德楼", "致远楼", "博学楼", "笃行楼", "求是楼", "弘毅楼")


@dataclass
class ScanFile:
    name: str
    fmt: str = "csv"                    # csv / xlsx
    encoding: str = "utf-8"
    bom: bool = False
    sep: str = ","
    crlf: bool = False
    subject: bool = True
    sid: str | None = "扫描序号"
    exam: str = "考号"
    absent_h: str = "缺考"
    absent: tuple = ("1", "0")
    batch: str | None = "批次"
    image: str | None = "图像"
    item: str = "{}"
    blank: str = ""
    rows: int | None = None             # rows in this file (None = the rest)

    @property
    def header_row(self) -> int:        # spreadsheet row number of the header
        return 3 if self.fmt == "xlsx" else 1


def current_layout(s: Subject, n_rows: int) -> list[ScanFile] | str:
    c = s.code
    if c == "chinese":
        return [ScanFile("语文.csv", bom=True)]
    if c == "math":
        first = min(XLSX_MAX_ROWS, max(1, n_rows // 2))
        return [ScanFile("math_batch1.xlsx", fmt="xlsx", absent=("是", "否"), item="Q{}", rows=first),
                ScanFile("math_batch2.csv", subject=False, absent=("Y", "N"), item="Q{}")]
    if c == "english":
        return [ScanFile("英语.csv", sep=";", absent=("缺考", ""), item="第{}题", blank="-")]
    if c == "physics":
        return [ScanFile("物理.csv", sep="\t", subject=False, sid=None, item="客观题{}")]
    if c == "history":
        return [ScanFile("历史.csv", encoding="gbk", crlf=True, absent=("是", "否"))]
    if c == "chemistry":
        return [ScanFile("chemistry.csv", bom=True, item="Q{}")]
    if c == "biology":
        return "omr"
    if c == "geography":
        return [ScanFile("地理.csv", sid="试卷编号", exam="准考证号", absent_h="缺考标记", absent=("Y", "N"),
                         batch="扫描批次", image="图像路径", item="第{}题")]
    return [ScanFile("政治.csv", bom=True)]


MARKS_LAYOUT = {  # code -> (file name, form, subject column, encoding, bom, crlf)
    "chinese": ("语文_评卷明细.csv", "long", True, "utf-8", True, False),
    "math": ("math_marks.csv", "long", False, "utf-8", False, False),
    "english": ("英语_评卷明细.csv", "long", True, "utf-8", False, False),
    "physics": ("物理_评卷明细.csv", "long", True, "gbk", False, True),
    "history": ("历史_评卷明细.csv", "long", True, "utf-8", True, False),
    "chemistry": ("化学_评卷明细.csv", "long", True, "utf-8", False, False),
    "biology": ("生物_评卷明细.csv", "long", True, "utf-8", False, False),
    "geography": ("地理小题分.csv", "wide", True, "utf-8", True, False),
    "politics": ("politics_小题分.csv", "wide", False, "utf-8", False, False),
}


def _batch(rows: Rows, n_base: int) -> np.ndarray:
    last = (n_base - 1) // 300 + 1 if n_base else 1
    return np.where(rows.sheet <= n_base, (rows.sheet - 1) // 300 + 1, last + 1)


def _script_ids(s: Subject, sheet: np.ndarray) -> pl.Series:
    return pl.select(pl.lit(s.prefix) + pl.lit(pl.Series(sheet).cast(pl.String).str.zfill(7))).to_series()


def _omr_ids(sheet: np.ndarray) -> pl.Series:
    return pl.select(pl.lit("bio_") + pl.lit(pl.Series(sheet).cast(pl.String).str.zfill(6)) + pl.lit(".jpg")).to_series()


def _scan_frame(s: Subject, rows: Rows, lo: int, hi: int, spec: ScanFile, n_base: int) -> pl.DataFrame:
    cols: dict[str, pl.Series] = {}
    sheet = rows.sheet[lo:hi]
    sid = _script_ids(s, sheet)
    batch = _batch(rows, n_base)[lo:hi]
    if spec.sid:
        cols[spec.sid] = sid
    cols[spec.exam] = pl.Series(rows.exam_no[lo:hi])
    if spec.subject:
        cols["科目"] = pl.Series(np.full(hi - lo, s.name))
    cols[spec.absent_h] = pl.Series(np.where(rows.absent[lo:hi], spec.absent[0], spec.absent[1]))
    if spec.batch:
        cols[spec.batch] = pl.Series(batch)
    if s.pages:
        cols["页数"] = pl.Series(rows.pages[lo:hi].astype(np.int64))
    if s.ab:
        cols["试卷类型"] = pl.Series(np.array(["", "A", "B"])[rows.version[lo:hi]])
    if s.optional:
        cols["选做"] = pl.Series(rows.choice[lo:hi])
    for j, it in enumerate(s.obj):
        c = rows.codes[lo:hi, j]
        if spec.blank == "-":
            c = np.where(c == 0, V_DASH, c)
        cols[spec.item.format(it.id)] = response_series(c)
    if spec.image:
        cols[spec.image] = pl.select(
            pl.lit(f"images/{s.code}/") + pl.lit(pl.Series(batch)).cast(pl.String).str.zfill(3)
            + pl.lit("/") + pl.lit(sid) + pl.lit(".jpg")).to_series()
    return pl.DataFrame(cols)


def _write_xlsx(path: Path, df: pl.DataFrame, title: str, subtitle: str) -> None:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"title": title, "author": "网阅扫描系统", "created": _dt.datetime(2026, 11, 12, 18, 30)})
    ws = wb.add_worksheet("扫描结果")
    ncol = df.width
    ft = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    fs = wb.add_format({"align": "left", "font_color": "#555555"})
    fh = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
    ws.merge_range(0, 0, 0, ncol - 1, title, ft)
    ws.merge_range(1, 0, 1, ncol - 1, subtitle, fs)
    ws.write_row(2, 0, df.columns, fh)
    for r, row in enumerate(df.iter_rows(), start=3):
        ws.write_row(r, 0, ["" if v is None else v for v in row])
    wb.close()


def long_frames(s: Subject, rows: Rows, mk: Marks, with_subject: bool, tids: pl.Series,
                arbiter: int) -> Iterator[pl.DataFrame]:
    tv = pl.concat([tids, pl.Series([None], dtype=pl.String)])
    none = len(tids)

    def frame(num, item_id, s1, m1, s2, m2, arb, arbiter, flag):
        n = len(num)
        cols = {"考号": pl.Series(num, dtype=pl.String)}
        if with_subject:
            cols["科目"] = pl.Series(np.full(n, s.name))
        cols["题号"] = pl.Series(np.full(n, item_id))
        cols["一评"] = fmt_scores(s1)
        cols["一评教师"] = tv.gather(np.where(m1 < 0, none, m1))
        cols["二评"] = fmt_scores(s2)
        cols["二评教师"] = tv.gather(np.where(np.isnan(s2), none, np.where(m2 < 0, none, m2)))
        cols["仲裁"] = fmt_scores(arb)
        cols["仲裁教师"] = tv.gather(np.where(np.isnan(arb), none, arbiter))
        cols["问题卷"] = pl.Series(list(flag), dtype=pl.String)
        return pl.DataFrame(cols)

    for j, it in enumerate(s.subj):
        idx = np.nonzero(mk.marked[:, j])[0]
        for lo, hi in row_chunks(0, len(idx)):
            sl = idx[lo:hi]
            flag = np.full(len(sl), None, dtype=object)
            for (r, jj), text in mk.flags.items():
                if jj == j:
                    k = np.searchsorted(sl, r)
                    if k < len(sl) and sl[k] == r:
                        flag[k] = text
            yield frame(rows.exam_no[sl], it.id, mk.s1[sl, j], mk.m1[sl, j], mk.s2[sl, j], mk.m2[sl, j],
                        mk.arb[sl, j], np.full(len(sl), arbiter), flag)
        for num, t, s2, arb, m1, m2 in mk.orphans:
            if not np.isnan(t[j]):
                yield frame(np.array([num]), it.id, t[j:j + 1], m1[j:j + 1], s2[j:j + 1], m2[j:j + 1],
                            arb[j:j + 1], np.array([arbiter]), np.array([None], dtype=object))


def wide_frames(s: Subject, rows: Rows, mk: Marks, with_subject: bool) -> Iterator[pl.DataFrame]:
    fin = mk.final()
    has = rows.has_marks & ~np.isnan(rows.subj).all(axis=1)
    idx = np.nonzero(has)[0]
    for lo, hi in row_chunks(0, len(idx)):
        sl = idx[lo:hi]
        cols = {"考号": pl.Series(rows.exam_no[sl])}
        if with_subject:
            cols["科目"] = pl.Series(np.full(len(sl), s.name))
        for j, it in enumerate(s.subj):
            cols[it.id] = fmt_scores(fin[sl, j])
        yield pl.DataFrame(cols)
    if mk.orphans:
        cols = {"考号": pl.Series([o[0] for o in mk.orphans])}
        if with_subject:
            cols["科目"] = pl.Series([s.name] * len(mk.orphans))
        for j, it in enumerate(s.subj):
            cols[it.id] = fmt_scores(np.array([o[1][j] for o in mk.orphans]))
        yield pl.DataFrame(cols)


def write_scans(folder: Path, s: Subject, rows: Rows, layout, n_base: int, exam_name: str,
                error_sheets: list[int]) -> tuple[list[str], Callable[[int], str]]:
    """Write the subject's scan exports; return the file names and a ref(final row) function."""
    scans = folder / "scans"
    if layout == "omr":
        base_dir = scans / s.name
        dest = rows.dest
        files = []
        for d, rel in ((0, "Results/Results_10AM.csv"), (1, "Manual/MultiMarkedFiles.csv")):
            idx = np.nonzero(dest == d)[0]
            if d == 1 and not len(idx):
                continue

            def frames(idx=idx, d=d):
                for lo, hi in row_chunks(0, len(idx)):
                    sl = idx[lo:hi]
                    fid = _omr_ids(rows.sheet[sl])
                    sub = "CheckedOMRs" if d == 0 else "Manual/MultiMarkedFiles"
                    cols = {"file_id": fid,
                            "input_path": pl.select(pl.lit(f"inputs/{s.name}/") + pl.lit(fid)).to_series(),
                            "output_path": pl.select(pl.lit(f"outputs/{s.name}/{sub}/") + pl.lit(fid)).to_series(),
                            "score": pl.Series(np.full(len(sl), "0" if d == 0 else "NA")),
                            "Roll": pl.Series(rows.exam_no[sl])}
                    for j, it in enumerate(s.obj):
                        cols[f"q{it.id}"] = response_series(rows.codes[sl, j], quoted_blank=True)
                    yield pl.DataFrame(cols)
            write_csv(base_dir / rel, frames(), quote_all=True)
            files.append(f"{s.name}/{rel}")
        # ErrorFiles: rows shorter than the header, score NA
        hdr = ["file_id", "input_path", "output_path", "score", "Roll"] + [f"q{it.id}" for it in s.obj]
        lines = [",".join(f'"{h}"' for h in hdr)]
        for sh in error_sheets:
            fid = f"bio_{sh:06d}.jpg"
            lines.append(",".join(f'"{v}"' for v in (fid, f"inputs/{s.name}/{fid}",
                                                      f"outputs/{s.name}/Manual/ErrorFiles/{fid}", "NA")))
        p = base_dir / "Manual/ErrorFiles.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        files.append(f"{s.name}/Manual/ErrorFiles.csv")
        ids = _omr_ids(rows.sheet)
        return files, lambda r: ids[r]

    names = []
    bounds = []
    lo = 0
    for k, spec in enumerate(layout):
        hi = len(rows) if (spec.rows is None or k == len(layout) - 1) else min(len(rows), lo + spec.rows)
        bounds.append((spec, lo, hi))
        if spec.fmt == "xlsx":
            df = _scan_frame(s, rows, lo, hi, spec, n_base)
            title = f"{exam_name}　{s.name}答题卡扫描结果"
            batches = _batch(rows, n_base)[lo:hi]
            sub = f"导出时间：2026-11-12 18:30　扫描批次：{batches.min()}–{batches.max()}　共 {hi - lo} 份"
            _write_xlsx(scans / spec.name, df, title, sub)
        else:
            def frames(spec=spec, lo=lo, hi=hi):
                for a, z in row_chunks(lo, hi):
                    yield _scan_frame(s, rows, a, z, spec, n_base)
            write_csv(scans / spec.name, frames(), encoding=spec.encoding, sep=spec.sep, bom=spec.bom,
                      crlf=spec.crlf)
        names.append(spec.name)
        lo = hi

    def ref(r: int) -> str:
        for spec, a, z in bounds:
            if a <= r < z:
                if spec.sid:
                    return f"{s.prefix}{int(rows.sheet[r]):07d}"
                return f"{spec.name}#{r - a + spec.header_row + 1}"
        raise IndexError(r)
    return names, ref


def items_frame(s: Subject) -> pl.DataFrame:
    return pl.DataFrame({
        "科目": [s.name] * len(s.items),
        "题号": [it.id for it in s.items],
        "题型": [it.type for it in s.items],
        "满分": [fmt_num(it.full) for it in s.items],
        "答案": ["" if it.type == "subjective" else key_text(it) for it in s.items],
        "知识点": [it.knowledge for it in s.items],
        "误差": ["" if it.tolerance is None else fmt_num(it.tolerance) for it in s.items],
        "选项数": ["" if (it.type == "subjective" or it.options == 4) else str(it.options) for it in s.items],
        "部分分": ["" if it.partial is None else str(it.partial) for it in s.items],
    })


def write_tables(folder: Path, w: World) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    joint = w.school is not None
    school_of = np.array(w.schools)
    number = w.class_local[w.cls] if joint else w.cls
    roster = pl.DataFrame({
        "学号": pl.Series(w.sid), "姓名": w.name,
        "班级": pl.select(pl.lit("高三(") + pl.lit(pl.Series(number)).cast(pl.String) + pl.lit(")班")).to_series(),
        "考号": pl.Series(w.exam_no), "类别": pl.Series(np.array(["物理类", "历史类"])[w.track]),
        "选科": pl.Series(w.elect_text), "身份证号": w.id_card, "联系电话": w.phone,
    })
    if joint:
        roster = roster.insert_column(2, pl.Series("学校", school_of[w.school]))
    write_csv(folder / "roster.csv", iter([roster]), bom=True)
    t = w.teacher_rows
    teachers = pl.DataFrame({"工号": [r[0] for r in t], "姓名": [r[1] for r in t], "班级": [r[2] for r in t],
                             "科目": [r[3] for r in t], "职务": [r[4] for r in t]})
    if joint:
        teachers = teachers.insert_column(2, pl.Series("学校", [r[5] for r in t]))
    write_csv(folder / "teachers.csv", iter([teachers]))
    k = np.arange(w.n_rooms)
    floors = 1 + (k // 8) % 5
    rooms = pl.DataFrame({
        "考场": pl.Series(k + 1).cast(pl.String),
        "地点": pl.Series([f"{BUILDINGS[(i // 40) % len(BUILDINGS)]}{f}{(i % 8) + 1:02d}"
                          + (f"（{i // 240 + 1}区）" if w.n_rooms > 240 else "")
                          for i, f in zip(k.tolist(), floors.tolist())]),
        "座位数": pl.Series(np.full(w.n_rooms, ROOM_CAPACITY)),
    })
    if joint:
        rooms = rooms.with_columns(pl.Series("学校", school_of[w.room_school]))
    write_csv(folder / "rooms.csv", iter([rooms]))
