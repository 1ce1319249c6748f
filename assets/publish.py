"""Last stage: publish the analysts' read-only copy once the exam's tables are all written."""
import dagster as dg

from assets._stage import mart_tables
from assets.partitions import exam_partitions
from assets.resources import WAREHOUSE_POOL, WarehouseResource
from examflow.publish import publish


@dg.asset(key="analyst_copy", group_name="publish", partitions_def=exam_partitions, kinds={"duckdb"},
          pool=WAREHOUSE_POOL,
          deps=[dg.AssetKey(["mart", "exams"])] + [dg.AssetKey(["mart", n]) for n in mart_tables("quantify")],
          description="The warehouse copy analysts query (`examflow sql`), swapped in atomically after a run.")
def analyst_copy(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.retry_when_busy():
        path = publish(warehouse.path, wait=warehouse.lock_timeout)
    return dg.MaterializeResult(metadata={"path": str(path), "bytes": path.stat().st_size})
