"""Checks of the quantification settings (rules.md §5–§7) as exam.yaml (over school.yaml over the
defaults) gives them, so that a wrong threshold or weight stops the run before anything is written
with a message naming the file and the key, instead of printing wrong tables."""
from __future__ import annotations

import math
from numbers import Real

from examflow.errors import ContractError
from examflow.tables import alias_names

# The metrics a teacher_quant weight may name (mart.teacher_quant's indicators) and the short names
# accepted for them, and the names of tracks a cut_lines key may use: the `values:` of
# data_contracts/aliases.yaml, which staging.quant_settings and mart.cut_lines resolve too.
METRICS = tuple(dict.fromkeys(alias_names("metric").values()))
METRIC_ALIASES = {a: m for a, m in alias_names("metric").items() if a != m}
THRESHOLDS = ("excellent", "good", "pass", "low")
THREE_RATES = ("mean", "pass", "excellent", "low")
TRACK_KEYS = set(alias_names("track"))


def _is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(float(v))


def _fail(message: str, source: str, key: str) -> None:
    raise ContractError(message, source, column=key)


def check_settings(settings: dict, source: str) -> None:
    """Raise ContractError (naming `source` and the setting's key) when a quantification setting is
    malformed: thresholds, three_rates_weights, rank_bands, cut_lines, borderline_band,
    teacher_quant, the conversion band table, double_mark_tolerance."""
    s = settings or {}
    _thresholds(s.get("thresholds"), source)
    _three_rates(s.get("three_rates_weights"), source)
    _rank_bands(s.get("rank_bands"), source)
    _non_negative(s.get("borderline_band"), "borderline_band", source)
    _non_negative(s.get("double_mark_tolerance"), "double_mark_tolerance", source)
    _cut_lines(s.get("cut_lines"), source)
    _teacher_quant(s.get("teacher_quant"), source)
    _conversion(s.get("conversion"), source)


def _mapping(value, key: str, source: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(f"{key} must be a mapping, got {value!r}", source, key)
    return value


def _thresholds(value, source: str) -> None:
    t = _mapping(value, "thresholds", source)
    for k, v in t.items():
        if k not in THRESHOLDS:
            _fail(f"thresholds.{k} is not a threshold (use {', '.join(THRESHOLDS)})", source, f"thresholds.{k}")
        if not _is_number(v) or not 0 <= v <= 1:
            _fail(f"thresholds.{k} must be a fraction of full marks in [0, 1], got {v!r}", source, f"thresholds.{k}")
    given = [(k, t[k]) for k in THRESHOLDS if k in t]
    for (k1, v1), (k2, v2) in zip(given, given[1:]):
        if v1 < v2:
            _fail(f"thresholds must be ordered excellent ≥ good ≥ pass ≥ low, but {k1} = {v1} < {k2} = {v2}",
                  source, f"thresholds.{k2}")


def _three_rates(value, source: str) -> None:
    w = _mapping(value, "three_rates_weights", source)
    for k, v in w.items():
        if k not in THREE_RATES:
            _fail(f"three_rates_weights.{k} is not a weight of 三率一分 (use {', '.join(THREE_RATES)})", source,
                  f"three_rates_weights.{k}")
        if not _is_number(v):
            _fail(f"three_rates_weights.{k} must be a number, got {v!r}", source, f"three_rates_weights.{k}")


def _rank_bands(value, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        _fail(f"rank_bands must be a list of positive whole numbers (10, 20, 50, …), got {value!r}", source,
              "rank_bands")
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            _fail(f"rank_bands[{i}] must be a positive whole number, got {v!r}", source, f"rank_bands[{i}]")
    if len(set(value)) != len(value):
        _fail(f"rank_bands lists a band twice: {value}", source, "rank_bands")


def _non_negative(value, key: str, source: str) -> None:
    if value is not None and (not _is_number(value) or value < 0):
        _fail(f"{key} must be a non-negative number, got {value!r}", source, key)


def _cut_lines(value, source: str) -> None:
    if value is None:
        return
    if isinstance(value, list):
        groups = {"": value}
    elif isinstance(value, dict):
        groups = value
        for track in value:
            if str(track).strip().lower() not in TRACK_KEYS:
                _fail(f"cut_lines.{track}: not a track (use physics, history or all)", source, f"cut_lines.{track}")
    else:
        _fail("cut_lines must map a track (physics / history / all) to a list of lines, or be one list of "
              f"lines, got {value!r}", source, "cut_lines")
    for track, lines in groups.items():
        where = f"cut_lines.{track}" if track else "cut_lines"
        if not isinstance(lines, list):
            _fail(f"{where} must be a list of lines ({{name: 一本线, top: 120}} or {{name: …, score: 520}})",
                  source, where)
        names = set()
        for i, line in enumerate(lines):
            key = f"{where}[{i}]"
            if not isinstance(line, dict):
                _fail(f"{key} must be a mapping with name and top or score, got {line!r}", source, key)
            name = line.get("name")
            if not isinstance(name, str) or not name.strip():
                _fail(f"{key} has no name", source, f"{key}.name")
            if name in names:
                _fail(f"{where} names the line {name!r} twice", source, f"{key}.name")
            names.add(name)
            unknown = set(line) - {"name", "top", "score", "band"}
            if unknown:
                _fail(f"{key} ({name}): unknown keys {sorted(unknown)} (a line has name, top or score, and "
                      "optionally band)", source, key)
            has_top, has_score = "top" in line, "score" in line
            if has_top == has_score:
                _fail(f"{key} ({name}) must give exactly one of top (the N-th student's total) or score",
                      source, key)
            if has_top and (isinstance(line["top"], bool) or not isinstance(line["top"], int) or line["top"] <= 0):
                _fail(f"{key}.top ({name}) must be a positive whole number, got {line['top']!r}", source, f"{key}.top")
            if has_score and (not _is_number(line["score"]) or line["score"] < 0):
                _fail(f"{key}.score ({name}) must be a non-negative number, got {line['score']!r}", source,
                      f"{key}.score")
            if "band" in line:
                _non_negative(line["band"], f"{key}.band", source)


def _teacher_quant(value, source: str) -> None:
    tq = _mapping(value, "teacher_quant", source)
    for k in tq:
        if k not in ("weights", "relative"):
            _fail(f"teacher_quant.{k} is not a setting (use weights, relative)", source, f"teacher_quant.{k}")
    rel = tq.get("relative")
    if rel is not None and not isinstance(rel, bool):
        _fail(f"teacher_quant.relative must be true or false, got {rel!r}", source, "teacher_quant.relative")
    weights = tq.get("weights")
    if weights is None:
        return
    if not isinstance(weights, dict):
        _fail(f"teacher_quant.weights must map metric names to numbers, got {weights!r}", source,
              "teacher_quant.weights")
    for k, v in weights.items():
        key = f"teacher_quant.weights.{k}"
        name = str(k).strip().lower()
        if name not in METRICS and name not in METRIC_ALIASES:
            _fail(f"{key}: unknown metric {k!r} (use {', '.join(list(METRICS) + list(METRIC_ALIASES))})", source,
                  key)
        if not _is_number(v):
            _fail(f"{key} must be a number, got {v!r}", source, key)


def _conversion(value, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not value:
        _fail("conversion must be a non-empty list of bands {band, share, low, high}", source, "conversion")
    total = 0.0
    names = set()
    for i, b in enumerate(value):
        key = f"conversion[{i}]"
        if not isinstance(b, dict):
            _fail(f"{key} must be a mapping with band, share, low, high, got {b!r}", source, key)
        for k in ("band", "share", "low", "high"):
            if k not in b:
                _fail(f"{key} has no {k}", source, f"{key}.{k}")
        if str(b["band"]) in names:
            _fail(f"conversion names band {b['band']!r} twice", source, f"{key}.band")
        names.add(str(b["band"]))
        if not _is_number(b["share"]) or not 0 < b["share"] <= 1:
            _fail(f"{key}.share must be a fraction in (0, 1], got {b['share']!r}", source, f"{key}.share")
        for k in ("low", "high"):
            if not _is_number(b[k]):
                _fail(f"{key}.{k} must be a number, got {b[k]!r}", source, f"{key}.{k}")
        if b["low"] > b["high"]:
            _fail(f"{key}: low {b['low']} is above high {b['high']}", source, f"{key}.low")
        total += float(b["share"])
    if abs(total - 1) > 1e-6:
        _fail(f"the shares of the conversion bands add up to {total:g}, not 1", source, "conversion")
