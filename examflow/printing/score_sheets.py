"""The 成绩总表 as one polars frame (`score_sheets`): the grade's sheet and one per class, every
cell's value or the status it prints instead, written in one pass by `WorkbookWriter.add_sheets`."""
from __future__ import annotations

from typing import Any, Callable

import polars as pl

from examflow.printing.data import STATUS_LABEL, TOTAL_STATUS_LABEL, ExamData, class_key, class_label, track_label
from examflow.printing.excel import Column
from examflow.printing.sheets import TRACK_ORDER, optional_column

__all__ = ["score_sheets"]


def _labelled(values: pl.Series, label: Callable[[Any], str]) -> pl.Series:
    """`label` of each value, computed once per distinct value (class ids, tracks)."""
    distinct = values.unique()
    return values.replace_strict(distinct, pl.Series([label(v) for v in distinct.to_list()], dtype=pl.String),
                                 return_dtype=pl.String)


def _status_label(status: str, labels: dict[str, str]) -> pl.Expr:
    """The label a cell prints instead of its value: the status's, when it is not ok."""
    col = pl.col(status)
    return pl.when(col.is_not_null() & (col != "ok")).then(col.replace(labels))


def _when_ok(status: str, value: str) -> pl.Expr:
    return pl.when(pl.col(status) == "ok").then(pl.col(value))


def score_sheets(data: ExamData) -> tuple[pl.DataFrame, list[Column], list[str]]:
    """The 成绩总表 as one frame: every student in grade order (sheet 0, 年级), then each class's
    students in class order (sheet 1, 2, … in class order); its columns and the sheet names.

    Grade order: track, grade rank (pending and incomplete last), class, student id. Class order:
    track, class rank (likewise), student id. A subject's cells show 待定 / 缺考 / 作废 instead of
    a score, a total's 待定 / 缺科; a subject the student does not take is blank. In a joint exam (联考)
    年排 and 年级名次 are the joint ranks, and 校排 / 校内名次 the ranks within the school."""
    students, scores, totals = data.table("students"), data.table("subject_scores"), data.table("totals")
    joint = totals is not None and "school_rank" in totals.columns and totals["school_rank"].is_not_null().any()
    ranks = ("grade_rank", "school_rank", "class_rank") if joint else ("grade_rank", "class_rank")
    rank_titles = {"grade_rank": "年排", "school_rank": "校排", "class_rank": "班排"}
    if students is not None and students.height:
        base = students.select("student_id", *(optional_column(students, c) for c in ("name", "class_id", "exam_no",
                                                                              "track")))
    elif totals is not None:  # no roster table: the totals still list everyone
        base = totals.select("student_id", optional_column(totals, "class_id"), optional_column(totals, "track"),
                             name=pl.lit(None, pl.String), exam_no=pl.lit(None, pl.String))
    else:
        base = pl.DataFrame(schema={c: pl.String for c in ("student_id", "name", "class_id", "exam_no", "track")})
    if totals is not None:
        base = base.join(totals.select("student_id", *(optional_column(totals, c, t).alias(f"t:{c}") for c, t in (
            ("status", pl.String), ("total", pl.Float64), ("raw_total", pl.Float64), ("grade_rank", pl.Int64),
            ("school_rank", pl.Int64), ("class_rank", pl.Int64), ("rank_change", pl.Int64), ("track", pl.String)))),
            on="student_id", how="left")
        if students is not None and students.height and "track" not in students.columns:
            base = base.with_columns(track=pl.col("t:track"))
    else:
        base = base.with_columns(pl.lit(None, pl.String).alias("t:status"),
                                 *(pl.lit(None, pl.Int64).alias(f"t:{c}") for c in ("grade_rank", "class_rank")))

    taken = set(scores["subject"].drop_nulls().unique().to_list()) if scores is not None else set()
    subjects = [s for s in data.subjects if s.code in taken]
    subjects += [data.subject(c) for c in sorted(taken - {s.code for s in subjects})]
    cols = [Column("student_id", "学号", "id"), Column("name", "姓名"), Column("_class", "班级"),
            Column("exam_no", "考号", "id"), Column("_track", "类别")]
    values = [_labelled(base["class_id"], class_label).alias("_class"),
              _labelled(base["track"], track_label).alias("_track")]
    for i, s in enumerate(subjects):
        part = scores.filter(pl.col("subject") == s.code).select(
            "student_id", *(optional_column(scores, c, t).alias(f"{i}:{c}") for c, t in (
                ("status", pl.String), ("raw_score", pl.Float64), ("converted_score", pl.Float64),
                ("band", pl.String), ("grade_rank", pl.Int64), ("school_rank", pl.Int64), ("class_rank", pl.Int64))))
        base = base.join(part.unique("student_id", keep="last"), on="student_id", how="left")
        status = f"{i}:status"
        values += [_status_label(status, STATUS_LABEL).alias(f"{i}:label"),
                   *(_when_ok(status, f"{i}:{c}").alias(f"{i}:{c}:ok") for c in ("raw_score", "converted_score",
                                                                                  "band", *ranks))]
        if s.reselect:
            cols += [Column(f"{i}:raw_score:ok", f"{s.name}原始分", "score", otherwise=f"{i}:label"),
                     Column(f"{i}:converted_score:ok", f"{s.name}赋分", "score", otherwise=f"{i}:label"),
                     Column(f"{i}:band:ok", f"{s.name}等级")]
        else:
            cols.append(Column(f"{i}:raw_score:ok", s.name, "score", otherwise=f"{i}:label"))
        cols += [Column(f"{i}:{r}:ok", f"{s.name}{rank_titles[r]}", "rank") for r in ranks]
    if totals is not None:
        values += [_status_label("t:status", TOTAL_STATUS_LABEL).alias("t:label"),
                   *(_when_ok("t:status", f"t:{c}").alias(f"t:{c}:ok") for c in ("total", "raw_total", *ranks,
                                                                                 "rank_change"))]
        cols += [Column("t:total:ok", "总分", "score", otherwise="t:label"),
                 Column("t:raw_total:ok", "原始总分", "score", otherwise="t:label"),
                 *(Column(f"t:{r}:ok", {"grade_rank": "年级名次", "school_rank": "校内名次",
                                        "class_rank": "班级名次"}[r], "rank") for r in ranks),
                 Column("t:rank_change:ok", "名次变化", "int")]
    else:
        cols += [Column("-", h) for h in ("总分", "原始总分", "年级名次", "班级名次", "名次变化")]
        values.append(pl.lit(None, pl.String).alias("-"))

    classes = sorted(base["class_id"].drop_nulls().unique().to_list(), key=class_key)
    rank = {c: i for i, c in enumerate(classes)}
    base = base.with_columns(*values,
                             _track_order=pl.col("track").replace_strict(TRACK_ORDER, default=3).fill_null(3),
                             _class_order=pl.col("class_id").replace_strict(rank, default=None).fill_null(-1))
    grade = base.sort(["_track_order", "t:grade_rank", "_class_order", "student_id"],
                      nulls_last=[False, True, False, False]).with_columns(_sheet=pl.lit(0, pl.Int64))
    by_class = base.filter(pl.col("class_id").is_not_null()).sort(
        ["_class_order", "_track_order", "t:class_rank", "student_id"], nulls_last=[False, False, True, False]
    ).with_columns(_sheet=(pl.col("_class_order") + 1).cast(pl.Int64))
    return pl.concat([grade, by_class]), cols, ["年级"] + [class_label(c) for c in classes]
