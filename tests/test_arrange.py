"""Exam arrangement (rules.md §10): timetable, seating, invigilation and infeasible requests, on
generated grades of 1,200 and 3,000 students. Every constraint is checked from the roster
independently of the library's own bookkeeping; optimality of the session count is proven by
brute force over every assignment with one session fewer (and by a clique certificate)."""
from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict

import numpy as np
import polars as pl
import pytest

from examflow.arrange import InfeasibleArrangement, arrange
from examflow.arrange.seating import arrange_room, min_adjacent_pairs, normalise_rooms, order_positions, seat_sessions
from examflow.arrange.settings import ArrangementSettings
from examflow.arrange.timetable import colour_exact, normalise_subjects, plan_timetable

# ------------------------------------------------------------------------------------------
# generated grades
# ------------------------------------------------------------------------------------------
SUBJECTS = [
    {"code": "chinese", "name": "语文", "role": "core"},
    {"code": "math", "name": "数学", "role": "core"},
    {"code": "english", "name": "英语", "role": "core"},
    {"code": "physics", "name": "物理", "role": "first_choice"},
    {"code": "history", "name": "历史", "role": "first_choice"},
    {"code": "chemistry", "name": "化学", "role": "reselect"},
    {"code": "biology", "name": "生物", "role": "reselect"},
    {"code": "geography", "name": "地理", "role": "reselect"},
    {"code": "politics", "name": "政治", "role": "reselect"},
]
RESELECT = ["chemistry", "biology", "geography", "politics"]
PAIRS = list(itertools.combinations(RESELECT, 2))  # 6 pairs x 2 tracks = the 12 combinations of 3+1+2
W_PHYSICS = [0.36, 0.22, 0.10, 0.16, 0.07, 0.09]  # uneven: 物化生 most, 物地政 rare
W_HISTORY = [0.04, 0.06, 0.12, 0.18, 0.15, 0.45]  # 史地政 most, 史化生 rare
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彩春菊凤洁梅琳素云莲真环雪荣爱香月媛瑞佳嘉琼勤珍莉晶妍茜秋珊婷颖露瑶怡丹蓉君琴蕊薇梦岚馨韵悦昭冰宁欣")
FORMULA_NAME = '=HYPERLINK("x")'
RARE_NAME = "王𪚥"  # U+2A6A5: not in Noto Sans CJK SC, needs the fallback font


def make_grade(n: int, seed: int = 0, *, class_size: int = 50, room_cap: int = 30, extra_rooms: int = 3,
               teachers_per_class_pair: bool = True, weights=(W_PHYSICS, W_HISTORY), physics_share: float = 0.65):
    """A grade of `n` students: classes of 50 (tracks by class, ~65 % physics), every one of the
    12 3+1+2 combinations at uneven rates, previous ranks for 95 %, rooms of 30, one teacher per
    subject per two classes (~108 teachers for 1,200 students, 270 for 3,000)."""
    rng = np.random.default_rng(seed)
    n_classes = math.ceil(n / class_size)
    cls = np.repeat(np.arange(1, n_classes + 1), class_size)[:n]
    n_phys = round(physics_share * n_classes)
    track = np.where(cls <= n_phys, "physics", "history")
    electives: list[list[str]] = [[] for _ in range(n)]
    for t, w in zip(("physics", "history"), weights):
        idx = np.flatnonzero(track == t)
        picks = rng.choice(len(PAIRS), size=len(idx), p=w)
        for j, k in zip(idx, picks):
            electives[j] = list(PAIRS[k])
    names = [str(rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN, size=int(rng.integers(1, 3)))) for _ in range(n)]
    names[0] = FORMULA_NAME
    names[1] = RARE_NAME
    sids = [f"S{i + 1:05d}" for i in range(n)]
    roster = pl.DataFrame(
        {"student_id": sids, "name": names, "class_id": [str(c) for c in cls], "track": track.tolist(),
         "electives": electives, "exam_no": [None] * n},
        schema={"student_id": pl.String, "name": pl.String, "class_id": pl.String, "track": pl.String,
                "electives": pl.List(pl.String), "exam_no": pl.String})
    ranked = rng.permutation(n)[: int(n * 0.95)]
    prev = pl.DataFrame({"student_id": [sids[i] for i in ranked], "grade_rank": list(range(1, len(ranked) + 1))})
    rows, tid, heads = [], 0, {}
    for s in SUBJECTS:
        for k in range(1, n_classes + 1, 2):
            tid += 1
            t = f"T{tid:03d}"
            for c in (k, k + 1):
                if c <= n_classes:
                    rows.append({"teacher_id": t, "name": f"教师{tid}", "class_id": str(c), "subject": s["code"],
                                 "role": "teacher"})
                    heads.setdefault(c, t)
    for c, t in heads.items():
        rows.append({"teacher_id": t, "name": None, "class_id": str(c), "subject": None, "role": "head"})
    teachers = pl.DataFrame(rows, schema={"teacher_id": pl.String, "name": pl.String, "class_id": pl.String,
                                          "subject": pl.String, "role": pl.String})
    n_rooms = math.ceil(n / room_cap) + extra_rooms
    rooms = pl.DataFrame({"room": [f"{i:02d}" for i in range(1, n_rooms + 1)],
                          "location": [f"教学楼{(i - 1) // 10 + 1}层" for i in range(1, n_rooms + 1)],
                          "capacity": [room_cap] * n_rooms})
    return roster, SUBJECTS, rooms, teachers, prev


# ------------------------------------------------------------------------------------------
# independent checks
# ------------------------------------------------------------------------------------------
def who_sits(roster: pl.DataFrame, subjects) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    rows = roster.select("student_id", "track", "electives").iter_rows()
    rows = list(rows)
    for s in subjects:
        if s["role"] == "core":
            out[s["code"]] = {r[0] for r in rows}
        elif s["role"] == "first_choice":
            out[s["code"]] = {r[0] for r in rows if r[1] == s["code"] or s["code"] in (r[2] or [])}
        else:
            out[s["code"]] = {r[0] for r in rows if s["code"] in (r[2] or [])}
    return out


def conflict_matrix(sits: dict[str, set[str]], codes: list[str]) -> np.ndarray:
    n = len(codes)
    c = np.zeros((n, n), dtype=bool)
    for i, j in itertools.combinations(range(n), 2):
        if sits[codes[i]] & sits[codes[j]]:
            c[i, j] = c[j, i] = True
    return c


def brute_force_colourable(conf: np.ndarray, n_colours: int, pinned: dict[int, int] | None = None) -> bool:
    """Is there ANY assignment of the nodes to `n_colours` sessions without a clash? Pinned nodes
    carry a fixed colour. Exhaustive (no pruning), vectorised over the last variables."""
    n = conf.shape[0]
    pinned = pinned or {}
    if n_colours <= 0:
        return n == 0
    free = [i for i in range(n) if i not in pinned]
    edges = [(i, j) for i, j in itertools.combinations(range(n), 2) if conf[i, j]]
    for (i, j) in edges:
        if i in pinned and j in pinned and pinned[i] == pinned[j]:
            return False
    inner = free[-6:]
    outer = free[:-6] if len(free) > 6 else []
    grid = np.indices((n_colours,) * len(inner)).reshape(len(inner), -1).astype(np.int8)
    col_of_inner = {v: grid[k] for k, v in enumerate(inner)}
    for outer_vals in itertools.product(range(n_colours), repeat=len(outer)):
        value = dict(pinned)
        value.update(zip(outer, outer_vals))
        ok = True
        for i, j in edges:  # outer/pinned-only edges first: cheap rejection
            if i in value and j in value and value[i] == value[j]:
                ok = False
                break
        if not ok:
            continue
        mask = np.ones(grid.shape[1], dtype=bool)
        for i, j in edges:
            a = col_of_inner.get(i)
            b = col_of_inner.get(j)
            if a is None and b is None:
                continue
            if a is None:
                mask &= b != value[i]
            elif b is None:
                mask &= a != value[j]
            else:
                mask &= a != b
            if not mask.any():
                break
        if mask.any():
            return True
    return False


def check_timetable(arr, roster, subjects, pinned=None):
    codes = [s["code"] for s in subjects]
    sits = who_sits(roster, subjects)
    tt = arr.timetable
    assert sorted(tt["subject"].to_list()) == sorted(codes)  # each subject exactly once
    session_of = dict(zip(tt["subject"].to_list(), tt["session"].to_list()))
    # no clash
    for s, group in tt.group_by("session"):
        subs = group["subject"].to_list()
        for a, b in itertools.combinations(subs, 2):
            assert not (sits[a] & sits[b]), f"session {s}: {a} and {b} share students"
    # pinned respected
    for subj, no in (pinned or {}).items():
        assert session_of[subj] == no
    # times
    assert (tt["ends_at"] > tt["starts_at"]).all()
    # optimal: no clash-free assignment with one session fewer (brute force) ...
    k = tt["session"].n_unique()
    conf = conflict_matrix(sits, codes)
    pin_idx = {}
    if pinned:
        slots = sorted(set(pinned.values()))
        pin_idx = {codes.index(c): slots.index(no) for c, no in pinned.items()}
    assert brute_force_colourable(conf, k, pin_idx), "the library's own session count must be feasible"
    assert not brute_force_colourable(conf, k - 1, pin_idx), f"{k - 1} sessions would do"
    return session_of, k, conf


def check_seating(arr, roster, subjects, rooms_df):
    sits = who_sits(roster, subjects)
    class_of = dict(zip(roster["student_id"].to_list(), roster["class_id"].to_list()))
    caps = dict(zip(rooms_df["room"].to_list(), rooms_df["capacity"].to_list()))
    room_order = rooms_df["room"].to_list()
    seat = arr.seating
    pairs_total = 0
    for s in arr.sessions:
        part = seat.filter(pl.col("session") == s.no)
        expected = set().union(*(sits[c] for c in s.subjects))
        ids = part["student_id"].to_list()
        assert len(ids) == len(set(ids)), f"session {s.no}: a student seated twice"
        assert set(ids) == expected, f"session {s.no}: seated != sitting"
        # each student's subject is one they sit
        for sid, subj in zip(ids, part["subject"].to_list()):
            assert sid in sits[subj]
        used = []
        per_room = defaultdict(list)
        for room, st, sid in part.sort("room", "seat").select("room", "seat", "student_id").iter_rows():
            per_room[room].append((st, sid))
        for room in room_order:
            if room in per_room:
                used.append(room)
        # rooms filled in order: a prefix of the rooms, all full but the last
        assert used == room_order[: len(used)]
        for room in used[:-1]:
            assert len(per_room[room]) == caps[room]
        n_classes_total = Counter(class_of[x] for x in ids)
        bound = sum((len(per_room[r]) + 1) // 2 for r in used)
        possible = max(n_classes_total.values()) <= bound
        for room in used:
            seats = per_room[room]
            assert len(seats) <= caps[room]
            assert [x[0] for x in seats] == list(range(1, len(seats) + 1))
            cls = [class_of[sid] for _, sid in seats]
            p = sum(1 for a, b in zip(cls, cls[1:]) if a == b)
            if possible:
                assert p == 0, f"session {s.no} room {room}: same class in neighbouring seats"
            pairs_total += p
    return pairs_total


def check_invigilation(arr, teachers_df, k):
    inv = arr.invigilation
    pool = sorted(teachers_df["teacher_id"].unique().to_list())
    teaches = defaultdict(set)
    for t, subj in teachers_df.select("teacher_id", "subject").iter_rows():
        if subj:
            teaches[t].add(subj)
    seat = arr.seating
    for s in arr.sessions:
        rooms_used = set(seat.filter(pl.col("session") == s.no)["room"].unique().to_list())
        part = inv.filter(pl.col("session") == s.no)
        assert set(part["room"].unique().to_list()) == rooms_used  # only rooms in use, all of them
        for room, g in part.group_by("room"):
            assert g.height == k, f"session {s.no} room {room[0]}: {g.height} invigilators"
        busy = part["teacher_id"].to_list()
        assert len(busy) == len(set(busy)), f"session {s.no}: a teacher in two rooms at once"
        assert set(busy) <= set(pool)
        # own subject only when no other teacher is free
        clear = {t for t in pool if not (teaches[t] & set(s.subjects))}
        own = [t for t in busy if teaches[t] & set(s.subjects)]
        if own:
            assert clear <= set(busy), f"session {s.no}: {own[0]} invigilates their own subject while others are free"
    load = Counter(inv["teacher_id"].to_list())
    loads = [load.get(t, 0) for t in pool]
    assert max(loads) - min(loads) <= 1, f"load from {min(loads)} to {max(loads)}"
    return sum(1 for s in arr.sessions for t in inv.filter(pl.col("session") == s.no)["teacher_id"].to_list()
               if teaches[t] & set(s.subjects))


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grade1200():
    data = make_grade(1200, seed=1)
    roster, subjects, rooms, teachers, prev = data
    arr = arrange(roster, subjects, rooms, teachers, {"exam_no_format": "26{room:02d}{seat:02d}"},
                  "2026-11-12", previous_ranks=prev)
    return data, arr


@pytest.fixture(scope="module")
def grade3000():
    data = make_grade(3000, seed=2)
    roster, subjects, rooms, teachers, prev = data
    arr = arrange(roster, subjects, rooms, teachers, {"seed": 3}, "2026-11-12", previous_ranks=prev)
    return data, arr


# ------------------------------------------------------------------------------------------
# the two grades: every constraint
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["grade1200", "grade3000"])
def test_grade_constraints(which, request):
    fx = request.getfixturevalue(which)
    (roster, subjects, rooms, teachers, prev), arr = fx[0], fx[1]
    # all 12 combinations present, at uneven rates
    combos = Counter((t, tuple(e)) for t, e in roster.select("track", "electives").iter_rows())
    assert len(combos) == 12
    assert max(combos.values()) > 4 * min(combos.values())
    session_of, k, conf = check_timetable(arr, roster, subjects)
    # 3 core + the first-choice pair + 4 reselect groups (every reselect pair is chosen): a clique of 8
    assert k == 8
    assert session_of["physics"] == session_of["history"]
    clique = arr.stats["clique"]
    assert len(clique) == k and all(conf[SUBJ_IDX[a], SUBJ_IDX[b]] for a, b in itertools.combinations(clique, 2))
    pairs = check_seating(arr, roster, subjects, rooms)
    assert pairs == 0 and arr.stats["adjacent_pairs"] == 0
    check_invigilation(arr, teachers, 2)
    assert not [n for n in arr.notes if "unavoidable" in n]


SUBJ_IDX = {s["code"]: i for i, s in enumerate(SUBJECTS)}


def test_seating_sessions_seat_every_sitting_3000(grade3000):
    """Seating the 3,000 grade session by session from the timetable places every sitting once:
    the sessions' seats are the arrangement's seating rows. (How long it takes is the benchmark's
    business, not a test's.)"""
    (roster, subjects, rooms, teachers, prev), arr = grade3000
    cfg = ArrangementSettings.from_mapping({}, "2026-11-12")
    tt = plan_timetable(roster, normalise_subjects(subjects), cfg)
    pos, used = order_positions(roster["student_id"].to_list(), prev, "previous_rank", 0)
    plan = seat_sessions(tt, normalise_rooms(rooms), roster["class_id"].to_list(), pos, used)
    assert sum(len(s.rows) for s in plan.sessions) == arr.seating.height


def test_order_previous_rank(grade1200):
    (roster, subjects, rooms, teachers, prev), arr = grade1200
    assert arr.stats["order"] == "previous_rank"
    rank = dict(zip(prev["student_id"].to_list(), prev["grade_rank"].to_list()))
    s1 = arr.seating.filter(pl.col("session") == 1)
    # the first core session: rooms hold consecutive rank blocks (按成绩编排); unranked students last
    order = sorted(roster["student_id"].to_list(), key=lambda s: (s not in rank, rank.get(s, 0), s))
    by_room = defaultdict(set)
    for room, sid in s1.select("room", "student_id").iter_rows():
        by_room[room].add(sid)
    if arr.stats["swaps"] == 0:
        for j, room in enumerate(sorted(by_room)):
            assert by_room[room] == set(order[30 * j: 30 * (j + 1)])
    # the FC session groups by subject: physics rooms first, then history
    fc = arr.seating.filter(pl.col("subject").is_in(["physics", "history"]))
    first_history_room = fc.filter(pl.col("subject") == "history")["room"].min()
    assert fc.filter(pl.col("subject") == "physics")["room"].max() <= first_history_room
    # ... and inside the room holding both, each subject keeps a block of consecutive seats
    for (room,), g in fc.group_by("room"):
        subj = g.sort("seat")["subject"].to_list()
        assert sum(1 for a, b in zip(subj, subj[1:]) if a != b) <= 1, room
    # core sessions share one layout (desk labels once)
    core = [session for session, subj in arr.timetable.select("session", "subject").iter_rows()
            if subj in ("chinese", "math", "english")]
    assert len({arr.layout_of[s] for s in core}) == 1


def test_exam_numbers(grade1200, tmp_path):
    (roster, subjects, rooms, teachers, prev), arr = grade1200
    nums = arr.exam_numbers
    assert nums is not None and nums.columns == ["student_id", "name", "class", "exam_no"]
    assert nums["exam_no"].n_unique() == roster.height
    s1 = arr.seating.filter(pl.col("session") == arr.numbering_session)
    for room, seat, no in s1.select("room", "seat", "exam_no").iter_rows():
        assert no == f"26{int(room):02d}{seat:02d}"
    # the same number in every session
    assert arr.seating.group_by("student_id").agg(pl.col("exam_no").n_unique().alias("k"))["k"].max() == 1
    from examflow.arrange import write_scanner_roster

    pf = write_scanner_roster(arr, tmp_path / "roster_for_scanner.csv")
    text = pf.path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "student_id,name,class,exam_no"
    assert (pf.path.stat().st_mode & 0o777) == 0o600


def test_shuffle_is_seeded(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    a = arrange(roster, subjects, rooms, teachers, {"order": "shuffle", "seed": 7}, "2026-11-12", prev)
    b = arrange(roster, subjects, rooms, teachers, {"order": "shuffle", "seed": 7}, "2026-11-12", prev)
    c = arrange(roster, subjects, rooms, teachers, {"order": "shuffle", "seed": 8}, "2026-11-12", prev)
    assert a.seating.equals(b.seating) and a.invigilation.equals(b.invigilation)
    assert not a.seating.equals(c.seating)
    assert a.stats["order"] == "shuffle"
    check_seating(a, roster, subjects, rooms)
    # no previous exam: the seeded shuffle is used
    d = arrange(roster, subjects, rooms, teachers, {"seed": 7}, "2026-11-12", None)
    assert d.stats["order"] == "shuffle" and d.seating.equals(a.seating)


def test_class_ordered_ranks_are_repaired(grade1200):
    """Ranks sorted by class put whole classes into rooms: the cross-room repair must still keep
    every neighbour pair of different classes."""
    (roster, subjects, rooms, teachers, _), _ = grade1200
    by_class = roster.sort(pl.col("class_id").cast(pl.Int64), "student_id")
    prev = pl.DataFrame({"student_id": by_class["student_id"], "grade_rank": range(1, roster.height + 1)})
    arr = arrange(roster, subjects, rooms, teachers, {}, "2026-11-12", prev)
    assert arr.stats["swaps"] > 0
    assert check_seating(arr, roster, subjects, rooms) == 0


# ------------------------------------------------------------------------------------------
# timetable: pins, exactness beyond the clique bound, sessions
# ------------------------------------------------------------------------------------------
def test_pinned_subjects(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    pinned = {"math": 1, "chinese": 2, "politics": 5, "chemistry": 6}
    arr = arrange(roster, subjects, rooms, teachers, {"pinned": pinned}, "2026-11-12", prev)
    _, k, _ = check_timetable(arr, roster, subjects, pinned)
    assert k == 8
    # a pin far out: still 8 sessions, the subject in slot 10
    arr = arrange(roster, subjects, rooms, teachers, {"pinned": {"biology": 10}}, "2026-11-12", prev)
    tt = arr.timetable
    assert tt["session"].n_unique() == 8
    assert tt.filter(pl.col("subject") == "biology")["session"].item() == 10
    check_seating(arr, roster, subjects, rooms)
    check_invigilation(arr, teachers, 2)


def test_missing_combinations_need_fewer_sessions():
    """Nobody takes 化学+政治 or 生物+地理: the reselect graph is a 4-cycle and needs 2 sessions,
    so 6 in all (proven by brute force over every 5-session assignment)."""
    w = [0.4, 0.3, 0.0, 0.0, 0.2, 0.1]  # (chem,bio) (chem,geo) (chem,pol)=0 (bio,geo)=0 (bio,pol) (geo,pol)
    roster, subjects, rooms, teachers, prev = make_grade(600, seed=5, weights=(w, w))
    arr = arrange(roster, subjects, rooms, teachers, {}, "2026-11-12", prev)
    _, k, _ = check_timetable(arr, roster, subjects)
    assert k == 6
    check_seating(arr, roster, subjects, rooms)
    check_invigilation(arr, teachers, 2)


def test_exact_colouring_beats_clique_bound():
    """Five reselect subjects chosen in pairs around a 5-cycle: cliques have 2 nodes but 3
    sessions are needed (a greedy clique bound is not enough; the search proves it)."""
    subjects = [{"code": c, "name": c, "role": "reselect"} for c in "abcde"]
    pairs = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a")]
    rows = [{"student_id": f"S{i}", "name": f"学生{i}", "class_id": str(i % 3), "track": "all",
             "electives": list(pairs[i % 5]), "exam_no": None} for i in range(40)]
    roster = pl.DataFrame(rows, schema={"student_id": pl.String, "name": pl.String, "class_id": pl.String,
                                        "track": pl.String, "electives": pl.List(pl.String), "exam_no": pl.String})
    rooms = pl.DataFrame({"room": ["1", "2"], "location": [None, None], "capacity": [30, 30]})
    teachers = pl.DataFrame({"teacher_id": [f"T{i}" for i in range(6)], "name": [f"师{i}" for i in range(6)],
                             "class_id": ["1"] * 6, "subject": list("abcde") + [None], "role": ["teacher"] * 6})
    arr = arrange(roster, subjects, rooms, teachers, {}, "2026-11-12")
    _, k, _ = check_timetable(arr, roster, subjects)
    assert k == 3 and len(arr.stats["clique"]) == 2
    assert 2 in arr.stats["refuted_session_counts"]
    check_invigilation(arr, teachers, 2)


def test_colour_exact_random_graphs():
    """The exact search against brute force on random small graphs, with and without pins."""
    rng = np.random.default_rng(11)
    for trial in range(25):
        n = int(rng.integers(3, 8))
        masks = {f"s{i}": 0 for i in range(n)}
        # random students each sitting 2-3 subjects
        for st in range(int(rng.integers(2, 12))):
            for i in rng.choice(n, size=int(rng.integers(2, 4)), replace=False):
                masks[f"s{i}"] |= 1 << st
        pinned = {}
        if trial % 3 == 0:
            pinned = {"s0": 2}
        res = colour_exact(masks, pinned)
        codes = list(masks)
        conf = np.array([[bool(masks[a] & masks[b]) and a != b for b in codes] for a in codes])
        pin_idx = {0: 0} if pinned else {}
        assert brute_force_colourable(conf, res.k, pin_idx)
        assert not brute_force_colourable(conf, res.k - 1, pin_idx)
        for cls in res.classes:
            for a, b in itertools.combinations(cls, 2):
                assert not masks[a] & masks[b]


def test_first_choice_apart_when_asked(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    arr = arrange(roster, subjects, rooms, teachers, {"first_choice_together": False}, "2026-11-12", prev)
    check_timetable(arr, roster, subjects)
    check_seating(arr, roster, subjects, rooms)


def test_sessions_from_settings(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    sessions = [{"start": f"2026-11-{12 + d} {a}", "end": f"2026-11-{12 + d} {b}"}
                for d in range(4) for a, b in (("08:00", "10:30"), ("14:30", "16:30"))]
    arr = arrange(roster, subjects, rooms, teachers, {"sessions": sessions}, None, prev)
    first = arr.timetable.filter(pl.col("session") == 1)
    assert str(first["starts_at"].item()) == "2026-11-12 08:00:00"
    # default slots: two a day from the exam date
    arr2 = arrange(roster, subjects, rooms, teachers, {}, "2026-11-12", prev)
    starts = arr2.timetable.sort("session")["starts_at"].unique().sort().to_list()
    assert [f"{s:%m-%d %H:%M}" for s in starts[:3]] == ["11-12 08:00", "11-12 14:30", "11-13 08:00"]


# ------------------------------------------------------------------------------------------
# seating inside a room
# ------------------------------------------------------------------------------------------
def test_arrange_room_unavoidable_pairs_are_minimal():
    cls = ["1"] * 8 + ["2", "3"]
    seq = arrange_room(list(range(10)), cls)
    pairs = sum(1 for a, b in zip(seq, seq[1:]) if cls[a] == cls[b])
    assert sorted(seq) == list(range(10))
    assert pairs == min_adjacent_pairs(Counter(cls)) == 5
    # possible: never two of one class side by side; stays close to the given order
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 31))
        cl = [str(x) for x in rng.integers(0, int(rng.integers(1, 6)), size=n)]
        seq = arrange_room(list(range(n)), cl)
        pairs = sum(1 for a, b in zip(seq, seq[1:]) if cl[a] == cl[b])
        assert sorted(seq) == list(range(n))
        assert pairs == min_adjacent_pairs(Counter(cl))


def test_unavoidable_neighbours_are_noted():
    rows = [{"student_id": f"S{i:02d}", "name": f"学生{i}", "class_id": "1" if i < 8 else str(i), "track": "all",
             "electives": [], "exam_no": None} for i in range(10)]
    roster = pl.DataFrame(rows, schema={"student_id": pl.String, "name": pl.String, "class_id": pl.String,
                                        "track": pl.String, "electives": pl.List(pl.String), "exam_no": pl.String})
    subjects = [{"code": "chinese", "name": "语文", "role": "core"}]
    rooms = pl.DataFrame({"room": ["1"], "location": [None], "capacity": [10]})
    teachers = pl.DataFrame({"teacher_id": ["T1", "T2"], "name": ["甲", "乙"], "class_id": ["1", "1"],
                             "subject": ["math", "math"], "role": ["teacher", "teacher"]})
    arr = arrange(roster, subjects, rooms, teachers, {}, "2026-11-12")
    assert arr.stats["adjacent_pairs"] == 5
    assert any("unavoidable" in n and "class 1" in n for n in arr.notes)


# ------------------------------------------------------------------------------------------
# invigilation in a tight pool
# ------------------------------------------------------------------------------------------
def test_tight_pool_uses_own_subject_teachers_only_when_needed(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    # 84 teachers: the physics/history session (40 rooms x 2 = 80) has only 60 clear of both subjects
    keep = sorted(teachers["teacher_id"].unique().to_list())[:84]
    small = teachers.filter(pl.col("teacher_id").is_in(keep))
    arr = arrange(roster, subjects, rooms, small, {}, "2026-11-12", prev)
    own = check_invigilation(arr, small, 2)
    assert own > 0 and arr.stats["own_subject_duties"] == own


def test_three_invigilators_per_room(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    arr = arrange(roster, subjects, rooms, teachers, {"invigilators_per_room": 1}, "2026-11-12", prev)
    check_invigilation(arr, teachers, 1)


# ------------------------------------------------------------------------------------------
# infeasible requests: refused with the numbers
# ------------------------------------------------------------------------------------------
def test_infeasible_too_few_seats(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    with pytest.raises(InfeasibleArrangement) as e:
        arrange(roster, subjects, rooms.head(20), teachers, {}, "2026-11-12", prev)
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert "1200 students" in msg and "600 seats" in msg and "20 rooms" in msg and "600 short" in msg


def test_infeasible_too_few_teachers(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    keep = sorted(teachers["teacher_id"].unique().to_list())[:50]
    with pytest.raises(InfeasibleArrangement) as e:
        arrange(roster, subjects, rooms, teachers.filter(pl.col("teacher_id").is_in(keep)), {}, "2026-11-12", prev)
    msg = str(e.value)
    assert "40 rooms x 2 invigilators = 80 teachers" in msg and "pool has 50" in msg and "30 short" in msg


def test_infeasible_pinned_clash(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    sits = who_sits(roster, subjects)
    both = len(sits["chemistry"] & sits["biology"])
    with pytest.raises(InfeasibleArrangement) as e:
        arrange(roster, subjects, rooms, teachers, {"pinned": {"chemistry": 5, "biology": 5}}, "2026-11-12", prev)
    msg = str(e.value)
    assert "session 5" in msg and f"{both} students sit both" in msg


def test_infeasible_too_few_sessions(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    sessions = [{"start": f"2026-11-{12 + d} {a}", "end": f"2026-11-{12 + d} {b}"}
                for d in range(3) for a, b in (("08:00", "10:30"), ("14:30", "16:30"))]
    with pytest.raises(InfeasibleArrangement) as e:
        arrange(roster, subjects, rooms, teachers, {"sessions": sessions}, None, prev)
    assert "need 8 sessions" in str(e.value) and "only 6" in str(e.value)
    with pytest.raises(InfeasibleArrangement) as e:
        arrange(roster, subjects, rooms, teachers, {"sessions": sessions, "pinned": {"math": 7}}, None, prev)
    assert "pinned to session 7" in str(e.value) and "only 6" in str(e.value)


def test_infeasible_reports_every_problem_at_once(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    keep = sorted(teachers["teacher_id"].unique().to_list())[:10]
    with pytest.raises(InfeasibleArrangement) as e:
        arrange(roster, subjects, rooms.head(20), teachers.filter(pl.col("teacher_id").is_in(keep)), {},
                "2026-11-12", prev)
    kinds = " ".join(e.value.problems)
    assert "seats" in kinds and "teachers" in kinds


def test_exam_no_format_without_seat_is_refused(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    with pytest.raises(InfeasibleArrangement, match="more than one student"):
        arrange(roster, subjects, rooms, teachers, {"exam_no_format": "{room:02d}"}, "2026-11-12", prev)


def test_bad_settings_are_value_errors(grade1200):
    (roster, subjects, rooms, teachers, prev), _ = grade1200
    with pytest.raises(ValueError, match="not a subject"):
        arrange(roster, subjects, rooms, teachers, {"pinned": {"music": 1}}, "2026-11-12", prev)
    with pytest.raises(ValueError, match="order"):
        arrange(roster, subjects, rooms, teachers, {"order": "alphabetical"}, "2026-11-12", prev)
    with pytest.raises(ValueError, match="no sessions"):
        arrange(roster, subjects, rooms, teachers, {}, None, prev)
