"""The benchmark's reference peer: one plain DuckDB script over the same exports the pipeline reads.

    .venv/bin/python benchmarks/reference.py EXAM_FOLDER [--db FILE]

It reads every export layout `examflow generate` writes (UTF-8 with or without BOM, GBK, `,` `;` and
tab delimiters, the XLSX batch with title rows, OMRChecker Results/ and Manual/, long and wide marks)
and computes what an exam office minimally needs: item scores (objective keys, versioned keys, partial
credit; the double-marking rule for subjective items), subject scores, raw totals, ranks, class
statistics, item analysis and an abnormal table of the cheapest codes. It writes them as tables into
a DuckDB file. No contract checks, no lineage, no 赋分, no resolutions, no Dagster: what the pipeline
does beyond this is listed in the README (Performance). Only headers are looked at in Python; DuckDB
reads, types and computes everything else.
"""
from __future__ import annotations

import argparse
import codecs
import csv
import re
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

EXAM_NO = ("考号", "准考证号", "roll")
ABSENT = ("缺考", "缺考标记")
ABSENT_YES = ("1", "是", "Y", "缺考")
ITEM_PREFIX = re.compile(r"(?:q|第|客观题|题)?(?P<item>.+?)(?:题)?", re.I)


def _items(folder: Path, cfg: dict) -> list[tuple]:
    """(subject, item, type, full, version, key, partial, tolerance) per item and key version."""
    rows = []
    by_name = {s["name"]: s["code"] for s in cfg["subjects"]}
    listed = [(s["code"], i) for s in cfg["subjects"] for i in s.get("items") or []]
    csv_path = folder / "items.csv"
    if csv_path.exists():
        for r in duckdb.sql(f"SELECT * FROM read_csv('{csv_path}', all_varchar=true)").fetchall():
            subject, item, kind, full, key, _kp, tol, _opts, partial = r
            listed.append((by_name.get(subject, subject), {"id": item, "type": kind, "full": float(full), "key": key,
                                                            "tolerance": tol, "partial": partial}))
    default_tol = float(cfg.get("double_mark_tolerance") or 3)
    for code, i in listed:
        keys = i.get("key")
        versions = keys.items() if isinstance(keys, dict) else [(None, keys)]
        for version, key in versions:
            rows.append((code, str(i["id"]), i["type"], float(i["full"]), version, None if key is None else str(key),
                         float(i["partial"]) if i.get("partial") not in (None, "") else float(i["full"]) / 2,
                         float(i["tolerance"]) if i.get("tolerance") not in (None, "") else default_tol))
    return rows


def _subject_of(path: str, subjects: list[dict]) -> str | None:
    return next((s["code"] for s in subjects if s["name"] in path or s["code"] in path.lower()), None)


def _source(con, path: Path, tmp: Path, name: str) -> tuple[str, list[str]]:
    """A file as a DuckDB table expression of strings, and its header. XLSX goes through calamine
    (DuckDB's excel extension needs a download); GBK is transcoded to UTF-8 first (DuckDB reads UTF-8
    only). Python reads the header line only, to name the delimiter and columns."""
    if path.suffix == ".xlsx":
        import fastexcel

        table = fastexcel.read_excel(path).load_sheet(0, header_row=2, dtypes="string").to_arrow()
        con.register(name, table)
        return name, table.column_names
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        path = tmp / f"{len(list(tmp.iterdir()))}.csv"
        data = data.decode("gb18030").encode("utf-8")
        path.write_bytes(data)
    line = data[:data.find(b"\n")].decode("utf-8-sig").rstrip("\r")
    delim = max(",\t;", key=line.count)
    header = next(csv.reader([line], delimiter=delim))
    return (f"read_csv('{path}', header=true, delim='{delim}', all_varchar=true, null_padding=true, "
            f"names={header!r})"), header


def _col(columns: list[str], names: tuple) -> str | None:
    return next((c for c in columns if c.lstrip(codecs.BOM_UTF8.decode()).lower() in names), None)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(con, folder: Path, cfg: dict, tmp: Path) -> None:
    subjects = cfg["subjects"]
    con.execute("CREATE TABLE items (subject TEXT, item TEXT, type TEXT, full_marks DOUBLE, version TEXT, key TEXT,"
                " partial DOUBLE, tolerance DOUBLE)")
    con.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _items(folder, cfg))
    objective = {s["code"]: {} for s in subjects}
    subjective = {s["code"]: {} for s in subjects}
    for subject, item, kind in con.execute("SELECT DISTINCT subject, item, type FROM items").fetchall():
        (subjective if kind == "subjective" else objective)[subject][item.lower()] = item
    roster, header = _source(con, folder / "roster.csv", tmp, "roster_file")
    school = "学校 || ':' || " if "学校" in header else ""   # a joint exam's classes are per school
    con.execute(f"CREATE TABLE roster AS SELECT 学号 AS student_id, 姓名 AS name, {school}班级 AS class, 考号 AS exam_no, "
                "CASE WHEN 类别 LIKE '%物理%' THEN 'physics' WHEN 类别 LIKE '%历史%' THEN 'history' ELSE 'all' END AS track, "
                f"coalesce(选科, '') AS electives FROM {roster}")

    sheets, answers = [], []
    for n, path in enumerate(sorted(p for p in (folder / "scans").rglob("*") if p.suffix in (".csv", ".xlsx"))):
        rel = path.relative_to(folder).as_posix()
        subject = _subject_of(rel, subjects)
        source, cols = _source(con, path, tmp, f"f{n}")
        exam_no, absent = _col(cols, EXAM_NO), _col(cols, ABSENT)
        version = _col(cols, ("试卷类型",))
        items = {c: objective[subject][m["item"].lower()] for c in cols
                 if (m := ITEM_PREFIX.fullmatch(c)) and m["item"].lower() in objective[subject]}
        absent_sql = f"coalesce({_q(absent)} IN {ABSENT_YES}, false)" if absent else "false"
        con.execute(f"CREATE TEMP TABLE f{n}_rows AS SELECT {n} * 10000000 + row_number() OVER () AS script, * "
                    f"FROM {source}")
        sheets.append(f"SELECT script, '{subject}' AS subject, {_q(exam_no)} AS exam_no, {absent_sql} AS absent, "
                      f"{_q(version) if version else 'NULL'} AS version FROM f{n}_rows")
        renamed = ", ".join(f"{_q(c)} AS {_q(i)}" for c, i in items.items())
        answers.append(f"SELECT script, item, answer FROM (SELECT script, {renamed} FROM f{n}_rows) "
                       f"UNPIVOT INCLUDE NULLS (answer FOR item IN (COLUMNS(* EXCLUDE (script))))")
    con.execute("CREATE TABLE sheets AS " + " UNION ALL ".join(sheets))
    con.execute("CREATE TABLE answers AS " + " UNION ALL ".join(answers))

    marks = []
    for path in sorted((folder / "marks").rglob("*.csv")):
        rel = path.relative_to(folder).as_posix()
        subject = _subject_of(rel, subjects)
        view, cols = _source(con, path, tmp, f"m{len(marks)}")
        exam_no = _q(_col(cols, EXAM_NO))
        if "题号" in cols:
            marks.append(f"SELECT '{subject}' AS subject, {exam_no} AS exam_no, lower(题号) AS item, "
                         "TRY_CAST(一评 AS DOUBLE) AS s1, TRY_CAST(二评 AS DOUBLE) AS s2, "
                         f"TRY_CAST(仲裁 AS DOUBLE) AS arb FROM {view}")
        else:
            items = [c for c in cols if c.lower() in subjective[subject]]
            marks.append(f"SELECT '{subject}' AS subject, exam_no, lower(item) AS item, TRY_CAST(s1 AS DOUBLE) AS s1, "
                         f"NULL::DOUBLE AS s2, NULL::DOUBLE AS arb FROM (SELECT {exam_no} AS exam_no, "
                         f"{', '.join(_q(c) for c in items)} FROM {view}) "
                         f"UNPIVOT (s1 FOR item IN ({', '.join(_q(c) for c in items)}))")
    con.execute("CREATE TABLE marks AS " + " UNION ALL ".join(marks))


TRANSFORMS = """
CREATE TABLE abnormal AS
WITH copies AS (
    SELECT *, row_number() OVER (PARTITION BY subject, exam_no ORDER BY script) AS copy FROM sheets)
SELECT 'UNKNOWN_EXAM_NO' AS code, subject, exam_no FROM sheets
 WHERE exam_no IS NULL OR exam_no NOT IN (SELECT exam_no FROM roster)
UNION ALL SELECT 'DUPLICATE_SCAN', subject, exam_no FROM copies WHERE copy > 1 AND exam_no IS NOT NULL
UNION ALL SELECT 'ORPHAN_MARKS', subject, exam_no FROM (SELECT DISTINCT subject, exam_no FROM marks) m
 WHERE NOT EXISTS (SELECT 1 FROM sheets s WHERE s.subject = m.subject AND s.exam_no = m.exam_no)
UNION ALL SELECT 'MISSING_SCRIPT', x.subject, r.exam_no FROM roster r
 JOIN subjects x
   ON x.role = 'core' OR (x.role = 'first_choice' AND x.subject = r.track)
   OR (x.role = 'reselect' AND (contains(r.electives, x.name) OR contains(r.electives, x.subject)))
 WHERE NOT EXISTS (SELECT 1 FROM sheets s WHERE s.subject = x.subject AND s.exam_no = r.exam_no);

CREATE TABLE scripts AS
SELECT s.script, s.subject, s.exam_no, s.absent, s.version, r.student_id, r.class, r.track
  FROM (SELECT script, subject, exam_no, absent, version FROM sheets
        QUALIFY row_number() OVER (PARTITION BY subject, exam_no ORDER BY script) = 1) s
  JOIN roster r USING (exam_no);

CREATE TABLE item_scores AS
WITH answered AS MATERIALIZED (   -- scripts first: joining items to scripts first builds a 8M-row hash table
    SELECT a.script, s.subject, s.version, a.item, a.answer FROM answers a JOIN scripts s USING (script)
     WHERE NOT s.absent),
objective AS (
    SELECT a.script, a.subject, i.item, i.full_marks,
           CASE WHEN a.answer IS NULL OR a.answer = '' THEN 0
                WHEN a.answer = i.key THEN i.full_marks
                WHEN i.type = 'multi' AND regexp_full_match(a.answer, '[' || i.key || ']+') THEN i.partial
                ELSE 0 END AS score
      FROM answered a
      JOIN items i ON i.subject = a.subject AND i.item = a.item AND (i.version IS NULL OR i.version = a.version)),
subjective AS (
    SELECT s.script, s.subject, i.item, i.full_marks,
           CASE WHEN m.arb IS NOT NULL THEN m.arb
                WHEN m.s2 IS NULL THEN m.s1
                WHEN abs(m.s1 - m.s2) <= i.tolerance THEN floor((m.s1 + m.s2) + 0.5) / 2
           END AS score
      FROM marks m JOIN scripts s ON s.subject = m.subject AND s.exam_no = m.exam_no AND NOT s.absent
      JOIN items i ON i.subject = m.subject AND lower(i.item) = m.item)
SELECT * FROM objective UNION ALL SELECT * FROM subjective;

CREATE TABLE subject_scores AS
SELECT s.script, s.student_id, s.class, s.track, s.subject, s.absent,
       CASE WHEN s.absent THEN NULL ELSE coalesce(sc.score, 0) END AS score,
       rank() OVER (PARTITION BY s.subject, CASE WHEN x.role = 'reselect' THEN 'all' ELSE s.track END
                    ORDER BY CASE WHEN s.absent THEN NULL ELSE coalesce(sc.score, 0) END DESC NULLS LAST) AS rank
  FROM scripts s JOIN subjects x ON x.subject = s.subject
  LEFT JOIN (SELECT script, sum(score) AS score FROM item_scores GROUP BY script) sc USING (script);

CREATE TABLE totals AS
SELECT *, rank() OVER (PARTITION BY track ORDER BY total DESC NULLS LAST) AS rank FROM (
    SELECT student_id, class, track, sum(score) AS total, count(*) AS n_subjects, bool_or(absent) AS incomplete
      FROM subject_scores GROUP BY ALL);

CREATE TABLE class_stats AS
WITH scores AS (
    SELECT class, subject, track, score, x.full_marks FROM subject_scores JOIN subjects x USING (subject)
     WHERE score IS NOT NULL
    UNION ALL SELECT class, 'total', track, total, 750 FROM totals WHERE NOT incomplete)
SELECT coalesce(class, '*') AS class, subject, track, count(*) AS n, avg(score) AS mean,
       stddev_pop(score) AS sd, median(score) AS median, max(score) AS max, min(score) AS min,
       avg((score >= 0.85 * full_marks)::INT) AS excellent_rate, avg((score >= 0.75 * full_marks)::INT) AS good_rate,
       avg((score >= 0.6 * full_marks)::INT) AS pass_rate, avg((score < 0.4 * full_marks)::INT) AS low_rate
  FROM scores GROUP BY GROUPING SETS ((class, subject, track), (subject, track));

CREATE TABLE item_analysis AS
WITH groups AS (
    SELECT script, score AS raw, percent_rank() OVER (PARTITION BY subject ORDER BY score) AS pr
      FROM subject_scores WHERE score IS NOT NULL)
SELECT i.subject, i.item, any_value(i.full_marks) AS full_marks, count(*) AS n, avg(i.score) AS mean,
       stddev_pop(i.score) AS sd, avg(i.score) / any_value(i.full_marks) AS difficulty,
       (avg(i.score) FILTER (WHERE g.pr >= 0.73) - avg(i.score) FILTER (WHERE g.pr <= 0.27))
           / any_value(i.full_marks) AS discrimination,
       corr(i.score, g.raw) AS item_total_r, avg((i.score = i.full_marks)::INT) AS full_rate,
       avg((i.score = 0)::INT) AS zero_rate
  FROM item_scores i JOIN groups g USING (script) GROUP BY ALL;
"""


def reference(folder: Path, db: str = ":memory:", memory_limit: str = "4GB") -> dict[str, int]:
    """Run the reference over one exam folder; row counts of its tables."""
    cfg = yaml.load((folder / "exam.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    con = duckdb.connect(db)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("CREATE TABLE subjects (subject TEXT, name TEXT, role TEXT, full_marks DOUBLE)")
    con.executemany("INSERT INTO subjects VALUES (?, ?, ?, ?)",
                    [(s["code"], s["name"], s["role"], float(s["full"])) for s in cfg["subjects"]])
    with tempfile.TemporaryDirectory(prefix="reference-") as tmp:
        load(con, folder, cfg, Path(tmp))
    con.execute(TRANSFORMS)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("sheets", "marks", "item_scores", "subject_scores", "totals", "class_stats", "item_analysis",
                        "abnormal")}
    con.close()
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--db", default=":memory:", help="DuckDB file for the results (default: in memory)")
    args = ap.parse_args()
    started = time.perf_counter()
    counts = reference(args.folder, args.db)
    print(" ".join(f"{k}={v}" for k, v in counts.items()), f"seconds={time.perf_counter() - started:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
