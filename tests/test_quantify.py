"""Quantification tables (rules.md §6–§8) on the spec's tiny example (EXPECTED.md), every table
present and sane for exams without tracks, lines, teachers or previous, and the settings checks."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest

from examflow import stages
from examflow.errors import ContractError
from examflow.settings_check import METRIC_ALIASES, METRICS, check_settings
from tests.builders import mini_exam, write_yaml
from tests.conftest import copy_fixture, query, query_dicts, run

EXAM = "tiny-2026-11"
QUANT_TABLES = [m.split("/")[1] for m in stages.QUANTIFY if m.startswith("mart/")]
# the key of every table (outputs.md), which must hold exactly one row per exam
KEYS = {
    "class_quant": ["class_id", "subject", "track"],
    "rank_bands": ["class_id", "track", "top"],
    "cut_lines": ["track", "line"],
    "line_analysis": ["class_id", "subject", "line", "track"],
    "borderline": ["student_id", "line"],
    "teacher_quant": ["teacher_id", "class_id", "subject"],
    "quant_formula": [],
    "marker_quality": ["marker", "subject", "item"],
    "item_analysis": ["subject", "item"],
    "item_options": ["subject", "item", "paper_version", "option"],
    "class_items": ["class_id", "subject", "item"],
    "subject_reliability": ["subject"],
    "knowledge": ["class_id", "subject", "knowledge"],
    "school_quant": ["school", "subject", "track"],
    "school_lines": ["school", "line", "track"],
}
RATES = {
    "class_quant": ["excellent_rate", "good_rate", "pass_rate", "low_rate"],
    "school_quant": ["excellent_rate", "good_rate", "pass_rate", "low_rate"],
    "school_lines": ["over_rate"],
    "line_analysis": ["hit_rate", "contribution_rate"],
    "teacher_quant": ["excellent_rate", "good_rate", "pass_rate", "low_rate", "hit_rate", "contribution_rate"],
    "marker_quality": ["disagreement_rate"],
    "item_analysis": ["difficulty", "full_rate", "zero_rate"],
    "item_options": ["share"],
    "class_items": ["difficulty"],
    "knowledge": ["score_rate"],
}


# -- the tiny example (EXPECTED.md) ----------------------------------------------------------------
@pytest.mark.parametrize("cls,expected", [
    ("1", dict(n_enrolled=3, n_sat=3, n_absent=0, mean=12.8333, sd=4.8705, median=11, max=19.5, min=8,
               excellent_rate=0.3333, good_rate=0.3333, pass_rate=0.3333, low_rate=0, mean_diff=0.3333,
               mean_ratio=1.02667, rank_by_mean=1)),
    ("2", dict(n_enrolled=3, n_sat=2, n_absent=1, mean=12, sd=3, median=12, max=15, min=9, excellent_rate=0,
               good_rate=0.5, pass_rate=0.5, low_rate=0, mean_diff=-0.5, mean_ratio=0.96, rank_by_mean=2)),
])
def test_tiny_class_quant_math(tiny_wh, cls, expected):
    row = query_dicts(tiny_wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND class_id = ? AND subject = 'math'",
                      [EXAM, cls])
    assert len(row) == 1 and row[0]["track"] == "physics"
    for col, value in expected.items():
        assert row[0][col] == pytest.approx(value, abs=1e-4), col


def test_tiny_three_rates_and_cohort(tiny_wh):
    # class 1: 0.4 × 64.1667 + 0.4 × 33.3333 + 0.2 × 33.3333 = 45.6667; cohort mean 12.5
    row = query_dicts(tiny_wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND class_id = '1' "
                               "AND subject = 'math'", [EXAM])[0]
    assert row["three_rates_one_score"] == pytest.approx(45.6667, abs=1e-4)
    assert row["cohort_mean"] == 12.5
    cohort = query_dicts(tiny_wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND class_id = '*' "
                                  "AND subject = 'math'", [EXAM])[0]
    # the cohort's own 三率一分: mean 62.5%, pass 2/5, excellent 1/5 → 25 + 16 + 4
    assert (cohort["n_sat"], cohort["mean"], cohort["rank_by_mean"]) == (5, 12.5, None)
    assert cohort["three_rates_one_score"] == pytest.approx(45)
    assert row["cohort_three_rates_one_score"] == pytest.approx(45)


def test_tiny_reselect_and_total_rows(tiny_wh):
    """Chemistry uses the raw score and the cohort of all takers (track 'all'): class 1 9, 5, 8; class 2
    10 (S06 pending). Totals: full = math 20 + chemistry 100 (the converted scale) = 120."""
    chem = {r[0]: r[1:] for r in query(tiny_wh, "SELECT class_id, track, n_sat, n_pending, mean FROM mart.class_quant "
                                               "WHERE exam_id = ? AND subject = 'chemistry'", [EXAM])}
    assert chem["1"] == ("all", 3, 0, pytest.approx(22 / 3)) and chem["2"] == ("all", 1, 1, 10)
    total = {r[0]: r[1:] for r in query(tiny_wh, "SELECT class_id, full_marks, n_sat, n_absent, n_pending, mean, "
                                                "rank_by_mean FROM mart.class_quant WHERE exam_id = ? "
                                                "AND subject = 'total'", [EXAM])}
    # class 1: 104.5, 78, 67; class 2: 115 (S05 incomplete, S06 pending)
    assert total["1"] == (120, 3, 0, 0, pytest.approx(249.5 / 3), 2)
    assert total["2"] == (120, 1, 1, 1, 115, 1)


def test_tiny_item_analysis_item_1(tiny_wh):
    """n 5, mean 3.2, difficulty 0.8, discrimination 1.0 (groups of round(0.27 × 5) = 1: S01 scored 4,
    S03 scored 0)."""
    row = query_dicts(tiny_wh, "SELECT * FROM mart.item_analysis WHERE exam_id = ? AND subject = 'math' AND item = '1'",
                      [EXAM])[0]
    assert (row["type"], row["full_marks"], row["n"], row["group_size"]) == ("single", 4, 5, 1)
    assert row["mean"] == pytest.approx(3.2) and row["difficulty"] == pytest.approx(0.8)
    assert row["discrimination"] == pytest.approx(1.0)
    assert row["full_rate"] == pytest.approx(0.8) and row["zero_rate"] == pytest.approx(0.2)


def test_tiny_item_options(tiny_wh):
    """Item 1 (single, key A): S01, S02, S04, S06 read A; S03 read AB (several letters → invalid).
    Item 2: S06's '*' is invalid. Item 3 (multi ABD): ABD, AB, ABC, D, B → A 3, B 4, C 1, D 2 of 5."""
    opts = {(r[0], r[1]): (r[2], r[3]) for r in query(tiny_wh, "SELECT item, option, share, is_key FROM mart.item_options "
                                                                "WHERE exam_id = ? AND subject = 'math'", [EXAM])}
    assert opts[("1", "A")] == (pytest.approx(0.8), True) and opts[("1", "invalid")] == (pytest.approx(0.2), False)
    assert opts[("1", "B")] == (0, False) and opts[("1", "blank")] == (0, False)
    assert opts[("2", "invalid")][0] == pytest.approx(0.2) and opts[("2", "C")] == (pytest.approx(0.6), True)
    assert [opts[("3", x)][0] for x in "ABCD"] == [pytest.approx(v) for v in (0.6, 0.8, 0.2, 0.4)]
    assert [opts[("3", x)][1] for x in "ABCD"] == [True, True, False, True]


def test_tiny_class_items_and_knowledge(tiny_wh):
    # item 1: class 1 (S01 4, S02 4, S03 0) → 8/12; class 2 (S04 4, S06 4) → 1; cohort 0.8
    rows = {r[0]: r[1:] for r in query(tiny_wh, "SELECT class_id, difficulty, difficulty_diff FROM mart.class_items "
                                                "WHERE exam_id = ? AND subject = 'math' AND item = '1'", [EXAM])}
    assert rows["1"] == (pytest.approx(2 / 3), pytest.approx(2 / 3 - 0.8)) and rows["2"] == (1, pytest.approx(0.2))
    # 函数 (items 2 and 3): class 2: S04 4 + 2, S06 0 + 2 → 8 / 20
    (rate,), = query(tiny_wh, "SELECT score_rate FROM mart.knowledge WHERE exam_id = ? AND class_id = '2' "
                              "AND subject = 'math' AND knowledge = '函数'", [EXAM])
    assert rate == pytest.approx(0.4)


def test_tiny_marker_quality(tiny_wh):
    """Math item 4 (tolerance 1). T01 marked 5, 2, 4, 6, 3, 2 (mean 22/6); T02 marked 6, 4, 3, 3, 2.
    Double-marked pairs (5,6) (2,4) (6,3) (3,3) (2,2): beyond 1 point: 2 of 5; mean |diff| = 6/5."""
    rows = {r[0]: r[1:] for r in query(tiny_wh, "SELECT marker, marker_name, n_marked, mean, sd, disagreement_rate, "
                                                "mean_abs_diff FROM mart.marker_quality WHERE exam_id = ?", [EXAM])}
    t01 = [5, 2, 4, 6, 3, 2]
    assert rows["T01"] == ("陈老师", 6, pytest.approx(22 / 6), pytest.approx(_pop_sd(t01)), 0.4, pytest.approx(1.2))
    assert rows["T02"][:3] == ("周老师", 5, pytest.approx(3.6))
    # 1002 went to arbitration (3, no arbiter named: no arbitration row): one mark of each replaced
    roles = query(tiny_wh, "SELECT marker, role, n_overruled FROM mart.marker_quality WHERE exam_id = ?", [EXAM])
    assert sorted(roles) == [("T01", "first", 1), ("T02", "second", 1)]


def test_tiny_teacher_rows(tiny_wh):
    """T01 teaches math in class 1 and heads class 1; T03 teaches chemistry in classes 1 and 2. No
    lines: the default formula is the 三率一分 one, so quant_score = the class's three_rates_one_score."""
    rows = {(r["teacher_id"], r["class_id"], r["subject"]): r
            for r in query_dicts(tiny_wh, "SELECT * FROM mart.teacher_quant WHERE exam_id = ?", [EXAM])}
    assert set(rows) == {("T01", "1", "math"), ("T01", "*", "math"), ("T02", "2", "math"), ("T02", "*", "math"),
                         ("T03", "1", "chemistry"), ("T03", "2", "chemistry"), ("T03", "*", "chemistry"),
                         ("T01", "1", "total"), ("T02", "2", "total")}
    assert rows[("T01", "1", "math")]["quant_score"] == pytest.approx(45.6667, abs=1e-4)
    assert rows[("T01", "1", "total")]["role"] == "head"
    assert rows[("T03", "*", "chemistry")]["n_sat"] == 4
    assert rows[("T03", "*", "chemistry")]["mean"] == pytest.approx(8)
    (formula,), = query(tiny_wh, "SELECT formula FROM mart.quant_formula WHERE exam_id = ?", [EXAM])
    assert formula.startswith("量化分 = 0.4×平均分率 + 0.4×及格率 + 0.2×优秀率（") and "贡献率" not in formula


def _pop_sd(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


# -- every table, for exams without tracks / lines / teachers / previous ---------------------------
@pytest.fixture(scope="module")
def plain_wh(tmp_path_factory) -> tuple[Path, str]:
    """The builders' mini exam: tracks (物理类), no teachers.csv, no cut lines, no previous."""
    base = tmp_path_factory.mktemp("plain")
    wh = base / "wh" / "warehouse.duckdb"
    return wh, run(mini_exam(base / "exams"), wh)


@pytest.fixture(scope="module")
def notrack_wh(tmp_path_factory) -> tuple[Path, str]:
    """The tiny example without its track column and teachers, with lines as one list."""
    import yaml

    base = tmp_path_factory.mktemp("notrack")
    folder = copy_fixture("tiny", base / "exams")
    roster = (folder / "roster.csv").read_text(encoding="utf-8").splitlines()
    (folder / "roster.csv").write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 4)
                                                 for line in roster) + "\n", encoding="utf-8")
    (folder / "teachers.csv").unlink()
    cfg = yaml.safe_load((folder / "exam.yaml").read_text(encoding="utf-8"))
    cfg["id"] = "notrack"
    cfg["cut_lines"] = [{"name": "线", "top": 1}]
    write_yaml(folder / "exam.yaml", cfg)
    wh = base / "wh" / "warehouse.duckdb"
    return wh, run(folder, wh)


@pytest.mark.parametrize("which", ["tiny", "plain", "notrack"])
def test_every_table_is_present_and_sane(request, which):
    wh, exam = (request.getfixturevalue("tiny_wh"), EXAM) if which == "tiny" else request.getfixturevalue(f"{which}_wh")
    tables = {r[0] for r in query(wh, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mart'")}
    assert set(QUANT_TABLES) <= tables and set(KEYS) == set(QUANT_TABLES)
    for table, key in KEYS.items():
        rows = query_dicts(wh, f"SELECT * FROM mart.{table} WHERE exam_id = ?", [exam])
        keys = [tuple(r[k] for k in key) for r in rows]
        assert len(keys) == len(set(keys)), (table, "duplicate keys")
        for r in rows:
            for col, v in r.items():
                assert not (isinstance(v, float) and (math.isnan(v) or math.isinf(v))), (table, col, r)
            for col in RATES.get(table, []):
                assert r[col] is None or -1e-9 <= r[col] <= 1 + 1e-9, (table, col, r)
    for table in ("class_quant", "rank_bands", "item_analysis", "item_options", "class_items",
                  "subject_reliability", "knowledge", "quant_formula"):
        assert query(wh, f"SELECT count(*) FROM mart.{table} WHERE exam_id = ?", [exam])[0][0] > 0, table
    for r in query_dicts(wh, "SELECT * FROM mart.class_quant WHERE exam_id = ?", [exam]):
        # every student expected to sit has one status (scripts accepted outside the electives add to them)
        assert r["n_sat"] + r["n_absent"] + r["n_pending"] + r["n_void"] >= r["n_enrolled"]
        assert (r["mean"] is None) == (r["n_sat"] == 0)
        assert r["mean_change"] is None and r["value_added"] is None  # no previous exam


def test_plain_exam_has_no_lines_nor_teachers(plain_wh):
    wh, exam = plain_wh
    for table in ("cut_lines", "line_analysis", "borderline", "teacher_quant", "school_quant", "school_lines"):
        assert query(wh, f"SELECT count(*) FROM mart.{table} WHERE exam_id = ?", [exam]) == [(0,)], table
    # not a joint exam: no school rank
    for table in ("subject_scores", "totals"):
        assert query(wh, f"SELECT count(school_rank), count(*) > 0 FROM mart.{table} WHERE exam_id = ?",
                     [exam]) == [(0, True)], table
    # math cohort is the physics track; biology (reselect) is every taker
    assert set(query(wh, "SELECT subject, track FROM mart.class_quant WHERE exam_id = ?", [exam])) == {
        ("math", "physics"), ("biology", "all"), ("total", "physics")}
    # the markers of the mini exam's double marking
    assert {r[0] for r in query(wh, "SELECT marker FROM mart.marker_quality WHERE exam_id = ?", [exam])} == {"T01", "T02"}


def test_lines_without_tracks(notrack_wh):
    """Without a track column every student is track 'all'; a plain list of lines applies to it.
    Totals 115 (S04), 104.5, 78, 67 → `top: 1` = 115, one student over."""
    wh, exam = notrack_wh
    assert query(wh, "SELECT track, line, line_score, n_over FROM mart.cut_lines WHERE exam_id = ?", [exam]) == [
        ("all", "线", 115, 1)]
    assert set(query(wh, "SELECT DISTINCT track FROM mart.class_quant WHERE exam_id = ?", [exam])) == {("all",)}
    assert query(wh, "SELECT count(*) FROM mart.teacher_quant WHERE exam_id = ?", [exam]) == [(0,)]


def test_quantify_asset_is_wired():
    from assets.publish import analyst_copy
    from assets.quantify import quantify
    from pipelines.definitions import ASSETS

    assert quantify in ASSETS and ASSETS.index(quantify) < ASSETS.index(analyst_copy)
    assert {k.path[-1] for k in quantify.keys} == set(QUANT_TABLES)
    assert all(k.path[0] == "mart" for k in quantify.keys)
    deps = {k.path[-1] for k in analyst_copy.dependency_keys}
    assert set(QUANT_TABLES) <= deps


# -- settings checks ---------------------------------------------------------------------------------
def _settings(**over):
    from examflow.config import DEFAULTS

    s = copy.deepcopy(DEFAULTS)
    s.update(over)
    return s


def test_default_settings_pass():
    check_settings(_settings(), "exam.yaml")
    check_settings(_settings(cut_lines={"physics": [{"name": "特控线", "top": 120}, {"name": "本科线", "score": 450}],
                                        "历史类": [{"name": "特控线", "score": 520, "band": 5}]},
                             teacher_quant={"weights": {"mean": 0.5, "pass_rate": 0.3, "contribution": 0.2},
                                            "relative": True}), "exam.yaml")
    check_settings(_settings(cut_lines=[{"name": "一本线", "top": 100}]), "exam.yaml")


@pytest.mark.parametrize("over,key,words", [
    ({"thresholds": {"excellent": 0.85, "good": 0.75, "pass": 1.2, "low": 0.4}}, "thresholds.pass", "[0, 1]"),
    ({"thresholds": {"excellent": 0.7, "good": 0.75, "pass": 0.6, "low": 0.4}}, "thresholds.good", "ordered"),
    ({"thresholds": {"excellent": 0.85, "good": 0.75, "pass": 0.6, "lo": 0.4}}, "thresholds.lo", "not a threshold"),
    ({"three_rates_weights": {"mean": "0.4", "pass": 0.4, "excellent": 0.2, "low": 0}}, "three_rates_weights.mean",
     "number"),
    ({"rank_bands": [10, 0, 50]}, "rank_bands[1]", "positive whole number"),
    ({"rank_bands": [10, 20.5]}, "rank_bands[1]", "positive whole number"),
    ({"rank_bands": "10,20"}, "rank_bands", "list"),
    ({"cut_lines": {"physics": [{"name": "特控线", "top": 10, "score": 500}]}}, "cut_lines.physics[0]", "exactly one"),
    ({"cut_lines": {"physics": [{"name": "特控线"}]}}, "cut_lines.physics[0]", "exactly one"),
    ({"cut_lines": {"physics": [{"top": 10}]}}, "cut_lines.physics[0].name", "no name"),
    ({"cut_lines": {"physics": [{"name": "a", "top": -3}]}}, "cut_lines.physics[0].top", "positive"),
    ({"cut_lines": {"chemistry": [{"name": "a", "top": 3}]}}, "cut_lines.chemistry", "not a track"),
    ({"cut_lines": [{"name": "a", "top": 3}, {"name": "a", "score": 3}]}, "cut_lines[1].name", "twice"),
    ({"borderline_band": -1}, "borderline_band", "non-negative"),
    ({"teacher_quant": {"weights": {"mean": 0.4, "average": 1}}}, "teacher_quant.weights.average", "unknown metric"),
    ({"teacher_quant": {"weights": {"mean": "x"}}}, "teacher_quant.weights.mean", "number"),
    ({"teacher_quant": {"weights": None, "relative": "yes"}}, "teacher_quant.relative", "true or false"),
    ({"conversion": [{"band": "A", "share": 0.5, "low": 86, "high": 100},
                     {"band": "B", "share": 0.4, "low": 71, "high": 85}]}, "conversion", "add up to 0.9"),
    ({"conversion": [{"band": "A", "share": 1, "low": 100, "high": 86}]}, "conversion[0].low", "above"),
])
def test_bad_settings_are_refused(over, key, words):
    with pytest.raises(ContractError) as e:
        check_settings(_settings(**over), "exam.yaml")
    assert e.value.file == "exam.yaml" and e.value.column == key
    assert words in str(e.value) and "exam.yaml" in str(e.value)


def test_bad_settings_stop_the_run(tmp_path):
    """load_exam checks the settings: the run stops before the warehouse is touched."""
    from examflow.config import load_exam
    from tests.builders import MINI_EXAM

    exam = copy.deepcopy(MINI_EXAM)
    exam["thresholds"] = {"pass": 0.9}  # above the default good (0.75)
    folder = mini_exam(tmp_path / "exams", exam)
    with pytest.raises(ContractError, match="thresholds.pass"):
        load_exam(folder)
    wh = tmp_path / "wh" / "warehouse.duckdb"
    with pytest.raises(ContractError):
        run(folder, wh)


def test_metric_names_match_the_sql():
    """Every metric and alias check_settings accepts is one the SQL knows (staging/quant_settings
    resolves the aliases through staging.aliases, mart/teacher_quant has the indicators)."""
    import duckdb

    from examflow import warehouse

    sql_dir = Path(__file__).resolve().parent.parent / "sql"
    settings_sql = (sql_dir / "staging" / "quant_settings.sql").read_text(encoding="utf-8")
    quant_sql = (sql_dir / "mart" / "teacher_quant.sql").read_text(encoding="utf-8")
    assert "alias_of('metric', w.key)" in settings_sql
    con = duckdb.connect()
    warehouse.prepare(con)
    for alias, metric in {**METRIC_ALIASES, **{m: m for m in METRICS}}.items():
        assert con.execute("SELECT alias_of('metric', ?)", [f" {alias.upper()} "]).fetchall() == [(metric,)]
    for metric in METRICS:
        assert f"'{metric}': [" in quant_sql
