"""A folder that breaks the input contract stops the run with a message naming the file (and row
and column where there is one), exits non-zero, and leaves the warehouse exactly as it was."""
import copy
import shutil

import pytest

from pipelines.cli import main
from examflow.errors import ContractError
from tests.builders import MINI_EXAM, mini_exam, write_csv, write_yaml
from tests.conftest import exam_state, run


def _no_header(folder):
    write_csv(folder / "scans" / "math.csv", ["编号", "备注"], [("1", "x")])
    return "scans/math.csv", None, None, "no recognisable header"


def _unknown_subject_column(folder):
    write_csv(folder / "scans" / "scan_all.csv", ["考号", "科目", "1"], [("0101", "数学", "A"), ("0102", "美术", "B")])
    return "scans/scan_all.csv", 3, "科目", "unknown subject '美术'"


def _unknown_subject_file_name(folder):
    write_csv(folder / "scans" / "batch3.csv", ["考号", "1"], [("0101", "A")])
    return "scans/batch3.csv", None, None, "no subject column"


def _unknown_item_column(folder):
    write_csv(folder / "scans" / "math.csv", ["考号", "缺考", "1", "2", "3", "Q9"], [("0101", "0", "A", "C", "ABD", "B")])
    return "scans/math.csv", 1, "Q9", "unknown item 'Q9'"


def _unknown_item_in_marks(folder):
    write_csv(folder / "marks" / "math_marks.csv", ["考号", "题号", "一评"], [("0101", "4", "6"), ("0102", "17", "3")])
    return "marks/math_marks.csv", 3, "题号", "unknown subjective item '17'"


def _items_do_not_add_up(folder):
    exam = copy.deepcopy(MINI_EXAM)
    exam["subjects"][0]["items"][3]["full"] = 8
    write_yaml(folder / "exam.yaml", exam)
    return "exam.yaml", None, "full", "items add up to 22 but the subject's full marks are 20"


def _invalid_exam_id(folder):
    exam = copy.deepcopy(MINI_EXAM)
    exam["id"] = "Mini 2026!"
    write_yaml(folder / "exam.yaml", exam)
    return "exam.yaml", None, "id", "invalid exam id"


def _undecodable(folder):
    (folder / "scans" / "math.csv").write_bytes(b"\xff\xfe\x00\x81\x30\x81\x30\xff" * 20)
    return "scans/math.csv", None, None, "cannot be decoded"


def _duplicate_student(folder):
    write_csv(folder / "roster.csv", ["学号", "姓名", "班级", "考号"],
              [("S01", "张三", "1", "0101"), ("S01", "李四", "1", "0102")])
    return "roster.csv", 3, "学号", "student_id 'S01' is not unique"


def _not_yaml(folder):
    (folder / "exam.yaml").write_text("id: mini-2026\nsubjects: [math, biology\n", encoding="utf-8")
    # the line itself under a caret (PyYAML's own parser, as libyaml's message has no snippet)
    return "exam.yaml", None, None, "line 2, column 11:\n    subjects: [math, biology\n              ^"


CASES = [_no_header, _unknown_subject_column, _unknown_subject_file_name, _unknown_item_column,
         _unknown_item_in_marks, _items_do_not_add_up, _invalid_exam_id, _undecodable, _duplicate_student,
         _not_yaml]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Exam X (mini-2026) loaded once; each case breaks a copy of it."""
    base = tmp_path_factory.mktemp("contract")
    folder = mini_exam(base / "exams")
    wh = base / "wh" / "warehouse.duckdb"
    run(folder, wh)
    return folder, wh, exam_state(wh, MINI_EXAM["id"])


@pytest.mark.parametrize("breach", CASES, ids=lambda f: f.__name__.strip("_"))
def test_redelivery_of_loaded_exam_fails_and_changes_nothing(breach, loaded, tmp_path):
    folder, wh, before = loaded
    broken = tmp_path / MINI_EXAM["id"]
    shutil.copytree(folder, broken)
    file, row, column, message = breach(broken)
    with pytest.raises(ContractError) as err:
        run(broken, wh)
    e = err.value
    assert e.file is not None and e.file.endswith(file), str(e)
    assert (e.row, e.column) == (row, column), str(e)
    assert message in str(e)
    assert file in str(e)
    assert exam_state(wh, MINI_EXAM["id"]) == before


def test_broken_other_exam_leaves_x_intact_and_cli_exits_non_zero(loaded, tmp_path, capsys):
    folder, wh, before = loaded
    exam_y = copy.deepcopy(MINI_EXAM)
    exam_y["id"] = "other-exam"
    broken = mini_exam(tmp_path, exam=exam_y)
    _unknown_item_column(broken)
    rc = main(["run", str(broken), "--warehouse", str(wh), "--no-printouts"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "scans/math.csv, row 1, column 'Q9': unknown item 'Q9'" in err
    assert exam_state(wh, MINI_EXAM["id"]) == before
    assert exam_state(wh, "other-exam") == {k: [] for k in before}
