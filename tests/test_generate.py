"""Tests of the synthetic exam generator (examflow.generate).

The files are checked as an exam office would receive them: decoded, parsed and
validated here independently of the generator's internals. `_abnormal_ids` is a small
re-derivation of rules.md §3 over the generated formats; the set of ids it finds in the
current exam must equal the generator's planted manifest, and the previous exam must be
clean.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
import yaml

from examflow.generate import CURRENT_ID, PREVIOUS_ID, generate

N = 120
SUBJECT_CODES = ["chinese", "math", "english", "physics", "history", "chemistry", "biology", "geography", "politics"]
ZH = {"语文": "chinese", "数学": "math", "英语": "english", "物理": "physics", "历史": "history",
      "化学": "chemistry", "生物": "biology", "地理": "geography", "政治": "politics"}
ALL_CODES = {"UNKNOWN_EXAM_NO", "DUPLICATE_SCAN", "DUPLICATE_CONFLICT", "MISSING_SCRIPT", "ABSENT_BUT_ANSWERED",
             "NOT_ENROLLED", "ORPHAN_MARKS", "PAGE_MISSING", "UNMARKED", "MARKER_DISAGREEMENT",
             "SCORE_OUT_OF_RANGE", "MARKER_FLAGGED", "MULTI_MARK", "UNREADABLE_MARK", "ALL_BLANK", "SCAN_ERROR",
             "VERSION_UNKNOWN", "OPTIONAL_CHOICE_CONFLICT"}
ACTIONS = {  # rules.md §3: which actions settle which code
    "UNKNOWN_EXAM_NO": {"assign_student", "void"}, "DUPLICATE_SCAN": {"accept", "void"},
    "DUPLICATE_CONFLICT": {"void", "assign_student"}, "MISSING_SCRIPT": {"mark_absent"},
    "ABSENT_BUT_ANSWERED": {"mark_absent", "accept"}, "NOT_ENROLLED": {"accept", "void", "assign_student"},
    "ORPHAN_MARKS": {"assign_student", "void"}, "PAGE_MISSING": {"accept", "void"}, "UNMARKED": {"set_score"},
    "MARKER_DISAGREEMENT": {"set_score"}, "SCORE_OUT_OF_RANGE": {"set_score"},
    "MARKER_FLAGGED": {"accept", "set_score", "void"}, "MULTI_MARK": {"accept", "set_score"},
    "UNREADABLE_MARK": {"accept", "set_score"}, "ALL_BLANK": {"accept", "mark_absent"}, "SCAN_ERROR": {"void"},
    "VERSION_UNKNOWN": {"set_version", "void"}, "OPTIONAL_CHOICE_CONFLICT": {"choose_optional", "accept"},
}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    lines: list[str] = []
    folders = generate(out, N, seed=7, progress=lines.append)
    return out, folders, lines


@pytest.fixture(scope="module")
def cur(gen):
    return gen[1][1]


@pytest.fixture(scope="module")
def prev(gen):
    return gen[1][0]


# --------------------------------------------------------------------------- reading helpers
def text_of(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (spreadsheet row number, cells) for CSV (any delimiter) and XLSX."""
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=False).active
        rows = [[("" if c is None else str(c)) for c in r] for r in ws.iter_rows(values_only=True)]
        h = next(i for i, r in enumerate(rows) if any(x in r for x in ("考号", "准考证号")))
        return rows[h], [(h + 2 + k, r) for k, r in enumerate(rows[h + 1:])]
    text = text_of(path)
    first = text.split("\n", 1)[0]
    sep = max([",", "\t", ";"], key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    return rows[0], [(k + 2, r) for k, r in enumerate(rows[1:]) if r]


def load_exam(folder: Path) -> dict:
    exam = yaml.safe_load((folder / "exam.yaml").read_text(encoding="utf-8"))
    items_csv = folder / "items.csv"
    if items_csv.exists():
        hdr, rows = read_table(items_csv)
        for _, r in rows:
            d = dict(zip(hdr, r))
            sub = next(s for s in exam["subjects"] if s["name"] == d["科目"] or s["code"] == d["科目"])
            it = {"id": d["题号"], "type": d["题型"], "full": float(d["满分"])}
            if d["答案"]:
                it["key"] = dict(p.split("=") for p in d["答案"].split(";")) if "=" in d["答案"] else d["答案"]
            if d["误差"]:
                it["tolerance"] = float(d["误差"])
            if d["选项数"]:
                it["options"] = int(d["选项数"])
            if d["部分分"]:
                it["partial"] = int(d["部分分"])
            sub.setdefault("items", []).append(it)
    return exam


def load_roster(folder: Path) -> list[dict]:
    hdr, rows = read_table(folder / "roster.csv")
    return [dict(zip(hdr, r)) for _, r in rows]


def electives(text: str) -> set[str]:
    out = set()
    for zh, code in (("化学", "chemistry"), ("生物", "biology"), ("地理", "geography"), ("政治", "politics")):
        if zh in text or code in text:
            out.add(code)
    if not out:  # short form: 物化生 / 历政地
        for ch, code in (("化", "chemistry"), ("生", "biology"), ("地", "geography"), ("政", "politics")):
            if ch in text[1:]:
                out.add(code)
    return out


ITEM_RE = re.compile(r"^(?:Q|q|第|客观题)?(\d+)题?$")
EXAM_H, SID_H = {"考号", "准考证号", "Roll"}, {"扫描序号", "试卷编号", "图像号", "file_id"}
YES = {"1", "是", "Y", "缺考"}


def load_scans(folder: Path) -> list[dict]:
    scans = []
    for path in sorted((folder / "scans").rglob("*")):
        if path.is_dir() or path.name == "ErrorFiles.csv":
            continue
        rel = path.relative_to(folder / "scans").as_posix()
        hdr, rows = read_table(path)
        top = rel.split("/")[0]
        file_subject = ZH.get(top) or next((c for z, c in ZH.items() if z in path.stem), None) or \
            next((c for c in SUBJECT_CODES if path.stem.startswith(c)), None)
        for rowno, r in rows:
            d = dict(zip(hdr, r))
            sid_col = next((h for h in hdr if h in SID_H), None)
            resp = {}
            for h in hdr:
                m = ITEM_RE.match(h)
                if m and h not in ("1批次",):
                    v = d[h].strip()
                    resp[m.group(1)] = "" if v in ("", "-") else v
            scans.append(dict(
                subject=ZH.get(d.get("科目", ""), file_subject), path=rel, row=rowno,
                ref=d[sid_col] if sid_col else f"{rel}#{rowno}",
                exam_no=next(d[h] for h in hdr if h in EXAM_H),
                absent=any(d.get(h, "") in YES for h in ("缺考", "缺考标记")),
                pages=int(d["页数"]) if d.get("页数") else None, version=d.get("试卷类型"),
                choice=d.get("选做"), resp=resp))
    return scans


def load_marks(folder: Path, exam: dict) -> dict:
    """(subject, exam_no) -> item -> dict(s1, s2, arb, flag, final)."""
    out: dict = defaultdict(dict)
    for path in sorted((folder / "marks").glob("*.csv")):
        hdr, rows = read_table(path)
        fsub = next((c for z, c in ZH.items() if z in path.stem), None) or \
            next(c for c in SUBJECT_CODES if path.stem.startswith(c))
        for _, r in rows:
            d = dict(zip(hdr, r))
            sub = ZH.get(d.get("科目", ""), fsub)
            num = d["考号"]
            if "题号" in d:
                f = lambda k: float(d[k]) if d.get(k) else None  # noqa: E731
                out[(sub, num)][d["题号"]] = dict(s1=f("一评"), s2=f("二评"), arb=f("仲裁"), flag=d.get("问题卷", ""))
            else:
                for h in hdr:
                    if h not in ("考号", "科目") and d[h] != "":
                        out[(sub, num)][h] = dict(s1=float(d[h]), s2=None, arb=None, flag="")
    return out


def _abnormal_ids(folder: Path) -> set[str]:
    """Re-derive rules.md §3 abnormal ids from the files (no resolutions applied)."""
    exam = load_exam(folder)
    subjects = {s["code"]: s for s in exam["subjects"]}
    roster = {r["考号"]: r for r in load_roster(folder)}
    default_tol = exam.get("double_mark_tolerance", 3)
    scans = load_scans(folder)
    marks = load_marks(folder, exam)
    ids: set[str] = set()

    def enrolled(st, code):
        role = subjects[code].get("role", "core")
        if role == "core":
            return True
        if role == "first_choice":
            return st["类别"].startswith({"physics": "物理", "history": "历史"}[code])
        return code in electives(st["选科"])

    scans.sort(key=lambda s: (s["path"], s["row"]))
    seen: dict = {}
    scanned = defaultdict(set)
    for s in scans:
        code, sub = s["subject"], subjects[s["subject"]]
        scanned[code].add(s["exam_no"])
        if s["exam_no"] not in roster:
            ids.add(f"UNKNOWN_EXAM_NO:{code}:{s['ref']}")
            continue
        key = (code, s["exam_no"])
        if key in seen:
            same = seen[key]["resp"] == s["resp"]
            ids.add(f"{'DUPLICATE_SCAN' if same else 'DUPLICATE_CONFLICT'}:{code}:{s['ref']}")
        else:
            seen[key] = s
        st = roster[s["exam_no"]]
        if not enrolled(st, code):
            ids.add(f"NOT_ENROLLED:{code}:{s['ref']}")
        answered = any(s["resp"].values()) or bool(marks.get(key))
        if s["absent"]:
            if answered:
                ids.add(f"ABSENT_BUT_ANSWERED:{code}:{s['ref']}")
            continue
        if sub.get("pages") and (s["pages"] or 0) < sub["pages"]:
            ids.add(f"PAGE_MISSING:{code}:{s['ref']}")
        objective = [it for it in sub["items"] if it["type"] != "subjective"]
        if any(isinstance(it.get("key"), dict) for it in objective) and s["version"] not in ("A", "B"):
            ids.add(f"VERSION_UNKNOWN:{code}:{s['ref']}")
        for it in objective:
            v = s["resp"][it["id"]].upper()
            letters = "ABCDEFG"[: it.get("options", 4)]
            if not v or it["type"] == "numeric" and v.isdigit():
                continue
            if any(ch not in letters for ch in v):
                ids.add(f"UNREADABLE_MARK:{code}:{s['ref']}:{it['id']}")
            elif it["type"] == "single" and len(v) > 1:
                ids.add(f"MULTI_MARK:{code}:{s['ref']}:{it['id']}")
        if not any(s["resp"].values()):
            ids.add(f"ALL_BLANK:{code}:{s['ref']}")
        for g in sub.get("optional_groups", []):
            chosen = [c for c in (s["choice"] or "").split(",") if c in g["items"]]
            n_marked = sum(1 for i in g["items"] if i in marks.get(key, {}))
            if len(chosen) != g["choose"] or n_marked > g["choose"]:
                ids.add(f"OPTIONAL_CHOICE_CONFLICT:{code}:{s['ref']}:{g['items'][0]}")
        optional = {i for g in sub.get("optional_groups", []) for i in g["items"]}
        for it in sub["items"]:
            if it["type"] == "subjective" and it["id"] not in optional and it["id"] not in marks.get(key, {}):
                ids.add(f"UNMARKED:{code}:{s['exam_no']}:{it['id']}")
    for code, sub in subjects.items():
        for st in roster.values():
            if enrolled(st, code) and st["考号"] not in scanned[code]:
                ids.add(f"MISSING_SCRIPT:{code}:{st['学号']}")
    for (code, num), items in marks.items():
        if num not in scanned[code]:
            ids.add(f"ORPHAN_MARKS:{code}:{num}")
        fulls = {it["id"]: it for it in subjects[code]["items"]}
        for item, m in items.items():
            it = fulls[item]
            vals = [v for v in (m["s1"], m["s2"], m["arb"]) if v is not None]
            if any(v < 0 or v > it["full"] or (v * 2) != int(v * 2) for v in vals):
                ids.add(f"SCORE_OUT_OF_RANGE:{code}:{num}:{item}")
            elif m["s2"] is not None and m["arb"] is None and \
                    abs(m["s1"] - m["s2"]) > it.get("tolerance", default_tol):
                ids.add(f"MARKER_DISAGREEMENT:{code}:{num}:{item}")
            if m["flag"]:
                ids.add(f"MARKER_FLAGGED:{code}:{num}")
    for err in (folder / "scans").rglob("ErrorFiles.csv"):
        code = ZH[err.relative_to(folder / "scans").parts[0]]
        hdr, rows = read_table(err)
        for _, r in rows:
            ids.add(f"SCAN_ERROR:{code}:{r[0]}")
    return ids


def planted(out: Path) -> list[dict]:
    hdr, rows = read_table(out / f"{CURRENT_ID}.planted.csv")
    return [dict(zip(hdr, r)) for _, r in rows]


# --------------------------------------------------------------------------- layout and config
def test_layout_and_progress(gen):
    out, (p, c), lines = gen
    assert p == out / PREVIOUS_ID and c == out / CURRENT_ID
    for f in (p, c):
        for name in ("exam.yaml", "roster.csv", "teachers.csv", "rooms.csv"):
            assert (f / name).is_file()
        assert len(list((f / "scans").rglob("*.*"))) >= 9 and len(list((f / "marks").glob("*.csv"))) == 9
    assert (c / "items.csv").is_file() and list((c / "resolutions").glob("*.csv"))
    assert not (p / "resolutions").exists()
    for rel in ("scans/math_batch1.xlsx", "scans/math_batch2.csv", "scans/生物/Results/Results_10AM.csv",
                "scans/生物/Manual/ErrorFiles.csv", "scans/生物/Manual/MultiMarkedFiles.csv"):
        assert (c / rel).is_file(), rel
    assert len(lines) >= 20 and any("chemistry" in x for x in lines)


def test_exam_yaml_and_items_add_up(cur, prev):
    for folder in (prev, cur):
        exam = load_exam(folder)
        assert [s["code"] for s in exam["subjects"]] == SUBJECT_CODES
        assert exam["grade"] == "高三" and re.fullmatch(r"[a-z0-9_-]{1,64}", exam["id"])
        for s in exam["subjects"]:
            groups = s.get("optional_groups", [])
            in_group = {i for g in groups for i in g["items"]}
            total = sum(it["full"] for it in s["items"] if it["id"] not in in_group)
            for g in groups:
                fulls = {it["full"] for it in s["items"] if it["id"] in g["items"]}
                assert len(fulls) == 1
                total += g["choose"] * fulls.pop()
            assert total == pytest.approx(s["full"]), s["code"]
            assert len({it["id"] for it in s["items"]}) == len(s["items"])
    exam = load_exam(cur)
    assert exam["previous"] == PREVIOUS_ID and "previous" not in load_exam(prev)
    subs = {s["code"]: s for s in exam["subjects"]}
    assert [s["full"] for s in exam["subjects"]] == [150, 150, 150, 100, 100, 100, 100, 100, 100]
    assert {s["code"] for s in exam["subjects"] if s.get("role") == "first_choice"} == {"physics", "history"}
    assert {s["code"] for s in exam["subjects"] if s.get("role") == "reselect"} == \
        {"chemistry", "biology", "geography", "politics"}
    math = subs["math"]["items"]
    assert all(isinstance(it["key"], dict) and set(it["key"]) == {"A", "B"} for it in math
               if it["type"] in ("single", "multi"))
    multi = [it for it in math if it["type"] == "multi"]
    assert len(multi) == 3 and all(it["full"] == 6 and 2 <= len(it["key"]["A"]) <= 3 for it in multi)
    assert [it.get("partial") for it in multi].count(2) == 1
    assert any(it["type"] == "numeric" and it["key"] == 16 for it in math)
    ids = {it["id"] for s in exam["subjects"] for it in s["items"]}
    assert {"17", "13(1)", "19-2"} <= ids
    assert subs["chemistry"]["optional_groups"] == [{"items": ["18", "19"], "choose": 1}]
    assert sum(1 for it in subs["english"]["items"] if it.get("options") == 7) == 5
    assert subs["chinese"]["pages"] == 2 and subs["math"]["pages"] == 2
    assert any("tolerance" in it for it in subs["chinese"]["items"])
    assert exam["double_mark_tolerance"] == 3 and exam["borderline_band"] == 10
    assert exam["omr"] == {"exam_no_fields": ["Roll"], "item_prefix": "q", "empty_value": ""}
    arr = exam["arrangement"]
    assert arr["pinned"] == {"chinese": 1, "math": 2} and arr["order"] == "previous_rank"
    assert arr["invigilators_per_room"] == 2 and len(arr["sessions"]) >= 8
    n_phys = sum(1 for r in load_roster(cur) if r["类别"] == "物理类")
    lines = exam["cut_lines"]["physics"]
    assert [l["name"] for l in lines] == ["特控线", "本科线"]
    assert lines[0]["top"] == round(0.15 * n_phys) and lines[1]["top"] == round(0.6 * n_phys)
    assert set(exam["cut_lines"]["history"][0]) == {"name", "score"}
    hdr, _ = read_table(cur / "items.csv")
    assert hdr == ["科目", "题号", "题型", "满分", "答案", "知识点", "误差", "选项数", "部分分"]
    assert "items" not in yaml.safe_load((cur / "exam.yaml").read_text(encoding="utf-8"))["subjects"][7]


# --------------------------------------------------------------------------- roster, teachers, rooms
def test_roster(cur, prev):
    assert (cur / "roster.csv").read_bytes() == (prev / "roster.csv").read_bytes()
    hdr, _ = read_table(cur / "roster.csv")
    assert hdr == ["学号", "姓名", "班级", "考号", "类别", "选科", "身份证号", "联系电话"]
    roster = load_roster(cur)
    assert len(roster) == N
    assert len({r["学号"] for r in roster}) == N and len({r["考号"] for r in roster}) == N
    assert all(re.fullmatch(r"0\d{7}", r["考号"]) for r in roster)
    classes = defaultdict(int)
    for r in roster:
        assert re.fullmatch(r"高三\(\d+\)班", r["班级"])
        classes[r["班级"]] += 1
    assert all(25 <= n <= 75 for n in classes.values())
    tracks = [r["类别"] for r in roster]
    assert set(tracks) == {"物理类", "历史类"} and 0.55 <= tracks.count("物理类") / N <= 0.75
    pairs = [frozenset(electives(r["选科"])) for r in roster]
    assert all(len(p) == 2 for p in pairs) and len(set(pairs)) == 6
    forms = {r["选科"] for r in roster}
    assert any(" " in f for f in forms) and any("," in f for f in forms) and any(f[0] in "物历" for f in forms)
    names = [r["姓名"] for r in roster]
    assert '=HYPERLINK("x")' in names
    assert all(any(ch in n for n in names) for ch in "堃喆昇")
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for r in roster:
        idc = r["身份证号"]
        assert len(idc) == 18 and idc[:17].isdigit()
        assert "10X98765432"[sum(int(a) * b for a, b in zip(idc[:17], w)) % 11] == idc[17]
        assert re.fullmatch(r"1[3-9]\d{9}", r["联系电话"])


def test_teachers_and_rooms(cur):
    hdr, rows = read_table(cur / "teachers.csv")
    assert hdr == ["工号", "姓名", "班级", "科目", "职务"]
    rows = [dict(zip(hdr, r)) for _, r in rows]
    roster = load_roster(cur)
    classes = {re.search(r"\d+", r["班级"]).group() for r in roster}
    teach = [r for r in rows if r["职务"] == "任课"]
    for c in classes:
        subs = {r["科目"] for r in teach if r["班级"] == c}
        assert {"语文", "数学", "英语"} <= subs and subs & {"物理", "历史"}
        assert sum(1 for r in rows if r["职务"] == "班主任" and r["班级"] == c and r["科目"] == "") == 1
    per_teacher = defaultdict(set)
    for r in teach:
        per_teacher[(r["工号"], r["科目"])].add(r["班级"])
    assert max(len(v) for v in per_teacher.values()) <= 3 and max(len(v) for v in per_teacher.values()) >= 2
    assert {r["科目"] for r in rows if r["职务"] == "备课组长"} == set(ZH)
    assert sum(1 for r in rows if r["职务"] == "年级主任") == 1
    hdr, rooms = read_table(cur / "rooms.csv")
    assert hdr == ["考场", "地点", "座位数"]
    cap = sum(int(r[2]) for _, r in rooms)
    assert all(r[2] == "30" for _, r in rooms) and N <= cap - 2 * 30
    assert len({r["工号"] for r in rows}) >= 2 * -(-N // 30)   # enough invigilators for one session


# --------------------------------------------------------------------------- encodings and shapes
def test_gbk_files(cur):
    for rel in ("scans/历史.csv", "marks/物理_评卷明细.csv"):
        data = (cur / rel).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        text = data.decode("gb18030")
        assert "考号" in text.splitlines()[0] and "\r\n" in text
    assert (cur / "scans/语文.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (cur / "scans/math_batch2.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert text_of(cur / "scans/英语.csv").splitlines()[0].count(";") > 50
    assert text_of(cur / "scans/物理.csv").splitlines()[0].count("\t") > 10


def test_scan_headers(cur):
    heads = {p.name: read_table(p)[0] for p in (cur / "scans").glob("*.*")}
    assert "科目" not in heads["math_batch2.csv"] and "科目" not in heads["物理.csv"]
    assert "扫描序号" not in heads["物理.csv"]
    assert "Q1" in heads["math_batch2.csv"] and "第1题" in heads["英语.csv"] and "客观题1" in heads["物理.csv"]
    assert "1" in heads["语文.csv"] and "试卷类型" in heads["math_batch1.xlsx"] and "选做" in heads["chemistry.csv"]
    assert "页数" in heads["语文.csv"] and "图像" in heads["语文.csv"] and "准考证号" in heads["地理.csv"]
    for h in heads.values():
        assert len(h) == len(set(h))
    long_hdr = ["考号", "科目", "题号", "一评", "一评教师", "二评", "二评教师", "仲裁", "仲裁教师", "问题卷"]
    assert read_table(cur / "marks/语文_评卷明细.csv")[0] == long_hdr
    assert read_table(cur / "marks/math_marks.csv")[0] == [h for h in long_hdr if h != "科目"]
    assert read_table(cur / "marks/地理小题分.csv")[0] == ["考号", "科目", "17", "18", "19"]
    assert "科目" not in read_table(cur / "marks/politics_小题分.csv")[0]
    teachers = {r[0] for _, r in read_table(cur / "teachers.csv")[1]}
    rows = [r for _, r in read_table(cur / "marks/语文_评卷明细.csv")[1]]
    assert {r[4] for r in rows} <= teachers and {r[6] for r in rows if r[6]} <= teachers
    assert sum(1 for r in rows if r[5]) > 0.6 * len(rows)           # double marking on most items
    assert any(r[7] for r in rows)                                   # arbitration present


def test_xlsx_title_rows_and_merge(cur):
    wb = openpyxl.load_workbook(cur / "scans/math_batch1.xlsx")
    ws = wb.active
    merged = [str(r) for r in ws.merged_cells.ranges]
    assert any(r.startswith("A1:") for r in merged) and any(r.startswith("A2:") for r in merged)
    assert "考试" in ws["A1"].value
    header = [c.value for c in ws[3]]
    assert header[:3] == ["扫描序号", "考号", "科目"]
    nums = [ws.cell(row=r, column=2).value for r in range(4, ws.max_row + 1)]
    assert all(isinstance(v, str) for v in nums if v is not None)
    assert any(v.startswith("0") for v in nums if v)
    assert ws.max_row - 3 <= 5000


def test_omrchecker_files(cur):
    res = (cur / "scans/生物/Results/Results_10AM.csv").read_text(encoding="utf-8").splitlines()
    assert res[0].startswith('"file_id","input_path","output_path","score","Roll","q1"')
    for line in res:
        fields = next(csv.reader([line]))
        assert line == ",".join(f'"{f}"' for f in fields)          # every field double-quoted
    rows = [next(csv.reader([l])) for l in res[1:]]
    assert any(r[5:].count("") for r in rows)                       # blanks as ""
    assert any(len(v) > 1 for r in rows for v in r[5:])             # multi-marks concatenated
    ids = [r[0] for r in rows]
    dup = {i for i in ids if ids.count(i) > 1}
    assert dup and all(rows[ids.index(i)] == rows[len(ids) - 1 - ids[::-1].index(i)] for i in dup)
    err = [next(csv.reader([l])) for l in (cur / "scans/生物/Manual/ErrorFiles.csv").read_text().splitlines()]
    assert len(err) >= 3 and all(len(r) < len(err[0]) and r[3] == "NA" for r in err[1:])
    mm = (cur / "scans/生物/Manual/MultiMarkedFiles.csv").read_text(encoding="utf-8").splitlines()
    assert len(mm) >= 2 and mm[0] == res[0]


# --------------------------------------------------------------------------- abnormal situations
def test_abnormal_accounting(gen, cur):
    out = gen[0]
    man = planted(out)
    expected = {m["abnormal_id"] for m in man}
    assert len(expected) == len(man)
    found = _abnormal_ids(cur)
    assert found == expected, (sorted(found - expected), sorted(expected - found))
    assert {m["code"] for m in man} == ALL_CODES


def test_previous_exam_is_clean(prev):
    assert _abnormal_ids(prev) == set()


def test_planted_in_files(cur, gen):
    roster = {r["考号"] for r in load_roster(cur)}
    scans = load_scans(cur)
    nums = [s["exam_no"] for s in scans]
    assert any(n and n not in roster and len(n) == 8 for n in nums)   # mis-bubbled
    assert any(n and len(n) == 7 for n in nums)                        # partial
    assert "" in nums                                                  # empty
    by_ref = defaultdict(int)
    for s in scans:
        by_ref[(s["path"], s["ref"])] += 1
    assert any(v == 2 for v in by_ref.values())                        # same OMR sheet twice
    absent = [s for s in scans if s["absent"]]
    assert any(not any(s["resp"].values()) for s in absent) and any(any(s["resp"].values()) for s in absent)
    math = [s for s in scans if s["subject"] == "math" and not s["absent"]]
    assert any(s["version"] == "" for s in math) and {s["version"] for s in math} >= {"A", "B"}
    chem = [s for s in scans if s["subject"] == "chemistry" and not s["absent"]]
    assert {s["choice"] for s in chem} >= {"18", "19", "", "18,19"}
    assert any(v.islower() for s in chem for v in s["resp"].values() if v)
    rows = [r for _, r in read_table(cur / "marks/math_marks.csv")[1]]
    assert any(r[2] and float(r[2]) > 5 and r[1] in ("13", "14") for r in rows)   # above full
    rows = [r for _, r in read_table(cur / "marks/语文_评卷明细.csv")[1]]
    assert any(r[3] and float(r[3]) * 2 != int(float(r[3]) * 2) for r in rows)   # not a multiple of 0.5
    assert any(r[9] for r in rows)                                                # 问题卷


def test_abnormal_rate_and_small_grade(tmp_path):
    """At 50 students every code still appears; at 3,000 the rate stays near 1 % of scripts."""
    p, c = generate(tmp_path / "small", 50, seed=3)
    man = planted(tmp_path / "small")
    assert {m["code"] for m in man} == ALL_CODES
    assert _abnormal_ids(c) == {m["abnormal_id"] for m in man}
    p, c = generate(tmp_path / "big", 3000, seed=5)
    man = planted(tmp_path / "big")
    scripts = 3000 * 6
    assert 0.005 * scripts <= len(man) <= 0.02 * scripts
    absent = sum(1 for s in load_scans(p) if s["absent"])
    assert 0.01 * scripts <= absent <= 0.03 * scripts


def test_resolutions(cur, gen):
    hdr, rows = read_table(next((cur / "resolutions").glob("*.csv")))
    assert hdr == ["abnormal_id", "action", "value", "operator", "at", "note"]
    ids = {m["abnormal_id"] for m in planted(gen[0])}
    rows = [dict(zip(hdr, r)) for _, r in rows]
    assert 8 <= len(rows) <= 20
    misfit = []
    for r in rows:
        assert r["abnormal_id"] in ids and r["operator"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", r["at"])
        code = r["abnormal_id"].split(":")[0]
        if r["action"] not in ACTIONS[code]:
            misfit.append(r)
    assert len(misfit) == 1
    actions = {r["action"] for r in rows}
    assert {"assign_student", "set_score", "mark_absent"} <= actions
    assert any(":物理.csv#" in r["abnormal_id"] for r in rows)      # a path#row reference
    sids = {r["学号"] for r in load_roster(cur)}
    assert all(r["value"] in sids for r in rows if r["action"] == "assign_student")
    ids_twice = [r["abnormal_id"] for r in rows]
    assert any(ids_twice.count(i) == 2 for i in ids_twice)           # a later row supersedes


# --------------------------------------------------------------------------- scores
def _score(it, v, version):
    key = it["key"][version or "A"] if isinstance(it["key"], dict) else it["key"]
    v = v.upper()
    if it["type"] == "numeric":
        return it["full"] if v.isdigit() and int(v) == int(key) else 0
    if it["type"] == "single":
        return it["full"] if v == str(key) else 0
    r, k = set(v), set(str(key))
    if r == k:
        return it["full"]
    if r and r < k:
        return it["partial"] if "partial" in it else it["full"] * len(r) / len(k)
    return 0


def test_scores_realistic(tmp_path):
    prev, _ = generate(tmp_path, 1500, seed=11)
    exam = load_exam(prev)
    marks = load_marks(prev, exam)
    totals = defaultdict(list)
    for s in load_scans(prev):
        if s["absent"]:
            continue
        sub = next(x for x in exam["subjects"] if x["code"] == s["subject"])
        obj = sum(_score(it, s["resp"][it["id"]], s["version"]) for it in sub["items"] if it["type"] != "subjective")
        subj = sum(m["s1"] for m in marks[(s["subject"], s["exam_no"])].values())
        raw = obj + subj
        assert abs(raw * 2 - round(raw * 2)) < 1e-9          # multiples of 0.5
        totals[s["subject"]].append(raw / sub["full"])
    for code, xs in totals.items():
        mean = sum(xs) / len(xs)
        sd = (sum((x - mean) ** 2 for x in xs) / len(xs)) ** 0.5
        assert 0.55 <= mean <= 0.70, (code, mean)
        assert 0.07 <= sd <= 0.22, (code, sd)
        assert all(0 <= x <= 1 for x in xs)


# --------------------------------------------------------------------------- determinism
def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_deterministic(tmp_path):
    generate(tmp_path / "a", 60, seed=7)
    generate(tmp_path / "b", 60, seed=7)
    generate(tmp_path / "c", 60, seed=8)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b and len(a) > 40
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a if k.endswith(("roster.csv", "语文.csv")))
    generate(tmp_path / "a", 60, seed=7)          # re-running into the same folder rewrites it cleanly
    assert _digest(tmp_path / "a") == a
