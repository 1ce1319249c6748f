"""Data contracts as Dagster asset checks, one per suite in `data_contracts/suites/`: a suite with
critical expectations is a blocking check (a failure stops downstream assets), warnings are not."""
import dagster as dg

from assets.resources import WAREHOUSE_POOL, WarehouseResource
from examflow import contracts


def _check_for(path) -> dg.AssetChecksDefinition:
    suite = contracts.load_suite(path)
    meta = suite["meta"]
    blocking = any(e.get("severity", "critical") == "critical" for e in suite["expectations"])
    query = contracts.frame_query(suite)

    @dg.asset_check(asset=dg.AssetKey(meta["asset"]), name=suite["name"], blocking=blocking, pool=WAREHOUSE_POOL,
                    description=f"{meta['table']}: {meta['about']}")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        exam_id = context.op_execution_context.partition_key
        with warehouse.connect(read_only=False) as con:
            frame = con.sql(query, params=[exam_id]).df()
        outcomes = contracts.validate(frame, suite)
        failed = [o for o in outcomes if not o.success]
        critical = [o for o in failed if o.severity == "critical"]
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows validated": len(frame),
                "failed": dg.MetadataValue.md("\n".join(
                    f"- **{o.severity}** {o.expectation}({o.column}): {o.unexpected} unexpected, e.g. {o.sample}"
                    for o in failed) or "none"),
            },
        )

    return _check


CONTRACT_CHECKS = [_check_for(p) for p in contracts.suite_files()]
