"""The teacher portal (issue 18; rules.md §12; outputs.md audit.access, `examflow serve` and
`examflow accounts`), through Flask's test client on a generated grade run through the pipeline:
what each role sees (against the scope derived here from teachers.csv and independent queries of the
mart), what answers 404 (the same page as for something that does not exist, logged as refused),
login, lock, logout, idle expiry, CSRF, hostile input, downloads equal to `examflow extract`, and no
id_card or phone in any page."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from examflow import extracts as ex
from examflow.cli import main
from examflow.portal import create_app
from examflow.portal.accounts import AccountStore, store_path
from tests.conftest import query, query_dicts, run
from tests.test_extracts import INJECTION, ROLE_ZH, covers, teacher_with

SCRIPT = "<script>alert(1)</script>"
PASSWORD = "correct horse 1"


class Clock:
    """A clock the tests move (idle expiry, the 15-minute lock)."""

    def __init__(self):
        self.now = dt.datetime(2026, 12, 1, 8, 0, 0)

    def __call__(self):
        return self.now

    def advance(self, minutes: float):
        self.now += dt.timedelta(minutes=minutes)


# ----------------------------------------------------------------------------------- the world
@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A generated grade (~200 students) and its previous exam; one student of the current roster
    renamed to a script tag (another already carries a formula). The portal is created after the
    previous exam only, and must list the current one once it is published."""
    from examflow.generate import generate

    base = tmp_path_factory.mktemp("portal")
    previous, current = generate(base / "exams", 200, seed=5)
    roster_file = current / "roster.csv"
    text = roster_file.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    renamed = rows[1]["学号"]
    rows[1]["姓名"] = SCRIPT
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    roster_file.write_text(out.getvalue(), encoding="utf-8")
    wh = base / "wh" / "warehouse.duckdb"
    prev_id = run(previous, wh)
    clock = Clock()
    app = create_app(wh, base / "output", clock=clock, background_log=False)
    app.config["TESTING"] = True
    before = _exam_ids_listed(app, prev_id)
    cur_id = run(current, wh)
    teachers = list(csv.DictReader((current / "teachers.csv").read_text(encoding="utf-8-sig").splitlines()))
    by_name = {s: c for c, s in query(wh, "SELECT subject, name FROM raw.subjects WHERE exam_id = ?", [cur_id])}
    roles: dict[str, set] = {}
    for t in teachers:
        role = ROLE_ZH[t["职务"]]
        code = by_name.get(t["科目"])
        cell = {"teacher": (t["班级"], code), "head": (t["班级"], "*"), "subject_lead": ("*", code),
                "director": ("*", "*")}[role]
        roles.setdefault(t["工号"], set()).add((role, cell))
    return {"wh": wh, "out": base / "output", "prev": prev_id, "exam": cur_id, "app": app, "clock": clock,
            "roles": roles, "roster": rows, "script_student": renamed, "listed_before": before}


def _exam_ids_listed(app, some_exam: str) -> list[str]:
    store = app.extensions["examflow"].store
    if store.get("office_probe") is None:
        store.add("office_probe", "office", PASSWORD)
    c = app.test_client()
    login(c, "office_probe")
    return re.findall(r'href="/exam/([^/"]+)/"', c.get("/").text)


@pytest.fixture(scope="module")
def accounts(world) -> dict[str, str]:
    """An account per role: plain subject teacher, class head, subject lead, director, office."""
    who = {
        "teacher": teacher_with(world, {"teacher"}, {"head", "subject_lead", "director"}),
        "head": teacher_with(world, {"head"}, {"subject_lead", "director"}),
        "subject_lead": teacher_with(world, {"subject_lead"}, {"head", "director"}),
        "director": teacher_with(world, {"director"}),
    }
    for tid in who.values():
        store(world).add(tid, "teacher", PASSWORD)
    store(world).add("教务处", "office", PASSWORD)
    who["office"] = "教务处"
    return who


def store(world) -> AccountStore:
    return world["app"].extensions["examflow"].store


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def body(r) -> str:
    """A page without its CSRF token (signed with the time, so it changes each second)."""
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', r.text)


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token(page.text)})


@pytest.fixture
def as_role(world, accounts):
    def make(role: str):
        c = world["app"].test_client()
        r = login(c, accounts[role])
        assert r.status_code == 302, r.text
        return c
    return make


def access_rows(world) -> list[dict]:
    world["app"].extensions["examflow"].access.flush()
    return query_dicts(world["wh"], 'SELECT * FROM audit.access ORDER BY "at"')


def scope(world, tid) -> set:
    return {cell for _, cell in world["roles"].get(tid, set())}


def exam_cells(world) -> set[tuple[str, str]]:
    """Every (class, subject) of the exam, the total included, from class_quant (independently)."""
    return {(c, s) for c, s in query(world["wh"], "SELECT DISTINCT class_id, subject FROM mart.class_quant "
                                                  "WHERE exam_id = ? AND class_id <> '*'", [world["exam"]])}


def expected_cells(world, role: str, accounts) -> set[tuple[str, str]]:
    if role == "office":
        return exam_cells(world)
    mine = scope(world, accounts[role])
    return {(c, s) for c, s in exam_cells(world) if covers(mine, c, s)}


def names(world) -> dict[str, str]:
    d = dict(query(world["wh"], "SELECT subject, name FROM raw.subjects WHERE exam_id = ?", [world["exam"]]))
    d["total"] = "总分"
    return d


# ----------------------------------------------------------------------------------- accounts, login
def test_the_portal_sees_an_exam_once_it_is_published(world, accounts, as_role):
    assert world["listed_before"] == [world["prev"]]
    listed = re.findall(r'href="/exam/([^/"]+)/"', as_role("office").get("/").text)
    assert listed == [world["exam"], world["prev"]]  # newest first


def test_accounts_cli(world, tmp_path, capsys):
    wh = str(world["wh"])
    tid = teacher_with(world, {"teacher"})
    assert main(["accounts", "add", "T9999", "--password-stdin", "--warehouse", wh]) == 2
    assert "no teacher 'T9999'" in capsys.readouterr().err
    sys_stdin = sys.stdin
    try:
        sys.stdin = io.StringIO("short\n")
        assert main(["accounts", "add", tid + "x", "--office", "x", "--password-stdin", "--warehouse", wh]) == 2
        sys.stdin = io.StringIO("a good password\n")
        assert main(["accounts", "add", "--office", "王主任", "--password-stdin", "--warehouse", wh]) == 0
        sys.stdin = io.StringIO("another password\n")
        assert main(["accounts", "reset", "王主任", "--password-stdin", "--warehouse", wh]) == 0
    finally:
        sys.stdin = sys_stdin
    assert main(["accounts", "disable", "王主任", "--warehouse", wh]) == 0
    capsys.readouterr()
    assert main(["accounts", "list", "--warehouse", wh]) == 0
    listed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"name": "王主任", "kind": "office", "display": "王主任", "state": "disabled", "last_login": ""} in listed
    path = store_path(world["wh"])
    assert path.stat().st_mode & 0o777 == 0o600
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # with its WAL
    assert b"a good password" not in raw and b"another password" not in raw and b"$argon2id$" in raw
    # the analysts' copy never holds accounts
    assert not query(world["wh"].with_name("warehouse.analyst.duckdb"),
                     "SELECT * FROM information_schema.tables WHERE table_name ILIKE '%account%'")
    # the CLI's teacher path checks teachers.csv and stores the name
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "accounts", "add", tid, "--password-stdin",
                           "--warehouse", wh], input="a good password\n", capture_output=True, text=True)
    assert proc.returncode in (0, 2)  # 2 when a module fixture already made this teacher's account
    assert store(world).get(tid).display


def test_login_wrong_password_logout(world, accounts):
    c = world["app"].test_client()
    assert c.get("/").status_code == 302
    r = login(c, accounts["teacher"], "wrong password")
    assert r.status_code == 401 and "账号或密码错误" in r.text
    r = login(c, "nobody-here", "wrong password")
    assert r.status_code == 401 and "账号或密码错误" in r.text  # the same answer for an unknown account
    r = login(c, accounts["teacher"])
    assert r.status_code == 302
    cookie = c.get_cookie("examflow_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert c.get("/").status_code == 200
    page = c.get("/")
    r = c.post("/logout", data={"csrf_token": token(page.text)})
    assert r.status_code == 302 and c.get_cookie("examflow_session") is None
    # the old cookie no longer opens anything: the server forgot the session
    c.set_cookie("examflow_session", cookie.value)
    assert c.get("/").status_code == 302
    rows = access_rows(world)
    assert {(r["who"], r["outcome"]) for r in rows} >= {(accounts["teacher"], "login_failed"),
                                                         ("nobody-here", "login_failed")}
    assert any(r["who"] == "anonymous" and r["outcome"] == "refused" and "session" in r["reason"] for r in rows)


def test_lock_after_five_failures_for_fifteen_minutes(world, accounts):
    tid = accounts["subject_lead"]
    c = world["app"].test_client()
    for _ in range(4):
        assert login(c, tid, "wrong password").status_code == 401
    r = login(c, tid, "wrong password")
    assert r.status_code == 401 and "锁定" in r.text
    r = login(c, tid)  # the right password, but locked
    assert r.status_code == 401 and "锁定" in r.text
    world["clock"].advance(14)
    assert login(c, tid).status_code == 401
    world["clock"].advance(2)
    assert login(c, tid).status_code == 302
    mine = [r["outcome"] for r in access_rows(world) if r["who"] == tid]
    assert mine[-7:] == ["login_failed"] * 4 + ["locked"] * 3


def test_a_success_resets_the_failure_count(world, accounts):
    tid = accounts["director"]
    c = world["app"].test_client()
    for _ in range(4):
        login(c, tid, "wrong password")
    assert login(c, tid).status_code == 302
    c2 = world["app"].test_client()
    for _ in range(4):
        login(c2, tid, "wrong password")
    assert login(c2, tid).status_code == 302


def test_idle_expiry_after_thirty_minutes(world, as_role):
    c = as_role("head")
    world["clock"].advance(29)
    assert c.get("/").status_code == 200  # activity keeps it alive
    world["clock"].advance(29)
    assert c.get("/").status_code == 200
    world["clock"].advance(31)
    r = c.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_every_post_needs_a_csrf_token(world, accounts, as_role):
    c = world["app"].test_client()
    c.get("/login")
    assert c.post("/login", data={"username": accounts["head"], "password": PASSWORD}).status_code == 400
    assert c.get("/").status_code == 302  # not logged in
    c = as_role("head")
    exam = world["exam"]
    assert c.post(f"/exam/{exam}/downloads/class_scores", data={"format": "xlsx"}).status_code == 400
    assert c.post(f"/exam/{exam}/downloads/class_scores", data={"format": "xlsx", "csrf_token": "forged"}).status_code == 400
    assert c.post("/logout").status_code == 400
    assert c.get("/").status_code == 200  # still logged in
    assert any(r["outcome"] == "refused" and r["reason"].startswith("CSRF") for r in access_rows(world))


# ----------------------------------------------------------------------------------- scope per role
@pytest.mark.parametrize("role", ["teacher", "head", "subject_lead", "director", "office"])
def test_each_role_sees_exactly_its_scope(world, accounts, as_role, role):
    c = as_role(role)
    exam = world["exam"]
    want = expected_cells(world, role, accounts)
    want_classes = {cl for cl, _ in want}
    all_classes = {cl for cl, _ in exam_cells(world)}
    home = c.get("/").text
    assert set(re.findall(rf'href="/exam/{exam}/class/([^/"]+)/"', home)) == want_classes
    subject_names = names(world)
    students = {cl: {s for s, in query(world["wh"], "SELECT student_id FROM mart.students WHERE exam_id = ? AND "
                                                     "class_id = ?", [exam, cl])} for cl in all_classes}
    for cl in sorted(all_classes):
        report = c.get(f"/exam/{exam}/class/{cl}/")
        listing = c.get(f"/exam/{exam}/class/{cl}/students")
        if cl not in want_classes:
            assert report.status_code == 404 and listing.status_code == 404
            continue
        assert report.status_code == 200 and listing.status_code == 200
        # the columns of the student list are exactly the subjects in scope for the class
        header = re.search(r"<thead>(.*?)</thead>", listing.text, re.S).group(1)
        shown = set(re.findall(r'sort=([a-z_]+)&amp;order', header)) - {"student_id", "name"}
        assert shown == {s for c2, s in want if c2 == cl}, cl
        assert all(subject_names[s] in header for s in shown)
        # the rows are exactly the class's students
        assert set(re.findall(rf'/exam/{exam}/student/(\d+)', listing.text)) == students[cl]
        # the class report's table holds the class_quant rows of exactly those subjects
        quant = re.search(r"班级与年级对比</h2>\s*<table.*?<tbody>(.*?)</tbody>", report.text, re.S).group(1)
        firsts = set(re.findall(r'<tr><td class="text">([^<]+)</td>', quant))
        assert firsts == {subject_names[s] for c2, s in want if c2 == cl}
    # a student of a class outside the scope: 404; inside: 200
    for cl in sorted(all_classes):
        sid = sorted(students[cl])[0]
        assert c.get(f"/exam/{exam}/student/{sid}").status_code == (200 if cl in want_classes else 404)


def test_a_page_made_for_a_wider_scope_is_never_served_to_a_narrower_one(world, accounts, as_role):
    """Class pages are rendered once per published copy: the office's view of a class (every subject)
    comes first, then a subject teacher of that class asks for the same pages — and sees only their
    subject; every view, the repeated ones included, writes its own audit row."""
    tid = accounts["teacher"]
    cl, subject = sorted(cell for role, cell in world["roles"][tid] if role == "teacher")[0]
    exam = world["exam"]
    office, teacher = as_role("office"), as_role("teacher")
    wide = office.get(f"/exam/{exam}/class/{cl}/students?sort=student_id&order=asc").text
    assert len(set(re.findall(r'sort=([a-z_]+)&amp;order', wide)) - {"student_id", "name"}) > 2
    office.get(f"/exam/{exam}/class/{cl}/?subject={subject}")
    before = len(access_rows(world))
    for _ in range(2):
        listing = teacher.get(f"/exam/{exam}/class/{cl}/students?sort=student_id&order=asc")
        report = teacher.get(f"/exam/{exam}/class/{cl}/?subject={subject}")
        assert listing.status_code == 200 and report.status_code == 200
        header = re.search(r"<thead>(.*?)</thead>", listing.text, re.S).group(1)
        assert set(re.findall(r'sort=([a-z_]+)&amp;order', header)) - {"student_id", "name"} == {subject}
        quant = re.search(r"班级与年级对比</h2>\s*<table.*?<tbody>(.*?)</tbody>", report.text, re.S).group(1)
        assert set(re.findall(r'<tr><td class="text">([^<]+)</td>', quant)) == {names(world)[subject]}
    mine = [(r["what"], r["outcome"]) for r in access_rows(world)[before:] if r["who"] == tid]
    assert mine == [("students", "shown"), ("class_report", "shown")] * 2


def test_class_report_figures_and_chart(world, accounts, as_role):
    c = as_role("head")
    tid = accounts["head"]
    cl = next(cell[0] for role, cell in world["roles"][tid] if role == "head")
    exam = world["exam"]
    page = c.get(f"/exam/{exam}/class/{cl}/").text
    # the total's class mean as class_quant has it, and the grade's
    mean, cohort = query(world["wh"], "SELECT mean, cohort_mean FROM mart.class_quant WHERE exam_id = ? AND "
                                       "class_id = ? AND subject = 'total' ORDER BY track LIMIT 1", [exam, cl])[0]
    assert f"<td>{mean:.1f}".rstrip("0").rstrip(".") in page.replace(".0<", "<")
    assert "<svg" in page and 'data-chart="bars"' in page
    # the chart's bars: the class's share per bin sums to 1 over the class's ok totals
    scores = [s for s, in query(world["wh"], "SELECT total FROM mart.totals WHERE exam_id = ? AND class_id = ? AND "
                                             "status = 'ok'", [exam, cl])]
    shares = [float(x.rstrip("%")) for x in re.findall(rf"<title>{cl}班 [^:]+: ([\d.]+)%</title>", page)]
    assert len(shares) == len([s for s in shares]) and abs(sum(shares) - 100) < 1.5 and scores
    # borderline students of the class, listed and logged
    bl = {s for s, in query(world["wh"], "SELECT student_id FROM mart.borderline WHERE exam_id = ? AND class_id = ?",
                            [exam, cl])}
    section = page.split("临界生</h2>")[1]
    assert set(re.findall(r"/student/(\d+)", section)) == bl
    shown = [r for r in access_rows(world) if r["who"] == tid and r["what"] == "class_report"]
    assert shown and shown[-1]["outcome"] == "shown" and shown[-1]["rows"] == len(
        query(world["wh"], "SELECT * FROM mart.borderline WHERE exam_id = ? AND class_id = ?", [exam, cl]))


def test_items_page(world, accounts, as_role):
    c = as_role("teacher")
    tid = accounts["teacher"]
    cl, subject = sorted(cell for role, cell in world["roles"][tid] if role == "teacher")[0]
    exam = world["exam"]
    page = c.get(f"/exam/{exam}/class/{cl}/items?subject={subject}")
    assert page.status_code == 200
    items = [i for i, in query(world["wh"], "SELECT item FROM mart.class_items WHERE exam_id = ? AND class_id = ? "
                                            "AND subject = ? ORDER BY position", [exam, cl, subject])]
    rows = re.findall(r'<tr><td class="text">([^<]+)</td>', page.text.split("<th>题号</th>")[1].split("知识点</h2>")[0])
    assert rows == items
    other = next(s for s in names(world) if s != "total" and not covers(scope(world, tid), cl, s))
    assert c.get(f"/exam/{exam}/class/{cl}/items?subject={other}").status_code == 404


def test_student_page_history_chart_and_scans(world, accounts, as_role):
    exam = world["exam"]
    tid = accounts["head"]
    cl = next(cell[0] for role, cell in world["roles"][tid] if role == "head")
    sid = query(world["wh"], "SELECT student_id FROM mart.totals WHERE exam_id = ? AND class_id = ? AND status = 'ok' "
                             "ORDER BY student_id LIMIT 1", [exam, cl])[0][0]
    page = as_role("head").get(f"/exam/{exam}/student/{sid}").text
    assert 'data-chart="lines"' in page and page.count("<tr><td class=\"text\">") == 2  # both exams
    ranks = query(world["wh"], "SELECT grade_rank FROM mart.totals WHERE student_id = ? ORDER BY exam_id", [sid])
    assert all(f"总分: {r:.0f}</title>" in page for r, in ranks if r is not None)
    assert "答题卡图像" not in page  # teachers get no scan image
    office = as_role("office").get(f"/exam/{exam}/student/{sid}").text
    images = [i for i, in query(world["wh"], "SELECT image FROM staging.script_owners WHERE exam_id = ? AND owner = ? "
                                             "AND image IS NOT NULL AND NOT discarded", [exam, sid])]
    assert "答题卡图像" in office and images and all(i in office for i in images)


def test_office_pages_and_teachers_do_not_reach_them(world, as_role):
    exam = world["exam"]
    office = as_role("office")
    page = office.get(f"/exam/{exam}/abnormal")
    n = query(world["wh"], "SELECT count(*) FROM mart.abnormal_scripts WHERE exam_id = ?", [exam])[0][0]
    assert page.status_code == 200 and page.text.count("<tr class=") == n
    status = office.get(f"/exam/{exam}/status")
    n_open = query(world["wh"], "SELECT n_abnormal_open FROM mart.exams WHERE exam_id = ?", [exam])[0][0]
    assert status.status_code == 200 and f"{n_open} 份异常卷待处理" in status.text
    director = as_role("director")
    nf = director.get(f"/exam/{exam}/class/nonexistent/")
    for url in (f"/exam/{exam}/abnormal", f"/exam/{exam}/status"):
        r = director.get(url)
        assert r.status_code == 404 and body(r) == body(nf)


# ----------------------------------------------------------------------------------- 404 and hostile input
def test_outside_scope_is_the_same_404_as_nonexistent_and_logged(world, accounts, as_role):
    tid = accounts["teacher"]
    c = as_role("teacher")
    exam = world["exam"]
    mine = {cl for cl, _ in expected_cells(world, "teacher", accounts)}
    other = sorted({cl for cl, _ in exam_cells(world)} - mine)[0]
    outside = c.get(f"/exam/{exam}/class/{other}/")
    missing = c.get(f"/exam/{exam}/class/99/")
    no_exam = c.get("/exam/no-such-exam/class/1/")
    assert outside.status_code == missing.status_code == no_exam.status_code == 404
    assert body(outside) == body(missing) == body(no_exam)
    assert set(outside.headers.keys()) == set(missing.headers.keys())
    rows = [r for r in access_rows(world) if r["who"] == tid and r["outcome"] == "refused"]
    assert {r["reason"] for r in rows} >= {"class outside scope or unknown", "no such exam"}
    assert any(f'"class_id": "{other}"' in r["params"] or f'"class_id":"{other}"' in r["params"] for r in rows)


HOSTILE = ["' OR '1'='1", "1; DROP TABLE mart.totals; --", "*", "../../etc/passwd", "total' --", "%", "3' UNION SELECT 1--"]


@pytest.mark.parametrize("value", HOSTILE)
def test_sql_in_every_parameter_is_refused(world, accounts, as_role, value):
    c = as_role("head")
    exam = world["exam"]
    cl = next(cell[0] for role, cell in world["roles"][accounts["head"]] if role == "head")
    before = query(world["wh"], "SELECT count(*) FROM mart.totals")[0][0]
    from urllib.parse import quote
    q = quote(value, safe="")
    for url in (f"/exam/{q}/", f"/exam/{exam}/class/{q}/", f"/exam/{exam}/class/{q}/students",
                f"/exam/{exam}/student/{q}", f"/exam/{exam}/class/{cl}/?subject={q}",
                f"/exam/{exam}/class/{cl}/students?sort={q}", f"/exam/{exam}/class/{cl}/students?order={q}",
                f"/exam/{exam}/class/{cl}/items?subject={q}"):
        r = c.get(url)
        assert r.status_code == 404, url
    page = c.get(f"/exam/{exam}/downloads")
    for field in ("class_id", "subject", "student_id") if value != "*" else ("student_id",):  # '*' = every class
        r = c.post(f"/exam/{exam}/downloads/class_scores" if field != "student_id" else
                   f"/exam/{exam}/downloads/student_history",
                   data={"csrf_token": token(page.text), field: value, "format": "xlsx"})
        assert r.status_code == 404, field
    assert query(world["wh"], "SELECT count(*) FROM mart.totals")[0][0] == before


def test_download_names_cannot_climb(world, as_role):
    c = as_role("head")
    exam = world["exam"]
    page = c.get(f"/exam/{exam}/downloads")
    for name in ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "class_scores%00", "_scope", "..", "%2e%2e"):
        r = c.post(f"/exam/{exam}/downloads/{name}", data={"csrf_token": token(page.text), "format": "xlsx"})
        assert r.status_code in (404, 405), name
        assert b"root:" not in r.data
    r = c.post(f"/exam/{exam}/downloads/class_scores", data={"csrf_token": token(page.text), "format": "../x"})
    assert r.status_code == 400 and b"root:" not in r.data


def test_a_forged_session_cookie_is_refused_and_logged(world):
    c = world["app"].test_client()
    c.set_cookie("examflow_session", "forged-" + "A" * 40)
    r = c.get(f"/exam/{world['exam']}/class/1/students")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    c.set_cookie("examflow_session", "x" * 500)
    assert c.get("/").status_code == 302
    rows = [r for r in access_rows(world) if r["who"] == "anonymous" and r["outcome"] == "refused"]
    assert any(r["what"] == f"/exam/{world['exam']}/class/1/students" for r in rows)
    assert any(r["reason"] == "forged session cookie" for r in rows)


def test_another_teachers_id_is_refused(world, accounts, as_role):
    c = as_role("teacher")
    exam = world["exam"]
    page = c.get(f"/exam/{exam}/downloads")
    r = c.post(f"/exam/{exam}/downloads/class_scores",
               data={"csrf_token": token(page.text), "teacher": accounts["head"], "format": "xlsx"})
    assert r.status_code == 404
    assert any(r["who"] == accounts["teacher"] and r["reason"] == "another teacher's id" for r in access_rows(world))


def test_hostile_names_render_as_text(world, accounts, as_role):
    exam = world["exam"]
    office = as_role("office")
    for sid, name in ((world["script_student"], SCRIPT),
                      (next(r["学号"] for r in world["roster"] if r["姓名"] == INJECTION), INJECTION)):
        cl = query(world["wh"], "SELECT class_id FROM mart.students WHERE exam_id = ? AND student_id = ?",
                   [exam, sid])[0][0]
        for url in (f"/exam/{exam}/class/{cl}/students", f"/exam/{exam}/student/{sid}"):
            page = office.get(url).text
            assert "<script" not in page
            assert str(__import__("markupsafe").escape(name)) in page
    # no script element anywhere, no inline handler
    page = office.get(f"/exam/{exam}/class/1/students").text
    assert "<script" not in page and "onerror" not in page


def test_download_is_the_extract_file_and_audited(world, accounts, as_role):
    tid = accounts["head"]
    cl = next(cell[0] for role, cell in world["roles"][tid] if role == "head")
    exam = world["exam"]
    c = as_role("head")
    page = c.get(f"/exam/{exam}/downloads")
    assert page.status_code == 200 and all(f"form-{t}" in page.text for t in ex.load_templates())
    r = c.post(f"/exam/{exam}/downloads/class_scores",
               data={"csrf_token": token(page.text), "class_id": cl, "subject": "*", "format": "xlsx"})
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    got = load_workbook(io.BytesIO(r.data)).worksheets[0]
    same = ex.extract("class_scores", teacher_id=tid, exam_id=exam, options={"class_id": cl},
                      warehouse=world["wh"], output=world["out"])
    want = load_workbook(same.path).worksheets[0]
    assert [[c.value for c in row] for row in got.iter_rows()] == [[c.value for c in row] for row in want.iter_rows()]
    # the formula-looking name stays text in the download
    for row in got.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                assert cell.data_type == "s"
    written = query_dicts(world["wh"], "SELECT * FROM audit.extracts WHERE who = ? AND template = 'extracts/class_scores' "
                                       "AND outcome = 'written' ORDER BY \"at\"", [tid])
    assert len(written) >= 2 and written[-2]["rows"] == written[-1]["rows"] == got.max_row - 1
    dl = [r for r in access_rows(world) if r["who"] == tid and r["outcome"] == "downloaded"]
    assert dl and dl[-1]["what"] == "download/class_scores" and dl[-1]["rows"] == got.max_row - 1
    # a class outside the head's scope: 404, nothing written
    other = sorted({c2 for c2, _ in exam_cells(world)} - {c2 for c2, _ in expected_cells(world, "head", accounts)})[0]
    r = c.post(f"/exam/{exam}/downloads/class_scores",
               data={"csrf_token": token(page.text), "class_id": other, "format": "xlsx"})
    assert r.status_code == 404
    # a bad number: the reason, 400
    r = c.post(f"/exam/{exam}/downloads/rank_movers",
               data={"csrf_token": token(page.text), "min_change": "lots", "format": "csv"})
    assert r.status_code == 400 and "min-change" in r.text


def test_office_downloads_on_behalf_of_a_teacher(world, accounts, as_role):
    c = as_role("office")
    exam = world["exam"]
    page = c.get(f"/exam/{exam}/downloads")
    r = c.post(f"/exam/{exam}/downloads/knowledge", data={"csrf_token": token(page.text), "format": "csv"})
    assert r.status_code == 400
    r = c.post(f"/exam/{exam}/downloads/knowledge",
               data={"csrf_token": token(page.text), "teacher": accounts["teacher"], "format": "csv"})
    assert r.status_code == 200 and r.data.startswith("\ufeff".encode())
    assert any(r["who"] == "office:教务处" and r["outcome"] == "downloaded" for r in access_rows(world))


def test_no_id_card_or_phone_in_any_page(world, accounts, as_role):
    exam = world["exam"]
    secrets = set()
    for r in world["roster"]:
        for col in ("身份证号", "联系电话"):
            v = r.get(col) or ""
            if len(v) >= 7:
                secrets |= {v, v[:3] + "*" * (len(v) - 7) + v[-4:], v[:6] + "*" * (len(v) - 10) + v[-4:]}
    pages = []
    for role in ("head", "office"):
        c = as_role(role)
        urls = ["/", f"/exam/{exam}/", f"/exam/{exam}/downloads"]
        for cl in sorted({c2 for c2, _ in expected_cells(world, role, accounts)}):
            urls += [f"/exam/{exam}/class/{cl}/", f"/exam/{exam}/class/{cl}/students", f"/exam/{exam}/class/{cl}/items"]
            listing = c.get(f"/exam/{exam}/class/{cl}/students").text
            urls += [f"/exam/{exam}/student/{s}" for s in re.findall(r"/student/(\d+)", listing)[:5]]
        if role == "office":
            urls += [f"/exam/{exam}/abnormal", f"/exam/{exam}/status"]
        pages += [c.get(u).text for u in urls]
    text = "\n".join(pages)
    assert len(pages) > 20
    leaked = [s for s in secrets if s in text]
    assert not leaked, leaked[:5]
    assert "身份证" not in text and "电话" not in text


# ----------------------------------------------------------------------------------- while a run writes
def hold_warehouse(wh, seconds: float | None = None) -> subprocess.Popen:
    """Another process holding the warehouse read-write, as a run does (released on a line of stdin,
    or after `seconds`)."""
    wait = f"time.sleep({seconds})" if seconds else "sys.stdin.readline()"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time\ncon = duckdb.connect({str(wh)!r})\n"
                               f"con.execute('BEGIN TRANSACTION')\nprint('locked', flush=True)\n{wait}\ncon.close()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_pages_and_their_log_while_a_run_holds_the_warehouse(world, accounts, as_role):
    """Pages read the analysts' copy, so they answer while the warehouse is locked; their access rows
    go to the JSONL file and reach audit.access with the next write that gets through, once."""
    from examflow import audit

    c = as_role("head")
    log = world["app"].extensions["examflow"].access
    jsonl = audit.ACCESS.jsonl(world["wh"])
    cl = next(cell[0] for role, cell in world["roles"][accounts["head"]] if role == "head")
    holder = hold_warehouse(world["wh"])
    try:
        assert c.get(f"/exam/{world['exam']}/class/{cl}/students?sort=name&order=asc").status_code == 200
        assert jsonl.exists() and jsonl.stat().st_mode & 0o777 == 0o600
        pending = jsonl.read_text(encoding="utf-8").splitlines()
        assert '"sort": "name"' in pending[-1] and '"outcome": "shown"' in pending[-1]
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    c.get(f"/exam/{world['exam']}/class/{cl}/")  # reaches the warehouse: the pending row is copied in
    log.flush()
    c.get(f"/exam/{world['exam']}/class/{cl}/")  # and not twice
    rows = [r for r in access_rows(world) if r["what"] == "students" and '"sort": "name"' in r["params"]
            and r["who"] == accounts["head"]]
    assert len(rows) == 1 and rows[0]["outcome"] == "shown"
    # how far the file was copied is kept in the warehouse: a new process reads only what follows
    copied = query(world["wh"], 'SELECT max("bytes") FROM audit.fallback_copied WHERE file = ?', [jsonl.name])
    assert copied == [(jsonl.stat().st_size,)]


def test_a_run_waits_for_a_short_audit_write_instead_of_failing(world):
    """A writer (a run's step) finding the warehouse held by another process's short write waits."""
    from examflow import warehouse

    holder = hold_warehouse(world["wh"], seconds=1.0)
    try:
        with warehouse.connect(world["wh"]) as con:
            assert con.execute("SELECT count(*) FROM mart.exams").fetchone()[0] == 2
    finally:
        holder.wait(timeout=30)
