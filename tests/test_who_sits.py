"""Arrangement and scoring agree on who sits what (one rule, the `sits` macro of sql/macros.sql): for
a generated grade whose roster gives the electives as names (化学 生物), as codes
(chemistry,biology), as one-character abbreviations with the first choice (物化生), in the
generator's mix of the three, or not at all (no 选科 column), the students arrange seats in each
subject are exactly those staging.expected expects a script from."""
from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from examflow import warehouse
from examflow.arrange.folder import arrange_folder
from examflow.config import load_exam
from examflow.generate import generate
from examflow.ingest import FolderReader, read_people
from tests.builders import write_csv

NAMES = {"化学": "chemistry", "生物": "biology", "地理": "geography", "政治": "politics", "物理": "physics",
         "历史": "history"}
SHORT = {code: name[0] for name, code in NAMES.items()}
TRACK_SHORT = {"物理类": "物", "历史类": "历"}


def _codes(text: str) -> list[str]:
    """The generator's electives cell (any of its three forms) as subject codes, in order."""
    if "," in text:
        return text.split(",")
    if " " in text:
        return [NAMES[t] for t in text.split()]
    by_short = {v: k for k, v in SHORT.items()}
    return [by_short[ch] for ch in text[1:]]


def _shape(roster: pl.DataFrame, shape: str) -> pl.DataFrame:
    if shape == "none":
        return roster.drop("选科")
    if shape == "mixed":
        return roster
    cells = []
    for track, text in roster.select("类别", "选科").iter_rows():
        codes = _codes(text)
        if shape == "names":
            cells.append(" ".join(k for c in codes for k, v in NAMES.items() if v == c))
        elif shape == "codes":
            cells.append(",".join(codes))
        else:  # 物化生: the first choice first, then the two reselect subjects
            cells.append(TRACK_SHORT[track] + "".join(SHORT[c] for c in codes))
    return roster.with_columns(pl.Series("选科", cells))


def _expected(folder) -> set[tuple[str, str]]:
    """(student, subject) pairs staging.expected gives, from the folder's roster and exam.yaml."""
    cfg = load_exam(folder)
    raw = read_people(folder, cfg, FolderReader(folder, cfg, dt.datetime.now(), lambda _: None), rooms_required=True)
    con = duckdb.connect()
    try:
        warehouse.ensure_schema(con)
        warehouse.write_raw(con, raw)
        warehouse.run_models(con, cfg.id, ["staging/students", "staging/expected"])
        return set(con.execute("SELECT student_id, subject FROM staging.expected").fetchall())
    finally:
        con.close()


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    base = tmp_path_factory.mktemp("who_sits")
    _, current = generate(base / "exams", 80, seed=4)
    return base, current, pl.read_csv(current / "roster.csv", infer_schema=False)


@pytest.mark.parametrize("shape", ["mixed", "names", "codes", "物化生", "none"])
def test_arrange_seats_whom_scoring_expects(grade, shape):
    base, folder, roster = grade
    frame = _shape(roster, shape)
    write_csv(folder / "roster.csv", frame.columns, frame.rows())
    expected = _expected(folder)
    wh = base / shape / "w.duckdb"
    arranged = arrange_folder(folder, wh, base / shape / "out")
    seated = set(arranged.seating.select("student_id", "subject").iter_rows())
    assert seated == expected
    n = roster.height
    by_subject = {s: sum(1 for _, x in expected if x == s) for s in {x for _, x in expected}}
    assert by_subject["chinese"] == n
    if shape == "none":  # no electives column: everyone sits every subject of their track
        assert by_subject["chemistry"] == by_subject["biology"] == n
        assert by_subject["physics"] + by_subject["history"] == n
    else:  # two reselect subjects each, one first-choice subject each
        assert sum(by_subject[s] for s in ("chemistry", "biology", "geography", "politics")) == 2 * n
        assert by_subject["physics"] + by_subject["history"] == n
