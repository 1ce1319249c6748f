"""The class PDFs (outputs.md, Printouts): data -> template -> file.

- `成绩单/<class_id>.pdf` — the class's score sheet for A4 (landscape): every student's subject
  scores (reselect subjects: 原始分 and 赋分), 总分, 原始总分, ranks and 名次变化; then the class's
  quantification (its mart.class_quant rows beside the cohort's: mean, 比均, the rates, 三率一分,
  rank by mean), its rank bands and students over each cut line, and a score-distribution chart of
  the class's totals against the grade's (the class's track(s)). Template `class_report.typ`.
- `成绩条/<class_id>.pdf` — score slips (portrait A4): one strip per student (name, ids; per
  subject the score, raw score, grade and class rank, and the change against the previous exam
  when there is one; the total likewise), several strips per page with dashed cut lines between.
  Template `score_slips.typ`.

This module only computes what is printed (strings, shares) as one JSON document per file; the
templates lay it out (`examflow.printing.typeset`). File names carry the class id only
(safe_filename: `一中:3` → `一中_3.pdf`), never a name. The grade's part of the chart is binned
once per set of tracks.
"""
from __future__ import annotations

import hashlib
import math
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from examflow.printing import PrintedFile, ensure_owner_only_dir, safe_filename, write_owner_only
from examflow.printing.data import (
    STATUS_LABEL,
    TOTAL_STATUS_LABEL,
    ExamData,
    Subject,
    class_key,
    class_label,
    track_label,
)
from examflow.printing.typeset import Press, default_workers

__all__ = ["PDF_TABLES", "SHEETS_DIR", "SLIPS_DIR", "ClassBook", "write_pdfs", "class_sheet", "score_slips"]

PDF_TABLES = ["students", "subject_scores", "totals", "class_quant", "rank_bands", "line_analysis"]
SHEETS_DIR = "成绩单"
SLIPS_DIR = "成绩条"

SCORE_COLUMNS = ("student_id", "subject", "status", "raw_score", "converted_score", "band", "grade_rank",
                 "class_rank", "rank_change")


class Page(NamedTuple):
    """One PDF to typeset: its kind (for the audit), template, rows and data."""

    kind: str
    template: str
    rows: int
    data: dict[str, Any]


# --------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------
def fmt_score(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    r = round(float(v), 1)
    return str(int(r)) if r.is_integer() else f"{r:.1f}"


def fmt_int(v: Any) -> str:
    return "" if v is None else str(int(v))


def fmt_rate(v: Any) -> str:
    return "" if v is None else f"{float(v) * 100:.1f}%"


def fmt_dec(v: Any, digits: int = 2) -> str:
    return "" if v is None else f"{float(v):.{digits}f}"


def fmt_change(v: Any) -> str:
    """Rank change, positive = moved up: ↑3, ↓2, 0."""
    if v is None:
        return ""
    v = int(v)
    return f"↑{v}" if v > 0 else f"↓{-v}" if v < 0 else "0"


def _subject_score(s: Subject, r: dict[str, Any] | None) -> tuple[str, str]:
    """(score that enters the total, raw score) as printed; statuses as 待定 / 缺考 / 作废."""
    if r is None:
        return "", ""
    status = r.get("status")
    if status != "ok":
        label = STATUS_LABEL.get(status, status or "")
        return label, label
    raw = fmt_score(r.get("raw_score"))
    if s.reselect:
        conv = fmt_score(r.get("converted_score"))
        band = r.get("band")
        return (f"{conv}（{band}）" if band else conv), raw
    return raw, raw


def _total_cells(t: dict[str, Any] | None) -> tuple[str, str]:
    if t is None:
        return "", ""
    if t.get("status") != "ok":
        label = TOTAL_STATUS_LABEL.get(t.get("status"), t.get("status") or "")
        return label, label
    return fmt_score(t.get("total")), fmt_score(t.get("raw_total"))


# --------------------------------------------------------------------------------------------
# the run's data, grouped by class
# --------------------------------------------------------------------------------------------
class ClassBook:
    """Everything the class PDFs print, grouped once for all classes."""

    def __init__(self, data: ExamData):
        self.data = data
        self.students = data.table("students").to_dicts() if data.table("students") is not None else []
        self.scores: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        scores = data.table("subject_scores")
        if scores is not None:  # the columns printed only: a row per student and subject
            for r in scores.select([c for c in SCORE_COLUMNS if c in scores.columns]).iter_rows(named=True):
                self.scores[r["student_id"]][r["subject"]] = r
        self.totals: dict[str, dict[str, Any]] = {}
        if data.table("totals") is not None:
            self.totals = {r["student_id"]: r for r in data.table("totals").iter_rows(named=True)}
        if not self.students:
            self.students = [{"student_id": sid, "class_id": t.get("class_id"), "track": t.get("track")}
                             for sid, t in self.totals.items()]
        self.by_class: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for st in self.students:
            if st.get("class_id") is not None:
                self.by_class[st["class_id"]].append(st)
        order = {"physics": 0, "history": 1}
        for cid, rows in self.by_class.items():
            rows.sort(key=lambda s: (order.get(s.get("track"), 2), self._class_rank(s), s["student_id"]))
        self.quant: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.cohort: dict[tuple[str, str], dict[str, Any]] = {}
        cq = data.table("class_quant")
        if cq is not None:
            for r in cq.iter_rows(named=True):
                if r["class_id"] == "*":
                    self.cohort[(r["subject"], r.get("track"))] = r
                else:
                    self.quant[r["class_id"]].append(r)
        self.n_classes: dict[tuple[str, str], int] = defaultdict(int)
        for rows in self.quant.values():
            for r in rows:
                self.n_classes[(r["subject"], r.get("track"))] += 1
        self.bands: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if data.table("rank_bands") is not None:
            for r in data.table("rank_bands").iter_rows(named=True):
                self.bands[r["class_id"]].append(r)
        self.lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.line_totals: dict[tuple[str, str], Any] = {}
        if data.table("line_analysis") is not None:
            for r in data.table("line_analysis").iter_rows(named=True):
                if r.get("subject") != "total":
                    continue
                if r["class_id"] == "*":
                    self.line_totals[(r.get("track"), r.get("line"))] = r.get("n_over_line")
                else:
                    self.lines[r["class_id"]].append(r)
        # the grade's totals per track, for the distribution chart
        self.grade_totals: dict[str, list[float]] = defaultdict(list)
        for t in self.totals.values():
            if t.get("status") == "ok" and t.get("total") is not None:
                self.grade_totals[t.get("track")].append(float(t["total"]))
        self._bins: dict[tuple[str, ...], Bins | None] = {}

    def grade_bins(self, tracks: tuple[str, ...]) -> Bins | None:
        """The grade's totals of these tracks, binned (once per set of tracks: the classes of a
        grade share a few, and binning 50,000 totals per class was a fifth of the PDFs' time)."""
        if tracks not in self._bins:
            grade = [v for t in tracks for v in self.grade_totals.get(t, [])]
            self._bins[tracks] = bins(grade) if grade else None
        return self._bins[tracks]

    def _class_rank(self, st: dict[str, Any]) -> tuple:
        r = self.totals.get(st["student_id"], {}).get("class_rank")
        return (r is None, r or 0)

    def classes(self) -> list[str]:
        return sorted(self.by_class, key=class_key)

    def class_subjects(self, class_id: str) -> list[Subject]:
        codes = {c for st in self.by_class[class_id] for c in self.scores.get(st["student_id"], {})}
        subs = [s for s in self.data.subjects if s.code in codes]
        return subs + [self.data.subject(c) for c in sorted(codes - {s.code for s in subs})]


def nice_step(span: float, bins: int = 10) -> float:
    raw = max(span, 1e-9) / bins
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag  # pragma: no cover


def histogram(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    counts = [0] * (len(edges) - 1)
    last = len(counts) - 1
    lo, step = edges[0], edges[1] - edges[0]
    for v in values:
        i = min(last, max(0, int((v - lo) // step)))
        counts[i] += 1
    return counts


@dataclass(frozen=True)
class Bins:
    """Totals binned for the distribution chart: score bands of a round width over their range."""

    n: int
    mean: float
    step: float
    edges: list[float]
    shares: list[float]


def bins(values: Sequence[float]) -> Bins:
    lo, hi = min(values), max(values)
    step = nice_step(hi - lo)
    start = math.floor(lo / step) * step
    stop = math.floor(hi / step) * step + step
    nbins = max(1, round((stop - start) / step))
    edges = [start + i * step for i in range(nbins + 1)]
    return Bins(len(values), sum(values) / len(values), step, edges,
                [c / len(values) for c in histogram(values, edges)])


def col(head: str, width: float, align: str = "C") -> dict[str, Any]:
    """A template table column: header, relative width, alignment (L / C / R)."""
    return {"head": head, "width": width, "align": align}


def _head(data: ExamData) -> dict[str, Any]:
    """What every page of an exam's PDFs may print besides its own figures."""
    return {"exam": data.title, "school": data.printing.get("school"), "grade": data.grade or "",
            "date": str(data.date) if data.date else ""}


# --------------------------------------------------------------------------------------------
# 成绩单
# --------------------------------------------------------------------------------------------
def class_sheet(book: ClassBook, class_id: str) -> Page:
    """The class's 成绩单 as the template's data."""
    data = book.data
    students = book.by_class[class_id]
    tracks = sorted({st.get("track") for st in students if st.get("track")}, key=lambda t: (t != "physics", t))
    info = [data.grade or "", f"考试日期 {data.date}" if data.date else "", f"本班 {len(students)} 人",
            "、".join(track_label(t) for t in tracks)]
    subjects = book.class_subjects(class_id)
    cols = [col("学号", 20), col("姓名", 18)]
    for s in subjects:
        cols += [col(f"{s.name}原始", 11), col(f"{s.name}赋分", 13)] if s.reselect else [col(s.name, 11)]
    cols += [col("总分", 13), col("原始总分", 13), col("年级名次", 12), col("班级名次", 12), col("名次变化", 12)]
    rows = []
    for st in students:
        per = book.scores.get(st["student_id"], {})
        row = [st["student_id"], st.get("name") or ""]
        for s in subjects:
            score, raw = _subject_score(s, per.get(s.code))
            row += [raw, score] if s.reselect else [score]
        t = book.totals.get(st["student_id"])
        total, raw_total = _total_cells(t)
        t = t or {}
        row += [total, raw_total, fmt_int(t.get("grade_rank")), fmt_int(t.get("class_rank")),
                fmt_change(t.get("rank_change"))]
        rows.append(row)
    page = {**_head(data), "class_id": class_id, "class": class_label(class_id),
            "title": f"{data.title} {class_label(class_id)} 成绩单",
            "subtitle": "  ·  ".join(x for x in info if x),
            "scores": {"columns": cols, "rows": rows},
            "quant": _quant_section(book, class_id), "chart": _chart_section(book, class_id, tracks)}
    return Page("class_report.pdf", "class_report", len(rows), page)


QUANT_COLUMNS = [col("学科", 14), col("类别", 13), col("应考/实考", 15), col("平均分", 13), col("年级平均", 13),
                 col("比均", 11), col("优秀率", 13), col("年级优秀率", 15), col("及格率", 13), col("年级及格率", 15),
                 col("低分率", 13), col("年级低分率", 15), col("三率一分", 14), col("年级三率一分", 17),
                 col("均分名次", 14), col("增值", 11)]


def _quant_section(book: ClassBook, class_id: str) -> dict[str, Any]:
    data = book.data
    rows_q = sorted(book.quant.get(class_id, []), key=lambda r: (r["subject"] != "total",
                                                                 data.subject_order(r["subject"]),
                                                                 str(r.get("track"))))
    rows = []
    for r in rows_q:
        c = book.cohort.get((r["subject"], r.get("track")), {})
        n = book.n_classes.get((r["subject"], r.get("track")), 0)
        rank = f"{fmt_int(r.get('rank_by_mean'))}/{n}" if r.get("rank_by_mean") is not None else ""
        rows.append([data.subject_name(r["subject"]), track_label(r.get("track")),
                     f"{fmt_int(r.get('n_enrolled'))}/{fmt_int(r.get('n_sat'))}",
                     fmt_dec(r.get("mean")), fmt_dec(c.get("mean", r.get("cohort_mean"))),
                     fmt_dec(r.get("mean_ratio")),
                     fmt_rate(r.get("excellent_rate")), fmt_rate(c.get("excellent_rate", r.get("cohort_excellent_rate"))),
                     fmt_rate(r.get("pass_rate")), fmt_rate(c.get("pass_rate", r.get("cohort_pass_rate"))),
                     fmt_rate(r.get("low_rate")), fmt_rate(c.get("low_rate", r.get("cohort_low_rate"))),
                     fmt_dec(r.get("three_rates_one_score")),
                     fmt_dec(c.get("three_rates_one_score", r.get("cohort_three_rates_one_score"))),
                     rank, fmt_dec(r.get("value_added"))])
    by_track: dict[str, list[str]] = defaultdict(list)
    for r in sorted(book.bands.get(class_id, []), key=lambda r: (str(r.get("track")), r.get("top") or 0)):
        by_track[r.get("track")].append(f"前{r['top']}名 {fmt_int(r.get('n'))}人")
    bands = [f"总分名次段（{track_label(tr)}年级前N名中本班人数）：" + "，".join(parts) for tr, parts in by_track.items()]
    parts = []
    for r in sorted(book.lines.get(class_id, []), key=lambda r: (str(r.get("track")), r.get("line_no") or 0)):
        grade_n = book.line_totals.get((r.get("track"), r.get("line")))
        parts.append(f"{r.get('line')}（{track_label(r.get('track'))}，{fmt_score(r.get('line_score'))}分）"
                     f"{fmt_int(r.get('n_over_line')) or 0}人" + (f"/年级{fmt_int(grade_n)}人" if grade_n is not None else ""))
    return {"heading": "班级量化（本班 / 年级）", "note": "（无班级量化数据：mart.class_quant 未生成或本班无成绩）",
            "columns": QUANT_COLUMNS, "rows": rows, "bands": bands, "lines": ["上线人数：" + "；".join(parts)] if parts else []}


def _chart_section(book: ClassBook, class_id: str, tracks: list[str]) -> dict[str, Any]:
    """The distribution chart's figures: per score band the class's and the grade's shares."""
    mine = [float(book.totals[st["student_id"]]["total"]) for st in book.by_class[class_id]
            if book.totals.get(st["student_id"], {}).get("status") == "ok"
            and book.totals[st["student_id"]].get("total") is not None]
    grade = book.grade_bins(tuple(tracks)) or (bins(mine) if mine else None)
    chart: dict[str, Any] = {"heading": f"总分分布（本班与{'、'.join(track_label(t) for t in tracks)}年级，各分数段人数占比）",
                             "note": "（无有效总分）", "bins": []}
    if grade is None:
        return chart
    edges = grade.edges
    cs = [c / len(mine) if mine else 0.0 for c in histogram(mine, edges)]
    top = max(cs + grade.shares) or 1.0
    tick = nice_step(top, 4)
    y_max = math.ceil(top / tick - 1e-9) * tick
    mean_c = sum(mine) / len(mine) if mine else None
    facts = [f"本班平均 {fmt_dec(mean_c)}" if mean_c is not None else "本班无有效总分", f"年级平均 {fmt_dec(grade.mean)}",
             f"本班最高 {fmt_score(max(mine))}" if mine else "", f"分数段宽 {fmt_score(grade.step)} 分"]
    chart.update(bins=[{"class": c, "grade": g} for c, g in zip(cs, grade.shares)], y_max=y_max,
                 ticks=[tick * i for i in range(1, int(round(y_max / tick)) + 1)],
                 edges=[fmt_score(e) for e in edges], label_every=max(1, math.ceil((len(edges) - 1) / 14)),
                 class_label=f"本班（{len(mine)}人）", grade_label=f"年级（{grade.n}人）", facts=[f for f in facts if f])
    return chart


# --------------------------------------------------------------------------------------------
# 成绩条
# --------------------------------------------------------------------------------------------
def slips_per_page(with_change: bool) -> int:
    """Strips on an A4 page of score_slips.typ: six with a 名次变化 row, seven without (a seventh,
    resp. eighth, does not fit, and typst would carry it alone to a page of its own)."""
    return 6 if with_change else 7


def score_slips(book: ClassBook, class_id: str) -> Page:
    """The class's 成绩条 as the template's data."""
    data = book.data
    label = class_label(class_id)
    with_change = bool(data.previous)
    row_labels = ["成绩", "原始分", "年级名次", "班级名次"] + (["名次变化"] if with_change else [])
    strips = [_strip(book, st, row_labels, label) for st in book.by_class[class_id]]
    page = {**_head(data), "class_id": class_id, "class": label, "title": f"{data.title} {label} 成绩条",
            "per_page": slips_per_page(with_change), "strips": strips}
    return Page("score_slips.pdf", "score_slips", len(strips), page)


def _strip(book: ClassBook, st: dict[str, Any], row_labels: list[str], label: str) -> dict[str, Any]:
    data = book.data
    sid = st["student_id"]
    who = f"{label}  {st.get('name') or ''}  学号 {sid}" + (f"  考号 {st['exam_no']}" if st.get("exam_no") else "")
    per = book.scores.get(sid, {})
    subjects = [s for s in data.subjects if s.code in per] + [data.subject(c) for c in sorted(per)
                                                             if c not in {s.code for s in data.subjects}]
    cells: list[list[str]] = []
    for s in subjects:
        r = per.get(s.code)
        score, raw = _subject_score(s, r)
        ok = r is not None and r.get("status") == "ok"
        column = [score, raw, fmt_int(r.get("grade_rank")) if ok else "", fmt_int(r.get("class_rank")) if ok else ""]
        if len(row_labels) > 4:
            column.append(fmt_change(r.get("rank_change")) if ok else "")
        cells.append(column)
    total, raw_total = _total_cells(book.totals.get(sid))
    t = book.totals.get(sid) or {}
    column = [total, raw_total, fmt_int(t.get("grade_rank")), fmt_int(t.get("class_rank"))]
    if len(row_labels) > 4:
        column.append(fmt_change(t.get("rank_change")))
    cells.append(column)
    return {"caption": f"{data.title} 成绩条", "who": who, "student_id": sid, "name": st.get("name") or "",
            "heads": [s.name for s in subjects] + ["总分"],
            "rows": [[lab] + [c[i] for c in cells] for i, lab in enumerate(row_labels)]}


# --------------------------------------------------------------------------------------------
def _write(path: Path, kind: str, rows: int, pdf: bytes) -> PrintedFile:
    write_owner_only(path, pdf)
    return PrintedFile(path, kind, rows, hashlib.sha256(pdf).hexdigest())


def write_pdfs(data: ExamData, folder: Path, press: Press, *, classes: Sequence[str] | None = None,
               classes_out: dict[Path, str] | None = None, workers: int | None = None) -> list[PrintedFile]:
    """Write 成绩单/<class>.pdf and 成绩条/<class>.pdf for every class (or the given ones) into
    `folder` and return the files, class by class in class order. PDFs of classes that no longer
    exist are removed from both folders (they are this module's files; nothing else lives there).
    `classes_out` receives each file's class id (for the audit rows). Large grades are typeset by
    several processes (`default_workers`) while this one computes the next classes' data and writes
    the files as they come."""
    book = ClassBook(data)
    todo = list(classes) if classes is not None else book.classes()
    names: dict[str, str] = {}
    for c in todo:
        base = safe_filename(c)
        if base in names.values():  # two ids that clean to one name (一中:3 and 一中/3)
            base = f"{base}_{len(names)}"
        names[c] = base
    dirs = {d: ensure_owner_only_dir(folder / d) for d in (SHEETS_DIR, SLIPS_DIR)}
    made: deque[tuple[Path, str, str, int]] = deque()  # the files being typeset, in order: path, class, kind, rows

    def jobs():
        for c in todo:
            for where, page in ((SHEETS_DIR, class_sheet(book, c)), (SLIPS_DIR, score_slips(book, c))):
                made.append((dirs[where] / f"{names[c]}.pdf", c, page.kind, page.rows))
                yield page.template, page.data

    files: list[PrintedFile] = []
    for pdf in press.render_many(jobs(), workers if workers is not None else default_workers(len(todo))):
        path, c, kind, rows = made.popleft()
        files.append(_write(path, kind, rows, pdf))
        if classes_out is not None:
            classes_out[path] = c
    if classes is None:
        keep = {f.path.name for f in files}
        for d in dirs.values():
            for p in d.glob("*.pdf"):
                if p.name not in keep:
                    p.unlink()
    return files
