"""What every stage asset does: run its SQL models for the exam partition and report, per mart
table, the rows written and a preview (the metadata the Dagster UI shows)."""

import logging
import time
from typing import Iterator

import dagster as dg

from assets.partitions import exam_partitions
from assets.resources import WAREHOUSE_POOL, WarehouseResource
from examflow import stages
from examflow.warehouse import ensure_schema, run_models

log = logging.getLogger("examflow")


def report(context: dg.AssetExecutionContext, message: str) -> None:
    """One progress line, to the Dagster UI and to the `examflow` CLI."""
    context.log.info(message)
    log.info(message)


def markdown_preview(con, table: str, exam_id: str, limit: int = 5) -> str:
    frame = con.sql(f"SELECT * EXCLUDE (exam_id) FROM {table} WHERE exam_id = ? LIMIT {limit}", params=[exam_id]).pl()
    if frame.is_empty():
        return "_no rows_"
    cols = frame.columns[:12]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row[:12]) + " |" for row in frame.rows()]
    return "\n".join(lines)


def abnormal_metadata(con, exam_id: str) -> dict:
    """The exam's abnormal scripts by code and its open blocking count, shown on every asset."""
    rows = con.execute("SELECT code, count(*), count(*) FILTER (WHERE status = 'open' AND severity = 'blocking') "
                       "FROM mart.abnormal_scripts WHERE exam_id = ? GROUP BY code ORDER BY code", [exam_id]).fetchall()
    return {"open_blocking": dg.MetadataValue.int(sum(r[2] for r in rows)),
            "abnormal_by_code": dg.MetadataValue.json({code: n for code, n, _ in rows})}


def run_stage(context: dg.AssetExecutionContext, wh, models: list[str]) -> Iterator[dg.MaterializeResult]:
    """Materialise `models` for the partition's exam in one transaction; one result per selected mart
    table. A stage's models depend on each other, so a subset selection still recomputes them all."""
    exam_id = context.partition_key
    started = time.perf_counter()
    with wh.connect() as con:
        ensure_schema(con)
        counts = run_models(con, exam_id, models)
        seconds = round(time.perf_counter() - started, 3)
        shared = abnormal_metadata(con, exam_id)
        selected = context.selected_asset_keys
        for key in [dg.AssetKey(m.split("/")) for m in models if dg.AssetKey(m.split("/")) in selected]:
            table = "mart." + key.path[-1]  # in run order: Dagster wants a step's assets after their deps
            yield dg.MaterializeResult(asset_key=key, metadata={
                "rows": dg.MetadataValue.int(counts.get(table, 0)), "seconds": seconds,
                "preview": dg.MetadataValue.md(markdown_preview(con, table, exam_id)), **shared})
    report(context, f"{exam_id}: {context.op_def.name} done in {seconds:.1f}s ("
           + ", ".join(f"{t} {n}" for t, n in counts.items() if t.startswith("mart.")) + ")")


def asset_key(table: str) -> dg.AssetKey:
    """The asset of a stored table: a mart table is its own asset; every raw table comes from the
    ingest asset raw/exam_files."""
    return dg.AssetKey(["raw", "exam_files"] if table.startswith("raw/") else table.split("/"))


def mart_tables(stage: str) -> list[str]:
    """The mart tables of a stage, as data_contracts/mart.yaml lists them."""
    return [t for t, spec in stages.mart_contract()["tables"].items() if spec["stage"] == stage]


def mart_specs(stage: str) -> list[dg.AssetSpec]:
    """One asset per mart table of the stage, described as data_contracts/mart.yaml describes it,
    depending on the tables its SQL is built from (examflow.stages.upstream_tables)."""
    tables = stages.mart_contract()["tables"]
    return [dg.AssetSpec(["mart", t], group_name=stage, partitions_def=exam_partitions, kinds={"duckdb"},
                         description=tables[t]["description"], skippable=True,
                         deps=sorted({asset_key(u) for u in stages.upstream_tables(f"mart/{t}")},
                                     key=lambda k: k.to_user_string()))
            for t in mart_tables(stage)]


def stage_asset(stage: str) -> dg.AssetsDefinition:
    """One SQL stage as one Dagster step and one transaction: an asset per mart table of the stage,
    materialised by running the stage's models (examflow.stages) for the partition's exam."""
    @dg.multi_asset(specs=mart_specs(stage), name=stage, partitions_def=exam_partitions, can_subset=True,
                    pool=WAREHOUSE_POOL)
    def _stage(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        yield from run_stage(context, warehouse, stages.stage_models()[stage])

    return _stage
