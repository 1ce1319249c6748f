"""Declared model dependencies and per-table lineage: what each SQL model reads comes from parsing
it; the run order of every stage follows those reads; every mart table is a Dagster asset whose
deps are the tables it is built from; every mart table and column carries its description
(data_contracts/mart.yaml) as a comment analysts see in duckdb_columns() of their copy; the
README's tables of mart tables agree with that file."""
from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

from examflow import stages
from examflow.publish import analyst_path, read_only

ROOT = Path(__file__).resolve().parent.parent


def test_reads_are_parsed_from_the_sql():
    reads = stages.reads()
    assert set(reads) == set(stages.models())
    assert reads["mart/borderline"] == {"mart/cut_lines", "staging/totals_ranked"}
    assert reads["staging/expected"] == {"raw/subjects", "staging/students"}
    # an ephemeral model is read by its bare name; CTEs and frames registered on the connection are not tables
    assert "staging/item_results" in reads["mart/knowledge"]
    assert reads["mart/timetable"] == set()
    assert reads["staging/students"] == {"raw/exams", "raw/roster", "raw/subjects", "staging/aliases"}


def test_each_stage_runs_a_model_after_what_it_reads():
    by_stage = stages.stage_models()
    assert sorted(m for ms in by_stage.values() for m in ms) == stages.models()  # every model, once
    done: set[str] = set()
    for stage in stages.STAGES:
        for model in by_stage[stage]:
            pending = {r for r in stages.reads()[model] if r in stages.reads()} - done
            assert not pending, f"{model} runs before {pending}"
            done.add(model)
    assert stages.VALIDATE == by_stage["validate"] and stages.QUANTIFY == by_stage["quantify"]
    assert by_stage["arrange"] == ["mart/invigilation", "mart/seating", "mart/timetable"]


def test_run_order_refuses_a_cycle():
    import pytest

    assert stages.run_order({"a/x", "a/y", "a/z"}, {"a/x": {"a/y"}, "a/y": set(), "a/z": {"a/x"}}) == ["a/y", "a/x", "a/z"]
    with pytest.raises(ValueError, match="cycle"):
        stages.run_order({"a/x", "a/y"}, {"a/x": {"a/y"}, "a/y": {"a/x"}})


def _deps(defs, path: str) -> set[str]:
    key = dg.AssetKey(path.split("/"))
    node = defs.resolve_asset_graph().get(key)
    return {k.to_user_string() for k in node.parent_keys}


def test_every_mart_table_is_an_asset_with_its_tables_as_deps():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    marts = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "mart"}
    assert marts == {f"mart/{t}" for t in stages.mart_contract()["tables"]}
    assert _deps(defs, "mart/borderline") == {"mart/cut_lines", "mart/totals"}
    assert _deps(defs, "mart/cut_lines") == {"mart/totals", "raw/exam_files"}
    assert {"mart/class_quant", "mart/line_analysis", "mart/rank_bands"} <= _deps(defs, "mart/teacher_quant")
    assert _deps(defs, "mart/abnormal_scripts") == {"raw/exam_files"}
    assert _deps(defs, "mart/quant_formula") == {"mart/cut_lines", "raw/exam_files"}
    assert graph.get(dg.AssetKey(["mart", "knowledge"])).description == \
        stages.mart_contract()["tables"]["knowledge"]["description"]


def test_descriptions_reach_the_analysts_copy(tiny_wh):
    contract = stages.mart_contract()
    with read_only(analyst_path(tiny_wh)) as con:
        tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'mart' UNION ALL "
                                  "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'mart'").fetchall())
        columns = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                              "WHERE schema_name = 'mart'").fetchall()
    post_exam = {t for t, spec in contract["tables"].items() if spec["stage"] != "arrange"}
    assert post_exam <= set(tables)
    for table, comment in tables.items():
        assert comment == contract["tables"][table]["description"], table
    assert len(columns) > 250
    for table, column, comment in columns:
        want = contract["tables"][table].get("columns", {}).get(column) or contract["columns"].get(column)
        assert comment and comment == want, f"mart.{table}.{column}"


def test_readme_tables_match_the_contract():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tables = stages.mart_contract()["tables"]
    quant = readme.split("### Quantification tables")[1].split("\n\n")[2]
    listed = re.findall(r"^\| `(\w+)` \|", quant, flags=re.M)
    assert sorted(listed) == sorted(t for t, spec in tables.items() if spec["stage"] == "quantify")
    for stage in ("validate", "score", "quantify", "arrange"):
        row = re.search(rf"^\| {stage} \| (.+?) \|", readme, flags=re.M).group(1)
        listed = sorted(re.findall(r"`mart/(\w+)`", row))
        assert listed == sorted(t for t, spec in tables.items() if spec["stage"] == stage)
