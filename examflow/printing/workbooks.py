"""The five Excel workbooks an exam office hands out after every exam (outputs.md, Printouts):

| file | sheets |
|------|--------|
| 成绩总表.xlsx | 年级 (every student) and one sheet per class (3班, 一中3班): 学号, 姓名, 班级, 考号, 类别, per subject its score (原始分, and for reselect subjects 赋分 and 等级), 年排 and 班排, then 总分, 原始总分, 年级名次, 班级名次, 名次变化 |
| 班级量化表.xlsx | 总分 and one sheet per subject (class rows and the 年级 row per track), 名次段, 划线, 上线分析, 临界生 |
| 教师量化表.xlsx | 教师量化 (任课, per class and 合计), 班主任量化 (class totals, 上线 per line, 名次段), each with the formula in force printed beneath; 阅卷质量 |
| 小题分析.xlsx | 小题分析, 选项分布, 信度, one 班级小题 sheet per subject (classes × items), 知识点 |
| 异常卷.xlsx | 异常卷 (open first, what settles each, the scan image as a link), 处理错误 (resolution errors), 扫描核对 |

All through `examflow.printing.excel` (Chinese headers, frozen header row, filter, number formats,
widths, A4 fit-to-width print setup with the header row repeated and page numbers, formula-like
text kept as text, owner-only atomic files). The 成绩总表, by far the largest (every student twice),
is built as one polars frame and written in one pass (`score_sheets`, `WorkbookWriter.add_sheets`).

A score shows as 待定 (pending), 缺考 (absent) or 作废 (void) when the subject has no score; a
total as 待定 or 缺科 (a subject absent or void). A subject the student does not take is blank.
A table the warehouse lacks skips its sheet; a 说明 sheet then says which and why.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import polars as pl

from examflow.printing import PrintedFile, ensure_owner_only_dir
from examflow.printing.data import ExamData, class_key, class_label, track_label
from examflow.printing.excel import Column, WorkbookWriter, is_formula_like
from examflow.printing.score_sheets import score_sheets
from examflow.printing.sheets import (
    Notes,
    labelled_rows,
    note_sheet,
    nulls_last,
    optional_column,
    present_columns,
    table_rows,
    table_sheet,
    track_order,
)

__all__ = [
    "WORKBOOK_TABLES",
    "write_workbooks",
    "write_grade_scores",
    "write_class_quant",
    "write_teacher_quant",
    "write_item_analysis",
    "write_abnormal",
    "Notes",
]

WORKBOOK_TABLES = [
    "students", "subject_scores", "totals", "class_quant", "rank_bands", "cut_lines", "line_analysis",
    "borderline", "teacher_quant", "quant_formula", "marker_quality", "item_analysis", "item_options",
    "class_items", "subject_reliability", "knowledge", "abnormal_scripts", "resolution_errors", "reconciliation",
]

ITEM_TYPE = {"single": "单选", "multi": "多选", "subjective": "主观题", "numeric": "数值填涂", "fill": "填空"}
MARKER_ROLE = {"first": "一评", "second": "二评", "arbitration": "仲裁"}
CODE_NAME = {
    "UNKNOWN_EXAM_NO": "考号无法匹配", "DUPLICATE_SCAN": "重复扫描", "DUPLICATE_CONFLICT": "考号重复(答卷不同)",
    "MISSING_SCRIPT": "缺答卷", "ABSENT_BUT_ANSWERED": "缺考却有作答", "NOT_ENROLLED": "未选考该科",
    "ORPHAN_MARKS": "有分无卷", "PAGE_MISSING": "缺页", "UNMARKED": "未评分", "MARKER_DISAGREEMENT": "双评超差",
    "SCORE_OUT_OF_RANGE": "分数超出范围", "MARKER_FLAGGED": "阅卷标记问题卷", "MULTI_MARK": "多涂",
    "UNREADABLE_MARK": "无法识别", "ALL_BLANK": "客观题全空", "SCAN_ERROR": "扫描错误",
    "VERSION_UNKNOWN": "卷型不明", "OPTIONAL_CHOICE_CONFLICT": "选做题冲突",
}
SEVERITY = {"blocking": "阻断", "warning": "警告"}
ABNORMAL_STATUS = {"open": "未处理", "settled": "已处理"}


# --------------------------------------------------------------------------------------------
# 成绩总表
# --------------------------------------------------------------------------------------------
def write_grade_scores(data: ExamData, out: Path, notes: Notes) -> PrintedFile:
    name = "成绩总表.xlsx"
    with WorkbookWriter(out / name, kind="grade_scores.xlsx") as wb:
        for t in ("students", "subject_scores", "totals"):
            if data.table(t) is None:
                notes.missing(name, "成绩", t)
        frame, cols, sheets = score_sheets(data)
        wb.add_sheets(frame, cols, sheet="_sheet", names=sheets,
                      titles=[f"{data.title} 成绩总表 {s}" for s in sheets])
        note_sheet(wb, name, notes)
    return wb.printed  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# 班级量化表
# --------------------------------------------------------------------------------------------
QUANT_COLUMNS = [
    Column("_class", "班级"), Column("_track", "类别"), Column("n_enrolled", "应考", "int"),
    Column("n_sat", "实考", "int"), Column("n_absent", "缺考", "int"), Column("n_pending", "待定", "int"),
    Column("n_void", "作废", "int"), Column("mean", "平均分", "score"), Column("sd", "标准差", "decimal"),
    Column("median", "中位数", "score"), Column("max", "最高分", "score"), Column("min", "最低分", "score"),
    Column("excellent_rate", "优秀率", "rate"), Column("good_rate", "良好率", "rate"),
    Column("pass_rate", "及格率", "rate"), Column("low_rate", "低分率", "rate"),
    Column("mean_diff", "均差", "score"), Column("mean_ratio", "比均", "decimal"),
    Column("rank_by_mean", "均分名次", "rank"), Column("three_rates_one_score", "三率一分", "decimal"),
    Column("mean_change", "均分变化", "score"), Column("rank_by_mean_change", "名次变化", "int"),
    Column("value_added", "增值", "decimal"),
]


def _quant_sort(r: dict[str, Any]) -> tuple:
    return (track_order(r.get("track")), class_key(r.get("class_id")))


CUT_LINE_COLUMNS = [Column("_track", "类别"), Column("line", "线"), Column("_rule", "划线方式"),
                    Column("line_score", "分数线", "score"), Column("n_over", "上线人数", "int"),
                    Column("band", "临界分差", "score")]
LINE_COLUMNS = [Column("_track", "类别"), Column("line", "线"), Column("_class", "班级"), Column("_subject", "学科"),
                Column("effective_score", "有效分", "score"), Column("n_over_line", "上线人数", "int"),
                Column("single_over", "单上线", "int"), Column("double_over", "双上线", "int"),
                Column("hit_rate", "命中率", "rate"), Column("contribution_rate", "贡献率", "rate")]
BORDERLINE_COLUMNS = [Column("_track", "类别"), Column("line", "线"), Column("line_score", "分数线", "score"),
                      Column("_class", "班级"), Column("student_id", "学号", "id"), Column("_name", "姓名"),
                      Column("total", "总分", "score"), Column("distance", "与线差", "score"),
                      Column("grade_rank", "年级名次", "rank")]


def _rule_label(r: dict[str, Any]) -> None:
    """How a line was drawn: 前N名 or 给定分数."""
    rule, value = r.get("rule"), r.get("rule_value")
    r["_rule"] = f"前{int(value)}名" if rule == "top" and value is not None else "给定分数" if rule == "score" else (rule or "")


def write_class_quant(data: ExamData, out: Path, notes: Notes) -> PrintedFile:
    name = "班级量化表.xlsx"
    title = data.title
    with WorkbookWriter(out / name, kind="class_quant.xlsx") as wb:
        cq = data.table("class_quant")
        if cq is None:
            notes.missing(name, "班级量化", "class_quant")
        else:
            rows = labelled_rows(cq, data)
            cols = present_columns(QUANT_COLUMNS, cq.columns, ("_class", "_track"))
            codes = sorted({r["subject"] for r in rows}, key=lambda c: (c != "total", data.subject_order(c)))
            for code in codes or ["total"]:
                part = sorted((r for r in rows if r["subject"] == code), key=_quant_sort)
                sheet = data.subject_name(code)
                wb.add_table(sheet, part, cols, title=f"{title} 班级量化 {sheet}")
        # 名次段
        rb = data.table("rank_bands")
        if rb is None:
            notes.missing(name, "名次段", "rank_bands")
        else:
            tops = sorted({int(t) for t in rb["top"].to_list() if t is not None})
            grid: dict[tuple, dict[str, Any]] = {}
            for r in rb.to_dicts():
                key = (r["class_id"], r["track"])
                g = grid.setdefault(key, {"_class": class_label(r["class_id"]), "_track": track_label(r["track"]),
                                          "class_id": r["class_id"], "track": r["track"]})
                g[f"top{r['top']}"] = r["n"]
            rows = sorted(grid.values(), key=_quant_sort)
            cols = [Column("_class", "班级"), Column("_track", "类别")] + [
                Column(f"top{t}", f"前{t}名", "int") for t in tops]
            wb.add_table("名次段", rows, cols, title=f"{title} 名次段（总分年级前N名人数）")
        # 划线 and 上线分析
        table_sheet(wb, data, notes, name, "cut_lines", "划线", CUT_LINE_COLUMNS, title="划线", label=_rule_label,
                     sort=lambda r: (track_order(r.get("track")), nulls_last(r.get("line_no"))))
        table_sheet(wb, data, notes, name, "line_analysis", "上线分析", LINE_COLUMNS,
                     title="上线分析（单上线、双上线、命中率、贡献率）",
                     keep=lambda r: r.get("subject") == "total" or r.get("effective_score") is not None,
                     sort=lambda r: (track_order(r.get("track")), nulls_last(r.get("line_no")), r.get("line") or "",
                                     class_key(r.get("class_id")), r.get("subject") != "total",
                                     data.subject_order(r.get("subject"))))
        names = {r["student_id"]: r.get("name") for r in table_rows(data.table("students"))}
        table_sheet(wb, data, notes, name, "borderline", "临界生", BORDERLINE_COLUMNS, title="临界生",
                     label=lambda r: r.update(_name=names.get(r["student_id"])),
                     sort=lambda r: (track_order(r.get("track")), nulls_last(r.get("line_no")), r.get("line") or "",
                                     class_key(r.get("class_id")), -(r.get("distance") or 0), r["student_id"]))
        note_sheet(wb, name, notes)
    return wb.printed  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# 教师量化表
# --------------------------------------------------------------------------------------------
TEACHER_COLUMNS = [
    Column("teacher_id", "工号", "id"), Column("teacher_name", "姓名"), Column("_subject", "学科"),
    Column("_class", "班级"), Column("_track", "类别"), Column("n_sat", "实考", "int"),
    Column("mean", "平均分", "score"), Column("mean_diff", "均差", "score"), Column("mean_ratio", "比均", "decimal"),
    Column("excellent_rate", "优秀率", "rate"), Column("good_rate", "良好率", "rate"),
    Column("pass_rate", "及格率", "rate"), Column("low_rate", "低分率", "rate"),
    Column("three_rates_one_score", "三率一分", "decimal"), Column("value_added", "增值", "decimal"),
    Column("line", "线"), Column("n_over_line", "上线人数", "int"), Column("single_over", "单上线", "int"),
    Column("double_over", "双上线", "int"), Column("hit_rate", "命中率", "rate"),
    Column("contribution_rate", "贡献率", "rate"), Column("quant_score", "量化分", "decimal"),
    Column("quant_rank", "量化名次", "rank"),
]


def _map_items(value: Any) -> list[tuple[Any, Any]]:
    """A DuckDB MAP as polars gives it (list of {key, value}) or a dict, as (key, value) pairs."""
    if value is None:
        return []
    pairs = list(value.items()) if isinstance(value, dict) else []
    if not isinstance(value, dict):
        for kv in value:
            if isinstance(kv, dict):
                pairs.append((kv.get("key"), kv.get("value")))
            elif isinstance(kv, (list, tuple)) and len(kv) == 2:
                pairs.append((kv[0], kv[1]))
    return [(k, _plain_number(v)) for k, v in pairs]


def _plain_number(v: Any) -> Any:
    """DuckDB HUGEINT / DECIMAL values inside a MAP arrive as Decimal: Excel wants numbers."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def formula_lines(data: ExamData) -> list[str]:
    qf = data.table("quant_formula")
    if qf is None or qf.height == 0 or "formula" not in qf.columns:
        return ["量化分公式：未生成（仓库中没有 mart.quant_formula）"]
    row = qf.row(0, named=True)
    lines = [f"量化分公式：{row['formula']}"]
    if row.get("relative"):
        lines.append("各指标按与年级（同类别）差值计。")
    return lines


MARKER_COLUMNS = [Column("_subject", "学科"), Column("item", "题号", "id"), Column("marker", "阅卷人工号", "id"),
                  Column("marker_name", "阅卷人"), Column("_role", "评次"), Column("n_marked", "阅卷量", "int"),
                  Column("mean", "平均给分", "decimal"), Column("sd", "标准差", "decimal"),
                  Column("n_double", "双评卷数", "int"), Column("disagreement_rate", "超差率", "rate"),
                  Column("mean_abs_diff", "平均分差", "decimal"), Column("n_overruled", "被仲裁数", "int")]


def write_teacher_quant(data: ExamData, out: Path, notes: Notes) -> PrintedFile:
    name = "教师量化表.xlsx"
    title = data.title
    formula = formula_lines(data)
    if data.table("quant_formula") is None:
        notes.missing(name, "量化分公式", "quant_formula")
    with WorkbookWriter(out / name, kind="teacher_quant.xlsx") as wb:
        tq = data.table("teacher_quant")
        if tq is None:
            notes.missing(name, "教师量化", "teacher_quant")
        else:
            rows = labelled_rows(tq, data, lambda r: r.update(_class="合计") if r.get("class_id") == "*" else None)
            teach = sorted((r for r in rows if r.get("role") != "head"),
                           key=lambda r: (data.subject_order(r.get("subject")), r.get("teacher_id") or "",
                                          r.get("class_id") == "*", class_key(r.get("class_id"))))
            cols = present_columns(TEACHER_COLUMNS, tq.columns, ("_subject", "_class", "_track"))
            wb.add_table("教师量化", teach, cols, title=f"{title} 教师量化（任课教师）", below=formula)
            heads = sorted((r for r in rows if r.get("role") == "head"),
                           key=lambda r: (class_key(r.get("class_id")), r.get("teacher_id") or ""))
            lines: list[str] = []
            tops: list[int] = []
            for r in heads:
                for k, v in _map_items(r.get("n_over_by_line")):
                    if k not in lines:
                        lines.append(k)
                    r[f"line:{k}"] = v
                for k, v in _map_items(r.get("rank_band_counts")):
                    if int(k) not in tops:
                        tops.append(int(k))
                    r[f"top:{int(k)}"] = v
            hcols = present_columns([Column("teacher_id", "工号", "id"), Column("teacher_name", "姓名"),
                              Column("_class", "班级"), Column("_track", "类别"), Column("n_sat", "实考", "int"),
                              Column("mean", "平均分", "score"), Column("mean_ratio", "比均", "decimal"),
                              Column("excellent_rate", "优秀率", "rate"), Column("pass_rate", "及格率", "rate"),
                              Column("low_rate", "低分率", "rate"),
                              Column("three_rates_one_score", "三率一分", "decimal")], tq.columns,
                             ("_class", "_track"))
            if not lines and "n_over_line" in tq.columns:
                hcols.append(Column("n_over_line", "上线人数", "int"))
            hcols += [Column(f"line:{k}", f"{k}上线", "int") for k in lines]
            hcols += [Column(f"top:{t}", f"前{t}名", "int") for t in sorted(tops)]
            hcols += present_columns([Column("value_added", "增值", "decimal"), Column("quant_score", "量化分", "decimal"),
                               Column("quant_rank", "量化名次", "rank")], tq.columns)
            wb.add_table("班主任量化", heads, hcols, title=f"{title} 班主任量化（班级总分）", below=formula)
        roles = list(MARKER_ROLE)
        mq = data.table("marker_quality")
        with_role = mq is not None and "role" in mq.columns
        table_sheet(wb, data, notes, name, "marker_quality", "阅卷质量",
                     [c for c in MARKER_COLUMNS if with_role or c.key != "_role"], title="阅卷质量",
                     label=lambda r: r.update(_role=MARKER_ROLE.get(r.get("role"), r.get("role"))),
                     sort=lambda r: (data.subject_order(r.get("subject")), _item_key(r.get("item")), r.get("marker") or "",
                                     roles.index(r["role"]) if r.get("role") in roles else len(roles)))
        note_sheet(wb, name, notes)
    return wb.printed  # type: ignore[return-value]


def _item_key(item: Any) -> tuple:
    return class_key(item)


# --------------------------------------------------------------------------------------------
# 小题分析
# --------------------------------------------------------------------------------------------
ITEM_COLUMNS = [Column("_subject", "学科"), Column("item", "题号", "id"), Column("_type", "题型"),
                Column("full_marks", "满分", "score"), Column("knowledge", "知识点"), Column("n", "人数", "int"),
                Column("mean", "平均分", "decimal"), Column("sd", "标准差", "decimal"),
                Column("difficulty", "得分率(难度)", "rate"), Column("discrimination", "区分度", "decimal"),
                Column("item_total_r", "题总相关", "decimal"), Column("full_rate", "满分率", "rate"),
                Column("zero_rate", "零分率", "rate")]
KNOWLEDGE_COLUMNS = [Column("_subject", "学科"), Column("knowledge", "知识点"), Column("_class", "班级"),
                     Column("n_items", "题数", "int"), Column("n", "人数", "int"), Column("score_rate", "得分率", "rate"),
                     Column("cohort_score_rate", "年级得分率", "rate"), Column("score_rate_diff", "与年级差", "rate")]


def write_item_analysis(data: ExamData, out: Path, notes: Notes) -> PrintedFile:
    name = "小题分析.xlsx"
    with WorkbookWriter(out / name, kind="item_analysis.xlsx") as wb:
        ia = data.table("item_analysis")
        items = table_sheet(wb, data, notes, name, "item_analysis", "小题分析", ITEM_COLUMNS, title="小题分析",
                             label=lambda r: r.update(_type=ITEM_TYPE.get(r.get("type"), r.get("type"))),
                             sort=lambda r: (data.subject_order(r["subject"]), nulls_last(r.get("position")),
                                             _item_key(r["item"])))
        positions = {(r["subject"], r["item"]): r.get("position") for r in items or []}
        io_ = data.table("item_options")
        if io_ is None:
            notes.missing(name, "选项分布", "item_options")
        else:
            _options_sheet(wb, data, io_, positions)
        table_sheet(wb, data, notes, name, "subject_reliability", "信度",
                     [Column("_subject", "学科"), Column("n", "人数", "int"), Column("n_items", "题数", "int"),
                      Column("alpha", "α系数", "decimal")], title="信度（Cronbach α）",
                     sort=lambda r: data.subject_order(r["subject"]))
        ci = data.table("class_items")
        if ci is None:
            notes.missing(name, "班级小题", "class_items")
        else:
            _class_item_sheets(wb, data, ci, ia)
        table_sheet(wb, data, notes, name, "knowledge", "知识点", KNOWLEDGE_COLUMNS, title="知识点得分率",
                     sort=lambda r: (data.subject_order(r["subject"]), r.get("knowledge") or "",
                                     r.get("class_id") != "*", class_key(r.get("class_id"))))
        note_sheet(wb, name, notes)
    return wb.printed  # type: ignore[return-value]


def _options_sheet(wb: WorkbookWriter, data: ExamData, io_: pl.DataFrame, positions: dict) -> None:
    """One row per objective item and paper version (全卷 pools the versions; an AB-versioned item
    also has a row per version, with that version's key): its key, the share of each letter, blank
    and invalid; the values read on numeric items listed in one text column."""
    items: dict[tuple[str, str, str], dict[str, Any]] = {}
    letters: set[str] = set()
    for r in io_.to_dicts():
        version = r.get("paper_version") or "*"
        key = (r["subject"], r["item"], version)
        it = items.setdefault(key, {"_subject": data.subject_name(r["subject"]), "subject": r["subject"],
                                    "item": r["item"], "_type": ITEM_TYPE.get(r.get("type"), r.get("type")),
                                    "position": r.get("position", positions.get(key[:2])), "_keys": [],
                                    "_values": [], "n": r.get("n"), "version": version,
                                    "_version": "全卷" if version == "*" else version})
        opt = r.get("option")
        share = r.get("share")
        if r.get("is_key"):
            it["_keys"].append((r.get("option_order"), opt))
        if opt in ("blank", "invalid"):
            it[f"opt:{opt}"] = share
        elif isinstance(opt, str) and len(opt) == 1 and opt.isalpha():
            letters.add(opt)
            it[f"opt:{opt}"] = share
        else:
            it["_values"].append((r.get("option_order"), opt, share, r.get("n_chose")))
    rows = []
    for it in items.values():
        keys = [k for _, k in sorted(it.pop("_keys"), key=lambda x: nulls_last(x[0]))]
        it["_key"] = "".join(keys) if all(len(k or "") == 1 for k in keys) else "、".join(k or "" for k in keys)
        vals = sorted(it.pop("_values"), key=lambda x: (-(x[2] or 0), nulls_last(x[0])))
        it["_other"] = "、".join(f"{v}（{(s or 0) * 100:.1f}%）" for _, v, s, _n in vals if (s or 0) > 0)
        rows.append(it)
    rows.sort(key=lambda r: (data.subject_order(r["subject"]), nulls_last(r.get("position")), _item_key(r["item"]),
                             r["version"] != "*", r["version"]))
    cols = [Column("_subject", "学科"), Column("item", "题号", "id"), Column("_type", "题型")]
    if any(r["version"] != "*" for r in rows):
        cols.append(Column("_version", "卷型"))
    cols += [Column("_key", "答案"), Column("n", "人数", "int")]
    cols += [Column(f"opt:{x}", x, "rate") for x in sorted(letters)]
    cols += [Column("opt:blank", "未作答", "rate"), Column("opt:invalid", "无效", "rate")]
    if any(r["_other"] for r in rows):
        cols.append(Column("_other", "数值填涂分布"))
    wb.add_table("选项分布", rows, cols, title=f"{data.title} 客观题选项分布（占比）")


def _class_item_sheets(wb: WorkbookWriter, data: ExamData, ci: pl.DataFrame, ia: pl.DataFrame | None) -> None:
    """Per subject: classes (and the 年级 row first) × items, each cell the 得分率 (a pivot of
    mart.class_items: ~1,000 classes × ~200 items per subject in a 50,000-student grade)."""
    cohort: dict[tuple[str, str], Any] = {}
    if ia is not None and "difficulty" in ia.columns:
        cohort = {(s, i): d for s, i, d in ia.select("subject", "item", "difficulty").iter_rows()}
    if "cohort_difficulty" in ci.columns:
        for s, i, d in ci.filter(pl.col("cohort_difficulty").is_not_null()).select(
                "subject", "item", "cohort_difficulty").iter_rows():
            cohort.setdefault((s, i), d)
    position = {(s, i): p for s, i, p in ci.select("subject", "item", optional_column(ci, "position", pl.Int64)).iter_rows()}
    ci = ci.with_columns(_key=pl.lit("item:") + pl.col("item").cast(pl.String))
    for code in sorted(ci["subject"].unique().to_list(), key=data.subject_order):
        part = ci.filter(pl.col("subject") == code)
        items = sorted({i for s, i in position if s == code}, key=lambda i: (nulls_last(position[(code, i)]),
                                                                               _item_key(i)))
        classes = sorted((c for c in part["class_id"].unique().to_list() if c != "*"), key=class_key)
        cells = part.filter(pl.col("class_id") != "*").pivot(on="_key", index="class_id", values="difficulty",
                                                              aggregate_function="last")
        rows = pl.DataFrame({"class_id": classes, "_class": [class_label(c) for c in classes]},
                            schema={"class_id": pl.String, "_class": pl.String}
                            ).join(cells, on="class_id", how="left", maintain_order="left")
        grade = pl.DataFrame({"class_id": ["*"], "_class": ["年级"], **{f"item:{i}": [cohort.get((code, i))]
                                                                        for i in items}})
        cols = [Column("_class", "班级")] + [Column(f"item:{i}", f"第{i}题", "rate") for i in items]
        sub = data.subject_name(code)
        wb.add_table(f"班级小题-{sub}", pl.concat([grade, rows], how="diagonal_relaxed"), cols,
                     title=f"{data.title} {sub} 班级小题得分率")


# --------------------------------------------------------------------------------------------
# 异常卷
# --------------------------------------------------------------------------------------------
ABNORMAL_COLUMNS = [
    Column("_status", "状态"), Column("_severity", "级别"), Column("_code", "异常类型"), Column("code", "代码"),
    Column("_subject", "学科"), Column("exam_no", "考号", "id"), Column("student_id", "学号", "id"),
    Column("_name", "姓名"), Column("_class", "班级"), Column("item", "题号", "id"), Column("detail", "说明"),
    Column("treatment", "当前处理"), Column("settles", "如何处理"), Column("image", "答卷图像"),
    Column("source_file", "来源文件"), Column("source_row", "行号", "int"), Column("action", "处理动作"),
    Column("action_value", "处理值"), Column("settled_by", "处理人"), Column("settled_at", "处理时间"),
    Column("note", "备注"), Column("abnormal_id", "异常编号"),
]


def write_abnormal(data: ExamData, out: Path, notes: Notes) -> PrintedFile:
    name = "异常卷.xlsx"
    # small, and its image cells become links after writing: the normal (not write-only) workbook
    with WorkbookWriter(out / name, kind="abnormal_scripts.xlsx") as wb:
        students = {r["student_id"]: r for r in table_rows(data.table("students"))}

        def label(r: dict[str, Any]) -> None:
            st = students.get(r.get("student_id")) or {}
            r.update(_status=ABNORMAL_STATUS.get(r.get("status"), r.get("status")),
                     _severity=SEVERITY.get(r.get("severity"), r.get("severity")),
                     _code=CODE_NAME.get(r.get("code"), r.get("code")),
                     _subject=data.subject_name(r.get("subject")) if r.get("subject") else None,
                     _name=st.get("name"),
                     _class=class_label(st.get("class_id")) if st.get("class_id") is not None else None)

        table_sheet(wb, data, notes, name, "abnormal_scripts", "异常卷", ABNORMAL_COLUMNS, title="异常卷（未处理在前）",
                     label=label, links=lambda rows: {"image": [_image_link(r.get("image"), data.folder) for r in rows]},
                     sort=lambda r: (r.get("status") != "open", r.get("severity") != "blocking",
                                     data.subject_order(r.get("subject")), r.get("code") or "", r.get("abnormal_id") or ""))
        table_sheet(wb, data, notes, name, "resolution_errors", "处理错误",
                     [Column("source_file", "处理文件"), Column("source_row", "行号", "int"),
                      Column("abnormal_id", "异常编号"), Column("action", "处理动作"), Column("value", "处理值"),
                      Column("operator", "操作人"), Column("reason", "未执行原因")], title="处理文件中未执行的行",
                     sort=lambda r: (r.get("source_file") or "", nulls_last(r.get("source_row"))))
        table_sheet(wb, data, None, name, "reconciliation", "扫描核对",
                     [Column("_subject", "学科"), Column("_class", "班级"), Column("n_expected", "应考", "int"),
                      Column("n_scanned", "已扫描", "int"), Column("n_absent", "缺考", "int"),
                      Column("n_missing", "缺卷", "int"), Column("n_abnormal_open", "未处理异常", "int")],
                     title="扫描核对", label=lambda r: r.update(_class="（无法归属）") if r.get("class_id") == "?" else None,
                     sort=lambda r: (data.subject_order(r.get("subject")), class_key(r.get("class_id"))))
        note_sheet(wb, name, notes)
    return wb.printed  # type: ignore[return-value]


def _image_link(image: str | None, folder: str | None) -> str | None:
    """The link of a 答卷图像 cell: the scan image's file URI (a relative path resolves against the
    exam folder); None for anything that is not a file path."""
    if not image or "://" in image or is_formula_like(image):
        return None
    p = Path(image)
    if not p.is_absolute() and folder:
        p = Path(folder) / p
    try:
        return p.resolve().as_uri() if p.is_absolute() else image
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
def write_workbooks(data: ExamData, folder: Path, notes: Notes | None = None) -> list[PrintedFile]:
    """Write the five workbooks into `folder` (created owner-only) and return them."""
    notes = notes if notes is not None else Notes()
    out = ensure_owner_only_dir(folder)
    writers: list[Callable[[], PrintedFile]] = [
        lambda: write_grade_scores(data, out, notes),
        lambda: write_class_quant(data, out, notes),
        lambda: write_teacher_quant(data, out, notes),
        lambda: write_item_analysis(data, out, notes),
        lambda: write_abnormal(data, out, notes),
    ]
    return [w() for w in writers]
