"""The grade the exams are about: students (names, ids, contacts, tracks, electives, exam numbers),
their abilities per subject, and the teachers and rooms (one school, or a joint exam's schools)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from examflow.generate.common import seeded_rng
from examflow.generate.joint import joint_layout, joint_teachers, school_names
from examflow.generate.names import INJECTION_NAME, SPECIAL_NAMES, person_names
from examflow.generate.school import ROOM_CAPACITY, build_teachers, grade_classes
from examflow.generate.subjects import subject_definitions

PREVIOUS_ID = "gen-2026-10-monthly"
CURRENT_ID = "gen-2026-11-midterm"
JOINT_IDS = ("gen-2026-10-joint-monthly", "gen-2026-11-joint-midterm")   # `--schools N`: previous, current
REGIONS = np.array([410102, 410103, 410105, 410122, 410181, 410184, 410302, 410311, 410522,
                    410703, 410728, 410802, 410923, 411002, 411102, 411302, 411323, 411402,
                    411503, 411602, 411702, 419001], dtype=np.int64)
PHONE_PREFIXES = np.array(["130", "131", "132", "133", "135", "136", "137", "138", "139", "150",
                           "151", "152", "155", "156", "157", "158", "159", "166", "176", "177",
                           "178", "180", "181", "182", "183", "185", "186", "187", "188", "189",
                           "191", "198", "199"])

# elective pairs over the four reselect subjects
RESELECT = ("chemistry", "biology", "geography", "politics")
PAIRS = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
PAIR_P = (np.array([0.46, 0.13, 0.08, 0.16, 0.07, 0.10]),     # physics track: 物化生 most
          np.array([0.05, 0.05, 0.12, 0.12, 0.20, 0.46]))     # history track: 历政地 most
RES_ZH = ("化学", "生物", "地理", "政治")
RES_SHORT = ("化", "生", "地", "政")


@dataclass
class World:
    n: int
    seed: int
    sid: np.ndarray
    name: pl.Series
    cls: np.ndarray           # class number 1..C
    track: np.ndarray         # 0 physics, 1 history
    pair: np.ndarray          # 0..5 elective pair
    elect_text: np.ndarray
    exam_int: np.ndarray
    exam_no: np.ndarray
    exam_w: int
    id_card: pl.Series
    phone: pl.Series
    n_classes: int
    theta: dict               # (kind, code) -> ability
    takes: dict               # code -> bool mask
    teachers: list            # [(tid, name)]
    teacher_rows: list        # (tid, name, class, subject name, role)
    pools: dict               # code -> np.array of teacher indices (markers)
    leads: dict               # code -> teacher index
    n_rooms: int
    ids: tuple = (PREVIOUS_ID, CURRENT_ID)
    schools: list = field(default_factory=list)   # joint exams: school names ([] otherwise)
    school: np.ndarray | None = None              # per student: index into schools
    class_school: np.ndarray | None = None        # per class number 1..C: index into schools
    class_local: np.ndarray | None = None         # per class number 1..C: the class's number in its school
    room_school: np.ndarray | None = None         # per room: index into schools


def build_world(n: int, seed: int, schools: int = 0) -> World:
    rng = seeded_rng(seed, "roster")
    if schools >= 2:
        school, track, cls, n_classes, class_school, class_local = joint_layout(n, schools, seed)
    else:
        track, cls, n_classes = grade_classes(n, 0.65, 1)
        school = class_school = class_local = None

    sid_w = max(4, len(str(n)))
    sid = np.asarray(pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(sid_w).to_numpy()).astype(str)
    sid = np.char.add("2024", sid)

    names = person_names(rng, n)
    name_s = pl.Series(names)
    special = rng.permutation(n)
    fixes = {}
    if n >= 1:
        fixes[int(special[0])] = INJECTION_NAME
    for k, ch_ in enumerate("堃喆昇"):
        if n > k + 1:
            i = int(special[k + 1])
            fixes[i] = str(names[i])[:2] + ch_ if len(str(names[i])) >= 2 else str(names[i]) + ch_
    for k, nm in enumerate(SPECIAL_NAMES):
        if n > k + 4:
            fixes[int(special[k + 4])] = nm
    if fixes:
        name_s = name_s.scatter(list(fixes), list(fixes.values()))

    pair = np.empty(n, np.int8)
    for t in (0, 1):
        m = track == t
        pair[m] = rng.choice(6, int(m.sum()), p=PAIR_P[t])
    if n >= 6:
        pair[rng.choice(n, 6, replace=False)] = np.arange(6)
    # electives text in mixed forms
    table = np.empty((2, 6, 3), dtype=object)
    for t in (0, 1):
        for p, (x, y) in enumerate(PAIRS):
            table[t, p, 0] = f"{RES_ZH[x]} {RES_ZH[y]}"
            table[t, p, 1] = f"{RESELECT[x]},{RESELECT[y]}"
            table[t, p, 2] = ("物" if t == 0 else "历") + RES_SHORT[x] + RES_SHORT[y]
    form = rng.choice(3, n, p=[0.45, 0.25, 0.30])
    elect = table.astype(str)[track, pair, form]

    exam_w = max(5, len(str(n)))
    exam_int = np.empty(n, np.int64)
    exam_int[rng.permutation(n)] = np.arange(1, n + 1)
    exam_no = np.char.add("026", np.asarray(pl.Series(exam_int).cast(pl.String).str.zfill(exam_w).to_numpy()).astype(str))

    # id card (GB 11643 check digit) and phone
    reg = REGIONS[rng.integers(len(REGIONS), size=n)]
    birth = np.datetime64("2008-09-01") + rng.integers(0, 365, size=n).astype("timedelta64[D]")
    ymd = np.char.replace(birth.astype(str), "-", "").astype(np.int64)
    seq = rng.integers(0, 1000, size=n)
    num17 = reg * 10 ** 11 + ymd * 1000 + seq
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    digits = (num17[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    check = np.array(list("10X98765432"))[(digits * weights).sum(axis=1) % 11]
    id_card = pl.Series(num17).cast(pl.String) + pl.Series(check)
    phone = pl.Series(PHONE_PREFIXES[rng.integers(len(PHONE_PREFIXES), size=n)]) + \
        pl.Series(rng.integers(0, 10 ** 8, size=n)).cast(pl.String).str.zfill(8)

    subjects = subject_definitions()
    takes = {}
    for s in subjects:
        if s.role == "core":
            takes[s.code] = np.ones(n, bool)
        elif s.code == "physics":
            takes[s.code] = track == 0
        elif s.code == "history":
            takes[s.code] = track == 1
        else:
            r = RESELECT.index(s.code)
            takes[s.code] = np.isin(pair, [p for p, xy in enumerate(PAIRS) if r in xy])

    # abilities: general + class effect (+ school effect in a joint exam), per subject, previous exam correlated
    class_eff = rng.normal(0, 0.25, n_classes + 1)
    g = rng.normal(0, 1, n) + class_eff[cls]
    if school is not None:
        g += seeded_rng(seed, "school strength").normal(0, 0.35, schools)[school]
    theta = {}
    for s in subjects:
        r2 = seeded_rng(seed, "theta", s.code)
        cs = r2.normal(0, 0.12, n_classes + 1)
        cur = 0.8 * g + 0.6 * r2.normal(0, 1, n) + cs[cls]
        theta[("current", s.code)] = cur.astype(np.float32)
        theta[("previous", s.code)] = (0.93 * cur + 0.37 * r2.normal(0, 1, n)).astype(np.float32)

    if school is None:
        rooms_needed = math.ceil(n / ROOM_CAPACITY)
        n_rooms = rooms_needed + max(3, math.ceil(0.02 * rooms_needed))
        teachers, rows, pools, leads = build_teachers(seed, subjects, cls, track, takes, n_classes, rooms_needed)
        return World(n, seed, sid, name_s, cls, track, pair, elect, exam_int, exam_no, exam_w, id_card, phone,
                     n_classes, theta, takes, teachers, rows, pools, leads, n_rooms)
    names_ = school_names(schools)
    teachers, rows, pools, leads, room_school = joint_teachers(seed, subjects, school, cls, track, takes,
                                                               class_school, class_local, names_)
    return World(n, seed, sid, name_s, cls, track, pair, elect, exam_int, exam_no, exam_w, id_card, phone,
                 n_classes, theta, takes, teachers, rows, pools, leads, len(room_school), JOINT_IDS, names_,
                 school, class_school, class_local, room_school)
