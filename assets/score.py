"""Stage 3, score: item, subject and total scores, 赋分, ranks, and the reconciliation of scripts."""

from assets._stage import stage_asset

score = stage_asset("score")
