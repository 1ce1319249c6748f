"""The exam partitions, as the assets define them (assets/partitions.py), for sensors and schedules."""
from assets.partitions import exam_partitions

__all__ = ["exam_partitions"]
