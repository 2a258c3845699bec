"""Made-up but plausible names, phones and units for the demo workspace.

Everything here is invented; only the district and its eight towns/streets are real.
"""
from __future__ import annotations

import numpy as np

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国军伟强磊洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芳燕鹏辉敏丽静晶斌宇浩凯健俊帆帅旭宁龙林欣佳怡雪琳晨阳楠婷鑫亮志海峰波春梅云飞宏丹晓瑞"
# Syllables for village and community names (村/社区), in the style of the region's place names.
PLACE_FIRST = "北南东西上下前后大小新古安康和兴泰丰永福宝金银凤龙虎马牛白黄青红石水山河泉沟坡岭庄店"
PLACE_SECOND = "石店庄坡沟河泉岭寨峪圪堆坪园湾桥头口底窑阳水城岗屯营坊铺"
COMPANY_WORDS = ("兴达", "宏远", "鑫源", "恒泰", "晋丰", "泽润", "金鼎", "华盛", "永安", "瑞祥", "通达", "凤鸣",
                 "太行", "沁河", "丹河", "晋阳", "富民", "三联", "天成", "广聚", "德润", "新兴", "明珠", "长城")
STREET_WORDS = ("凤台", "泽州", "黄华", "中原", "文昌", "红星", "书院", "晓庄", "景西", "白水", "瑞丰", "兰花",
                "北石店", "钟家庄", "西上庄", "前进", "建设", "迎宾", "太行", "凤鸣", "新市", "东四义", "西四义")

# Second-level grids of 晋城市城区 (seed 001): one town and seven street offices.
SECOND_LEVEL = ("北石店镇", "东街街道", "西街街道", "南街街道", "北街街道", "矿区街道", "钟家庄街道", "西上庄街道")

# Source naming per ledger category: (suffixes, share of the ledger).
SOURCE_STYLE = {
    "industrial": (("机械制造有限公司", "铸造有限公司", "化工有限公司", "建材有限公司", "煤业有限公司"), 0.14),
    "medical": (("社区卫生服务站", "诊所", "口腔门诊部", "医院"), 0.06),
    "auto_repair": (("汽车修理厂", "汽修服务部", "汽车美容快修店"), 0.10),
    "water_source": (("饮用水水源地", "水井保护区"), 0.01),
    "livestock": (("养殖场", "养猪场", "养鸡专业合作社"), 0.05),
    "sanluanwu": (("加工点", "作坊", "废品收购站"), 0.06),
    "catering": (("饭店", "面馆", "烧烤店", "火锅店", "快餐店", "食堂"), 0.25),
    "construction": (("项目工地", "棚户区改造工地", "道路改造工程"), 0.07),
    "road_dust": (("路段",), 0.04),
    "material_yard": (("煤场", "砂石料场", "物料堆场"), 0.05),
    "boiler": (("燃煤锅炉房", "供热站"), 0.04),
    "vocs": (("印刷厂", "家具厂", "喷涂厂", "加油站"), 0.08),
    "hazardous_waste": (("危废暂存间", "危险废物经营有限公司"), 0.05),
}


def person_name(rng: np.random.Generator) -> str:
    surname = SURNAMES[rng.integers(len(SURNAMES))]
    size = 1 if rng.random() < 0.3 else 2
    return surname + "".join(GIVEN[rng.integers(len(GIVEN))] for _ in range(size))


def mobile_phone(rng: np.random.Generator) -> str:
    prefix = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159", "177",
              "180", "182", "183", "187", "188", "189", "199")[rng.integers(20)]
    return prefix + "".join(str(d) for d in rng.integers(0, 10, 8))


def landline(rng: np.random.Generator) -> str:
    return "0356-" + str(rng.integers(2, 9)) + "".join(str(d) for d in rng.integers(0, 10, 6))


def place_name(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        name = PLACE_FIRST[rng.integers(len(PLACE_FIRST))] + PLACE_SECOND[rng.integers(len(PLACE_SECOND))]
        if name not in used:
            used.add(name)
            return name


def source_name(rng: np.random.Generator, category: str) -> str:
    suffixes, _ = SOURCE_STYLE[category]
    suffix = suffixes[rng.integers(len(suffixes))]
    if category == "road_dust":
        return f"{STREET_WORDS[rng.integers(len(STREET_WORDS))]}路{rng.integers(1, 9)}号{suffix}"
    if category in ("catering", "auto_repair", "medical"):
        return f"{person_name(rng)[0]}记{COMPANY_WORDS[rng.integers(len(COMPANY_WORDS))]}{suffix}"
    return f"晋城市{COMPANY_WORDS[rng.integers(len(COMPANY_WORDS))]}{suffix}"


def street_address(rng: np.random.Generator, area: str) -> str:
    return f"晋城市城区{area}{STREET_WORDS[rng.integers(len(STREET_WORDS))]}街{rng.integers(1, 400)}号"
