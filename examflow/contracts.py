"""Data contracts: the Great Expectations suites of `data_contracts/suites/`, run on one exam's rows.

GX validates pandas frames only (engineering notes), so the exam's rows are pulled from DuckDB as
pandas, only the columns the suite names (their distinct values where that is exact: frame_query). GX is
imported lazily, by the first check, in the main thread: a warm-up thread would fight the ingest for the GIL.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

from examflow.tables import CONTRACTS

SUITES = CONTRACTS / "suites"


@dataclass
class Outcome:
    expectation: str
    column: str
    severity: str  # critical | warning | info
    success: bool
    unexpected: int | None
    sample: list


def suite_files() -> list[Path]:
    return sorted(SUITES.glob("*.json"))


@functools.cache
def load_suite(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


VALUE_RULES = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
               "expect_column_values_to_be_between"}


def frame_query(suite: dict) -> str:
    """The SELECT (one `?`: the exam id) of the rows GX validates for `suite`: the exam's rows of the
    columns the suite names. When every expectation is a value rule without `mostly`, a rule holds
    for every row exactly when it holds for every distinct value, so GX gets the distinct tuples
    (hundreds of rows instead of millions of marks), a column only checked for NULL reduced to
    NULL / not NULL."""
    expectations = suite["expectations"]
    columns = columns_of(suite)
    select, distinct = ", ".join(_quote(c) for c in columns) or "*", ""
    if columns and all(e["type"] in VALUE_RULES and "mostly" not in e["kwargs"] for e in expectations):
        rules = {c: {e["type"] for e in expectations if e["kwargs"].get("column") == c} for c in columns}
        select = ", ".join(f"CASE WHEN {_quote(c)} IS NOT NULL THEN '' END AS {_quote(c)}"
                           if rules[c] == {"expect_column_values_to_not_be_null"} else _quote(c) for c in columns)
        distinct = "DISTINCT "
    return f"SELECT {distinct}{select} FROM {suite['meta']['table']} WHERE exam_id = ?"


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def columns_of(suite: dict) -> list[str]:
    cols: list[str] = []
    for e in suite["expectations"]:
        kw = e["kwargs"]
        for c in ([kw["column"]] if "column" in kw else []) + kw.get("column_list", []):
            if c not in cols:
                cols.append(c)
    return cols


@functools.cache
def _batch_definition():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("examflow")
    return source.add_dataframe_asset("exam_rows").add_batch_definition_whole_dataframe("exam")


def validate(frame, suite: dict) -> list[Outcome]:
    """Run `suite` on a pandas frame; one outcome per expectation."""
    import great_expectations as gx

    gx_suite = gx.ExpectationSuite(**{k: v for k, v in suite.items() if k in ("name", "expectations", "meta")})
    result = _batch_definition().get_batch(batch_parameters={"dataframe": frame}).validate(gx_suite)
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        kw = cfg.kwargs
        outcomes.append(Outcome(cfg.type, kw.get("column") or ",".join(kw.get("column_list", [])),
                                cfg.severity.value, bool(r.success), r.result.get("unexpected_count"),
                                list(r.result.get("partial_unexpected_list") or [])[:5]))
    return outcomes
