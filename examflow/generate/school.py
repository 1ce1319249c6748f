"""One school's grade: its classes by track, its teachers (任课, 班主任, 备课组长, 年级主任) and their
marking pools."""
from __future__ import annotations

import numpy as np

from examflow.generate.common import seeded_rng
from examflow.generate.names import person_names

CLASS_SIZE = 50
ROOM_CAPACITY = 30


def grade_classes(n: int, phys_share: float, first_class: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Track (physics first) and class number (from first_class) of n students, classes of ~CLASS_SIZE."""
    n_phys = int(round(phys_share * n))
    if n >= 2:
        n_phys = min(max(n_phys, 1), n - 1)
    n_hist = n - n_phys
    cp = max(1, round(n_phys / CLASS_SIZE)) if n_phys else 0
    ch = max(1, round(n_hist / CLASS_SIZE)) if n_hist else 0
    cls = np.empty(n, np.int32)
    track = np.r_[np.zeros(n_phys, np.int8), np.ones(n_hist, np.int8)]
    for k, part in enumerate(np.array_split(np.arange(n_phys), cp) if cp else []):
        cls[part] = first_class + k
    for k, part in enumerate(np.array_split(np.arange(n_phys, n), ch) if ch else []):
        cls[part] = first_class + cp + k
    return track, cls, cp + ch


def build_teachers(seed, subjects, cls, track, takes, n_classes, rooms_needed):
    class_track = np.zeros(n_classes + 1, np.int8)
    class_track[cls] = track
    for pattern in ([2, 2, 2, 3], [2], [1]):
        rng = seeded_rng(seed, "teachers")
        teachers: list[list[str]] = []        # [tid, name]
        teach_rows = []                       # (t, class, code)
        pools: dict[str, list[int]] = {}
        leads: dict[str, int] = {}
        cst: dict[tuple[int, str], int] = {}
        for s in subjects:
            if s.role == "core":
                classes = list(range(1, n_classes + 1))
            elif s.code == "physics":
                classes = [c for c in range(1, n_classes + 1) if class_track[c] == 0]
            elif s.code == "history":
                classes = [c for c in range(1, n_classes + 1) if class_track[c] == 1]
            else:
                classes = sorted(set(np.unique(cls[takes[s.code]]).tolist()))
            pools[s.code] = []
            k = 0
            pos = 0
            while pos < len(classes):
                size = pattern[k % len(pattern)]
                k += 1
                t = len(teachers)
                teachers.append([f"T{t + 1}", ""])
                pools[s.code].append(t)
                for c in classes[pos:pos + size]:
                    teach_rows.append((t, c, s.code))
                    cst[(c, s.code)] = t
                pos += size
            if len(pools[s.code]) >= 2:
                leads[s.code] = pools[s.code][0]
            elif classes:                      # a second teacher so that double marking has two markers
                t = len(teachers)
                teachers.append([f"T{t + 1}", ""])
                pools[s.code].append(t)
                leads[s.code] = t
        if len(teachers) >= 2 * rooms_needed + 2 or pattern == [1]:
            break
    width = max(4, len(str(len(teachers))))
    names = person_names(rng, len(teachers))
    for i, t in enumerate(teachers):
        t[0] = "T" + str(i + 1).zfill(width)
        t[1] = str(names[i])
    zh = {s.code: s.name for s in subjects}
    out = [(teachers[t][0], teachers[t][1], str(c), zh[code], "任课") for t, c, code in teach_rows]
    heads = set()
    order = ["chinese", "math", "english", "physics", "history", "chemistry", "biology", "geography", "politics"]
    head_of = {}
    for c in range(1, n_classes + 1):
        for code in order:
            t = cst.get((c, code))
            if t is not None and t not in heads:
                heads.add(t)
                head_of[c] = t
                break
        else:
            head_of[c] = cst[(c, "chinese")]
        out.append((teachers[head_of[c]][0], teachers[head_of[c]][1], str(c), "", "班主任"))
    for s in subjects:
        if s.code in leads:
            t = leads[s.code]
            c = next((cc for tt, cc, code in teach_rows if tt == t and code == s.code), None)
            if c is None:                      # the extra lead of a one-class subject
                c = next(cc for tt, cc, code in teach_rows if code == s.code)
            out.append((teachers[t][0], teachers[t][1], str(c), s.name, "备课组长"))
    # the grade director: a math teacher who is not a head teacher where possible
    cand = [t for t in pools["math"] if t not in heads] or pools["math"]
    d = cand[-1]
    c = next((cc for tt, cc, code in teach_rows if tt == d), 1)
    out.append((teachers[d][0], teachers[d][1], str(c), "", "年级主任"))
    return ([tuple(t) for t in teachers], out, {k: np.array(v, np.int32) for k, v in pools.items()}, leads)
