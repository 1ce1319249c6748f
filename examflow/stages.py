"""The SQL models, what each reads, and the order they run in.

Each model's upstream tables are read from its SQL by DuckDB's own parser (`json_serialize_sql`):
every `schema.table` it selects from, and an ephemeral model by its bare name. Nothing is listed by
hand but the mart tables themselves: `data_contracts/mart.yaml` gives each its stage (one Dagster
step and one transaction). A stage runs its mart models and every staging model they need that an
earlier stage has not run, in an order computed from those reads (topological; ties by name).

A model is a table by default: running it replaces the exam's rows. Two others, in dbt's terms:
- EPHEMERAL: a temp view (named after the table) that the later models of the same stage read and
  nothing stores; for joins cheaper to repeat than to write (item rows: 8 M per 50,000 students);
- VIEWS: a view over every exam's rows (its SQL does not filter by exam), for a mart table that is a
  projection of a staging one: the same rows without a second copy.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import duckdb

from examflow import yamlfile
from examflow.tables import CONTRACTS

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MODEL_SCHEMAS = ("staging", "mart")
STAGES = ("validate", "score", "quantify", "arrange")

EPHEMERAL = {"staging/item_results", "staging/unit_quant"}
VIEWS = {"mart/item_scores"}


@functools.cache
def mart_contract() -> dict:
    """`data_contracts/mart.yaml`: shared column descriptions and, per mart table, its stage,
    description and columns."""
    return yamlfile.read(CONTRACTS / "mart.yaml")


def models() -> list[str]:
    """Every model, 'schema/table', from the files under sql/staging and sql/mart."""
    return sorted(f"{p.parent.name}/{p.stem}" for schema in MODEL_SCHEMAS for p in (SQL_DIR / schema).glob("*.sql"))


def _table_refs(node, out: set[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            out.add((node.get("schema_name") or "", node["table_name"]))
        for value in node.values():
            _table_refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _table_refs(value, out)


@functools.cache
def reads() -> dict[str, frozenset[str]]:
    """Model -> the tables its SQL reads, as 'schema/table' (raw tables and loaded ones such as
    staging/abnormal_codes included; CTE names and frames registered on the connection left out)."""
    ephemeral = {m.split("/")[1]: m for m in EPHEMERAL}
    out = {}
    with duckdb.connect() as con:
        for model in models():
            sql = (SQL_DIR / f"{model}.sql").read_text(encoding="utf-8").strip().rstrip(";")
            tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
            if tree.get("error"):
                raise ValueError(f"sql/{model}.sql does not parse: {tree.get('error_message')}")
            refs: set[tuple[str, str]] = set()
            _table_refs(tree["statements"], refs)
            out[model] = frozenset(f"{s}/{t}" if s else ephemeral[t] for s, t in refs if s or t in ephemeral)
    return out


def run_order(wanted: set[str] | list[str], graph: dict[str, frozenset[str]] | None = None) -> list[str]:
    """`wanted` models in an order where each runs after the models it reads (`graph`, by default the
    parsed `reads()`; reads outside `wanted` are taken as done); ties by name. A cycle is an error."""
    wanted = set(wanted)
    graph = reads() if graph is None else graph
    needs = {m: set(graph[m]) & wanted for m in wanted}
    order: list[str] = []
    while needs:
        ready = sorted(m for m, n in needs.items() if not n)
        if not ready:
            raise ValueError(f"the models {', '.join(sorted(needs))} read each other in a cycle")
        for m in ready:
            order.append(m)
            del needs[m]
        for n in needs.values():
            n.difference_update(ready)
    return order


def stage_of_mart() -> dict[str, str]:
    """Mart model -> its stage, as data_contracts/mart.yaml gives it."""
    return {f"mart/{t}": spec["stage"] for t, spec in mart_contract()["tables"].items()}


@functools.cache
def stage_models() -> dict[str, list[str]]:
    """Stage -> the models it runs, in run order: its mart models and the staging models they need
    that no earlier stage runs. A mart table that reads a later stage's mart table is an error."""
    stage_of = stage_of_mart()
    unknown = sorted(m for m in models() if m.startswith("mart/") and m not in stage_of)
    if unknown:
        raise ValueError(f"data_contracts/mart.yaml has no entry for {', '.join(unknown)}")
    done: set[str] = set()
    out = {}
    for stage in STAGES:
        wanted: set[str] = set()
        todo = [m for m, s in stage_of.items() if s == stage]
        while todo:
            m = todo.pop()
            if m in wanted or m in done:
                continue
            if m.startswith("mart/") and stage_of[m] != stage:
                raise ValueError(f"{m} (stage {stage_of[m]}) is read by the {stage} stage, which runs before it")
            wanted.add(m)
            todo += [r for r in reads()[m] if r in reads()]
        out[stage] = run_order(wanted)
        done |= wanted
    return out


def upstream_tables(model: str) -> set[str]:
    """The stored tables a model is built from, as the pipeline's lineage shows them: raw tables and
    mart tables it reads. A staging model run in the same stage (or ephemeral) is followed to what
    it reads; one run by an earlier stage stands for that stage's mart tables built from it, so the
    stages run in their order."""
    stage_of, by_stage = stage_of_mart(), stage_models()
    stage_model = {m: s for s, ms in by_stage.items() for m in ms}
    own = stage_model.get(model)

    def follow(m: str, seen: set[str]) -> set[str]:
        out: set[str] = set()
        for r in reads()[m]:
            if r in seen:
                continue
            seen.add(r)
            if r.startswith("raw/") or r in stage_of:
                out.add(r)
            elif r in reads() and (stage_model.get(r) == own or r in EPHEMERAL):
                out |= follow(r, seen)
            elif r in reads():
                built = {t for t in by_stage[stage_model[r]] if t in stage_of and r in _closure(t)}
                out |= built or follow(r, seen)
        return out

    return follow(model, {model})


@functools.cache
def _closure(model: str) -> frozenset[str]:
    """Every model `model` reads, directly or through other models."""
    out: set[str] = set()
    todo = [r for r in reads()[model] if r in reads()]
    while todo:
        m = todo.pop()
        if m not in out:
            out.add(m)
            todo += [r for r in reads()[m] if r in reads()]
    return frozenset(out)


def __getattr__(name: str) -> list[str]:
    """VALIDATE, SCORE, QUANTIFY, ARRANGE: each stage's models in run order."""
    if name.lower() in STAGES:
        return stage_models()[name.lower()]
    raise AttributeError(name)
