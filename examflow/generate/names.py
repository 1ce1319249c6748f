"""Chinese personal names for students and teachers (surnames weighted by frequency, a few rare
characters and minority names among them)."""
from __future__ import annotations

import numpy as np

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


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
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
