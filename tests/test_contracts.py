"""The data contracts (Great Expectations suites in data_contracts/suites/) run as Dagster asset
checks: all pass on a clean exam; a critical failure blocks what depends on the asset, a warning
does not."""
import json

import dagster as dg
import pandas as pd

from assets import checks
from examflow import contracts
from pipelines.runner import run_exam
from tests.builders import mini_exam
from tests.conftest import query


def test_every_suite_passes_on_the_tiny_example(tiny, wh):
    instance = dg.DagsterInstance.ephemeral()
    run_exam(tiny, wh, wh.parent / "out", printouts=False, instance=instance)
    evaluations = {}
    for record in instance.get_records_for_run(
            run_id=instance.get_runs()[0].run_id,
            of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        data = record.event_log_entry.dagster_event.event_specific_data
        evaluations[data.check_name] = data.passed
    assert set(evaluations) == {p.stem for p in contracts.suite_files()}
    assert all(evaluations.values()), evaluations


def test_suite_outcomes_name_the_failing_column():
    suite = contracts.load_suite(contracts.SUITES / "raw_roster.json")
    frame = pd.DataFrame({"student_id": ["S1", "S1", None], "exam_no": ["1", "2", "3"], "name": ["a", "b", "c"],
                          "class": ["1", "1", None]})
    failed = {(o.expectation, o.column, o.severity) for o in contracts.validate(frame, suite) if not o.success}
    assert failed == {("expect_column_values_to_not_be_null", "student_id", "critical"),
                      ("expect_column_values_to_be_unique", "student_id", "critical"),
                      ("expect_column_values_to_not_be_null", "class", "critical")}


def _run_with_suite(tmp_path, severity):
    suite = {"name": f"names_known_{severity}", "meta": {"table": "raw.roster", "asset": ["raw", "exam_files"],
                                                         "about": "test suite"},
             "expectations": [{"type": "expect_column_values_to_be_in_set", "severity": severity,
                               "kwargs": {"column": "name", "value_set": ["nobody"]}}]}
    path = tmp_path / f"suite_{severity}.json"
    path.write_text(json.dumps(suite), encoding="utf-8")
    check = checks._check_for(path)
    from pipelines.definitions import ASSETS
    from pipelines.resources import ExamFoldersResource, WarehouseResource

    folder = mini_exam(tmp_path / "exams")
    wh = tmp_path / "wh" / "w.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("exam", ["mini-2026"])
    result = dg.materialize([*ASSETS, check], instance=instance, partition_key="mini-2026", raise_on_error=False,
                            resources={"warehouse": WarehouseResource(path=str(wh)),
                                       "exam_folders": ExamFoldersResource(exams_dir=str(tmp_path / "exams"),
                                                                           output_dir=str(tmp_path / "out"))},
                            run_config={"ops": {"raw__exam_files": {"config": {"folder": str(folder)}}}})
    materialized = {tuple(e.asset_key.path) for e in result.get_asset_materialization_events()}
    return result, materialized, wh


def test_a_critical_contract_failure_blocks_downstream(tmp_path):
    result, materialized, wh = _run_with_suite(tmp_path, "critical")
    assert ("raw", "exam_files") in materialized
    assert ("mart", "abnormal_scripts") not in materialized
    assert query(wh, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mart'") == [(0,)]


def test_a_warning_contract_failure_does_not_block(tmp_path):
    result, materialized, wh = _run_with_suite(tmp_path, "warning")
    assert ("mart", "totals") in materialized
    evaluation = [e for e in result.get_asset_check_evaluations() if e.check_name == "names_known_warning"][0]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN


def test_the_gx_worker_gives_the_outcomes_gx_gives_in_process():
    """A run validates in a worker process (GX imported beside the ingest): the same outcomes, failures
    included, as in this process."""
    suite = contracts.load_suite(contracts.SUITES / "raw_roster.json")
    frame = pd.DataFrame({"student_id": ["S1", "S1", "S2"], "exam_no": ["1", "2", "3"], "name": ["a", "b", "c"],
                          "class": ["1", None, "2"]})
    contracts.start_worker()
    assert contracts._worker is not None
    in_worker = contracts.validate(frame, suite)
    assert contracts._worker is not None  # it answered: no fallback to this process
    assert repr(in_worker) == repr(contracts.validate_here(frame, suite))  # repr: a sample may be NaN
    assert {(o.expectation, o.column) for o in in_worker if not o.success} == {
        ("expect_column_values_to_be_unique", "student_id"), ("expect_column_values_to_not_be_null", "class")}
