"""The DuckDB warehouse: connections that always close, the raw layer written in one transaction,
and the layered SQL models of `sql/` materialised per exam.

A model file `sql/<schema>/<table>.sql` is one SELECT for one exam (it reads
`getvariable('exam_id')`); running it replaces that exam's rows of `<schema>.<table>` and nothing else.
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import polars as pl

from examflow import settings, yamlfile
from examflow.config import DEFAULTS
from examflow.errors import WarehouseBusy
from examflow.ingest import RawExam
from examflow.stages import EPHEMERAL, SQL_DIR, VIEWS, mart_contract
from examflow.tables import CONTRACTS, value_aliases

SCHEMAS = ("raw", "staging", "mart", "audit")
log = logging.getLogger("examflow")
RAW_TABLES = ("exams", "subjects", "items", "roster", "teachers", "rooms", "scans", "marks", "resolutions", "files")


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False, wait: float | None = None,
            on_wait: Callable[[str], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection closed on every exit path, so a failed step never keeps the file locked. While
    another process holds the file (DuckDB: one writing process per file), it waits up to `wait`
    seconds (default EXAMFLOW_LOCK_TIMEOUT), saying so once through `on_wait` (default: the examflow
    logger), then raises WarehouseBusy."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    con = _open(path, read_only, settings.lock_timeout() if wait is None else wait, on_wait or log.warning)
    try:
        if created:
            os.chmod(path, 0o600)
        yield con
    finally:
        con.close()


def is_lock_error(e: BaseException) -> bool:
    """DuckDB's refusal because another process holds the file."""
    text = str(e).lower()
    return isinstance(e, (duckdb.IOException, duckdb.ConnectionException)) and (
        "lock" in text or "conflict" in text or "being used" in text)


def _open(path: Path, read_only: bool, wait: float, on_wait: Callable[[str], None]) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    delay, said = 0.05, False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": settings.memory_limit()})
        except duckdb.Error as e:
            if not is_lock_error(e):
                raise
            found = re.search(r"PID (\d+)", str(e))
            holder = f"process {found.group(1)}" if found else None
            left = deadline - time.monotonic()
            if left <= 0:
                raise WarehouseBusy(path, wait, holder) from e
            if not said:
                on_wait(f"waiting for the warehouse {path}: {holder or 'another process'} is using it "
                        f"(up to {wait:g}s, EXAMFLOW_LOCK_TIMEOUT)")
                said = True
            time.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table in RAW_TABLES:
        con.execute((SQL_DIR / "raw" / f"{table}.sql").read_text(encoding="utf-8"))
    audit = SQL_DIR / "audit"
    for ddl in sorted(audit.glob("*.sql")) if audit.exists() else []:
        con.execute(ddl.read_text(encoding="utf-8"))
    codes = pl.DataFrame(abnormal_codes())
    con.execute("CREATE OR REPLACE TABLE staging.abnormal_codes AS SELECT * FROM codes")


def load_aliases(con: duckdb.DuckDBPyConnection) -> None:
    """staging.aliases: `data_contracts/aliases.yaml`'s `values:` (tracks, subjects, metrics, roles),
    the one list the models join to read a value written in several ways."""
    aliases = pl.DataFrame(list(value_aliases()), schema={"kind": pl.String, "alias": pl.String, "value": pl.String,
                                                         "contains": pl.Boolean, "priority": pl.Int32})
    con.execute("CREATE OR REPLACE TABLE staging.aliases AS SELECT * FROM aliases")


def prepare(con: duckdb.DuckDBPyConnection, exam_id: str | None = None) -> None:
    """What every model may use on this connection: staging.aliases, the macros of `sql/macros.sql`
    and `sql/aliases.sql`, the setting defaults (`config.DEFAULTS`, as the JSON variable
    `setting_defaults` the `setting()` macro falls back to) and, when given, the exam the models run for."""
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    load_aliases(con)
    con.execute("SET VARIABLE setting_defaults = ?::JSON", [json.dumps(DEFAULTS)])
    if exam_id is not None:
        con.execute("SET VARIABLE exam_id = ?", [exam_id])
    for macros in ("macros.sql", "aliases.sql"):
        con.execute((SQL_DIR / macros).read_text(encoding="utf-8"))


@functools.cache
def abnormal_codes() -> list[dict]:
    """rules.md §3's codes as `data_contracts/abnormal_codes.yaml` states them."""
    return yamlfile.read(CONTRACTS / "abnormal_codes.yaml")


def write_raw(con: duckdb.DuckDBPyConnection, raw: RawExam) -> dict[str, int]:
    """Replace the exam's raw rows with the folder's, all or nothing: `raw.parts` is read file by file
    inside the transaction (a ContractError on any file rolls the exam back). Each frame goes in as
    one INSERT fed a stream of Arrow slices: strings leave polars as views, not copies, and the
    lineage constants (exam, file, hash) are materialised a slice at a time, never for a whole file."""
    import pyarrow as pa

    from examflow.ingest import files_frame

    arrow = functools.partial(pl.DataFrame.to_arrow, compat_level=pl.CompatLevel.newest())

    def insert(table: str, frame: pl.DataFrame) -> None:
        counts[table] += frame.height
        if not frame.height:
            return
        batches = (b for part in frame.iter_slices(1 << 16) for b in arrow(part).to_batches())
        con.register("frame", pa.RecordBatchReader.from_batches(arrow(frame.head(0)).schema, batches))
        select = "* REPLACE (map_from_entries(responses) AS responses)" if table == "scans" else "*"
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT {select} FROM frame")
        con.unregister("frame")

    counts = dict.fromkeys(RAW_TABLES, 0)
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_schema(con)
        for table in RAW_TABLES:
            con.execute(f"DELETE FROM raw.{table} WHERE exam_id = ?", [raw.config.id])
        for table, frame in raw.frames.items():
            if table != "files":
                insert(table, frame)
        for table, frame in raw.parts:
            insert(table, frame)
        insert("files", files_frame(raw))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query, with the result read to its end (DuckDB 2.0 results stream, and an
    unfinished one blocks the connection)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def model_sql(model: str) -> str:
    return (SQL_DIR / f"{model}.sql").read_text(encoding="utf-8")


def run_models(con: duckdb.DuckDBPyConnection, exam_id: str, models: list[str]) -> dict[str, int]:
    """Materialise `models` ('staging/scripts', 'mart/totals', ...) for one exam in one transaction."""
    counts = {}
    prepare(con, exam_id)
    con.execute("BEGIN TRANSACTION")
    try:
        # CREATE and DESCRIBE each plan the model's query again (~5 % of a stage at S): an existing
        # table only needs the columns a model gained (DESCRIBE), a new one gets them all (CREATE)
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
        for model in models:
            schema, table = model.split("/")
            query = model_sql(model).strip().rstrip(";")
            target = f"{schema}.{table}"
            if model in EPHEMERAL:
                con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {query}")
                continue
            if model in VIEWS:
                _create_view(con, schema, table, query)
            else:
                if target in tables:
                    _add_new_columns(con, target, query)
                else:
                    con.execute(f"CREATE TABLE {target} AS SELECT * FROM ({query}) WHERE false")
                con.execute(f"DELETE FROM {target} WHERE exam_id = ?", [exam_id])
                con.execute(f"INSERT INTO {target} BY NAME {query}")
            if schema == "mart":
                describe(con, table, view=model in VIEWS)
            counts[target] = one(con, f"SELECT count(*) FROM {target} WHERE exam_id = ?", [exam_id])[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def describe(con: duckdb.DuckDBPyConnection, table: str, view: bool = False) -> None:
    """The descriptions of `data_contracts/mart.yaml` as the comments of mart.<table> and its columns
    (what duckdb_tables() / duckdb_views() / duckdb_columns() show analysts); only those that differ
    are written."""
    contract = mart_contract()
    spec = contract["tables"][table]
    kind, catalog = ("VIEW", "duckdb_views()") if view else ("TABLE", "duckdb_tables()")
    name = "view_name" if view else "table_name"
    have = one(con, f"SELECT comment FROM {catalog} WHERE schema_name = 'mart' AND {name} = ?", [table])
    if have and have[0] != spec["description"]:
        con.execute(f"COMMENT ON {kind} mart.{table} IS {_literal(spec['description'])}")
    for column, comment in con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'mart' "
                                       "AND table_name = ?", [table]).fetchall():
        text = spec.get("columns", {}).get(column) or contract["columns"].get(column)
        if text and text != comment:
            con.execute(f'COMMENT ON COLUMN mart.{table}."{column}" IS {_literal(text)}')


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _create_view(con: duckdb.DuckDBPyConnection, schema: str, table: str, query: str) -> None:
    """A view model; a warehouse from before it was a view holds a table of that name, dropped first."""
    if one(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table])[0]:
        con.execute(f"DROP TABLE {schema}.{table}")
    con.execute(f"CREATE OR REPLACE VIEW {schema}.{table} AS {query}")


def _add_new_columns(con: duckdb.DuckDBPyConnection, target: str, query: str) -> None:
    """A model that gained a column extends its table instead of failing on older warehouses."""
    have = {r[0] for r in con.execute(f"DESCRIBE {target}").fetchall()}
    for name, dtype, *_ in con.execute(f"DESCRIBE ({query})").fetchall():
        if name not in have:
            con.execute(f'ALTER TABLE {target} ADD COLUMN "{name}" {dtype}')
