"""Every asset is partitioned by exam: one dynamic partition per exam id."""
import dagster as dg

exam_partitions = dg.DynamicPartitionsDefinition(name="exam")
