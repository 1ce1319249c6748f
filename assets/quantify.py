"""Stage 4, quantify: class, cut-line, teacher, marker, item and knowledge-point quantification tables
(rules.md §6–§8), as SQL models over the score stage's tables."""

from assets._stage import stage_asset

quantify = stage_asset("quantify")
