"""Synthetic exam folders for trials, tests and benchmarks (`examflow generate`).

`generate(out, students, seed)` writes two exam folders under `out`:

* ``gen-2026-10-monthly`` (previous exam): a clean folder — roster, teachers, rooms,
  one UTF-8 scan CSV per subject, one 小题分 (wide) marks CSV per subject, absent
  students only, no other anomaly.
* ``gen-2026-11-midterm`` (current exam, ``previous:`` the first): every export shape
  of inputs.md (UTF-8 with/without BOM, ``;`` and tab delimiters, GBK, XLSX with
  title rows and merged cells, files without a subject column, a subject split in two
  batches, OMRChecker output with Manual/ErrorFiles and MultiMarkedFiles, long and wide
  marks) and every abnormal situation of rules.md §3 planted at realistic rates (each at
  least once), plus a ``resolutions/`` CSV.

Beside the folders, ``<current id>.planted.csv`` lists every planted problem with the
abnormal_id rules.md §3 gives it (for accounting tests); it is not part of any exam
folder. Without resolutions, validating the current folder yields exactly these ids.

How each problem is planted (current exam; rates per subject's takers, at least 1 each):
  UNKNOWN_EXAM_NO      chinese/math/physics: a digit changed to a number not in the roster;
                       english/biology: a digit dropped; physics: one empty exam number (that
                       script has no marks). Marks carry the exam number as scanned. The
                       student also gets MISSING_SCRIPT.
  DUPLICATE_SCAN       english/chemistry: a row re-scanned identically at the end of the file
                       (new script id, no extra marks); biology: the same OMRChecker row
                       appended again (same file_id).
  DUPLICATE_CONFLICT   math/geography: student A's sheet bubbled with B's exam number, appended
                       at the end (the later copy); A gets MISSING_SCRIPT; no marks for it.
  MISSING_SCRIPT       chinese/history/politics: rows removed; biology: every absent student
                       (OMRChecker has no absent field); plus the side effects above and the
                       unrescanned SCAN_ERROR sheets.
  ABSENT_BUT_ANSWERED  english/geography: absent mark set on an answered, marked script.
  NOT_ENROLLED         history (a physics-track student), chemistry, politics: an extra script
                       (with marks) for a student outside the subject.
  ORPHAN_MARKS         chinese/math (long), politics (wide): marks for a made-up number 099….
  PAGE_MISSING         chinese/math: 页数 1 of 2 (marks complete).
  UNMARKED             chinese/physics (row missing), geography (empty wide cell).
  MARKER_DISAGREEMENT  chinese/math/english/physics: 二评 beyond tolerance, no 仲裁.
  SCORE_OUT_OF_RANGE   math (single-marked item above full), geography (wide, above full),
                       chinese (x.3 on a single-marked item).
  MARKER_FLAGGED       chinese/history: 问题卷 text on one item row.
  MULTI_MARK           chinese/english/history/biology: two letters on a single item;
                       biology also in Manual/MultiMarkedFiles.csv.
  UNREADABLE_MARK      math `*`, physics `?`, english `H` on 七选五, chemistry `E`.
  ALL_BLANK            physics/politics: a present script with every objective item blank.
  SCAN_ERROR           biology: sheets in Manual/ErrorFiles.csv; the first was rescanned into
                       Results (new file_id), the others give MISSING_SCRIPT.
  VERSION_UNKNOWN      math: 试卷类型 empty on a present script.
  OPTIONAL_CHOICE_CONFLICT chemistry: 选做 empty, 选做 "18,19", or both 18 and 19 marked.
Every other script is clean (natural all-blank scripts are prevented, natural marker
disagreements always carry an arbitration). About 1.4 % of students are absent per subject
(absent mark, no responses, no marks). Planted students are distinct within a subject.

Scores are ability-driven (IRT-like objective items, ability-driven subjective marks),
generated vectorised with numpy per subject and written with polars in row chunks,
so large grades (500,000 students) stay feasible. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as _dt
import math
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import polars as pl

__all__ = ["generate", "PREVIOUS_ID", "CURRENT_ID", "JOINT_IDS", "school_names", "subject_definitions"]

PREVIOUS_ID = "gen-2026-10-monthly"
CURRENT_ID = "gen-2026-11-midterm"
JOINT_IDS = ("gen-2026-10-joint-monthly", "gen-2026-11-joint-midterm")   # `--schools N`: previous, current

CHUNK = 100_000          # rows per polars write
XLSX_MAX_ROWS = 5_000    # rows of the XLSX batch; the rest of that subject goes to CSV
CLASS_SIZE = 50
ROOM_CAPACITY = 30
RATE = 0.0012            # default share of a subject's takers hit by one planted problem

# --------------------------------------------------------------------------- static data
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "司徒", "慕容")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂子涵梓轩浩宇欣怡雨萱博文思佳嘉晨一诺铭俊宸泽睿"
    "凯瑞鑫雅婷琪悦晗妍煜昊然航阳天逸家乐安可心语彤瑶璐颖晴雪梦菲馨蕊宁志鹏飞翔宏斌辉振国建华东"
    "海林森帆远晓亮星月青春源豪越卓琳莹淼皓琦钰舒岚珂辰栋凡茜锦澜骏坤钧昕楠芮筱璇泓灏奕熙哲尧亦沐"
    "苒瀚子梓雨欣宇浩佳思"
)
RARE = "堃喆昇燚赟珺翀昶犇淏玥"
SPECIAL_NAMES = ("买买提·艾力", "迪丽娜尔·阿不都")
INJECTION_NAME = '=HYPERLINK("x")'
REGIONS = np.array([410102, 410103, 410105, 410122, 410181, 410184, 410302, 410311, 410522,
                    410703, 410728, 410802, 410923, 411002, 411102, 411302, 411323, 411402,
                    411503, 411602, 411702, 419001], dtype=np.int64)
PHONE_PREFIXES = np.array(["130", "131", "132", "133", "135", "136", "137", "138", "139", "150",
                           "151", "152", "155", "156", "157", "158", "159", "166", "176", "177",
                           "178", "180", "181", "182", "183", "185", "186", "187", "188", "189",
                           "191", "198", "199"])
BUILDINGS = ("明德楼", "致远楼", "博学楼", "笃行楼", "求是楼", "弘毅楼")
FLAG_TEXTS = ("疑似雷同卷", "图像不清晰", "答题超出区域", "答案写错位置", "疑似作弊")
OPERATORS = ("教务处王老师", "李组长", "年级主任赵老师", "教务处孙老师")

# elective pairs over the four reselect subjects
RESELECT = ("chemistry", "biology", "geography", "politics")
PAIRS = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
PAIR_P = (np.array([0.46, 0.13, 0.08, 0.16, 0.07, 0.10]),     # physics track: 物化生 most
          np.array([0.05, 0.05, 0.12, 0.12, 0.20, 0.46]))     # history track: 历政地 most
RES_ZH = ("化学", "生物", "地理", "政治")
RES_SHORT = ("化", "生", "地", "政")

# --------------------------------------------------------------------------- response vocabulary
LETTERS = "ABCDEFG"
_MASKS = [""] + ["".join(LETTERS[i] for i in range(7) if m >> i & 1) for m in range(1, 128)]
LOWER_OFF = 127                    # code m + 127 = lower-case letters of mask m
V_STAR, V_QMARK, V_DASH, V_H = 255, 256, 257, 258
NUM_BASE = 259                     # code NUM_BASE + v = the digits of v (0..999)
VOCAB = _MASKS + [m.lower() for m in _MASKS[1:]] + ["*", "?", "-", "H"] + [str(v) for v in range(1000)]
POPCOUNT = np.array([bin(i).count("1") for i in range(128)])


# --------------------------------------------------------------------------- subjects
@dataclass
class Item:
    id: str
    type: str                      # single / multi / numeric / subjective
    full: float
    knowledge: str = ""
    options: int = 4
    partial: int | None = None     # fixed partial credit (multi); None = per_option default
    tolerance: float | None = None
    double: bool = True            # subjective: double marked
    essay: bool = False
    # generation parameters and keys (set per exam)
    a: float = 1.0
    b: float = 0.0
    key_a: int = 0                 # option mask, or the numeric value
    key_b: int | None = None       # version B key (AB卷)


@dataclass
class Subject:
    code: str
    name: str
    full: float
    role: str
    prefix: str                    # script id prefix
    items: list[Item]
    optional: list[str] = field(default_factory=list)   # one group, choose 1
    ab: bool = False
    pages: int | None = None
    b_obj: float = -0.4            # difficulty offsets (calibrated to means ~60-65 %)
    b_sub: float = 0.0
    spread: float = 0.45           # ability scale (calibrated to realistic subject sd)

    @property
    def obj(self) -> list[Item]:
        return [i for i in self.items if i.type != "subjective"]

    @property
    def subj(self) -> list[Item]:
        return [i for i in self.items if i.type == "subjective"]


def _singles(ids, full, kps, options=4):
    return [Item(str(i), "single", full, kps[k % len(kps)], options=options) for k, i in enumerate(ids)]


def _sub(i, full, kp, tol=None, double=True, essay=False):
    return Item(str(i), "subjective", full, kp, tolerance=tol, double=double, essay=essay)


def subject_definitions() -> list[Subject]:
    """The nine subjects (fresh objects; keys and difficulties are set per exam)."""
    chinese = Subject("chinese", "语文", 150, "core", "YW", [
        *_singles([1, 2, 3], 3, ["信息筛选", "内容理解", "论证分析"]),
        _sub(4, 4, "论述类文本阅读"), _sub(5, 6, "论述类文本阅读"),
        *_singles([6, 7], 3, ["文学类文本阅读", "艺术手法"]),
        _sub(8, 4, "小说分析"), _sub(9, 6, "小说分析"),
        *_singles([10, 11, 12], 3, ["文言断句", "文化常识", "文言内容理解"]),
        _sub("13(1)", 4, "文言翻译"), _sub("13(2)", 4, "文言翻译"), _sub(14, 3, "文言概括", double=False),
        *_singles([15], 3, ["诗歌鉴赏"]),
        _sub(16, 6, "诗歌鉴赏"), _sub(17, 6, "名句默写", double=False),
        *[_sub(i, 4, "语言运用") for i in range(18, 23)],
        _sub(23, 60, "写作", tol=6, essay=True),
    ], b_obj=-0.3, b_sub=-0.2, spread=0.4)
    math_ = Subject("math", "数学", 150, "core", "SX", [
        *_singles(range(1, 9), 5, ["集合", "复数", "平面向量", "三角函数", "立体几何", "函数", "数列", "导数"]),
        Item("9", "multi", 6, "三角函数"), Item("10", "multi", 6, "概率统计"),
        Item("11", "multi", 6, "函数与导数", partial=2),
        Item("12", "numeric", 5, "二项式定理"),
        _sub(13, 5, "圆锥曲线", double=False), _sub(14, 5, "概率", double=False),
        _sub(15, 13, "解三角形"), _sub(16, 15, "立体几何"),
        _sub("17(1)", 6, "概率统计"), _sub("17(2)", 9, "概率统计"),
        _sub(18, 17, "圆锥曲线", tol=4), _sub("19-1", 5, "数列"), _sub("19-2", 12, "导数", tol=4),
    ], ab=True, b_obj=-0.6, b_sub=-0.3, spread=0.7)
    english = Subject("english", "英语", 150, "core", "YY", [
        *_singles(range(1, 21), 1.5, ["听力"]),
        *_singles(range(21, 36), 2.5, ["阅读理解"]),
        *_singles(range(36, 41), 2.5, ["七选五"], options=7),
        *_singles(range(41, 56), 1, ["完形填空"]),
        _sub(56, 15, "语法填空", tol=2), _sub(57, 15, "应用文写作"),
        _sub(58, 25, "读后续写", tol=4, essay=True),
    ], b_obj=-0.25, b_sub=0.1, spread=0.5)
    physics = Subject("physics", "物理", 100, "first_choice", "WL", [
        *_singles(range(1, 8), 4, ["运动学", "相互作用", "牛顿运动定律", "曲线运动", "万有引力", "机械能", "电场"]),
        Item("8", "multi", 6, "动量", partial=3), Item("9", "multi", 6, "电磁感应", partial=3),
        Item("10", "multi", 6, "磁场", partial=3),
        _sub(11, 6, "力学实验"), _sub(12, 10, "电学实验"), _sub(13, 10, "热学"),
        _sub(14, 12, "动量与能量"), _sub(15, 16, "电磁感应综合", tol=4),
    ], b_obj=-0.5, b_sub=-0.2)
    history = Subject("history", "历史", 100, "first_choice", "LS", [
        *_singles(range(1, 17), 3, ["中国古代史"] * 5 + ["中国近代史"] * 4 + ["中国现代史"] * 2
                  + ["世界古代史"] + ["世界近代史"] * 2 + ["世界现代史"] * 2),
        _sub(17, 12, "材料分析"), _sub(18, 13, "材料分析"), _sub(19, 12, "开放性试题", tol=4),
        _sub(20, 15, "历史小论文", tol=4),
    ], b_obj=-0.5, b_sub=-0.2)
    chemistry = Subject("chemistry", "化学", 100, "reselect", "HX", [
        *_singles(range(1, 15), 3, ["化学与生活", "物质的量", "离子反应", "氧化还原", "元素周期律", "化学键",
                                    "反应热", "化学平衡", "电化学", "电离平衡", "有机化学基础", "实验基础",
                                    "物质结构", "沉淀溶解平衡"]),
        _sub(15, 14, "化学实验"), _sub(16, 15, "工艺流程"), _sub(17, 15, "化学反应原理"),
        _sub(18, 14, "物质结构与性质"), _sub(19, 14, "有机化学基础"),
    ], optional=["18", "19"], b_obj=-0.5, b_sub=0.0)
    biology = Subject("biology", "生物", 100, "reselect", "SW", [
        *_singles(range(1, 13), 2, ["细胞的分子组成", "细胞结构", "细胞代谢", "细胞增殖", "遗传规律", "基因表达",
                                    "变异与进化", "稳态与调节", "免疫调节", "植物激素", "种群与群落", "生态系统"]),
        *[Item(str(i), "multi", 4, kp, partial=2) for i, kp in
          zip(range(13, 17), ["细胞代谢", "遗传规律", "稳态与调节", "生物技术与工程"])],
        *[_sub(i, 12, kp) for i, kp in
          zip(range(17, 22), ["细胞代谢", "稳态与调节", "生态系统", "遗传规律", "生物技术与工程"])],
    ], b_obj=-0.5, b_sub=0.0)
    geography = Subject("geography", "地理", 100, "reselect", "DL", [
        *_singles(range(1, 17), 3, ["地球运动", "大气环境", "水循环", "地貌", "自然地理环境整体性", "人口",
                                    "城镇化", "农业区位", "工业区位", "交通运输", "区域发展", "资源与环境"]),
        _sub(17, 22, "区域综合", tol=4), _sub(18, 16, "自然地理综合"), _sub(19, 14, "人文地理综合"),
    ], b_obj=-0.5, b_sub=-0.3)
    politics = Subject("politics", "政治", 100, "reselect", "ZZ", [
        *_singles(range(1, 17), 3, ["中国特色社会主义", "经济与社会", "政治与法治", "哲学与文化",
                                    "当代国际政治与经济", "法律与生活", "逻辑与思维"]),
        _sub(17, 12, "经济与社会"), _sub(18, 10, "政治与法治"), _sub(19, 10, "哲学与文化"),
        _sub(20, 10, "当代国际政治与经济"), _sub(21, 10, "法律与生活"),
    ], b_obj=-0.6, b_sub=-0.2)
    return [chinese, math_, english, physics, history, chemistry, biology, geography, politics]


# --------------------------------------------------------------------------- helpers
def _rng(seed: int, *parts) -> np.random.Generator:
    key = [int(seed) & 0xFFFFFFFF] + [p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(key)


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _num(v) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _half_up_05(x):
    return np.floor(x * 2 + 0.5) / 2


def _fmt_scores(x: np.ndarray) -> pl.Series:
    """Marks as text: integers without '.0', NaN as null."""
    s = pl.Series(np.asarray(x, dtype=np.float64))
    return pl.select(
        pl.when(s.is_nan()).then(None)
        .when(s == s.floor()).then(s.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(s.round(2).cast(pl.String))
    ).to_series()


_VOCAB = pl.Series(VOCAB)
_VOCAB_NULL = pl.Series([None] + VOCAB[1:], dtype=pl.String)


def _responses(codes: np.ndarray, quoted_blank: bool = False) -> pl.Series:
    idx = codes.astype(np.int64)
    return (_VOCAB if quoted_blank else _VOCAB_NULL).gather(idx)


def _nullify(df: pl.DataFrame) -> pl.DataFrame:
    """Empty strings as nulls, so a plain CSV shows an empty field (not "")."""
    return df.with_columns(
        pl.when(pl.col(pl.String) == "").then(None).otherwise(pl.col(pl.String)).name.keep())


def _write_csv(path: Path, frames: Iterator[pl.DataFrame], *, encoding: str = "utf-8", sep: str = ",",
               bom: bool = False, crlf: bool = False, quote_all: bool = False) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "wb") as f:
        if bom:
            f.write(b"\xef\xbb\xbf")
        first = True
        for df in frames:
            if not quote_all:
                df = _nullify(df)
            text = df.write_csv(separator=sep, include_header=first, line_terminator="\r\n" if crlf else "\n",
                                quote_style="always" if quote_all else "necessary")
            f.write(text.encode(encoding))
            first = False
            n += df.height
    return n


def _chunks(lo: int, hi: int, size: int = CHUNK):
    for a in range(lo, hi, size):
        yield a, min(hi, a + size)


# --------------------------------------------------------------------------- the grade
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


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    sn = np.array(list(SURNAMES) + list(COMPOUND_SURNAMES))
    w = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
    w = np.concatenate([w / w.sum() * 0.996, np.full(len(COMPOUND_SURNAMES), 0.004 / len(COMPOUND_SURNAMES))])
    given = np.array(list(GIVEN))
    rare = np.array(list(RARE))
    c1 = sn[rng.choice(len(sn), n, p=w)]
    c2 = given[rng.integers(len(given), size=n)]
    c3 = given[rng.integers(len(given), size=n)]
    two = rng.random(n) < 0.72
    c3 = np.where(two, c3, "")
    rr = rng.random(n) < 0.003
    rc = rare[rng.integers(len(rare), size=n)]
    c3 = np.where(rr & two, rc, c3)
    c2 = np.where(rr & ~two, rc, c2)
    return np.char.add(np.char.add(c1, c2), c3)


def _grade_classes(n: int, phys_share: float, first_class: int) -> tuple[np.ndarray, np.ndarray, int]:
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


def school_names(k: int) -> list[str]:
    """一中, 二中, … 二十中, …: the joint exam's schools."""
    digits = "零一二三四五六七八九"

    def numeral(i: int) -> str:
        tens, ones = divmod(i, 10)
        return ((digits[tens] if tens > 1 else "") + "十" if tens else "") + (digits[ones] if ones else "")
    return [numeral(i + 1) + "中" for i in range(k)]


def _joint_layout(n: int, schools: int, seed: int):
    """Students by school (sizes and physics shares differing), then track, then class; class
    numbers run on across schools (1..C), each class also numbered within its school."""
    rng = _rng(seed, "schools")
    w = rng.uniform(0.4, 1.6, schools)
    sizes = np.maximum(1, np.floor(n * w / w.sum()).astype(np.int64))
    sizes[np.argmax(sizes)] += n - sizes.sum()
    school = np.repeat(np.arange(schools), sizes)
    track, cls = np.empty(n, np.int8), np.empty(n, np.int32)
    class_school, class_local = [0], [0]
    start, next_class = 0, 1
    for k, size in enumerate(sizes.tolist()):
        t, c, n_cls = _grade_classes(size, float(rng.uniform(0.55, 0.75)), next_class)
        track[start:start + size], cls[start:start + size] = t, c
        class_school += [k] * n_cls
        class_local += list(range(1, n_cls + 1))
        start, next_class = start + size, next_class + n_cls
    return school, track, cls, next_class - 1, np.array(class_school), np.array(class_local)


def _build_world(n: int, seed: int, schools: int = 0) -> World:
    rng = _rng(seed, "roster")
    if schools >= 2:
        school, track, cls, n_classes, class_school, class_local = _joint_layout(n, schools, seed)
    else:
        track, cls, n_classes = _grade_classes(n, 0.65, 1)
        school = class_school = class_local = None

    sid_w = max(4, len(str(n)))
    sid = np.asarray(pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(sid_w).to_numpy()).astype(str)
    sid = np.char.add("2024", sid)

    names = _names(rng, n)
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
        g += _rng(seed, "school strength").normal(0, 0.35, schools)[school]
    theta = {}
    for s in subjects:
        r2 = _rng(seed, "theta", s.code)
        cs = r2.normal(0, 0.12, n_classes + 1)
        cur = 0.8 * g + 0.6 * r2.normal(0, 1, n) + cs[cls]
        theta[("current", s.code)] = cur.astype(np.float32)
        theta[("previous", s.code)] = (0.93 * cur + 0.37 * r2.normal(0, 1, n)).astype(np.float32)

    if school is None:
        rooms_needed = math.ceil(n / ROOM_CAPACITY)
        n_rooms = rooms_needed + max(3, math.ceil(0.02 * rooms_needed))
        teachers, rows, pools, leads = _build_teachers(seed, subjects, cls, track, takes, n_classes, rooms_needed)
        return World(n, seed, sid, name_s, cls, track, pair, elect, exam_int, exam_no, exam_w, id_card, phone,
                     n_classes, theta, takes, teachers, rows, pools, leads, n_rooms)
    names_ = school_names(schools)
    teachers, rows, pools, leads, room_school = _joint_teachers(seed, subjects, school, cls, track, takes,
                                                                class_school, class_local, names_)
    return World(n, seed, sid, name_s, cls, track, pair, elect, exam_int, exam_no, exam_w, id_card, phone,
                 n_classes, theta, takes, teachers, rows, pools, leads, len(room_school), JOINT_IDS, names_,
                 school, class_school, class_local, room_school)


def _joint_teachers(seed, subjects, school, cls, track, takes, class_school, class_local, names_):
    """Each school's own teachers (its classes, its rooms' invigilators), their ids prefixed by the
    school's number; markers pooled over the schools; one 联考负责人 for the district."""
    teachers, rows, pools, room_school = [], [], {}, []
    leads: dict[str, int] = {}
    for k, name in enumerate(names_):
        mine = school == k
        local = class_local[cls[mine]]
        rooms_needed = math.ceil(int(mine.sum()) / ROOM_CAPACITY)
        room_school += [k] * (rooms_needed + max(1, math.ceil(0.02 * rooms_needed)))
        t_k, rows_k, pools_k, leads_k = _build_teachers(seed * 1000 + k, subjects, local, track[mine],
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


def _build_teachers(seed, subjects, cls, track, takes, n_classes, rooms_needed):
    class_track = np.zeros(n_classes + 1, np.int8)
    class_track[cls] = track
    for pattern in ([2, 2, 2, 3], [2], [1]):
        rng = _rng(seed, "teachers")
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
    names = _names(rng, len(teachers))
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


# --------------------------------------------------------------------------- keys and parameters
def _prepare_subject(s: Subject, seed: int, kind: str) -> None:
    rng = _rng(seed, kind, "items", s.code)
    obj = s.obj
    n = len(obj)
    for k, it in enumerate(obj):
        trend = (k / max(1, n - 1) - 0.5) * 1.6
        it.b = s.b_obj + trend + rng.normal(0, 0.35)
        it.a = rng.uniform(0.7, 1.7)
    seven = [it for it in obj if it.options == 7]
    if seven:
        letters = rng.permutation(7)[: len(seven)]
        for it, l in zip(seven, letters):
            it.key_a = 1 << int(l)
    for it in obj:
        if it.type == "single" and it.options != 7:
            it.key_a = 1 << int(rng.integers(it.options))
            if s.ab:
                it.key_b = 1 << int((np.log2(it.key_a) + rng.integers(1, it.options)) % it.options)
        elif it.type == "multi":
            size = int(rng.choice([2, 3]))
            it.key_a = int(sum(1 << int(x) for x in rng.choice(4, size, replace=False)))
            if s.ab:
                while True:
                    kb = int(sum(1 << int(x) for x in rng.choice(4, size, replace=False)))
                    if kb != it.key_a:
                        it.key_b = kb
                        break
        elif it.type == "numeric":
            it.key_a = 16 if kind == "current" else int(rng.choice([12, 24, 36]))
    sub = s.subj
    m = len(sub)
    for k, it in enumerate(sub):
        it.b = s.b_sub + (k / max(1, m - 1) - 0.5) * 0.8 + rng.normal(0, 0.3)
        it.a = rng.uniform(0.8, 1.5) if not it.essay else 0.8


def _key_text(it: Item) -> str:
    if it.type == "numeric":
        return str(it.key_a)
    if it.key_b is not None:
        return f"{{A: {_MASKS[it.key_a]}, B: {_MASKS[it.key_b]}}}"
    return _MASKS[it.key_a]


# --------------------------------------------------------------------------- scripts
ROW_FIELDS = ("stu", "exam_no", "absent", "pages", "version", "choice", "codes", "obj", "subj", "has_marks",
              "sheet", "dest")


class Rows:
    """One subject's scripts as parallel numpy arrays (one row per scanned sheet)."""

    def __init__(self, **kw):
        for f in ROW_FIELDS:
            setattr(self, f, kw[f])

    def __len__(self):
        return len(self.stu)

    def take(self, idx) -> "Rows":
        idx = np.asarray(idx, dtype=np.int64)
        return Rows(**{f: getattr(self, f)[idx].copy() for f in ROW_FIELDS})

    @staticmethod
    def cat(parts: list["Rows"]) -> "Rows":
        return Rows(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in ROW_FIELDS})


def _objective(rng, s: Subject, theta, version, present):
    R = len(theta)
    items = s.obj
    codes = np.zeros((R, len(items)), np.int16)
    scores = np.zeros((R, len(items)), np.float32)
    for j, it in enumerate(items):
        ka = it.key_a
        kb = it.key_b if it.key_b is not None else ka
        key = np.where(version == 2, kb, ka).astype(np.int64)
        z = 1.7 * it.a * (theta - it.b)
        u = rng.random(R)
        blank_u = rng.random(R)
        if it.type == "single":
            n = it.options
            c = 0.1 if n > 4 else 0.2
            p = c + (1 - c) * _expit(z)
            kl = np.log2(key).astype(np.int64)
            w = 1.0 / np.arange(1, n) ** 0.7
            shifts = rng.choice(np.arange(1, n), size=R, p=w / w.sum())
            letter = np.where(u < p, kl, (kl + shifts) % n)
            code = (1 << letter).astype(np.int64)
            code[blank_u < 0.003 + 0.02 * _expit(-1.5 * theta - 2.5)] = 0
            sc = np.where(code == key, it.full, 0.0)
        elif it.type == "multi":
            p = _expit(z - 0.3)
            code = np.zeros(R, np.int64)
            cat_u = rng.random(R)
            pick = rng.random(R)
            for kv in np.unique(key):
                sel = key == kv
                subsets = np.array([m for m in range(1, 16) if m & kv == m and m != kv])
                wrongs = np.array([m for m in range(1, 16) if m & ~kv & 15])
                full_ = u < p
                part = ~full_ & (cat_u < 0.62)
                c_sub = subsets[np.minimum((pick * len(subsets)).astype(int), len(subsets) - 1)]
                ww = 1.0 / POPCOUNT[wrongs] ** 2.5            # wrong answers: mostly 1-2 letters
                c_wr = wrongs[np.minimum(np.searchsorted(np.cumsum(ww) / ww.sum(), pick), len(wrongs) - 1)]
                code[sel] = np.where(full_, kv, np.where(part, c_sub, c_wr))[sel]
            code[blank_u < 0.006 + 0.03 * _expit(-1.5 * theta - 2)] = 0
            pc = POPCOUNT[code]
            pk = POPCOUNT[key]
            proper = (code != 0) & (code & ~key == 0) & (code != key)
            if it.partial is None:
                part_sc = it.full * pc / pk
            else:
                part_sc = np.full(R, float(it.partial))
            sc = np.where(code == key, it.full, np.where(proper, part_sc, 0.0))
        else:  # numeric
            p = _expit(z)
            distract = np.array([v for v in (12, 18, 8, 32, 4, 15, 24) if v != ka])
            wrong = distract[rng.integers(len(distract), size=R)]
            val = np.where(u < p, key, wrong)
            code = NUM_BASE + val
            code[blank_u < 0.02 + 0.08 * _expit(-1.5 * theta - 1)] = 0
            sc = np.where(val == key, it.full, 0.0)
            sc[code == 0] = 0.0
        codes[:, j] = code
        scores[:, j] = sc
    codes[~present] = 0
    scores[~present] = 0
    # a present script never comes out all blank by chance (ALL_BLANK is planted)
    allb = present & (codes == 0).all(axis=1)
    if allb.any() and items:
        codes[allb, 0] = items[0].key_a if items[0].type != "numeric" else NUM_BASE + items[0].key_a
    return codes, scores


def _subjective(rng, s: Subject, theta):
    R = len(theta)
    T = np.empty((R, len(s.subj)), np.float64)
    for j, it in enumerate(s.subj):
        lo, hi = (0.50, 0.80) if it.essay else (0.08, 0.94)
        f = lo + (hi - lo) * _expit(1.7 * it.a * (theta - it.b))
        noise = rng.normal(0, (0.05 if it.essay else 0.08) * it.full + 0.25, R)
        T[:, j] = np.clip(np.round(it.full * f + noise), 0, it.full)
    return T


def _base_rows(world: World, s: Subject, kind: str, students: np.ndarray, absent: np.ndarray,
               seed: int, tag: str = "base") -> Rows:
    """Scripts of `students` (already in scan order)."""
    rng = _rng(seed, kind, tag, s.code)
    R = len(students)
    theta = s.spread * world.theta[(kind, s.code)][students].astype(np.float64)
    present = ~absent
    version = np.zeros(R, np.int8)
    if s.ab:
        version = (1 + world.exam_int[students] % 2).astype(np.int8)
        version[absent] = 0
    codes, obj = _objective(rng, s, theta, version, present)
    subj = _subjective(rng, s, theta)
    choice = np.full(R, "", dtype="<U8")
    if s.optional:
        ids = [it.id for it in s.subj]
        j18, j19 = ids.index(s.optional[0]), ids.index(s.optional[1])
        pick19 = rng.random(R) < _expit(0.4 * theta - 0.2)
        choice = np.where(pick19, s.optional[1], s.optional[0]).astype("<U8")
        subj[pick19, j18] = np.nan
        subj[~pick19, j19] = np.nan
        choice[absent] = ""
    subj[absent] = np.nan
    return Rows(stu=students.astype(np.int64), exam_no=world.exam_no[students].astype("<U16"),
                absent=absent.copy(), pages=np.full(R, s.pages or 0, np.int8), version=version,
                choice=choice, codes=codes, obj=obj, subj=subj, has_marks=present.copy(),
                sheet=np.arange(1, R + 1, dtype=np.int64), dest=np.zeros(R, np.int8))


@dataclass
class Marks:
    marked: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    arb: np.ndarray
    m1: np.ndarray
    m2: np.ndarray
    flags: dict = field(default_factory=dict)          # (row, item index) -> text
    orphans: list = field(default_factory=list)        # (exam_no, s1[], s2[], arb[], m1[], m2[])

    def final(self) -> np.ndarray:
        mean = _half_up_05((self.s1 + self.s2) / 2)
        f = np.where(np.isnan(self.s2), self.s1, mean)
        f = np.where(np.isnan(self.arb), f, self.arb)
        return np.where(self.marked, f, np.nan)


def _tol(it: Item, default: float = 3) -> float:
    return it.tolerance if it.tolerance is not None else default


def _mark(rng, s: Subject, T: np.ndarray, has_marks: np.ndarray, pool: np.ndarray) -> Marks:
    R, J = T.shape
    marked = has_marks[:, None] & ~np.isnan(T)
    s1 = np.full((R, J), np.nan)
    s2 = np.full((R, J), np.nan)
    arb = np.full((R, J), np.nan)
    m1 = np.full((R, J), -1, np.int64)
    m2 = np.full((R, J), -1, np.int64)
    P = len(pool)
    for j, it in enumerate(s.subj):
        t = T[:, j]
        i1 = rng.integers(P, size=R)
        m1[:, j] = pool[i1]
        if it.double:
            tol = _tol(it)
            sig = min(tol / 2.9, 0.06 * it.full + 0.35)   # ~3-4 % of big items go to arbitration
            a1 = np.clip(np.round(t + rng.normal(0, sig, R)), 0, it.full)
            a2 = np.clip(np.round(t + rng.normal(0, sig, R)), 0, it.full)
            beyond = np.abs(a1 - a2) > tol
            ar = np.clip(np.round(t + rng.normal(0, sig / 2, R)), 0, it.full)
            s1[:, j] = a1
            s2[:, j] = a2
            arb[:, j] = np.where(beyond, ar, np.nan)
            m2[:, j] = pool[(i1 + rng.integers(1, max(2, P), size=R)) % P] if P > 1 else pool[i1]
        else:
            s1[:, j] = t
    return Marks(marked, s1, s2, arb, m1, m2)


# --------------------------------------------------------------------------- file layouts
@dataclass
class ScanFile:
    name: str
    fmt: str = "csv"                    # csv / xlsx
    encoding: str = "utf-8"
    bom: bool = False
    sep: str = ","
    crlf: bool = False
    subject: bool = True
    sid: str | None = "扫描序号"
    exam: str = "考号"
    absent_h: str = "缺考"
    absent: tuple = ("1", "0")
    batch: str | None = "批次"
    image: str | None = "图像"
    item: str = "{}"
    blank: str = ""
    rows: int | None = None             # rows in this file (None = the rest)

    @property
    def header_row(self) -> int:        # spreadsheet row number of the header
        return 3 if self.fmt == "xlsx" else 1


def _current_layout(s: Subject, n_rows: int) -> list[ScanFile] | str:
    c = s.code
    if c == "chinese":
        return [ScanFile("语文.csv", bom=True)]
    if c == "math":
        first = min(XLSX_MAX_ROWS, max(1, n_rows // 2))
        return [ScanFile("math_batch1.xlsx", fmt="xlsx", absent=("是", "否"), item="Q{}", rows=first),
                ScanFile("math_batch2.csv", subject=False, absent=("Y", "N"), item="Q{}")]
    if c == "english":
        return [ScanFile("英语.csv", sep=";", absent=("缺考", ""), item="第{}题", blank="-")]
    if c == "physics":
        return [ScanFile("物理.csv", sep="\t", subject=False, sid=None, item="客观题{}")]
    if c == "history":
        return [ScanFile("历史.csv", encoding="gbk", crlf=True, absent=("是", "否"))]
    if c == "chemistry":
        return [ScanFile("chemistry.csv", bom=True, item="Q{}")]
    if c == "biology":
        return "omr"
    if c == "geography":
        return [ScanFile("地理.csv", sid="试卷编号", exam="准考证号", absent_h="缺考标记", absent=("Y", "N"),
                         batch="扫描批次", image="图像路径", item="第{}题")]
    return [ScanFile("政治.csv", bom=True)]


MARKS_LAYOUT = {  # code -> (file name, form, subject column, encoding, bom, crlf)
    "chinese": ("语文_评卷明细.csv", "long", True, "utf-8", True, False),
    "math": ("math_marks.csv", "long", False, "utf-8", False, False),
    "english": ("英语_评卷明细.csv", "long", True, "utf-8", False, False),
    "physics": ("物理_评卷明细.csv", "long", True, "gbk", False, True),
    "history": ("历史_评卷明细.csv", "long", True, "utf-8", True, False),
    "chemistry": ("化学_评卷明细.csv", "long", True, "utf-8", False, False),
    "biology": ("生物_评卷明细.csv", "long", True, "utf-8", False, False),
    "geography": ("地理小题分.csv", "wide", True, "utf-8", True, False),
    "politics": ("politics_小题分.csv", "wide", False, "utf-8", False, False),
}


def _batch(rows: Rows, n_base: int) -> np.ndarray:
    last = (n_base - 1) // 300 + 1 if n_base else 1
    return np.where(rows.sheet <= n_base, (rows.sheet - 1) // 300 + 1, last + 1)


def _script_ids(s: Subject, sheet: np.ndarray) -> pl.Series:
    return pl.select(pl.lit(s.prefix) + pl.lit(pl.Series(sheet).cast(pl.String).str.zfill(7))).to_series()


def _omr_ids(sheet: np.ndarray) -> pl.Series:
    return pl.select(pl.lit("bio_") + pl.lit(pl.Series(sheet).cast(pl.String).str.zfill(6)) + pl.lit(".jpg")).to_series()


def _scan_frame(s: Subject, rows: Rows, lo: int, hi: int, spec: ScanFile, n_base: int) -> pl.DataFrame:
    cols: dict[str, pl.Series] = {}
    sheet = rows.sheet[lo:hi]
    sid = _script_ids(s, sheet)
    batch = _batch(rows, n_base)[lo:hi]
    if spec.sid:
        cols[spec.sid] = sid
    cols[spec.exam] = pl.Series(rows.exam_no[lo:hi])
    if spec.subject:
        cols["科目"] = pl.Series(np.full(hi - lo, s.name))
    cols[spec.absent_h] = pl.Series(np.where(rows.absent[lo:hi], spec.absent[0], spec.absent[1]))
    if spec.batch:
        cols[spec.batch] = pl.Series(batch)
    if s.pages:
        cols["页数"] = pl.Series(rows.pages[lo:hi].astype(np.int64))
    if s.ab:
        cols["试卷类型"] = pl.Series(np.array(["", "A", "B"])[rows.version[lo:hi]])
    if s.optional:
        cols["选做"] = pl.Series(rows.choice[lo:hi])
    for j, it in enumerate(s.obj):
        c = rows.codes[lo:hi, j]
        if spec.blank == "-":
            c = np.where(c == 0, V_DASH, c)
        cols[spec.item.format(it.id)] = _responses(c)
    if spec.image:
        cols[spec.image] = pl.select(
            pl.lit(f"images/{s.code}/") + pl.lit(pl.Series(batch)).cast(pl.String).str.zfill(3)
            + pl.lit("/") + pl.lit(sid) + pl.lit(".jpg")).to_series()
    return pl.DataFrame(cols)


def _write_xlsx(path: Path, df: pl.DataFrame, title: str, subtitle: str) -> None:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"title": title, "author": "网阅扫描系统", "created": _dt.datetime(2026, 11, 12, 18, 30)})
    ws = wb.add_worksheet("扫描结果")
    ncol = df.width
    ft = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    fs = wb.add_format({"align": "left", "font_color": "#555555"})
    fh = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
    ws.merge_range(0, 0, 0, ncol - 1, title, ft)
    ws.merge_range(1, 0, 1, ncol - 1, subtitle, fs)
    ws.write_row(2, 0, df.columns, fh)
    for r, row in enumerate(df.iter_rows(), start=3):
        ws.write_row(r, 0, ["" if v is None else v for v in row])
    wb.close()


# --------------------------------------------------------------------------- planting (current exam)
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


class _Planter:
    def __init__(self, world: World, s: Subject, base: Rows, seed: int, used_numbers: set):
        self.w, self.s, self.base = world, s, base
        self.rng = _rng(seed, "current", "plant", s.code)
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
                             note=f"'{_MASKS[cur | other]}' on single item {it.id}" + (
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
                    cands = [j for j in nonopt if s.subj[j].double and s.subj[j].full >= _tol(s.subj[j]) + 2]
                    j = int(self.rng.choice(cands))
                    it = s.subj[j]
                    tol = _tol(it)
                    a1 = mk.s1[r, j]
                    d = tol + int(self.rng.integers(1, 3))
                    a2 = a1 + d if a1 + d <= it.full else a1 - d
                    if a2 < 0:
                        a1, a2 = 0.0, float(d)
                        mk.s1[r, j] = a1
                    mk.s2[r, j] = a2
                    mk.arb[r, j] = np.nan
                    self.rec("MARKER_DISAGREEMENT", ("marks", num), item=it.id, student=sid, exam_no=num,
                             note=f"一评 {_num(a1)}, 二评 {_num(a2)}, tolerance {_num(tol)}, no arbitration",
                             value=_num(_half_up_05((a1 + a2) / 2)))
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
                             note=f"mark {_num(v)} on an item of full {_num(it.full)}", value=_num(true))
                elif p == "flagged":
                    j = int(self.rng.integers(len(s.subj)))
                    while not mk.marked[r, j]:
                        j = (j + 1) % len(s.subj)
                    text = FLAG_TEXTS[int(self.rng.integers(len(FLAG_TEXTS)))]
                    mk.flags[(r, j)] = text
                    self.rec("MARKER_FLAGGED", ("marks", num), student=sid, exam_no=num,
                             note=f"问题卷 '{text}' on item {s.subj[j].id}")


# --------------------------------------------------------------------------- writing one subject
def _long_frames(s: Subject, rows: Rows, mk: Marks, with_subject: bool, tids: pl.Series,
                 arbiter: int) -> Iterator[pl.DataFrame]:
    tv = pl.concat([tids, pl.Series([None], dtype=pl.String)])
    none = len(tids)

    def frame(num, item_id, s1, m1, s2, m2, arb, arbiter, flag):
        n = len(num)
        cols = {"考号": pl.Series(num, dtype=pl.String)}
        if with_subject:
            cols["科目"] = pl.Series(np.full(n, s.name))
        cols["题号"] = pl.Series(np.full(n, item_id))
        cols["一评"] = _fmt_scores(s1)
        cols["一评教师"] = tv.gather(np.where(m1 < 0, none, m1))
        cols["二评"] = _fmt_scores(s2)
        cols["二评教师"] = tv.gather(np.where(np.isnan(s2), none, np.where(m2 < 0, none, m2)))
        cols["仲裁"] = _fmt_scores(arb)
        cols["仲裁教师"] = tv.gather(np.where(np.isnan(arb), none, arbiter))
        cols["问题卷"] = pl.Series(list(flag), dtype=pl.String)
        return pl.DataFrame(cols)

    for j, it in enumerate(s.subj):
        idx = np.nonzero(mk.marked[:, j])[0]
        for lo, hi in _chunks(0, len(idx)):
            sl = idx[lo:hi]
            flag = np.full(len(sl), None, dtype=object)
            for (r, jj), text in mk.flags.items():
                if jj == j:
                    k = np.searchsorted(sl, r)
                    if k < len(sl) and sl[k] == r:
                        flag[k] = text
            yield frame(rows.exam_no[sl], it.id, mk.s1[sl, j], mk.m1[sl, j], mk.s2[sl, j], mk.m2[sl, j],
                        mk.arb[sl, j], np.full(len(sl), arbiter), flag)
        for num, t, s2, arb, m1, m2 in mk.orphans:
            if not np.isnan(t[j]):
                yield frame(np.array([num]), it.id, t[j:j + 1], m1[j:j + 1], s2[j:j + 1], m2[j:j + 1],
                            arb[j:j + 1], np.array([arbiter]), np.array([None], dtype=object))


def _wide_frames(s: Subject, rows: Rows, mk: Marks, with_subject: bool) -> Iterator[pl.DataFrame]:
    fin = mk.final()
    has = rows.has_marks & ~np.isnan(rows.subj).all(axis=1)
    idx = np.nonzero(has)[0]
    for lo, hi in _chunks(0, len(idx)):
        sl = idx[lo:hi]
        cols = {"考号": pl.Series(rows.exam_no[sl])}
        if with_subject:
            cols["科目"] = pl.Series(np.full(len(sl), s.name))
        for j, it in enumerate(s.subj):
            cols[it.id] = _fmt_scores(fin[sl, j])
        yield pl.DataFrame(cols)
    if mk.orphans:
        cols = {"考号": pl.Series([o[0] for o in mk.orphans])}
        if with_subject:
            cols["科目"] = pl.Series([s.name] * len(mk.orphans))
        for j, it in enumerate(s.subj):
            cols[it.id] = _fmt_scores(np.array([o[1][j] for o in mk.orphans]))
        yield pl.DataFrame(cols)


def _write_scans(folder: Path, s: Subject, rows: Rows, layout, n_base: int, exam_name: str,
                 error_sheets: list[int]) -> tuple[list[str], Callable[[int], str]]:
    """Write the subject's scan exports; return the file names and a ref(final row) function."""
    scans = folder / "scans"
    if layout == "omr":
        base_dir = scans / s.name
        dest = rows.dest
        files = []
        for d, rel in ((0, "Results/Results_10AM.csv"), (1, "Manual/MultiMarkedFiles.csv")):
            idx = np.nonzero(dest == d)[0]
            if d == 1 and not len(idx):
                continue

            def frames(idx=idx, d=d):
                for lo, hi in _chunks(0, len(idx)):
                    sl = idx[lo:hi]
                    fid = _omr_ids(rows.sheet[sl])
                    sub = "CheckedOMRs" if d == 0 else "Manual/MultiMarkedFiles"
                    cols = {"file_id": fid,
                            "input_path": pl.select(pl.lit(f"inputs/{s.name}/") + pl.lit(fid)).to_series(),
                            "output_path": pl.select(pl.lit(f"outputs/{s.name}/{sub}/") + pl.lit(fid)).to_series(),
                            "score": pl.Series(np.full(len(sl), "0" if d == 0 else "NA")),
                            "Roll": pl.Series(rows.exam_no[sl])}
                    for j, it in enumerate(s.obj):
                        cols[f"q{it.id}"] = _responses(rows.codes[sl, j], quoted_blank=True)
                    yield pl.DataFrame(cols)
            _write_csv(base_dir / rel, frames(), quote_all=True)
            files.append(f"{s.name}/{rel}")
        # ErrorFiles: rows shorter than the header, score NA
        hdr = ["file_id", "input_path", "output_path", "score", "Roll"] + [f"q{it.id}" for it in s.obj]
        lines = [",".join(f'"{h}"' for h in hdr)]
        for sh in error_sheets:
            fid = f"bio_{sh:06d}.jpg"
            lines.append(",".join(f'"{v}"' for v in (fid, f"inputs/{s.name}/{fid}",
                                                      f"outputs/{s.name}/Manual/ErrorFiles/{fid}", "NA")))
        p = base_dir / "Manual/ErrorFiles.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        files.append(f"{s.name}/Manual/ErrorFiles.csv")
        ids = _omr_ids(rows.sheet)
        return files, lambda r: ids[r]

    names = []
    bounds = []
    lo = 0
    for k, spec in enumerate(layout):
        hi = len(rows) if (spec.rows is None or k == len(layout) - 1) else min(len(rows), lo + spec.rows)
        bounds.append((spec, lo, hi))
        if spec.fmt == "xlsx":
            df = _scan_frame(s, rows, lo, hi, spec, n_base)
            title = f"{exam_name}　{s.name}答题卡扫描结果"
            batches = _batch(rows, n_base)[lo:hi]
            sub = f"导出时间：2026-11-12 18:30　扫描批次：{batches.min()}–{batches.max()}　共 {hi - lo} 份"
            _write_xlsx(scans / spec.name, df, title, sub)
        else:
            def frames(spec=spec, lo=lo, hi=hi):
                for a, z in _chunks(lo, hi):
                    yield _scan_frame(s, rows, a, z, spec, n_base)
            _write_csv(scans / spec.name, frames(), encoding=spec.encoding, sep=spec.sep, bom=spec.bom,
                       crlf=spec.crlf)
        names.append(spec.name)
        lo = hi

    def ref(r: int) -> str:
        for spec, a, z in bounds:
            if a <= r < z:
                if spec.sid:
                    return f"{s.prefix}{int(rows.sheet[r]):07d}"
                return f"{spec.name}#{r - a + spec.header_row + 1}"
        raise IndexError(r)
    return names, ref


# --------------------------------------------------------------------------- exam.yaml etc.
def _exam_yaml(exam_id, name, date, previous, subjects, cut_lines, arrangement, omr, items_csv_subject) -> str:
    L = [f"# generated by examflow generate", f"id: {exam_id}", f"name: {name}", f"date: {date}", "grade: 高三"]
    if previous:
        L.append(f"previous: {previous}")
    L.append("thresholds: {excellent: 0.85, good: 0.75, pass: 0.6, low: 0.4}")
    L.append("cut_lines:")
    for track, lines in cut_lines.items():
        L.append(f"  {track}: [" + ", ".join("{name: %s, %s: %d}" % (n, k, v) for n, k, v in lines) + "]")
    L += ["borderline_band: 10", "double_mark_tolerance: 3"]
    if omr:
        L.append('omr: {exam_no_fields: [Roll], item_prefix: q, empty_value: ""}')
    if arrangement:
        L += ["arrangement:", "  sessions:"]
        for a, z in arrangement["sessions"]:
            L.append(f'    - {{start: "{a}", end: "{z}"}}')
        L += ["  pinned: {chinese: 1, math: 2}", "  order: previous_rank", f"  seed: {arrangement['seed']}",
              "  invigilators_per_room: 2"]
    L.append("subjects:")
    for s in subjects:
        L += [f"  - code: {s.code}", f"    name: {s.name}", f"    full: {_num(s.full)}", f"    role: {s.role}"]
        if s.pages:
            L.append(f"    pages: {s.pages}")
        if s.optional:
            L.append("    optional_groups: [{items: [" + ", ".join(f'"{i}"' for i in s.optional) + "], choose: 1}]")
        if s.code == items_csv_subject:
            L.append("    # items: in items.csv")
            continue
        L.append("    items:")
        for it in s.items:
            parts = [f'id: "{it.id}"', f"type: {it.type}", f"full: {_num(it.full)}"]
            if it.type != "subjective":
                parts.append(f"key: {_key_text(it)}")
            if it.options != 4 and it.type != "subjective":
                parts.append(f"options: {it.options}")
            if it.partial is not None:
                parts.append(f"partial: {it.partial}")
            if it.tolerance is not None:
                parts.append(f"tolerance: {_num(it.tolerance)}")
            if it.knowledge:
                parts.append(f"knowledge: {it.knowledge}")
            L.append("      - {" + ", ".join(parts) + "}")
    return "\n".join(L) + "\n"


def _items_csv(s: Subject) -> pl.DataFrame:
    return pl.DataFrame({
        "科目": [s.name] * len(s.items),
        "题号": [it.id for it in s.items],
        "题型": [it.type for it in s.items],
        "满分": [_num(it.full) for it in s.items],
        "答案": [("" if it.type == "subjective" else (
            f"A={_MASKS[it.key_a]};B={_MASKS[it.key_b]}" if it.key_b is not None else _key_text(it)))
            for it in s.items],
        "知识点": [it.knowledge for it in s.items],
        "误差": ["" if it.tolerance is None else _num(it.tolerance) for it in s.items],
        "选项数": ["" if (it.type == "subjective" or it.options == 4) else str(it.options) for it in s.items],
        "部分分": ["" if it.partial is None else str(it.partial) for it in s.items],
    })


def _write_tables(folder: Path, w: World) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    joint = w.school is not None
    school_of = np.array(w.schools)
    number = w.class_local[w.cls] if joint else w.cls
    roster = pl.DataFrame({
        "学号": pl.Series(w.sid), "姓名": w.name,
        "班级": pl.select(pl.lit("高三(") + pl.lit(pl.Series(number)).cast(pl.String) + pl.lit(")班")).to_series(),
        "考号": pl.Series(w.exam_no), "类别": pl.Series(np.array(["物理类", "历史类"])[w.track]),
        "选科": pl.Series(w.elect_text), "身份证号": w.id_card, "联系电话": w.phone,
    })
    if joint:
        roster = roster.insert_column(2, pl.Series("学校", school_of[w.school]))
    _write_csv(folder / "roster.csv", iter([roster]), bom=True)
    t = w.teacher_rows
    teachers = pl.DataFrame({"工号": [r[0] for r in t], "姓名": [r[1] for r in t], "班级": [r[2] for r in t],
                             "科目": [r[3] for r in t], "职务": [r[4] for r in t]})
    if joint:
        teachers = teachers.insert_column(2, pl.Series("学校", [r[5] for r in t]))
    _write_csv(folder / "teachers.csv", iter([teachers]))
    k = np.arange(w.n_rooms)
    floors = 1 + (k // 8) % 5
    rooms = pl.DataFrame({
        "考场": pl.Series(k + 1).cast(pl.String),
        "地点": pl.Series([f"{BUILDINGS[(i // 40) % len(BUILDINGS)]}{f}{(i % 8) + 1:02d}"
                          + (f"（{i // 240 + 1}区）" if w.n_rooms > 240 else "")
                          for i, f in zip(k.tolist(), floors.tolist())]),
        "座位数": pl.Series(np.full(w.n_rooms, ROOM_CAPACITY)),
    })
    if joint:
        rooms = rooms.with_columns(pl.Series("学校", school_of[w.room_school]))
    _write_csv(folder / "rooms.csv", iter([rooms]))


def _approx_converted(raw: np.ndarray) -> np.ndarray:
    """Rough 等级赋分 by percentile (only to place the history cut line)."""
    out = np.full(raw.shape, np.nan)
    m = ~np.isnan(raw)
    if m.sum() == 0:
        return out
    order = (-raw[m]).argsort(kind="stable")
    q = np.empty(m.sum())
    q[order] = np.arange(m.sum()) / m.sum()
    out[m] = np.interp(q, [0, .15, .1501, .5, .5001, .85, .8501, .98, .9801, 1],
                       [100, 86, 85, 71, 70, 56, 55, 41, 40, 30])
    return out


# --------------------------------------------------------------------------- one exam
def _write_exam(folder: Path, w: World, kind: str, say: Callable[[str], None], out: Path) -> None:
    current = kind == "current"
    exam_id = w.ids[1] if current else w.ids[0]
    exam_name = "2026-2027学年高三上学期期中考试" if current else "2026-2027学年高三上学期10月月考"
    if w.schools:
        exam_name = exam_name.replace("考试", "联考").replace("月考", "联考")
    date = "2026-11-12" if current else "2026-10-15"
    seed = w.seed
    subjects = subject_definitions()
    for s in subjects:
        if current and s.code in ("chinese", "math"):
            s.pages = 2
        _prepare_subject(s, seed, kind)
    _write_tables(folder, w)
    say(f"[{exam_id}] roster {w.n} students in {w.n_classes} classes"
        + (f" of {len(w.schools)} schools" if w.schools else "") + f", {len(w.teachers)} teachers, {w.n_rooms} rooms")

    rng = _rng(seed, kind, "absent")
    absent_all = np.zeros(w.n, bool)
    absent_all[rng.choice(w.n, min(w.n, max(1, int(round(0.01 * w.n)))), replace=False)] = True
    exam_order = np.argsort(w.exam_int, kind="stable")
    used_numbers: set[str] = set()
    raw = {}
    manifest: list[dict] = []
    tids = pl.Series([t[0] for t in w.teachers])
    res_candidates: dict[str, list[dict]] = {}

    for s in subjects:
        takers = exam_order[w.takes[s.code][exam_order]]
        ab_rng = _rng(seed, kind, "absent", s.code)
        absent = absent_all[takers].copy()
        if len(takers):
            extra = ab_rng.choice(len(takers), min(len(takers), max(1, int(round(0.004 * len(takers))))),
                                  replace=False)
            absent[extra] = True
        base = _base_rows(w, s, kind, takers, absent, seed)
        if current and s.code == "chemistry":   # some scanners export lower-case letters ("bd")
            low = (_rng(seed, kind, "lower").random(base.codes.shape) < 0.004) & (base.codes > 0) & (base.codes < 128)
            base.codes[low] += LOWER_OFF
        # approximate raw subject score (for the cut lines)
        r_ = np.full(w.n, np.nan)
        r_[takers[~absent]] = base.obj[~absent].sum(axis=1) + np.nansum(base.subj[~absent], axis=1)
        raw[s.code] = r_
        n_base = len(base)
        layout = _current_layout(s, n_base) if current else [ScanFile(f"{s.name}.csv")]
        omr = layout == "omr"
        planter = None
        if current:
            planter = _Planter(w, s, base, seed, used_numbers)
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
                    ne_rows = _base_rows(w, s, kind, pick, np.zeros(k, bool), seed, tag="not_enrolled")
            if omr:   # OMRChecker sheets have no absent field: absent students have no sheet at all
                for i in np.nonzero(base.absent)[0]:
                    planter.keep[i] = False
                    planter.rec("MISSING_SCRIPT", None, student=str(w.sid[base.stu[i]]),
                                exam_no=str(base.exam_no[i]),
                                note="absent; OMRChecker has no absent field, so no sheet (settle with mark_absent)")
            planter.run_rows(plants, ne_rows)
            rows = planter.finalize()
        else:
            rows = base
        pool = w.pools.get(s.code)
        if pool is None or not len(pool):      # a subject nobody takes (tiny grades)
            pool = np.arange(len(w.teachers), dtype=np.int32)
        lead = w.leads.get(s.code, int(pool[0]))
        mk = _mark(_rng(seed, kind, "marks", s.code), s, rows.subj, rows.has_marks, pool)
        if current:
            form = MARKS_LAYOUT[s.code][1]
            planter.run_marks(CUR_PLANTS[s.code], rows, mk, form == "wide", pool)
        files, ref = _write_scans(folder, s, rows, layout, n_base, exam_name,
                                  planter.error_sheets if planter else [])
        if current:
            fname, form, with_subj, enc, bom, crlf = MARKS_LAYOUT[s.code]
        else:
            fname, form, with_subj, enc, bom, crlf = f"{s.name}小题分.csv", "wide", True, "utf-8", False, False
        frames = _long_frames(s, rows, mk, with_subj, tids, lead) if form == "long" else _wide_frames(s, rows, mk, with_subj)
        n_marks = _write_csv(folder / "marks" / fname, frames, encoding=enc, bom=bom, crlf=crlf)
        say(f"[{exam_id}] {s.code}: {len(rows)} scans -> {', '.join(files)}; {n_marks} mark rows -> marks/{fname}"
            + (f" ({form})" if current else ""))
        if current:
            for rec in planter.records:
                h = rec["handle"]
                if rec["code"] == "MISSING_SCRIPT":
                    ref_ = rec["student"]
                elif h[0] == "marks":
                    ref_ = h[1]
                elif h[0] == "sheet":
                    ref_ = f"bio_{h[1]:06d}.jpg"
                else:
                    ref_ = ref(planter.final_index(h))
                aid = f"{rec['code']}:{s.code}:{ref_}" + (f":{rec['item']}" if rec["item"] and rec["code"] in (
                    "MULTI_MARK", "UNREADABLE_MARK", "UNMARKED", "MARKER_DISAGREEMENT", "SCORE_OUT_OF_RANGE",
                    "OPTIONAL_CHOICE_CONFLICT") else "")
                row = dict(code=rec["code"], subject=s.code, abnormal_id=aid, student_id=rec["student"] or "",
                           exam_no=rec["exam_no"] or "", note=rec["note"])
                manifest.append(row)
                res_candidates.setdefault(f"{rec['code']}:{s.code}", []).append({**row, **rec["res"],
                                                                                  "item": rec["item"]})
    # cut lines from the (approximate) totals
    phys = w.track == 0
    hist = ~phys
    n_phys = int(phys.sum())
    core = raw["chinese"] + raw["math"] + raw["english"]
    conv = {c: _approx_converted(raw[c]) for c in RESELECT}
    res_sum = np.zeros(w.n)
    for c in RESELECT:
        res_sum += np.nan_to_num(conv[c])
    total_h = core + raw["history"] + res_sum
    th = total_h[hist & ~np.isnan(total_h)]
    hist_line = int(round(float(np.percentile(th, 85)))) if len(th) else 500
    cut = {"physics": [("特控线", "top", max(1, round(0.15 * n_phys))), ("本科线", "top", max(1, round(0.6 * n_phys)))],
           "history": [("特控线", "score", hist_line)]}
    arrangement = None
    if current:
        arrangement = {"seed": seed, "sessions": [
            ("2026-11-12 08:00", "2026-11-12 10:30"), ("2026-11-12 15:00", "2026-11-12 17:00"),
            ("2026-11-13 08:00", "2026-11-13 09:15"), ("2026-11-13 10:15", "2026-11-13 11:30"),
            ("2026-11-13 15:00", "2026-11-13 17:00"), ("2026-11-14 08:00", "2026-11-14 09:15"),
            ("2026-11-14 10:15", "2026-11-14 11:30"), ("2026-11-14 15:00", "2026-11-14 16:15"),
            ("2026-11-14 16:45", "2026-11-14 18:00")]}
    items_csv = "geography" if current else None
    text = _exam_yaml(exam_id, exam_name, date, w.ids[0] if current else None, subjects, cut, arrangement,
                      omr=current, items_csv_subject=items_csv)
    (folder / "exam.yaml").write_text(text, encoding="utf-8")
    if items_csv:
        _write_csv(folder / "items.csv", iter([_items_csv(next(s for s in subjects if s.code == items_csv))]))
    if current:
        _write_resolutions(folder, res_candidates)
        man = pl.DataFrame(manifest, schema={"code": pl.String, "subject": pl.String, "abnormal_id": pl.String,
                                             "student_id": pl.String, "exam_no": pl.String, "note": pl.String})
        _write_csv(out / f"{exam_id}.planted.csv", iter([man]))
        say(f"[{exam_id}] planted {len(manifest)} problems -> {exam_id}.planted.csv; resolutions written")


def _write_resolutions(folder: Path, cand: dict[str, list[dict]]) -> None:
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
        add(r["abnormal_id"], "set_score", f"{item}={_num(v)}", "组长复核后改分（取代上一条）", 1)
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
    _write_csv(folder / "resolutions" / "2026-11-14.csv", iter([df]))


# --------------------------------------------------------------------------- entry point
def generate(out: Path, students: int, seed: int = 7,
             progress: Callable[[str], None] | None = None, schools: int = 0) -> list[Path]:
    """Write a previous exam folder and a current exam folder under `out`; return [previous_folder, current_folder].
    With schools ≥ 2 both are joint exams (联考) of that many schools (JOINT_IDS), of different sizes
    and strengths, each with its own classes, teachers and rooms."""
    students, schools = int(students), int(schools)
    if students < 1:
        raise ValueError("students must be at least 1")
    if schools == 1 or schools < 0 or (schools and students < 2 * schools):
        raise ValueError("a joint exam needs at least 2 schools, and at least 2 students per school")
    say = progress or (lambda _msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = _build_world(students, int(seed), schools)
    prev_dir, cur_dir = out / world.ids[0], out / world.ids[1]
    for d in (prev_dir, cur_dir):
        if d.exists():
            shutil.rmtree(d)
    stale = out / f"{world.ids[1]}.planted.csv"
    if stale.exists():
        stale.unlink()
    _write_exam(prev_dir, world, "previous", say, out)
    _write_exam(cur_dir, world, "current", say, out)
    return [prev_dir, cur_dir]
