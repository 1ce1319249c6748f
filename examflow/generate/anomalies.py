"""Planting the abnormal situations of rules.md §3 into the current exam (see the package docstring
for where each one goes), recording each with the abnormal_id the pipeline will give it, and the
resolutions CSV that settles some of them."""
from __future__ import annotations

import datetime as _dt
import functools
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from examflow.generate.common import MASKS, V_H, V_QMARK, V_STAR, VOCAB, fmt_num, half_up_05, seeded_rng, write_csv
from examflow.generate.scores import Marks, Rows, base_rows, tol_of
from examflow.generate.subjects import Subject
from examflow.generate.world import World
from examflow.warehouse import abnormal_codes

RATE = 0.0012            # default share of a subject's takers hit by one planted problem
FLAG_TEXTS = ("疑似雷同卷", "图像不清晰", "答题超出区域", "答案写错位置", "疑似作弊")
OPERATORS = ("教务处王老师", "李组长", "年级主任赵老师", "教务处孙老师")

# what each subject's current exam gets planted ("m:" on the marks, the others on the scripts)
CUR_PLANTS = {
    "chinese": ["unknown_mis", "missing", "page_missing", "multi_mark", "m:orphan", "m:unmarked", "m:disagree",
                "m:frac", "m:flagged"],
    "math": ["unknown_mis", "dup_conflict", "page_missing", "unreadable_star", "version_unknown", "m:orphan",
             "m:disagree", "m:high"],
    "english": ["unknown_partial", "dup_scan", "absent_answered", "multi_mark", "unreadable_h", "m:disagree"],
    "physics": ["unknown_mis", "unknown_empty", "unreadable_q", "all_blank", "m:unmarked", "m:disagree"],
    "history": ["missing", "not_enrolled", "multi_mark", "m:flagged"],
    "chemistry": ["dup_scan", "not_enrolled", "unreadable_e", "opt_missing", "opt_ambiguous", "opt_both"],
    "biology": ["unknown_partial", "dup_scan", "scan_error", "multi_mark", "multi_mark_file"],
    "geography": ["dup_conflict", "absent_answered", "m:unmarked", "m:high"],
    "politics": ["missing", "not_enrolled", "all_blank", "m:orphan"],
}


@functools.cache
def _item_codes() -> frozenset[str]:
    """The abnormal codes whose abnormal_id ends in the item (item_level in data_contracts/abnormal_codes.yaml)."""
    return frozenset(c["code"] for c in abnormal_codes() if c["item_level"])


def plant(w: World, s: Subject, base: Rows, seed: int, used_numbers: set, absent_all: np.ndarray,
          omr: bool) -> tuple[Planter, Rows]:
    """Plant the subject's script-level problems (CUR_PLANTS) into its current-exam scripts `base`;
    return the planter (records, marking plants still to run) and the scripts as exported."""
    planter = Planter(w, s, base, seed, used_numbers)
    plants = CUR_PLANTS[s.code]
    ne_rows = None
    if "not_enrolled" in plants:
        others = np.nonzero(~w.takes[s.code] & ~absent_all)[0]
        if s.code == "history":   # a physics-track student's history script
            others = others[w.track[others] == 0]
        k = min(len(others), max(1, int(round(RATE / 2 * w.n))))
        if k:
            pick = np.sort(planter.rng.choice(others, k, replace=False))
            pick = pick[np.argsort(w.exam_int[pick], kind="stable")]
            ne_rows = base_rows(w, s, "current", pick, np.zeros(k, bool), seed, tag="not_enrolled")
    if omr:   # OMRChecker sheets have no absent field: absent students have no sheet at all
        for i in np.nonzero(base.absent)[0]:
            planter.keep[i] = False
            planter.rec("MISSING_SCRIPT", None, student=str(w.sid[base.stu[i]]),
                        exam_no=str(base.exam_no[i]),
                        note="absent; OMRChecker has no absent field, so no sheet (settle with mark_absent)")
    planter.run_rows(plants, ne_rows)
    return planter, planter.finalize()


class Planter:
    def __init__(self, world: World, s: Subject, base: Rows, seed: int, used_numbers: set):
        self.w, self.s, self.base = world, s, base
        self.rng = seeded_rng(seed, "current", "plant", s.code)
        elig = np.nonzero(~base.absent)[0]
        self.pool = list(self.rng.permutation(elig))
        self.keep = np.ones(len(base), bool)
        self.extras: list[Rows] = []
        self.extra_new_sheet: list[bool] = []
        self.records: list[dict] = []     # {code, handle, item, student, exam_no, note, res}
        self.error_sheets: list[int] = []
        self.used_numbers = used_numbers
        self.n_takers = len(base)

    def k(self, rate=RATE, minimum=1) -> int:
        return max(minimum, int(round(rate * self.n_takers)))

    def take(self, k) -> list[int]:
        out = self.pool[:k]
        self.pool = self.pool[k:]
        return [int(i) for i in out]

    def rec(self, code, handle, item=None, student=None, exam_no=None, note="", **res):
        self.records.append(dict(code=code, handle=handle, item=item, student=student, exam_no=exam_no,
                                 note=note, res=res))

    def add_extra(self, r: Rows, new_sheet=True) -> tuple:
        self.extras.append(r)
        self.extra_new_sheet.append(new_sheet)
        return ("x", len(self.extras) - 1)

    def sid_of(self, i) -> str:
        return str(self.w.sid[self.base.stu[i]])

    # exam numbers ---------------------------------------------------------
    def _in_roster(self, num: str) -> bool:
        w = self.w
        if len(num) != 3 + w.exam_w or not num.startswith("026") or not num.isdigit():
            return False
        return 1 <= int(num[3:]) <= w.n

    def misbubble(self, num: str) -> str:
        for _ in range(1000):
            pos = int(self.rng.integers(1, len(num)))
            d = str(int(self.rng.integers(10)))
            cand = num[:pos] + d + num[pos + 1:]
            if cand != num and not self._in_roster(cand) and cand not in self.used_numbers:
                self.used_numbers.add(cand)
                return cand
        raise RuntimeError("could not mis-bubble an exam number")

    def partial(self, num: str) -> str:
        for _ in range(1000):
            pos = int(self.rng.integers(3, len(num)))
            cand = num[:pos] + num[pos + 1:]
            if cand not in self.used_numbers:
                self.used_numbers.add(cand)
                return cand
        raise RuntimeError("could not make a partial exam number")

    def fabricated(self) -> str:
        for _ in range(1000):
            cand = "099" + str(int(self.rng.integers(10 ** self.w.exam_w))).zfill(self.w.exam_w)
            if cand not in self.used_numbers:
                self.used_numbers.add(cand)
                return cand
        raise RuntimeError("could not fabricate an exam number")

    # script-level plants ----------------------------------------------------
    def run_rows(self, plants: list[str], not_enrolled_rows: Rows | None):
        b, s = self.base, self.s
        singles = [j for j, it in enumerate(s.obj) if it.type == "single"]
        for p in plants:
            if p.startswith("m:"):
                continue
            if p in ("unknown_mis", "unknown_partial", "unknown_empty"):
                for i in self.take(self.k()):
                    old = str(b.exam_no[i])
                    new = {"unknown_mis": self.misbubble, "unknown_partial": self.partial,
                           "unknown_empty": lambda x: ""}[p](old)
                    b.exam_no[i] = new
                    if p == "unknown_empty":
                        b.has_marks[i] = False      # the marking system cannot key it: no marks
                    kind = {"unknown_mis": "mis-bubbled", "unknown_partial": "partial (a digit dropped)",
                            "unknown_empty": "empty"}[p]
                    self.rec("UNKNOWN_EXAM_NO", ("b", i), student=self.sid_of(i), exam_no=new,
                             note=f"exam number {kind}: {old} scanned as '{new}'", true_student=self.sid_of(i))
                    self.rec("MISSING_SCRIPT", None, student=self.sid_of(i), exam_no=old,
                             note="side effect of the unknown exam number (settled by assign_student)")
            elif p == "missing":
                for i in self.take(self.k()):
                    self.keep[i] = False
                    self.rec("MISSING_SCRIPT", None, student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                             note="script not in the export, no absent mark")
            elif p == "dup_scan":
                for i in self.take(self.k()):
                    h = self.add_extra(b.take([i]), new_sheet=(s.code != "biology"))
                    self.extras[-1].has_marks[:] = False
                    self.rec("DUPLICATE_SCAN", h, student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                             note="same sheet scanned twice, identical" + (
                                 " (OMRChecker appended the same file again)" if s.code == "biology" else ""))
            elif p == "dup_conflict":
                for _ in range(self.k(RATE / 2)):
                    ab = self.take(2)
                    if len(ab) < 2:
                        break
                    a, bb = ab
                    self.keep[a] = False
                    r = b.take([a])
                    r.exam_no[0] = b.exam_no[bb]
                    r.has_marks[0] = False
                    if (r.codes[0] == b.codes[bb]).all():
                        r.codes[0, 0] = 1 if b.codes[bb, 0] != 1 else 2
                    h = self.add_extra(r)
                    self.rec("DUPLICATE_CONFLICT", h, student=self.sid_of(bb), exam_no=str(b.exam_no[bb]),
                             note=f"student {self.sid_of(a)} bubbled {self.sid_of(bb)}'s exam number",
                             true_student=self.sid_of(a))
                    self.rec("MISSING_SCRIPT", None, student=self.sid_of(a), exam_no=str(b.exam_no[a]),
                             note="side effect of the duplicate conflict (settled by assign_student)")
            elif p == "absent_answered":
                for i in self.take(self.k(RATE / 2)):
                    b.absent[i] = True
                    self.rec("ABSENT_BUT_ANSWERED", ("b", i), student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                             note="absent mark with responses and marks")
            elif p == "not_enrolled":
                if not_enrolled_rows is not None:
                    for r in range(len(not_enrolled_rows)):
                        h = self.add_extra(not_enrolled_rows.take([r]))
                        st = int(not_enrolled_rows.stu[r])
                        self.rec("NOT_ENROLLED", h, student=str(self.w.sid[st]), exam_no=str(self.w.exam_no[st]),
                                 note="script for a subject outside the student's track/electives (marked too)")
            elif p == "page_missing":
                for i in self.take(self.k()):
                    b.pages[i] = 1
                    self.rec("PAGE_MISSING", ("b", i), student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                             note=f"1 page scanned of {s.pages} (marks complete)")
            elif p in ("multi_mark", "multi_mark_file"):
                for i in self.take(self.k()):
                    j = int(self.rng.choice(singles))
                    it = s.obj[j]
                    cur = int(b.codes[i, j]) if 0 < b.codes[i, j] < 128 else it.key_a
                    other = 1 << int((np.log2(cur) + self.rng.integers(1, it.options)) % it.options)
                    b.codes[i, j] = cur | other
                    b.obj[i, j] = 0
                    if p == "multi_mark_file":
                        b.dest[i] = 1
                    self.rec("MULTI_MARK", ("b", i), item=it.id, student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                             note=f"'{MASKS[cur | other]}' on single item {it.id}" + (
                                 " (in Manual/MultiMarkedFiles.csv)" if p == "multi_mark_file" else ""))
            elif p.startswith("unreadable"):
                tok = {"unreadable_star": V_STAR, "unreadable_q": V_QMARK, "unreadable_h": V_H,
                       "unreadable_e": 1 << 4}[p]
                cand = singles if p != "unreadable_h" else [j for j in singles if s.obj[j].options == 7]
                if p == "unreadable_e":
                    cand = [j for j in singles if s.obj[j].options == 4]
                for i in self.take(self.k(RATE / 2)):
                    j = int(self.rng.choice(cand))
                    b.codes[i, j] = tok
                    b.obj[i, j] = 0
                    self.rec("UNREADABLE_MARK", ("b", i), item=s.obj[j].id, student=self.sid_of(i),
                             exam_no=str(b.exam_no[i]), note=f"'{VOCAB[tok]}' on item {s.obj[j].id}")
            elif p == "all_blank":
                for i in self.take(self.k(RATE / 2)):
                    b.codes[i] = 0
                    b.obj[i] = 0
                    self.rec("ALL_BLANK", ("b", i), student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                             note="present, every objective item blank (subjective marks present)")
            elif p == "version_unknown":
                for i in self.take(self.k()):
                    v = "AB"[int(b.version[i]) - 1]
                    b.version[i] = 0
                    self.rec("VERSION_UNKNOWN", ("b", i), student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                             note=f"试卷类型 empty (true version {v})", value=v)
            elif p in ("opt_missing", "opt_ambiguous", "opt_both"):
                ids = [it.id for it in s.subj]
                j18, j19 = ids.index(s.optional[0]), ids.index(s.optional[1])
                for i in self.take(self.k(RATE / 2)):
                    answered = str(b.choice[i])
                    if p == "opt_missing":
                        b.choice[i] = ""
                        note = f"选做 not bubbled, item {answered} answered and marked"
                    elif p == "opt_ambiguous":
                        b.choice[i] = ",".join(s.optional)
                        note = f"选做 '{b.choice[i]}' (both bubbled), item {answered} answered and marked"
                    else:
                        other = j19 if answered == s.optional[0] else j18
                        b.subj[i, other] = max(0.0, np.round(s.subj[other].full * self.rng.uniform(0.2, 0.6)))
                        note = f"选做 '{answered}' but both optional items marked"
                    self.rec("OPTIONAL_CHOICE_CONFLICT", ("b", i), item=s.optional[0], student=self.sid_of(i),
                             exam_no=str(b.exam_no[i]), note=note, value=answered)
            elif p == "scan_error":
                for n_, i in enumerate(self.take(self.k(minimum=2))):
                    self.keep[i] = False
                    self.error_sheets.append(int(b.sheet[i]))
                    self.rec("SCAN_ERROR", ("sheet", int(b.sheet[i])), student=self.sid_of(i),
                             exam_no=str(b.exam_no[i]),
                             note="in Manual/ErrorFiles.csv" + (" and rescanned into Results" if n_ == 0 else ""))
                    if n_ == 0:
                        self.add_extra(b.take([i]))
                    else:
                        self.rec("MISSING_SCRIPT", None, student=self.sid_of(i), exam_no=str(b.exam_no[i]),
                                 note="side effect of the scan error (not rescanned)")

    def finalize(self) -> Rows:
        b = self.base
        n_base = len(b)
        kept = np.nonzero(self.keep)[0]
        self.pos = np.full(n_base, -1, np.int64)
        self.pos[kept] = np.arange(len(kept))
        nxt = n_base
        for r, new in zip(self.extras, self.extra_new_sheet):
            if new:
                nxt += 1
                r.sheet[:] = nxt
        rows = Rows.cat([b.take(kept)] + self.extras)
        self.n_kept = len(kept)
        return rows

    def final_index(self, handle) -> int:
        kind, v = handle
        return int(self.pos[v]) if kind == "b" else self.n_kept + v

    def manifest(self, ref: Callable[[int], str]) -> list[dict]:
        """The planted problems as planted.csv rows (with the abnormal_id rules.md §3 gives each, `ref`
        naming a final script row as the scan file does), each with what a resolution needs."""
        out = []
        for rec in self.records:
            h = rec["handle"]
            if rec["code"] == "MISSING_SCRIPT":
                ref_ = rec["student"]
            elif h[0] == "marks":
                ref_ = h[1]
            elif h[0] == "sheet":
                ref_ = f"bio_{h[1]:06d}.jpg"
            else:
                ref_ = ref(self.final_index(h))
            aid = f"{rec['code']}:{self.s.code}:{ref_}"
            if rec["item"] and rec["code"] in _item_codes():
                aid += f":{rec['item']}"
            out.append(dict(code=rec["code"], subject=self.s.code, abnormal_id=aid, student_id=rec["student"] or "",
                            exam_no=rec["exam_no"] or "", note=rec["note"], item=rec["item"], res=rec["res"]))
        return out

    # marking plants ----------------------------------------------------------
    def run_marks(self, plants: list[str], rows: Rows, mk: Marks, wide: bool, pool: np.ndarray):
        s = self.s
        nonopt = [j for j, it in enumerate(s.subj) if it.id not in s.optional]
        for p in plants:
            if not p.startswith("m:"):
                continue
            p = p[2:]
            if p == "orphan":
                for _ in range(self.k(RATE / 2)):
                    num = self.fabricated()
                    J = len(s.subj)
                    fulls = np.array([it.full for it in s.subj])
                    t = np.round(fulls * self.rng.uniform(0.3, 0.8, J))
                    opt_skip = [j for j, it in enumerate(s.subj) if it.id in s.optional[1:]]
                    t[opt_skip] = np.nan
                    dbl = np.array([it.double for it in s.subj])
                    s2 = np.where(dbl, t, np.nan)
                    m1 = pool[self.rng.integers(len(pool), size=J)]
                    m2 = np.where(dbl, pool[::-1][self.rng.integers(len(pool), size=J)], -1)
                    mk.orphans.append((num, t, s2, np.full(J, np.nan), m1, m2))
                    self.rec("ORPHAN_MARKS", ("marks", num), exam_no=num,
                             note="marks for an exam number with no scanned script of the subject")
                continue
            for i in self.take(self.k(RATE / 2 if p in ("frac", "high") else RATE)):
                r = int(self.pos[i])
                num = str(rows.exam_no[r])
                sid = self.sid_of(i)
                if p == "unmarked":
                    j = int(self.rng.choice(nonopt))
                    mk.marked[r, j] = False
                    self.rec("UNMARKED", ("marks", num), item=s.subj[j].id, student=sid, exam_no=num,
                             note="no mark for this item" + (" (empty cell)" if wide else " (row missing)"))
                elif p == "disagree":
                    cands = [j for j in nonopt if s.subj[j].double and s.subj[j].full >= tol_of(s.subj[j]) + 2]
                    j = int(self.rng.choice(cands))
                    it = s.subj[j]
                    tol = tol_of(it)
                    a1 = mk.s1[r, j]
                    d = tol + int(self.rng.integers(1, 3))
                    a2 = a1 + d if a1 + d <= it.full else a1 - d
                    if a2 < 0:
                        a1, a2 = 0.0, float(d)
                        mk.s1[r, j] = a1
                    mk.s2[r, j] = a2
                    mk.arb[r, j] = np.nan
                    self.rec("MARKER_DISAGREEMENT", ("marks", num), item=it.id, student=sid, exam_no=num,
                             note=f"一评 {fmt_num(a1)}, 二评 {fmt_num(a2)}, tolerance {fmt_num(tol)}, no arbitration",
                             value=fmt_num(half_up_05((a1 + a2) / 2)))
                elif p in ("high", "frac"):
                    single = [j for j in nonopt if not s.subj[j].double] or nonopt
                    j = int(self.rng.choice(single))
                    it = s.subj[j]
                    if p == "high":
                        v = it.full + int(self.rng.integers(1, 6))
                    else:
                        v = min(np.nan_to_num(mk.s1[r, j]), it.full - 1) + 0.3
                    true = mk.s1[r, j]
                    mk.s1[r, j] = v
                    mk.s2[r, j] = np.nan
                    mk.arb[r, j] = np.nan
                    self.rec("SCORE_OUT_OF_RANGE", ("marks", num), item=it.id, student=sid, exam_no=num,
                             note=f"mark {fmt_num(v)} on an item of full {fmt_num(it.full)}", value=fmt_num(true))
                elif p == "flagged":
                    j = int(self.rng.integers(len(s.subj)))
                    while not mk.marked[r, j]:
                        j = (j + 1) % len(s.subj)
                    text = FLAG_TEXTS[int(self.rng.integers(len(FLAG_TEXTS)))]
                    mk.flags[(r, j)] = text
                    self.rec("MARKER_FLAGGED", ("marks", num), student=sid, exam_no=num,
                             note=f"问题卷 '{text}' on item {s.subj[j].id}")


def write_resolutions(folder: Path, planted: list[dict]) -> None:
    """resolutions/2026-11-14.csv: settlements of some planted problems (Planter.manifest rows), one
    superseded by a later one, and one that does not settle its problem."""
    cand: dict[str, list[dict]] = {}
    for r in planted:
        cand.setdefault(f"{r['code']}:{r['subject']}", []).append({**r, **r["res"]})
    rows = []
    t = [0]

    def add(aid, action, value, note, op=0):
        t[0] += 1
        at = (_dt.datetime(2026, 11, 14, 9, 0) + _dt.timedelta(minutes=7 * t[0])).isoformat()
        rows.append((aid, action, value, OPERATORS[op % len(OPERATORS)], at, note))

    def first(key, pred=lambda r: True):
        return next((r for r in cand.get(key, []) if pred(r)), None)

    r = first("UNKNOWN_EXAM_NO:math")
    if r:
        add(r["abnormal_id"], "assign_student", r["true_student"], "考号涂错，核对答题卡姓名后指定")
    r = first("UNKNOWN_EXAM_NO:physics", lambda r: r["exam_no"] != "") or first("UNKNOWN_EXAM_NO:physics")
    if r:
        add(r["abnormal_id"], "assign_student", r["true_student"], "考号涂错，按座位表核对", 1)
    r = first("DUPLICATE_CONFLICT:math")
    if r:
        add(r["abnormal_id"], "assign_student", r["true_student"], "他人误涂本考号，答卷归还原考生")
    r = first("DUPLICATE_SCAN:chemistry")
    if r:
        add(r["abnormal_id"], "accept", "", "重复扫描，保留一份", 3)
    r = first("MISSING_SCRIPT:history")
    if r:
        add(r["abnormal_id"], "mark_absent", "", "经班主任核实缺考", 2)
    r = first("MISSING_SCRIPT:biology", lambda r: r["note"].startswith("absent"))
    if r:
        add(r["abnormal_id"], "mark_absent", "", "OMR 无缺考标记，按考场记录缺考", 2)
    r = first("MARKER_DISAGREEMENT:chinese")
    if r:
        item = r["item"]
        add(r["abnormal_id"], "set_score", f"{item}={r['value']}", "组长初评", 1)
        v = float(r["value"]) + 0.5
        add(r["abnormal_id"], "set_score", f"{item}={fmt_num(v)}", "组长复核后改分（取代上一条）", 1)
    r = first("SCORE_OUT_OF_RANGE:math")
    if r:
        add(r["abnormal_id"], "set_score", f"{r['item']}={r['value']}", "录分错误，按原卷改正", 1)
    r = first("VERSION_UNKNOWN:math")
    if r:
        add(r["abnormal_id"], "set_version", r["value"], "按答题卡卷型核对")
    r = first("OPTIONAL_CHOICE_CONFLICT:chemistry", lambda r: "not bubbled" in r["note"])
    if r:
        add(r["abnormal_id"], "choose_optional", r["value"], "按作答内容确定选做题", 3)
    r = first("ABSENT_BUT_ANSWERED:english")
    if r:
        add(r["abnormal_id"], "accept", "", "监考误涂缺考，实际参考")
    r = first("SCAN_ERROR:biology", lambda r: "rescanned" in r["note"])
    if r:
        add(r["abnormal_id"], "void", "", "原图无法识别，已重新扫描", 3)
    # a deliberately wrong settlement: mark_absent does not settle MARKER_FLAGGED
    r = first("MARKER_FLAGGED:history")
    if r:
        add(r["abnormal_id"], "mark_absent", "", "误操作", 0)
    df = pl.DataFrame(rows, schema=["abnormal_id", "action", "value", "operator", "at", "note"], orient="row")
    write_csv(folder / "resolutions" / "2026-11-14.csv", iter([df]))
