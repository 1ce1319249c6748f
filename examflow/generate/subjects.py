"""The nine subjects, their items (type, full marks, knowledge point) and, per exam, the items'
difficulties and answer keys."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from examflow.generate.common import MASKS, seeded_rng


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


def prepare_subject(s: Subject, seed: int, kind: str) -> None:
    rng = seeded_rng(seed, kind, "items", s.code)
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


def key_value(it: Item) -> int | str | dict[str, str]:
    """An objective item's key as exam.yaml holds it: the number, the letters, or {A: …, B: …} (AB卷)."""
    if it.type == "numeric":
        return it.key_a
    if it.key_b is not None:
        return {"A": MASKS[it.key_a], "B": MASKS[it.key_b]}
    return MASKS[it.key_a]


def key_text(it: Item) -> str:
    """The key as items.csv's 答案 column writes it (AB卷: A=…;B=…)."""
    key = key_value(it)
    return ";".join(f"{v}={k}" for v, k in key.items()) if isinstance(key, dict) else str(key)
