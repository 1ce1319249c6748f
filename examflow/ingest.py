"""An exam folder, read and checked against the input contract, as frames for the `raw` layer.

Nothing is written here. `open_exam_folder` reads exam.yaml and the people tables and leaves the
scan, marking and resolution exports to `RawExam.parts`, read file by file: `warehouse.write_raw`
writes them as they come inside one transaction, so a large exam is never held in memory whole and
a ContractError on any file still leaves the warehouse as it was. `read_exam_folder` reads all of it
into frames.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import polars as pl

from examflow.config import ExamConfig, Subject, load_exam
from examflow.errors import ContractError
from examflow.tables import Table, aliases, read_table

TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".tsv", ".txt")
SCAN_FIELDS = ["exam_no", "script_id", "absent", "batch", "pages", "optional_choice", "paper_version", "image"]
MARK_FIELDS = ["exam_no", "item", "score1", "marker1", "score2", "marker2", "arbitration", "arbiter", "flag"]
_FULLWIDTH = str.maketrans("（）　", "() ")


@dataclass
class RawExam:
    """The raw frames of one exam, keyed by raw table name.

    `parts` yields the scan, marking and resolution exports one file at a time as (table, frame),
    reading each only when asked: a large exam is then written file by file instead of held whole.
    `files` (for raw.files) is complete once `parts` is exhausted."""

    config: ExamConfig
    folder: Path
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    parts: Iterator[tuple[str, pl.DataFrame]] = field(default_factory=lambda: iter(()))


def _item_key(text: str) -> str:
    return text.translate(_FULLWIDTH).strip().lower()


def _files(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES
                  and not p.name.startswith((".", "~$")))


def _optional_file(folder: Path, stem: str) -> Path | None:
    hits = [p for p in folder.iterdir() if p.is_file() and p.stem.lower() == stem and p.suffix.lower() in TABLE_SUFFIXES]
    return sorted(hits)[0] if hits else None


def _lineage(table: Table, exam_id: str, at: dt.datetime) -> list[pl.Expr]:
    return [pl.lit(exam_id).alias("exam_id"), pl.lit(table.name).alias("source_file"), pl.col("source_row"),
            pl.lit(table.sha256).alias("file_sha256"), pl.lit(at).alias("ingested_at")]


def _canonical(table: Table, names: list[str]) -> list[pl.Expr]:
    return [(pl.col(table.col(n)) if table.col(n) else pl.lit(None, pl.String)).alias(n) for n in names]


def _extra(table: Table, used: set[str]) -> pl.Expr:
    """Columns the contract does not name, kept as JSON text so nothing read is lost."""
    rest = [c for c in table.body.columns if c != "source_row" and c not in used]
    if not rest:
        return pl.lit(None, pl.String).alias("extra")
    return pl.struct([pl.col(c).alias(table.column_label(c) or c) for c in rest]).struct.json_encode().alias("extra")


def _subject_of_rows(table: Table, cfg: ExamConfig, fallback: Subject | None) -> pl.Expr:
    """The subject code of every row: the 科目 column, else the file (or folder) name; unknown -> error."""
    col = table.col("subject")
    if col is None:
        if fallback is None:
            raise ContractError("no subject column and the file name names no subject of exam.yaml "
                                f"({', '.join(s.code + '/' + s.name for s in cfg.subjects)})", table.name)
        return pl.lit(fallback.code)
    values = table.body.select(pl.col(col), "source_row").filter(pl.col(col).is_not_null())
    mapping = {}
    for v in values[col].unique().to_list():
        s = cfg.subject(v)
        if s is None:
            row = values.filter(pl.col(col) == v)["source_row"][0]
            raise ContractError(f"unknown subject {v!r}", table.name, row, table.column_label(col))
        mapping[v] = s.code
    return pl.col(col).replace_strict(mapping, default=fallback.code if fallback else None, return_dtype=pl.String)


def _item_columns(table: Table, used: set[str], known: dict[str, str], prefixes: re.Pattern) -> dict[str, str]:
    """Header columns that name items: body column -> item id. A header that looks like an item id
    (a digit after an optional prefix) but names no known item is a contract error."""
    pattern = re.compile(aliases()["scans"]["item_pattern"])
    out = {}
    for c in table.body.columns:
        if c == "source_row" or c in used:
            continue
        label = _item_key(table.column_label(c))
        m = prefixes.fullmatch(label)
        candidate = m.group("item") if m else None
        if candidate in known:
            out[c] = known[candidate]
        elif label in known:
            out[c] = known[label]
        elif candidate and pattern.fullmatch(label) and candidate[:1].isdigit():
            raise ContractError(f"unknown item {table.column_label(c)!r}: not an item of "
                                f"{'/'.join(sorted(set(table.subjects)))} in exam.yaml",
                                table.name, table.header_row, table.column_label(c))
    return out


def _check_row_items(table: Table, subject: pl.Expr, items: dict[str, str], allowed: dict[str, set[str]]) -> None:
    """In a file with several subjects, an answer under an item its row's subject lacks is an error."""
    if len(allowed) < 2:
        return
    frame = table.body.with_columns(subject.alias("__subject"))
    for c, item in items.items():
        bad_subjects = [s for s, ids in allowed.items() if item not in ids]
        bad = frame.filter(pl.col("__subject").is_in(bad_subjects) & pl.col(c).is_not_null())
        if bad.height:
            r = bad.row(0, named=True)
            raise ContractError(f"subject {r['__subject']} has no item {item!r}", table.name, r["source_row"],
                                table.column_label(c))


RESPONSES = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))


def _responses(table: Table, items: dict[str, str], empty: str | None = None) -> pl.Series:
    """Each row's answers as [{key: item id, value: what was read}], an `empty` marker read as blank.

    Built from the item columns in one gather: polars' concat_list of structs costs ~1 µs a cell."""
    n, k = table.body.height, len(items)
    if not k:
        return pl.repeat(None, n, dtype=RESPONSES, eager=True).alias("responses")
    cells = table.body.select(pl.col(c) if not empty else pl.when(pl.col(c) != empty).then(pl.col(c)) for c in items)
    row_major = (np.arange(n, dtype=np.int64)[:, None] + np.arange(k, dtype=np.int64) * n).ravel()
    values = pl.concat(cells.get_columns(), rechunk=False).gather(row_major).alias("value")
    keys = pl.Series("key", list(items.values())).gather(np.tile(np.arange(k), n))
    return pl.select(pl.struct(keys, values)).to_series().reshape((n, k)).cast(RESPONSES).alias("responses")


class FolderReader:
    """Reads the files of one exam folder, recording each file it read (for raw.files)."""

    def __init__(self, folder: Path, cfg: ExamConfig, at: dt.datetime, progress: Callable[[str], None]):
        self.folder, self.cfg, self.at, self.progress = folder, cfg, at, progress
        self.files: list[dict] = []

    def table(self, path: Path, kinds: list[str]) -> Table:
        name = path.relative_to(self.folder).as_posix()
        t = read_table(path, name, kinds)
        self.files.append({"source_file": name, "kind": t.kind, "rows": t.body.height, "file_sha256": t.sha256})
        self.progress(f"read {name}: {t.kind}, {t.body.height} rows")
        return t

    # -- roster, teachers, rooms -----------------------------------------------------------
    def simple(self, stem: str, kind: str, required_file: bool) -> pl.DataFrame | None:
        path = _optional_file(self.folder, stem)
        if path is None:
            if required_file:
                raise ContractError(f"{stem}.csv|xlsx is missing: every exam folder needs one",
                                    str(self.folder / f"{stem}.csv"))
            return None
        t = self.table(path, [kind])
        names = list(aliases()[kind]["columns"])
        for req in aliases()[kind]["required"]:
            missing = t.body.filter(pl.col(t.col(req)).is_null())
            if missing.height:
                raise ContractError(f"required value {req} is empty", t.name, missing["source_row"][0],
                                    t.column_label(t.col(req)))
        used = {t.col(n) for n in names if t.col(n)}
        df = t.body.select(*_lineage(t, self.cfg.id, self.at), *_canonical(t, names), _extra(t, used))
        if kind == "roster":
            for key in ("student_id", "exam_no"):
                dup = df.filter(pl.col(key).is_duplicated()).sort("source_row")
                if dup.height:
                    raise ContractError(f"{key} {dup[key][0]!r} is not unique (rows "
                                        f"{', '.join(map(str, dup.filter(pl.col(key) == dup[key][0])['source_row']))})",
                                        t.name, dup["source_row"][1], t.column_label(t.col(key)))
            self._schools_complete(t, df)
        if kind == "rooms":
            bad = df.filter(pl.col("capacity").cast(pl.Int64, strict=False).is_null())
            if bad.height:
                raise ContractError(f"capacity {bad['capacity'][0]!r} is not a whole number", t.name,
                                    bad["source_row"][0], t.column_label(t.col("capacity")))
        return df

    def _schools_complete(self, t: Table, df: pl.DataFrame) -> None:
        """A roster that names a school on some rows (or of an exam.yaml saying `joint: true`) names one
        on every row: a joint exam's class ids and school figures need every student's school."""
        school = df["school"].str.strip_chars().replace("", None)
        if not (school.is_not_null().any() or self.cfg.settings.get("joint") is True):
            return
        if t.col("school") is None:
            raise ContractError("exam.yaml says joint: true, so the roster needs a school (学校) column", t.name)
        row = df.filter(school.is_null())["source_row"]
        if row.len():
            raise ContractError("school is empty: in a joint exam (联考) every student's school is needed",
                                t.name, row[0], t.column_label(t.col("school")))

    # -- scans -------------------------------------------------------------------------------
    def scans(self) -> Iterator[pl.DataFrame]:
        scans_dir = self.folder / "scans"
        if not scans_dir.is_dir():
            raise ContractError("scans/ is missing: every exam folder needs the scanner's exports",
                                str(scans_dir))
        found = False
        for path in _files(scans_dir):
            rel = path.relative_to(scans_dir)
            if len(rel.parts) > 1 and rel.parts[-2].lower() == "manual" and path.stem.lower() not in (
                    "errorfiles", "multimarkedfiles"):
                continue
            t = self.table(path, ["omr", "scans"])
            found = True
            yield self._omr(t, rel) if t.kind == "omr" else self._scanner(t, rel)
        if not found:
            raise ContractError("scans/ holds no scan export (CSV or XLSX)", str(scans_dir))

    def _objective_items(self, subjects: list[Subject]) -> tuple[dict[str, str], dict[str, set[str]]]:
        known, allowed = {}, {}
        for s in subjects:
            ids = {i.item for i in s.items if i.type != "subjective"}
            allowed[s.code] = ids
            known.update({_item_key(i): i for i in ids})
        return known, allowed

    def _file_subjects(self, t: Table, fallback: Subject | None) -> list[Subject]:
        col = t.col("subject")
        if col is None:
            return [fallback] if fallback else []
        return [s for v in t.body[col].drop_nulls().unique().to_list() if (s := self.cfg.subject(v))]

    def _scanner(self, t: Table, rel: Path) -> pl.DataFrame:
        fallback = self.cfg.subject_in_name(rel.as_posix().rsplit(".", 1)[0])
        subject = _subject_of_rows(t, self.cfg, fallback)
        subjects = self._file_subjects(t, fallback)
        t.subjects = [s.code for s in subjects]
        known, allowed = self._objective_items(subjects)
        used = {t.col(n) for n in ["subject", *SCAN_FIELDS] if t.col(n)}
        prefixes = re.compile(r"(?:q|第|客观题|题)?(?P<item>.+?)(?:题)?")
        items = _item_columns(t, used, known, prefixes)
        _check_row_items(t, subject, items, allowed)
        return t.body.select(
            *_lineage(t, self.cfg.id, self.at), subject.alias("subject"), pl.lit("scanner").alias("shape"),
            *_canonical(t, SCAN_FIELDS), _responses(t, items), _extra(t, used | set(items)))

    def _omr(self, t: Table, rel: Path) -> pl.DataFrame:
        omr = self.cfg.settings["omr"]
        parts = rel.parts
        subj = (self.cfg.subject_in_name(parts[0]) if len(parts) > 1 else None) or \
            self.cfg.subject_in_name(rel.stem)
        if subj is None:
            raise ContractError("OMRChecker results: neither the folder under scans/ nor the file name names a "
                                "subject of exam.yaml", t.name)
        t.subjects = [subj.code]
        empty = str(omr.get("empty_value") or "")
        by_label = {t.column_label(c).strip().lower(): c for c in t.body.columns if c != "source_row"}
        roll_cols = []
        for f in omr.get("exam_no_fields") or []:
            if str(f).lower() not in by_label:
                raise ContractError(f"OMRChecker results lack the exam number field {f!r} named in exam.yaml "
                                    "(omr.exam_no_fields)", t.name, t.header_row)
            roll_cols.append(by_label[str(f).lower()])
        version_field = omr.get("paper_version_field")
        version_col = by_label.get(str(version_field).lower()) if version_field else None
        used = {t.col(n) for n in aliases()["omr"]["columns"] if t.col(n)} | set(roll_cols) | {version_col}
        known, _ = self._objective_items([subj])
        prefix = re.escape(str(omr.get("item_prefix") or "q").lower())
        items = _item_columns(t, used, known, re.compile(rf"(?:{prefix})(?P<item>.+)"))
        clean = [pl.when(pl.col(c) == empty).then(None).otherwise(pl.col(c)) if empty else pl.col(c)
                 for c in roll_cols]
        exam_no = pl.concat_str([c.fill_null("") for c in clean]).replace("", None) if clean else pl.lit(None)
        stem = rel.stem.lower()
        shape = "omr_error" if stem == "errorfiles" else "omr_multi" if stem == "multimarkedfiles" else "omr"
        version = pl.col(version_col) if version_col else pl.lit(None, pl.String)
        return t.body.select(
            *_lineage(t, self.cfg.id, self.at), pl.lit(subj.code).alias("subject"), pl.lit(shape).alias("shape"),
            exam_no.cast(pl.String).alias("exam_no"), pl.col(t.col("file_id")).alias("script_id"),
            pl.lit(None, pl.String).alias("absent"), pl.lit(None, pl.String).alias("batch"),
            pl.lit(None, pl.String).alias("pages"), pl.lit(None, pl.String).alias("optional_choice"),
            version.alias("paper_version"), pl.col(t.col("input_path")).alias("image"),
            _responses(t, items, empty), _extra(t, used | set(items)))

    # -- marks -------------------------------------------------------------------------------
    def marks(self) -> Iterator[pl.DataFrame]:
        for path in _files(self.folder / "marks"):
            rel = path.relative_to(self.folder / "marks")
            t = self.table(path, ["marks_long", "marks_wide"])
            fallback = self.cfg.subject_in_name(rel.as_posix().rsplit(".", 1)[0])
            subject = _subject_of_rows(t, self.cfg, fallback)
            subjects = self._file_subjects(t, fallback)
            t.subjects = [s.code for s in subjects]
            allowed = {s.code: {i.item for i in s.items if i.type == "subjective"} for s in subjects}
            known = {_item_key(i): i for ids in allowed.values() for i in ids}
            if t.kind == "marks_long":
                yield self._marks_long(t, subject, known, allowed)
            else:
                yield self._marks_wide(t, subject, known, allowed)

    def _marks_long(self, t: Table, subject: pl.Expr, known: dict, allowed: dict) -> pl.DataFrame:
        names = list(aliases()["marks_long"]["columns"])
        used = {t.col(n) for n in names if t.col(n)}
        item_col = t.col("item")
        item_norm = (pl.col(item_col).str.replace_all("（", "(", literal=True).str.replace_all("）", ")", literal=True)
                     .str.strip_chars().str.to_lowercase())
        df = t.body.with_columns(subject.alias("__subject"), item_norm.alias("__item"))
        bad = df.filter(pl.col("__item").is_not_null() & ~pl.col("__item").is_in(list(known)))
        if bad.height:
            r = bad.row(0, named=True)
            raise ContractError(f"unknown subjective item {r[item_col]!r}", t.name, r["source_row"],
                                t.column_label(item_col))
        df = df.with_columns(pl.col("__item").replace_strict(known, default=None, return_dtype=pl.String))
        for subj, ids in allowed.items():
            wrong = df.filter((pl.col("__subject") == subj) & pl.col("__item").is_not_null()
                              & ~pl.col("__item").is_in(list(ids)))
            if wrong.height:
                r = wrong.row(0, named=True)
                raise ContractError(f"subject {subj} has no subjective item {r[item_col]!r}", t.name,
                                    r["source_row"], t.column_label(item_col))
        return df.select(
            *_lineage(t, self.cfg.id, self.at), pl.col("__subject").alias("subject"), pl.lit("long").alias("shape"),
            *[pl.col("__item").alias("item") if n == "item" else e for n, e in zip(MARK_FIELDS, _canonical(t, MARK_FIELDS))],
            _extra(t, used))

    def _marks_wide(self, t: Table, subject: pl.Expr, known: dict, allowed: dict) -> pl.DataFrame:
        used = {t.col(n) for n in ("exam_no", "subject") if t.col(n)}
        items = _item_columns(t, used, known, re.compile(r"(?:q|第|小题|题)?(?P<item>.+?)(?:题)?"))
        _check_row_items(t, subject, items, allowed)
        base = t.body.with_columns(subject.alias("__subject"))
        parts = []
        for c, item in items.items():
            parts.append(base.select(
                *_lineage(t, self.cfg.id, self.at), pl.col("__subject").alias("subject"), pl.lit("wide").alias("shape"),
                pl.col(t.col("exam_no")).alias("exam_no"), pl.lit(item).alias("item"), pl.col(c).alias("score1"),
                *[pl.lit(None, pl.String).alias(n) for n in MARK_FIELDS[3:]], _extra(t, used | set(items))))
        if not parts:
            raise ContractError("a wide marking table with no subjective item columns", t.name, t.header_row)
        return pl.concat(parts).sort("source_row", "item", maintain_order=True)

    # -- resolutions -------------------------------------------------------------------------
    def resolutions(self) -> Iterator[pl.DataFrame]:
        for path in _files(self.folder / "resolutions"):
            t = self.table(path, ["resolutions"])
            names = list(aliases()["resolutions"]["columns"])
            yield t.body.select(*_lineage(t, self.cfg.id, self.at), *_canonical(t, names))

    def parts(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """The exports after exam.yaml and the people tables, file by file, in the order checked."""
        for table, frames in (("scans", self.scans()), ("marks", self.marks()), ("resolutions", self.resolutions())):
            for frame in frames:
                yield table, frame

    def parts_read_ahead(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """`parts` with the next file read on a side thread while the caller writes the current one:
        DuckDB inserts on one core, and polars and DuckDB release the GIL. Progress is still reported
        on the caller's thread (Dagster's log handler is not thread-safe)."""
        report, messages = self.progress, deque()
        self.progress = messages.append
        parts = self.parts()
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="ingest-read") as pool:
                ahead = pool.submit(next, parts, None)
                while (part := ahead.result()) is not None:
                    while messages:
                        report(messages.popleft())
                    ahead = pool.submit(next, parts, None)
                    yield part
        finally:
            self.progress = report


LINEAGE = {"exam_id": pl.String, "source_file": pl.String, "source_row": pl.Int64, "file_sha256": pl.String,
           "ingested_at": pl.Datetime("us")}
RAW_SCHEMAS = {
    "marks": {**LINEAGE, "subject": pl.String, "shape": pl.String, **{n: pl.String for n in MARK_FIELDS},
              "extra": pl.String},
    "resolutions": {**LINEAGE, **{n: pl.String for n in aliases()["resolutions"]["columns"]}},
}


def _config_frames(cfg: ExamConfig, folder: Path, at: dt.datetime, sha: str) -> dict[str, pl.DataFrame]:
    exams = pl.DataFrame([{
        "exam_id": cfg.id, "name": cfg.name, "date": cfg.date, "grade": cfg.grade, "previous": cfg.previous,
        "folder": str(folder.resolve()), "settings": json.dumps(cfg.settings, ensure_ascii=False, default=str),
        "source_file": cfg.source_file, "file_sha256": sha, "ingested_at": at}])
    subjects = pl.DataFrame([{
        "exam_id": cfg.id, "subject": s.code, "name": s.name, "full_marks": s.full, "role": s.role, "pages": s.pages,
        "position": n, "uses_versions": s.uses_versions,
        "optional_groups": json.dumps(s.optional_groups, ensure_ascii=False)} for n, s in enumerate(cfg.subjects)],
        schema_overrides={"pages": pl.Int64})
    items = pl.DataFrame([{
        **{k: v for k, v in asdict(i).items() if k != "keys"}, "exam_id": cfg.id,
        "keys": json.dumps(i.keys) if i.keys else None, "ingested_at": at}
        for s in cfg.subjects for i in s.items],
        schema_overrides={"key": pl.String, "knowledge": pl.String, "tolerance": pl.Float64, "group": pl.Int64,
                          "source_row": pl.Int64, "keys": pl.String})
    return {"exams": exams, "subjects": subjects,
            "items": items.rename({"group": "optional_group", "full": "full_marks"})}


def read_people(folder: Path, cfg: ExamConfig, reader: FolderReader, rooms_required: bool = False) -> RawExam:
    """exam.yaml, roster, teachers and rooms: what arrangement needs before any scan exists."""
    from examflow.tables import file_sha256

    raw = RawExam(cfg, folder, files=reader.files)
    raw.frames.update(_config_frames(cfg, folder, reader.at, file_sha256((folder / cfg.source_file).read_bytes())))
    raw.frames["roster"] = reader.simple("roster", "roster", True)
    for stem in ("teachers", "rooms"):
        df = reader.simple(stem, stem, rooms_required and stem == "rooms")
        if df is not None:
            raw.frames[stem] = df
    return raw


def open_exam_folder(folder: Path, progress: Callable[[str], None] = lambda _: None) -> RawExam:
    """exam.yaml and the people tables read and checked; the other exports left to `raw.parts`, which
    raises ContractError on the first breach."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError("not an exam folder (no such directory)", str(folder))
    cfg = load_exam(folder)
    reader = FolderReader(folder, cfg, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), progress)
    raw = read_people(folder, cfg, reader)
    raw.parts = reader.parts_read_ahead()
    return raw


def files_frame(raw: RawExam) -> pl.DataFrame:
    """raw.files: every file read, once `raw.parts` is exhausted."""
    at = raw.frames["exams"]["ingested_at"][0]
    return pl.DataFrame([{"exam_id": raw.config.id, **f, "ingested_at": at} for f in raw.files],
                        schema={"exam_id": pl.String, "source_file": pl.String, "kind": pl.String, "rows": pl.Int64,
                                "file_sha256": pl.String, "ingested_at": pl.Datetime("us")})


def read_exam_folder(folder: Path, progress: Callable[[str], None] = lambda _: None) -> RawExam:
    """Read and check everything in an exam folder into frames; raise ContractError on the first breach."""
    raw = open_exam_folder(folder, progress)
    parts: dict[str, list[pl.DataFrame]] = {"scans": [], "marks": [], "resolutions": []}
    for table, frame in raw.parts:
        parts[table].append(frame)
    for table, frames in parts.items():
        raw.frames[table] = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=RAW_SCHEMAS[table])
    raw.frames["files"] = files_frame(raw)
    return raw
