"""Joint exams (联考, `--schools N`): schools of different sizes and strengths, each with its own
classes, rooms and teachers, markers pooled over the schools."""
from __future__ import annotations

import math

import numpy as np

from examflow.generate.common import seeded_rng
from examflow.generate.school import ROOM_CAPACITY, build_teachers, grade_classes


def school_names(k: int) -> list[str]:
    """一中, 二中, … 二十中, …: the joint exam's schools."""
    digits = "零一二三四五六七八九"

    def numeral(i: int) -> str:
        tens, ones = divmod(i, 10)
        return ((digits[tens] if tens > 1 else "") + "十" if tens else "") + (digits[ones] if ones else "")
    return [numeral(i + 1) + "中" for i in range(k)]


def joint_layout(n: int, schools: int, seed: int):
    """Students by school (sizes and physics shares differing), then track, then class; class
    numbers run on across schools (1..C), each class also numbered within its school."""
    rng = seeded_rng(seed, "schools")
    w = rng.uniform(0.4, 1.6, schools)
    sizes = np.maximum(1, np.floor(n * w / w.sum()).astype(np.int64))
    sizes[np.argmax(sizes)] += n - sizes.sum()
    school = np.repeat(np.arange(schools), sizes)
    track, cls = np.empty(n, np.int8), np.empty(n, np.int32)
    class_school, class_local = [0], [0]
    start, next_class = 0, 1
    for k, size in enumerate(sizes.tolist()):
        t, c, n_cls = grade_classes(size, float(rng.uniform(0.55, 0.75)), next_class)
        track[start:start + size], cls[start:start + size] = t, c
        class_school += [k] * n_cls
        class_local += list(range(1, n_cls + 1))
        start, next_class = start + size, next_class + n_cls
    return school, track, cls, next_class - 1, np.array(class_school), np.array(class_local)


def joint_teachers(seed, subjects, school, cls, track, takes, class_school, class_local, names_):
    """Each school's own teachers (its classes, its rooms' invigilators), their ids prefixed by the
    school's number; markers pooled over the schools; one 联考负责人 for the district."""
    teachers, rows, pools, room_school = [], [], {}, []
    leads: dict[str, int] = {}
    for k, name in enumerate(names_):
        mine = school == k
        local = class_local[cls[mine]]
        rooms_needed = math.ceil(int(mine.sum()) / ROOM_CAPACITY)
        room_school += [k] * (rooms_needed + max(1, math.ceil(0.02 * rooms_needed)))
        t_k, rows_k, pools_k, leads_k = build_teachers(seed * 1000 + k, subjects, local, track[mine],
                                                       {c: m[mine] for c, m in takes.items()},
                                                       int(local.max()), rooms_needed)
        ids = {t[0]: f"S{k + 1:02d}{t[0]}" for t in t_k}
        rows += [(ids[r[0]], *r[1:], name) for r in rows_k]
        for code, p in pools_k.items():
            pools.setdefault(code, []).extend((p + len(teachers)).tolist())
        for code, t in leads_k.items():
            leads.setdefault(code, t + len(teachers))
        teachers += [(ids[t[0]], t[1]) for t in t_k]
    teachers.append(("D0001", "联考办陈老师"))
    rows.append(("D0001", "联考办陈老师", "全部", "", "联考负责人", ""))
    return teachers, rows, {k: np.array(v, np.int32) for k, v in pools.items()}, leads, np.array(room_school)
