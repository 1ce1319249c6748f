"""The class PDFs (outputs.md, Printouts), on `examflow.printing.pdf`:

- `成绩单/<class_id>.pdf` — the class's score sheet for A4 (landscape): every student's subject
  scores (reselect subjects: 原始分 and 赋分), 总分, 原始总分, ranks and 名次变化; then the class's
  quantification (its mart.class_quant rows beside the cohort's: mean, 比均, the rates, 三率一分,
  rank by mean), its rank bands and students over each cut line, and a score-distribution chart of
  the class's totals against the grade's (the class's track(s)), drawn as an embedded image.
- `成绩条/<class_id>.pdf` — score slips (portrait A4): one strip per student (name, ids; per
  subject the score, raw score, grade and class rank, and the change against the previous exam
  when there is one; the total likewise), several strips per page with dashed cut lines between.

File names carry the class id only (safe_filename: `一中:3` → `一中_3.pdf`), never a name. The
CJK face is subset once per run (`examflow.printouts.fonts`); the chart is drawn with Pillow (a
dependency of fpdf2) into a PNG image and its labels with the PDF's own text, so they stay
searchable.

Speed: a class's two PDFs take ~40 ms, all Python, so a grade's classes are drawn by one process
per free CPU (`default_workers`; a 1,000-class grade is 2,000 PDFs) while this process writes the
files as they come back, in class order, and their audit rows are the same whatever the number of
processes. The grade's part of the chart is binned once per set of tracks.
"""
from __future__ import annotations

import hashlib
import math
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence

from examflow.printing import PrintedFile, ensure_owner_only_dir, safe_filename, write_owner_only
from examflow.printing.pdf import PdfColumn
from examflow.printouts import data as data_module
from examflow.printouts.data import (
    STATUS_LABEL,
    TOTAL_STATUS_LABEL,
    ExamData,
    Subject,
    class_key,
    class_label,
    track_label,
)
from examflow.printouts.fonts import FastPdf, SubsetFonts, source_text

__all__ = ["PDF_TABLES", "SHEETS_DIR", "SLIPS_DIR", "write_pdfs", "class_sheet", "score_slips", "fonts_for"]

PDF_TABLES = ["students", "subject_scores", "totals", "class_quant", "rank_bands", "line_analysis"]
SHEETS_DIR = "成绩单"
SLIPS_DIR = "成绩条"

SCORE_COLUMNS = ("student_id", "subject", "status", "raw_score", "converted_score", "band", "grade_rank",
                 "class_rank", "rank_change")
CLASS_COLOR = (68, 114, 196)
GRADE_COLOR = (191, 191, 191)


class Drawn(NamedTuple):
    """A finished PDF, before it is written: its kind (for the audit), rows and bytes."""

    kind: str
    rows: int
    data: bytes


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


def fonts_for(data: ExamData, extra: Sequence[str] = ()) -> SubsetFonts | None:
    """The run's subset faces: regular = every text of the tables + the templates; bold = the
    templates, the exam's title, subject names and class labels (never student names). None (the
    full faces) when the templates' source text cannot be read."""
    from examflow.printing import pdf as pdf_module

    templates = source_text(sys.modules[__name__], data_module, pdf_module)
    if not {"成", "绩", "条", "班", "级"} <= templates:
        return None
    # each as one string: set() runs at C speed over it (50,000 names: ~0.3 s one by one)
    own = set("".join(extra))
    regular = templates | set("".join(data.texts())) | own
    bold = templates | set(data.title + (data.grade or "") + "".join(s.name for s in data.subjects)) | own
    return SubsetFonts(regular, bold)


# --------------------------------------------------------------------------------------------
# 成绩单
# --------------------------------------------------------------------------------------------
def class_sheet(book: ClassBook, class_id: str, fonts: SubsetFonts | None) -> Drawn:
    """The class's 成绩单 (drawn, not yet written)."""
    data = book.data
    label = class_label(class_id)
    title = f"{data.title} {label} 成绩单"
    pdf = FastPdf(title, orientation="L", kind="class_report.pdf", fonts=fonts, font_size=9)
    pdf.add_page()
    pdf.heading(title, 15, style=pdf.bold(title))
    students = book.by_class[class_id]
    tracks = sorted({st.get("track") for st in students if st.get("track")}, key=lambda t: (t != "physics", t))
    info = [data.grade or "", f"考试日期 {data.date}" if data.date else "", f"本班 {len(students)} 人",
            "、".join(track_label(t) for t in tracks)]
    pdf.line_text("  ·  ".join(x for x in info if x), 9, align="C", h=5)
    pdf.ln(1)

    subjects = book.class_subjects(class_id)
    cols = [PdfColumn("学号", 20), PdfColumn("姓名", 18)]
    for s in subjects:
        if s.reselect:
            cols += [PdfColumn(f"{s.name}原始", 11), PdfColumn(f"{s.name}赋分", 13)]
        else:
            cols.append(PdfColumn(s.name, 11))
    cols += [PdfColumn("总分", 13), PdfColumn("原始总分", 13), PdfColumn("年级名次", 12), PdfColumn("班级名次", 12),
             PdfColumn("名次变化", 12)]
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
    pdf.table(cols, rows, row_height=5.6, font_size=8.5)

    _quant_section(pdf, book, class_id, tracks)
    _chart_section(pdf, book, class_id, tracks)
    return Drawn(pdf.kind, len(rows), pdf.render())


def _ensure_room(pdf: FastPdf, mm: float) -> None:
    if pdf.get_y() + mm > pdf.h - pdf.b_margin:
        pdf.add_page()


def _quant_section(pdf: FastPdf, book: ClassBook, class_id: str, tracks: list[str]) -> None:
    data = book.data
    rows_q = sorted(book.quant.get(class_id, []), key=lambda r: (r["subject"] != "total",
                                                                 data.subject_order(r["subject"]),
                                                                 str(r.get("track"))))
    pdf.ln(3)
    _ensure_room(pdf, 14 + 6 * (len(rows_q) + 1))
    pdf.line_text("班级量化（本班 / 年级）", 11, style=pdf.bold("班级量化（本班 / 年级）"), h=7)
    if not rows_q:
        pdf.line_text("（无班级量化数据：mart.class_quant 未生成或本班无成绩）", 9, h=6)
        return
    cols = [PdfColumn("学科", 14), PdfColumn("类别", 13), PdfColumn("应考/实考", 15), PdfColumn("平均分", 13),
            PdfColumn("年级平均", 13), PdfColumn("比均", 11), PdfColumn("优秀率", 13), PdfColumn("年级优秀率", 15),
            PdfColumn("及格率", 13), PdfColumn("年级及格率", 15), PdfColumn("低分率", 13), PdfColumn("年级低分率", 15),
            PdfColumn("三率一分", 14), PdfColumn("年级三率一分", 17), PdfColumn("均分名次", 14), PdfColumn("增值", 11)]
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
    pdf.table(cols, rows, row_height=5.6, font_size=8)
    bands = sorted(book.bands.get(class_id, []), key=lambda r: (str(r.get("track")), r.get("top") or 0))
    if bands:
        by_track: dict[str, list[str]] = defaultdict(list)
        for r in bands:
            by_track[r.get("track")].append(f"前{r['top']}名 {fmt_int(r.get('n'))}人")
        for tr, parts in by_track.items():
            pdf.line_text(f"总分名次段（{track_label(tr)}年级前N名中本班人数）：" + "，".join(parts), 8.5, h=5)
    lines = sorted(book.lines.get(class_id, []), key=lambda r: (str(r.get("track")), r.get("line_no") or 0))
    if lines:
        parts = []
        for r in lines:
            grade_n = book.line_totals.get((r.get("track"), r.get("line")))
            parts.append(f"{r.get('line')}（{track_label(r.get('track'))}，{fmt_score(r.get('line_score'))}分）"
                         f"{fmt_int(r.get('n_over_line')) or 0}人" + (f"/年级{fmt_int(grade_n)}人" if grade_n is not None else ""))
        pdf.line_text("上线人数：" + "；".join(parts), 8.5, h=5)


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


def chart_image(class_shares: Sequence[float], grade_shares: Sequence[float], y_max: float, y_ticks: Sequence[float],
                width_px: int, height_px: int):
    """The plot area of the distribution chart as a Pillow image: per bin the grade's share (grey)
    and the class's (blue) side by side, horizontal grid lines at `y_ticks`. A palette image (five
    colours): a third of an RGB image's bytes for the PDF to compress, the same pixels."""
    from PIL import Image, ImageDraw

    img = Image.new("P", (width_px, height_px), "white")
    d = ImageDraw.Draw(img)
    for t in y_ticks:
        y = height_px - 1 - round(t / y_max * (height_px - 1))
        d.line([(0, y), (width_px, y)], fill=(225, 225, 225), width=1)
    n = len(class_shares)
    slot = width_px / max(1, n)
    bar = slot * 0.38
    for i in range(n):
        x0 = i * slot + slot * 0.1
        for k, (share, color) in enumerate(((grade_shares[i], GRADE_COLOR), (class_shares[i], CLASS_COLOR))):
            if share <= 0:
                continue
            h = share / y_max * (height_px - 1)
            left = x0 + k * bar
            d.rectangle([left, height_px - 1 - h, left + bar - 1, height_px - 1], fill=color)
    d.line([(0, height_px - 1), (width_px, height_px - 1)], fill=(0, 0, 0), width=2)
    d.line([(0, 0), (0, height_px)], fill=(0, 0, 0), width=2)
    return img


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


def _chart_section(pdf: FastPdf, book: ClassBook, class_id: str, tracks: list[str]) -> None:
    mine = [float(book.totals[st["student_id"]]["total"]) for st in book.by_class[class_id]
            if book.totals.get(st["student_id"], {}).get("status") == "ok"
            and book.totals[st["student_id"]].get("total") is not None]
    grade = book.grade_bins(tuple(tracks)) or (bins(mine) if mine else None)
    height = 62.0
    pdf.ln(3)
    _ensure_room(pdf, height + 22)
    heading = f"总分分布（本班与{'、'.join(track_label(t) for t in tracks)}年级，各分数段人数占比）"
    pdf.line_text(heading, 11, style=pdf.bold(heading), h=7)
    if grade is None:
        pdf.line_text("（无有效总分）", 9, h=6)
        return
    step, edges = grade.step, grade.edges
    nbins = len(edges) - 1
    cs = [c / len(mine) if mine else 0.0 for c in histogram(mine, edges)]
    gs = grade.shares
    top = max(cs + gs) or 1.0
    tick = nice_step(top, 4)
    y_max = math.ceil(top / tick - 1e-9) * tick
    y_ticks = [tick * i for i in range(1, int(round(y_max / tick)) + 1)]

    left_axis = 14.0
    x0 = pdf.l_margin + left_axis
    width = min(200.0, pdf.epw - left_axis - 45)
    y0 = pdf.get_y() + 2
    img = chart_image(cs, gs, y_max, y_ticks, int(width * 6), int(height * 6))
    pdf.image(img, x=x0, y=y0, w=width, h=height)
    # axis labels as text
    pdf.set_text_color(60)
    for t in [0.0] + y_ticks:
        y = y0 + height - t / y_max * height
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.fit_cell(left_axis - 1, 4, f"{t * 100:.0f}%", border=0, size=7, align="R")
    slot = width / nbins
    every = max(1, math.ceil(nbins / 14))
    for i, e in enumerate(edges):
        if i % every:
            continue
        pdf.set_xy(x0 + i * slot - 8, y0 + height + 0.5)
        pdf.fit_cell(16, 4, fmt_score(e), border=0, size=7, align="C")
    pdf.set_text_color(0)
    # legend and the figures beside the chart
    lx = x0 + width + 5
    pdf.set_fill_color(*CLASS_COLOR)
    pdf.rect(lx, y0 + 2, 4, 3, style="F")
    pdf.set_xy(lx + 5, y0 + 1.5)
    pdf.fit_cell(36, 4, f"本班（{len(mine)}人）", border=0, size=8, align="L")
    pdf.set_fill_color(*GRADE_COLOR)
    pdf.rect(lx, y0 + 8, 4, 3, style="F")
    pdf.set_xy(lx + 5, y0 + 7.5)
    pdf.fit_cell(36, 4, f"年级（{grade.n}人）", border=0, size=8, align="L")
    mean_c = sum(mine) / len(mine) if mine else None
    mean_g = grade.mean
    facts = [f"本班平均 {fmt_dec(mean_c)}" if mean_c is not None else "本班无有效总分", f"年级平均 {fmt_dec(mean_g)}",
             f"本班最高 {fmt_score(max(mine))}" if mine else "", f"分数段宽 {fmt_score(step)} 分"]
    for k, f in enumerate(x for x in facts if x):
        pdf.set_xy(lx, y0 + 15 + 5 * k)
        pdf.fit_cell(40, 4, f, border=0, size=8, align="L")
    pdf.set_xy(pdf.l_margin, y0 + height + 6)


# --------------------------------------------------------------------------------------------
# 成绩条
# --------------------------------------------------------------------------------------------
def score_slips(book: ClassBook, class_id: str, fonts: SubsetFonts | None) -> Drawn:
    """The class's 成绩条 (drawn, not yet written)."""
    data = book.data
    label = class_label(class_id)
    pdf = FastPdf(f"{data.title} {label} 成绩条", kind="score_slips.pdf", fonts=fonts, font_size=9)
    with_change = bool(data.previous)
    row_labels = ["成绩", "原始分", "年级名次", "班级名次"] + (["名次变化"] if with_change else [])
    strip_h = 7.0 + 4.6 * (len(row_labels) + 1) + 3.0
    avail = pdf.h - pdf.t_margin - max(pdf.b_margin, 12)
    per_page = max(1, int(avail // strip_h))
    students = book.by_class[class_id]

    def draw(p: FastPdf, x: float, y: float, w: float, h: float, st: dict[str, Any]) -> None:
        _draw_strip(p, x, y, w, h, st, book, row_labels, label)

    pdf.draw_label_grid(students, draw, cols=1, rows=per_page, cut_lines=True)
    return Drawn(pdf.kind, len(students), pdf.render())


def _draw_strip(pdf: FastPdf, x: float, y: float, w: float, h: float, st: dict[str, Any], book: ClassBook,
                row_labels: list[str], label: str) -> None:
    data = book.data
    pad = 2.5
    # a scissors mark at the cut line
    pdf.set_text_color(150)
    pdf.row(x - 7, y - 2, [6], 4, ["✂"], size=7, border=False)
    pdf.set_text_color(0)
    sid = st["student_id"]
    pdf.row(x + pad, y + pad, [w * 0.42], 5.5, [f"{data.title} 成绩条"], size=8, aligns="L", border=False)
    who = f"{label}  {st.get('name') or ''}  学号 {sid}" + (f"  考号 {st['exam_no']}" if st.get("exam_no") else "")
    pdf.row(x + pad + w * 0.42, y + pad, [w - 2 * pad - w * 0.42], 5.5, [who], size=10, aligns="R", border=False)
    per = book.scores.get(sid, {})
    subjects = [s for s in data.subjects if s.code in per] + [data.subject(c) for c in sorted(per)
                                                             if c not in {s.code for s in data.subjects}]
    t = book.totals.get(sid)
    head_w = 16.0
    ncol = len(subjects) + 1
    cw = (w - 2 * pad - head_w) / max(1, ncol)
    widths = [head_w] + [cw] * ncol
    rh = 4.6
    ty = y + pad + 6.5
    heads = ["科目"] + [s.name for s in subjects] + ["总分"]
    pdf.row(x + pad, ty, widths, rh, heads, size=8, style="B" if pdf.bold("".join(heads)) else "",
            fill=(230, 236, 246))
    cells: list[list[str]] = []
    for s in subjects:
        r = per.get(s.code)
        score, raw = _subject_score(s, r)
        ok = r is not None and r.get("status") == "ok"
        col = [score, raw, fmt_int(r.get("grade_rank")) if ok else "", fmt_int(r.get("class_rank")) if ok else ""]
        if len(row_labels) > 4:
            col.append(fmt_change(r.get("rank_change")) if ok else "")
        cells.append(col)
    total, raw_total = _total_cells(t)
    t = t or {}
    col = [total, raw_total, fmt_int(t.get("grade_rank")), fmt_int(t.get("class_rank"))]
    if len(row_labels) > 4:
        col.append(fmt_change(t.get("rank_change")))
    cells.append(col)
    for i, lab in enumerate(row_labels):
        pdf.row(x + pad, ty + rh * (i + 1), widths, rh, [lab] + [c[i] for c in cells], size=8.5)


# --------------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}
CLASSES_PER_WORKER = 8  # a class's two PDFs take ~40 ms; starting a process ~0.1 s
MAX_WORKERS = 4


def _init_worker(book: ClassBook, fonts: SubsetFonts | None) -> None:
    _WORKER["book"] = book
    _WORKER["fonts"] = fonts


def _draw_class(class_id: str) -> tuple[Drawn, Drawn]:
    book, fonts = _WORKER["book"], _WORKER["fonts"]
    return class_sheet(book, class_id, fonts), score_slips(book, class_id, fonts)


def _write(path: Path, drawn: Drawn) -> PrintedFile:
    write_owner_only(path, drawn.data)
    return PrintedFile(path, drawn.kind, drawn.rows, hashlib.sha256(drawn.data).hexdigest())


def default_workers(n_classes: int) -> int:
    """Processes for the class PDFs: `EXAMFLOW_PRINT_WORKERS` when set, else one per CPU this
    process may use (at most MAX_WORKERS) while each gets CLASSES_PER_WORKER classes or more.
    The PDFs are pure Python work, so N processes take about 1/N of the time when N cores are
    free; on a busy machine they only compete for the same cores (set 1 to keep it to one)."""
    env = os.environ.get("EXAMFLOW_PRINT_WORKERS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return max(1, min(int(env), n_classes))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS, n_classes // CLASSES_PER_WORKER))


def write_pdfs(data: ExamData, folder: Path, *, classes: Sequence[str] | None = None,
               fonts: SubsetFonts | None = None, classes_out: dict[Path, str] | None = None,
               workers: int | None = None) -> list[PrintedFile]:
    """Write 成绩单/<class>.pdf and 成绩条/<class>.pdf for every class (or the given ones) into
    `folder` and return the files, class by class in class order. PDFs of classes that no longer
    exist are removed from both folders (they are this module's files; nothing else lives there).
    `classes_out` receives each file's class id (for the audit rows). Large grades are drawn by
    several processes (`default_workers`), forked once the data is grouped and the font subset,
    and written here as they come."""
    book = ClassBook(data)
    sheets = ensure_owner_only_dir(folder / SHEETS_DIR)
    slips = ensure_owner_only_dir(folder / SLIPS_DIR)
    todo = list(classes) if classes is not None else book.classes()
    names: dict[str, str] = {}
    for c in todo:
        base = safe_filename(c)
        if base in names.values():  # two ids that clean to one name (一中:3 and 一中/3)
            base = f"{base}_{len(names)}"
        names[c] = base
    n = workers if workers is not None else default_workers(len(todo))
    own = fonts is None
    fonts = fonts or fonts_for(data, [class_label(c) for c in book.by_class])
    files: list[PrintedFile] = []
    try:
        for c, pair in zip(todo, _drawn(book, fonts, todo, n)):
            for where, drawn in zip((sheets, slips), pair):
                files.append(_write(where / f"{names[c]}.pdf", drawn))
                if classes_out is not None:
                    classes_out[files[-1].path] = c
    finally:
        if own and fonts is not None:
            fonts.close()
    if classes is None:
        keep = {f.path.name for f in files}
        for d in (sheets, slips):
            for p in d.glob("*.pdf"):
                if p.name not in keep:
                    p.unlink()
    return files


def _drawn(book: ClassBook, fonts: SubsetFonts | None, classes: list[str], n: int) -> Iterator[tuple[Drawn, Drawn]]:
    """Each class's two PDFs, drawn in class order: here, or by `n` processes while this one
    writes the files as they come (fsync and rename wait on the disk, not on a CPU)."""
    if n <= 1 or len(classes) <= 1:
        _init_worker(book, fonts)
        try:
            yield from map(_draw_class, classes)
        finally:
            _WORKER.clear()
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the grouped data (plain Python objects: they never call polars,
    # whose thread pool does not survive a fork) and only draw (no files, no warehouse).
    # Elsewhere spawn, which pickles the book once per worker.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker,
                             initargs=(book, fonts)) as pool:
        yield from pool.map(_draw_class, classes, chunksize=max(1, min(8, len(classes) // (4 * n))))
