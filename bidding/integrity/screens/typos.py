"""Common Chinese misspellings (常见错别字) for the shared-typo screen DOC-TYPOS, wrong → right.

Reference §5.2 item 4 and §7 D: the same rare errors in two bidders' documents point to one author
(the CMA's "typo similarity", the Chinese "≥ 3 identical errors"). Chinese has no spell checker
in the standard toolset, so the screen looks for *known* misspellings. An entry is here only when
the wrong form is never a correct word and is not a substring of ordinary text in a bid: e.g. 复盖
is left out (恢复盖板), 按装 (按装配图), 既使 (既使用…又…), 辗压 (an old variant of 碾压).
"""

from __future__ import annotations

MISSPELLINGS: dict[str, str] = {
    # construction and road works
    "混泥土": "混凝土",
    "搅伴": "搅拌",
    "峻工": "竣工",
    "堪察": "勘察",
    "堪测": "勘测",
    "布署": "部署",
    "部暑": "部署",
    "陷井": "陷阱",
    "幅射": "辐射",
    "重迭": "重叠",
    "装璜": "装潢",
    "座落": "坐落",
    "通霄": "通宵",
    "漫延": "蔓延",
    "松驰": "松弛",
    "干躁": "干燥",
    "急燥": "急躁",
    "烦燥": "烦躁",
    # administration and commerce
    "陪偿": "赔偿",
    "拔款": "拨款",
    "频烦": "频繁",
    "题纲": "提纲",
    "惯彻": "贯彻",
    "登陆系统": "登录系统",
    "登陆平台": "登录平台",
    "入场卷": "入场券",
    "迁徒": "迁徙",
    "寒喧": "寒暄",
    "磨励": "磨砺",
    "沉缅": "沉湎",
    "对恃": "对峙",
    # idioms bids like to use
    "直接了当": "直截了当",
    "迫不急待": "迫不及待",
    "一如继往": "一如既往",
    "再接再励": "再接再厉",
    "按步就班": "按部就班",
    "默守成规": "墨守成规",
    "穿流不息": "川流不息",
    "谈笑风声": "谈笑风生",
    "莫不关心": "漠不关心",
    "相辅相承": "相辅相成",
    "美仑美奂": "美轮美奂",
    "出奇不意": "出其不意",
    "走头无路": "走投无路",
    "不径而走": "不胫而走",
    "一股作气": "一鼓作气",
    "原形必露": "原形毕露",
    "按纳不住": "按捺不住",
    "自抱自弃": "自暴自弃",
    "一张一驰": "一张一弛",
    "精兵减政": "精兵简政",
    "言简意骇": "言简意赅",
    "黄梁美梦": "黄粱美梦",
    "变本加利": "变本加厉",
}
