"""Declared model dependencies and per-table lineage: what each SQL model reads comes from parsing
it; the run order of every stage follows those reads; every mart table is a Dagster asset whose
deps are the tables it is built from (all of them checked against a second, textual reading of the
SQL); every mart table and column carries its description (data_contracts/mart.yaml) as a comment
seen in duckdb_columns() of the warehouse and of the analysts' copy; the README's tables of mart
tables agree with that file."""
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


def _named(model: str) -> set[str]:
    """The tables a model's SQL names, read from its text (comments and string literals left out):
    `schema.table`, and an ephemeral model by its bare name. A reading independent of
    examflow.stages, which asks DuckDB's parser."""
    text = re.sub(r"--[^\n]*", "", (stages.SQL_DIR / f"{model}.sql").read_text(encoding="utf-8"))
    text = re.sub(r"'[^']*'", "''", text)
    out = {f"{s}/{t}" for s, t in re.findall(r"\b(raw|staging|mart)\.(\w+)\b", text)}
    return out | {m for m in stages.EPHEMERAL if re.search(rf"(?<![.\w]){m.split('/')[1]}\b", text)}


def _builds_from(model: str, table: str, seen: set[str]) -> bool:
    """Whether `model` reads `table`, directly or through staging models."""
    for r in _named(model) - seen:
        seen.add(r)
        if r == table or (r.startswith("staging/") and r in stages.models() and _builds_from(r, table, seen)):
            return True
    return False


def _upstream(mart: str) -> set[str]:
    """What a mart table is built from, from the SQL text: raw tables (the ingest asset raw/exam_files)
    and mart tables it reads, through the staging models its own stage runs; a staging model run by
    an earlier stage stands for that stage's mart tables built from it. Loaded staging tables
    (aliases, abnormal codes) come from data_contracts/, not from an asset."""
    by_stage = stages.stage_models()
    stage_of = {m: s for s, ms in by_stage.items() for m in ms}
    out, todo, seen = set(), [mart], {mart}
    while todo:
        for r in _named(todo.pop()) - seen:
            seen.add(r)
            if r.startswith("raw/"):
                out.add("raw/exam_files")
            elif r.startswith("mart/"):
                out.add(r)
            elif r not in stage_of:
                continue
            elif stage_of[r] == stage_of[mart] or r in stages.EPHEMERAL:
                todo.append(r)
            else:
                out |= {m for m in by_stage[stage_of[r]] if m.startswith("mart/") and _builds_from(m, r, set())}
    return out


def test_every_mart_asset_depends_on_what_its_sql_reads():
    """All mart tables, not a sample: the asset's deps are exactly the tables its SQL is built from.
    The arrangement's tables read frames the arrangement computed in Python from the exam folder
    (before any scan exists), so they have no upstream table; every other one reaches the exam files."""
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    for table in stages.mart_contract()["tables"]:
        assert _deps(defs, f"mart/{table}") == _upstream(f"mart/{table}"), table
    for table, spec in stages.mart_contract()["tables"].items():
        if spec["stage"] == "arrange":
            assert _deps(defs, f"mart/{table}") == set(), table
        else:
            assert "raw/exam_files" in _ancestors(graph, dg.AssetKey(["mart", table])), table


def _ancestors(graph, key: dg.AssetKey) -> set[str]:
    out, todo = set(), [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent.to_user_string() not in out:
                out.add(parent.to_user_string())
                todo.append(parent)
    return out


def _assert_described(path: Path, stages_run: set[str]) -> None:
    """Every mart table and column in the warehouse file at `path` carries its mart.yaml description
    as its comment, and every table of `stages_run` is there."""
    contract = stages.mart_contract()
    with read_only(path) as con:
        tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'mart' UNION ALL "
                                  "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'mart'").fetchall())
        columns = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                              "WHERE schema_name = 'mart'").fetchall()
    assert {t for t, spec in contract["tables"].items() if spec["stage"] in stages_run} <= set(tables)
    for table, comment in tables.items():
        assert comment == contract["tables"][table]["description"], table
    for table, column, comment in columns:
        want = contract["tables"][table].get("columns", {}).get(column) or contract["columns"].get(column)
        assert comment and comment == want, f"mart.{table}.{column}"
    assert len(columns) > (250 if "quantify" in stages_run else 15)


def test_descriptions_reach_the_analysts_copy(tiny_wh):
    _assert_described(analyst_path(tiny_wh), {"validate", "score", "quantify"})


def test_descriptions_are_in_the_warehouse_itself(tiny_wh):
    _assert_described(tiny_wh, {"validate", "score", "quantify"})


def test_arranged_tables_are_described(tmp_path):
    """The arrangement's tables (written before the exam, by examflow.arrange.folder) carry theirs too."""
    from examflow.arrange.folder import arrange_folder
    from examflow.generate import generate

    _, current = generate(tmp_path / "exams", 60, seed=3)
    wh = tmp_path / "wh" / "warehouse.duckdb"
    arrange_folder(current, wh, tmp_path / "out")
    _assert_described(wh, {"arrange"})


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
