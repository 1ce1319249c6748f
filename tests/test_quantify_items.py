"""Item analysis against an independent numpy/scipy computation on a generated exam of a few hundred
students: difficulty, discrimination (27% groups, ties by student_id), item-total r, full and zero
rates, option shares, Cronbach's alpha (optional items left out), class × item difficulty and
knowledge-point score rates; absent and pending scripts never enter."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from tests.builders import write_csv, write_yaml
from tests.conftest import query, query_dicts, run

N = 360
SEED = 20261201
EXAM_ID = "items-gen"
LETTERS = "ABCD"

# items of one subject, full 100: 8 single (4 options, 5 points), 2 multi (5 points, per_option
# partial), 1 numeric (5), 3 subjective (10 each) and an optional pair (15, choose 1)
SINGLES = [(str(i), LETTERS[i % 4], 0.6 * (i - 4.5) / 4.5) for i in range(1, 9)]  # id, key, difficulty b
MULTIS = [("9", "ABD", -0.2), ("10", "BC", 0.4)]
NUMERIC = ("11", "16", 0.3)
SUBJECTIVE = [("12", 10), ("13", 10), ("14", 10)]
OPTIONAL = [("15", 15), ("16", 15)]


def _exam_yaml() -> dict:
    items = [{"id": i, "type": "single", "full": 5, "key": k, "knowledge": "代数" if int(i) % 2 else "几何"}
             for i, k, _ in SINGLES]
    items += [{"id": i, "type": "multi", "full": 5, "key": k, "knowledge": "函数"} for i, k, _ in MULTIS]
    items.append({"id": NUMERIC[0], "type": "numeric", "full": 5, "key": NUMERIC[1], "knowledge": "代数"})
    items += [{"id": i, "type": "subjective", "full": f, "knowledge": "函数、几何"} for i, f in SUBJECTIVE]
    items += [{"id": i, "type": "subjective", "full": f, "knowledge": "选讲"} for i, f in OPTIONAL]
    return {"id": EXAM_ID, "name": "生成的小题分析考试", "date": "2026-12-05", "grade": "高三",
            "subjects": [{"code": "math", "name": "数学", "full": 100, "items": items,
                          "optional_groups": [{"items": [i for i, _ in OPTIONAL], "choose": 1}]}]}


def generate(root: Path):
    """Write the folder and return what examflow must find: per student status, class and the score
    of every item (NaN where an optional item does not count), plus each objective item's option read."""
    rng = np.random.default_rng(SEED)
    sids = [f"G{n:04d}" for n in rng.permutation(N) + 1]   # ids not in roster order
    classes = rng.integers(1, 7, N)
    theta = rng.normal(0, 1, N)
    status = np.array(["ok"] * N, dtype=object)
    status[rng.choice(N, 8, replace=False)] = "absent"
    pending = rng.choice(np.flatnonzero(status == "ok"), 5, replace=False)
    status[pending] = "pending"
    item_ids = [i for i, *_ in SINGLES] + [i for i, *_ in MULTIS] + [NUMERIC[0]] + [i for i, _ in SUBJECTIVE] + \
        [i for i, _ in OPTIONAL]
    scores = {i: np.full(N, np.nan) for i in item_ids}
    read = {i: [None] * N for i in [i for i, *_ in SINGLES] + [i for i, *_ in MULTIS] + [NUMERIC[0]]}
    p = lambda b: 1 / (1 + np.exp(-(theta - b) * 1.7))  # noqa: E731
    for i, key, b in SINGLES:
        u, v = rng.random(N), rng.random(N)
        for s in range(N):
            if v[s] < 0.03:
                read[i][s], scores[i][s] = "", 0
            elif v[s] < 0.045:
                read[i][s], scores[i][s] = "*", 0                          # unreadable → invalid
            elif v[s] < 0.06:
                read[i][s], scores[i][s] = key + ("A" if key != "A" else "B"), 0   # two letters on a single
            elif u[s] < p(b)[s]:
                read[i][s], scores[i][s] = key, 5
            else:
                read[i][s], scores[i][s] = rng.choice([c for c in LETTERS if c != key]), 0
    for i, key, b in MULTIS:
        u = rng.random(N)
        for s in range(N):
            if u[s] < p(b)[s] * 0.7:
                read[i][s], scores[i][s] = key, 5
            elif u[s] < p(b)[s]:
                part = key[: len(key) - 1]                                  # a proper subset: partial credit
                read[i][s], scores[i][s] = part, 5 * len(part) / len(key)
            elif u[s] < 0.97:
                wrong = "".join(sorted(set(key[0]) | {next(c for c in LETTERS if c not in key)}))
                read[i][s], scores[i][s] = wrong, 0
            else:
                read[i][s], scores[i][s] = "", 0
    i, key, b = NUMERIC
    u = rng.random(N)
    for s in range(N):
        if u[s] < p(b)[s]:
            read[i][s], scores[i][s] = key, 5
        else:
            read[i][s], scores[i][s] = str(rng.integers(0, 40)), 0
            if read[i][s] == key:
                scores[i][s] = 5
    for i, full in SUBJECTIVE + OPTIONAL:
        raw = full * p(rng.normal(0, 0.8))[...] + rng.normal(0, full * 0.12, N)
        scores[i] = np.clip(np.round(raw * 2) / 2, 0, full)
    choice = rng.integers(0, 2, N)                                         # which optional item is answered
    for k, (i, _) in enumerate(OPTIONAL):
        scores[i][choice != k] = np.nan
    # absent students have no responses nor marks
    for s in np.flatnonzero(status == "absent"):
        for i in item_ids:
            scores[i][s] = np.nan
        for i in read:
            read[i][s] = ""

    folder = root / EXAM_ID
    write_yaml(folder / "exam.yaml", _exam_yaml())
    write_csv(folder / "roster.csv", ["学号", "姓名", "班级", "考号"],
              [(sids[s], f"学生{s}", f"高三({classes[s]})班", f"9{s:04d}") for s in range(N)])
    obj = list(read)
    write_csv(folder / "scans" / "数学.csv", ["考号", "缺考", "选做"] + obj,
              [[f"9{s:04d}", "1" if status[s] == "absent" else "0",
                "" if status[s] == "absent" else OPTIONAL[choice[s]][0]] + [read[i][s] for i in obj] for s in range(N)])
    marks = []
    for s in range(N):
        if status[s] == "absent":
            continue
        for i, _ in SUBJECTIVE + OPTIONAL:
            if np.isnan(scores[i][s]) or (status[s] == "pending" and i == "12"):
                continue                                                   # pending: item 12 never marked
            marks.append((f"9{s:04d}", i, f"{scores[i][s]:g}", "M" + str(1 + s % 3)))
    write_csv(folder / "marks" / "math_marks.csv", ["考号", "题号", "一评", "一评教师"], marks)
    return folder, {"sid": np.array(sids), "class": classes, "status": status, "scores": scores, "read": read,
                    "item_ids": item_ids}


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    base = tmp_path_factory.mktemp("items")
    folder, truth = generate(base / "exams")
    wh = base / "wh" / "warehouse.duckdb"
    run(folder, wh)
    return wh, truth


def _ok(truth):
    return truth["status"] == "ok"


def test_generated_statuses(gen):
    wh, truth = gen
    got = dict(query(wh, "SELECT student_id, status FROM mart.subject_scores WHERE exam_id = ?", [EXAM_ID]))
    assert got == dict(zip(truth["sid"], truth["status"]))


def test_item_analysis_matches_numpy(gen):
    wh, truth = gen
    ok = _ok(truth)
    sc = truth["scores"]
    raw = np.nansum(np.vstack([sc[i] for i in truth["item_ids"]]), axis=0)
    rows = {r["item"]: r for r in query_dicts(wh, "SELECT * FROM mart.item_analysis WHERE exam_id = ?", [EXAM_ID])}
    assert set(rows) == set(truth["item_ids"])
    full = {i: 5 for i in truth["item_ids"]} | dict(SUBJECTIVE) | dict(OPTIONAL)
    for i in truth["item_ids"]:
        use = ok & ~np.isnan(sc[i])                      # optional items: only where they count
        x, y, sid = sc[i][use], raw[use], truth["sid"][use]
        r = rows[i]
        assert r["n"] == use.sum(), i
        assert r["mean"] == pytest.approx(x.mean(), abs=1e-9), i
        assert r["difficulty"] == pytest.approx(x.mean() / full[i], abs=1e-9), i
        assert r["full_rate"] == pytest.approx((x >= full[i]).mean(), abs=1e-9), i
        assert r["zero_rate"] == pytest.approx((x == 0).mean(), abs=1e-9), i
        assert r["item_total_r"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-9), i
        # 27% groups by raw score desc, ties by student_id asc
        order = sorted(range(len(x)), key=lambda k: (-y[k], sid[k]))
        g = max(1, int(np.floor(0.27 * len(x) + 0.5)))
        upper, lower = x[order[:g]].mean(), x[order[-g:]].mean()
        assert r["group_size"] == g, i
        assert r["discrimination"] == pytest.approx((upper - lower) / full[i], abs=1e-9), i
    assert rows["15"]["optional"] and rows["15"]["n"] + rows["16"]["n"] == ok.sum()


def test_alpha_matches_numpy(gen):
    """Cronbach's alpha over the 14 non-optional items of the ok scripts (sample variances here: the
    n/(n − 1) factors cancel, so this is the same figure)."""
    wh, truth = gen
    ok = _ok(truth)
    items = [i for i in truth["item_ids"] if i not in dict(OPTIONAL)]
    m = np.vstack([truth["scores"][i][ok] for i in items]).T
    k = m.shape[1]
    alpha = k / (k - 1) * (1 - m.var(axis=0, ddof=1).sum() / m.sum(axis=1).var(ddof=1))
    (n, n_items, got), = query(wh, "SELECT n, n_items, alpha FROM mart.subject_reliability WHERE exam_id = ?", [EXAM_ID])
    assert (n, n_items) == (ok.sum(), 14)
    assert got == pytest.approx(alpha, abs=1e-9)
    assert 0.3 < got < 1  # the items measure one ability


def test_option_shares(gen):
    wh, truth = gen
    ok = _ok(truth)
    rows = {(r[0], r[1]): r[2] for r in query(wh, "SELECT item, option, share FROM mart.item_options WHERE exam_id = ? "
                                                  "AND paper_version = '*'", [EXAM_ID])}
    for i, key, _ in SINGLES:
        reads = [truth["read"][i][s] for s in np.flatnonzero(ok)]
        n = len(reads)
        for letter in LETTERS:
            assert rows[(i, letter)] == pytest.approx(sum(r == letter for r in reads) / n), (i, letter)
        assert rows[(i, "blank")] == pytest.approx(sum(r == "" for r in reads) / n)
        assert rows[(i, "invalid")] == pytest.approx(sum(r == "*" or len(r) > 1 for r in reads) / n)
        assert sum(v for (it, _), v in rows.items() if it == i) == pytest.approx(1)
    for i, key, _ in MULTIS:   # a script counts for every letter it marked
        reads = [truth["read"][i][s] for s in np.flatnonzero(ok)]
        for letter in LETTERS:
            assert rows[(i, letter)] == pytest.approx(sum(letter in r for r in reads) / len(reads)), (i, letter)
        assert rows[(i, "blank")] == pytest.approx(sum(r == "" for r in reads) / len(reads))
    reads = [truth["read"][NUMERIC[0]][s] for s in np.flatnonzero(ok)]
    for value in set(reads):
        assert rows[(NUMERIC[0], value)] == pytest.approx(reads.count(value) / len(reads))


def test_class_items_and_knowledge(gen):
    wh, truth = gen
    ok = _ok(truth)
    sc = truth["scores"]
    ci = {(r[0], r[1]): r[2:] for r in query(wh, "SELECT class_id, item, difficulty, difficulty_diff FROM mart.class_items "
                                                "WHERE exam_id = ?", [EXAM_ID])}
    for c in range(1, 7):
        for i in ("3", "12", "16"):
            full = dict(SUBJECTIVE + OPTIONAL).get(i, 5)
            use = ok & (truth["class"] == c) & ~np.isnan(sc[i])
            cohort = ok & ~np.isnan(sc[i])
            d = sc[i][use].mean() / full
            assert ci[(str(c), i)] == (pytest.approx(d), pytest.approx(d - sc[i][cohort].mean() / full))
    # 函数: the multi items (5 each) and the subjective items 12–14 (10 each, tagged 函数、几何)
    func = [i for i, *_ in MULTIS] + [i for i, _ in SUBJECTIVE]
    full = {i: 5 for i, *_ in MULTIS} | dict(SUBJECTIVE)
    for c in (1, 4):
        use = ok & (truth["class"] == c)
        rate = sum(sc[i][use].sum() for i in func) / sum(full[i] * use.sum() for i in func)
        (got,), = query(wh, "SELECT score_rate FROM mart.knowledge WHERE exam_id = ? AND class_id = ? "
                            "AND knowledge = '函数'", [EXAM_ID, str(c)])
        assert got == pytest.approx(rate)


def test_class_quant_excludes_absent_and_pending(gen):
    wh, truth = gen
    ok = _ok(truth)
    raw = np.nansum(np.vstack([truth["scores"][i] for i in truth["item_ids"]]), axis=0)
    for c in (2, 5):
        use = ok & (truth["class"] == c)
        row = query_dicts(wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND class_id = ? AND subject = 'math'",
                          [EXAM_ID, str(c)])[0]
        x = raw[use]
        assert row["n_sat"] == use.sum()
        assert row["n_absent"] == ((truth["status"] == "absent") & (truth["class"] == c)).sum()
        assert row["n_pending"] == ((truth["status"] == "pending") & (truth["class"] == c)).sum()
        assert row["mean"] == pytest.approx(x.mean()) and row["sd"] == pytest.approx(x.std())
        assert row["median"] == pytest.approx(np.median(x))
        assert row["pass_rate"] == pytest.approx((x >= 60).mean()) and row["low_rate"] == pytest.approx((x < 40).mean())
        z = (x.mean() - raw[ok].mean()) / raw[ok].std()
        assert row["z"] == pytest.approx(z)
