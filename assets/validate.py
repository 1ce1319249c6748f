"""Stage 2, validate: every abnormal script of rules.md §3, with the office's settlements applied."""

from assets._stage import stage_asset

validate = stage_asset("validate")
