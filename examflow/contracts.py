"""Data contracts: the Great Expectations suites of `data_contracts/suites/`, run on one exam's rows.

GX validates pandas frames only (engineering notes), so the exam's rows are pulled from DuckDB as
pandas, only the columns the suite names (their distinct values where that is exact: frame_query).
Importing GX costs seconds of CPU (2.5 s idle, ~8 s on a loaded machine: the largest fixed cost of a
run). A run starts it in a worker process at once (start_worker), so the import goes on beside
Dagster's own start-up and the ingest, on the other core; the checks then hand it their frames. A
warm-up thread would fight the ingest for the GIL. Without a worker (tests, a direct call), GX is
imported by the first check, in this process.
"""
from __future__ import annotations

import atexit
import functools
import json
import os
import pickle
import subprocess
import sys
import threading
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


_worker: tuple | None = None  # (process, its input, its output) once started


def start_worker() -> None:
    """Start the process that imports GX and validates the checks' frames (once per process). The
    same suites and expectations run there; only where GX's import is paid changes. A plain `python
    -c` (not multiprocessing's spawn, which would first re-import this program's main module: ~1 s
    of CPU), talking pickles over two pipes of its own (GX may print to stdout); stopped at exit."""
    global _worker
    if _worker is not None or os.name != "posix":  # inherited pipe descriptors (pass_fds) are POSIX only
        return
    from_parent, to_child = os.pipe()
    from_child, to_parent = os.pipe()
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false",
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    process = subprocess.Popen(
        [sys.executable, "-c", f"from examflow.contracts import serve; serve({from_parent}, {to_parent})"],
        pass_fds=(from_parent, to_parent), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
    os.close(from_parent)
    os.close(to_parent)
    _worker = (process, os.fdopen(to_child, "wb"), os.fdopen(from_child, "rb"))
    atexit.register(_stop_worker)


def _stop_worker() -> None:
    """At exit: GX's own teardown takes seconds and nothing is left to do there."""
    global _worker
    if _worker is not None:
        process, send, receive = _worker
        _worker = None
        send.close()
        receive.close()
        process.kill()
        process.wait()


def serve(receive_fd: int, send_fd: int) -> None:
    """The worker: import GX, then validate each (frame, suite) received until the pipe closes."""
    from tqdm import tqdm

    # GX's (silent) progress bars take tqdm's lock, by default a multiprocessing lock (a named
    # semaphore and a resource-tracker process); one thread needs a thread lock
    tqdm.set_lock(threading.RLock())
    _batch_definition()
    with os.fdopen(receive_fd, "rb") as receive, os.fdopen(send_fd, "wb") as send:
        while True:
            try:
                frame, suite = pickle.load(receive)
            except EOFError:
                return
            try:
                answer = (True, validate_here(frame, suite))
            except Exception as e:  # the check reports it as it would in process
                answer = (False, e)
            pickle.dump(answer, send)
            send.flush()


def validate(frame, suite: dict) -> list[Outcome]:
    """Run `suite` on a pandas frame; one outcome per expectation. In the worker when one was started
    (start_worker); here when there is none, or when it died."""
    if _worker is not None:
        _, send, receive = _worker
        try:
            pickle.dump((frame, suite), send)
            send.flush()
            ok, value = pickle.load(receive)
        except (EOFError, OSError, pickle.PickleError):
            _stop_worker()
        else:
            if ok:
                return value
            raise value
    return validate_here(frame, suite)


def validate_here(frame, suite: dict) -> list[Outcome]:
    """`validate` in this process."""
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
