"""The portal in a real browser (issue 18): `examflow serve`'s server (waitress, loopback) and Debian's
headless Chromium driven by playwright — log in as a head teacher, open the class report, see the
chart drawn, download class_scores and open it with openpyxl."""
from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright import sync_api as playwright_api

from tests.conftest import query, run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "browser password 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A generated grade run through the pipeline, a head teacher's account, the portal on loopback."""
    from waitress.server import create_server

    from examflow.generate import generate
    from examflow.portal import create_app

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `./dev setup` installs it (apt-get install chromium)")
    base = tmp_path_factory.mktemp("browser")
    _, current = generate(base / "exams", 120, seed=11)
    wh = base / "wh" / "warehouse.duckdb"
    exam = run(current, wh)
    tid, cls = query(wh, "SELECT teacher_id, class_id FROM staging.teacher_roles WHERE exam_id = ? AND role = 'head' "
                         "ORDER BY teacher_id LIMIT 1", [exam])[0]
    app = create_app(wh, base / "output")
    app.extensions["examflow"].store.add(tid, "teacher", PASSWORD)
    server = create_server(app, host="127.0.0.1", port=_free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.effective_port}", "exam": exam, "teacher": tid, "class_id": cls,
           "wh": wh, "shots": base}
    server.close()


def test_head_teacher_logs_in_sees_the_chart_and_downloads(served):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(served["url"] + "/")
            assert "/login" in page.url
            page.fill("input[name=username]", served["teacher"])
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(served["url"] + "/")
            page.click(f"a[href='/exam/{served['exam']}/class/{served['class_id']}/']")
            page.wait_for_selector("svg.chart")
            chart = page.locator("svg.chart").first
            box = chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100  # laid out and visible
            bars = page.locator("svg.chart rect.bar")
            assert bars.count() > 0
            heights = [float(bars.nth(i).get_attribute("height")) for i in range(bars.count())]
            assert max(heights) > 10  # something is drawn
            page.screenshot(path=str(served["shots"] / "class_report.png"), full_page=True)
            page.click("a:has-text('数据下载')")
            page.wait_for_selector("#form-class_scores")
            page.select_option("#form-class_scores select[name=class_id]", served["class_id"])
            with page.expect_download() as info:
                page.click("#form-class_scores button[type=submit]")
            download = info.value
            target = served["shots"] / download.suggested_filename
            download.save_as(target)
        finally:
            browser.close()
    assert target.name == f"{served['exam']}_class_scores_{served['teacher']}_{served['class_id']}.xlsx"
    ws = load_workbook(target).worksheets[0]
    header = [c.value for c in ws[1]]
    assert "学号" in header and "姓名" in header
    students = {r[0] for r in query(served["wh"], "SELECT student_id FROM mart.students WHERE exam_id = ? AND "
                                                  "class_id = ?", [served["exam"], served["class_id"]])}
    got = {row[header.index("学号")].value for row in ws.iter_rows(min_row=2)}
    assert got == students
