"""Reading one table file as the text a person sees: XLSX cells of every type (the body is read by
calamine, the header by openpyxl), CSV values trimmed, and the raw layer written file by file."""
import datetime as dt

import openpyxl
import pytest

from examflow import warehouse
from examflow.errors import ContractError
from examflow.ingest import open_exam_folder, read_exam_folder
from examflow.tables import read_table
from tests.builders import MINI_EXAM, mini_exam, write_csv
from tests.conftest import exam_state


def _rows(table) -> list[tuple]:
    return table.body.rows()


def test_xlsx_cells_read_as_openpyxl_shows_them(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    ws = wb.create_sheet("扫描")  # the header is on the second sheet, column A is empty
    ws["B1"] = "title"
    ws.merge_cells("B1:E1")
    for col, name in zip("BCDEF", ["考号", "缺考", "1", "2", "扫描时间"]):
        ws[f"{col}2"] = name
    rows = [(101, True, 12.0, "  ", dt.datetime(2026, 11, 12, 8, 30)),
            ("0102", False, 12.5, " A ", dt.time(8, 0)),
            (None, None, None, None, None),
            (-5, "true", 1e20, "#N/A", dt.datetime(2026, 11, 12, 8, 30, 1, 9000))]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=2):
            cell = ws.cell(row=r, column=c, value=value)
            if c == 2:
                cell.number_format = "0000"
    wb.save(tmp_path / "scan.xlsx")
    t = read_table(tmp_path / "scan.xlsx", "scan.xlsx", ["scans"])
    assert (t.header, t.header_row) == (["", "考号", "缺考", "1", "2", "扫描时间"], 2)
    assert _rows(t) == [
        (None, "0101", "1", "12", None, "2026-11-12T08:30:00", 3),
        (None, "0102", "0", "12.5", " A ", "08:00:00", 4),
        (None, "-005", "true", "100000000000000000000", "#N/A", "2026-11-12T08:30:01.009000", 6)]


def test_xlsx_two_row_merged_header_at_the_last_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "考号", "客观题"
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:C1")
    ws["B2"], ws["C2"] = "1", "2"
    wb.save(tmp_path / "empty.xlsx")
    t = read_table(tmp_path / "empty.xlsx", "empty.xlsx", ["scans"])
    assert (t.header, t.header_row, t.body.height) == (["考号", "1", "2"], 2, 0)


def test_csv_values_trimmed_and_blank_rows_dropped(tmp_path):
    path = tmp_path / "scan.csv"
    path.write_text('考号,1,2\n 0101 ,A,""\n,,\n0102,  ,B\n', encoding="utf-8-sig")
    t = read_table(path, "scan.csv", ["scans"])
    assert _rows(t) == [(2, "0101", "A", None), (4, "0102", None, "B")]


def test_gb18030_decoding_error_names_the_byte(tmp_path):
    path = tmp_path / "scan.csv"
    path.write_bytes("考号,1\n0101,A\n".encode("gb18030") + b"\xff\xff\n")
    with pytest.raises(ContractError, match=r"cannot be decoded as UTF-8, GBK or GB18030 \(byte 14\)"):
        read_table(path, "scan.csv", ["scans"])


def test_streamed_write_equals_whole_write_and_rolls_back_on_a_broken_file(tmp_path):
    folder = mini_exam(tmp_path / "exams")
    whole, streamed = tmp_path / "whole.duckdb", tmp_path / "streamed.duckdb"
    for wh, raw in ((whole, read_exam_folder(folder)), (streamed, open_exam_folder(folder))):
        with warehouse.connect(wh) as con:
            counts = warehouse.write_raw(con, raw)
    assert counts["scans"] == 11 and counts["marks"] == 11 and counts["files"] == 5
    assert exam_state(whole, MINI_EXAM["id"]) == exam_state(streamed, MINI_EXAM["id"])
    write_csv(folder / "marks" / "math_marks.csv", ["考号", "题号", "一评"], [("0101", "17", "3")])
    with warehouse.connect(streamed) as con, pytest.raises(ContractError, match="unknown subjective item"):
        warehouse.write_raw(con, open_exam_folder(folder))
    assert exam_state(streamed, MINI_EXAM["id"]) == exam_state(whole, MINI_EXAM["id"])
