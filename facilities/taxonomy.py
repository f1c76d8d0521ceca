"""The category taxonomy of the 15-minute living circle, as the city starts from it.

Levels and distances follow DESIGN.md §3 (GB 50180-2018 life circles: 5 minutes ≈ 300 m,
10 minutes ≈ 500 m, 15 minutes ≈ 1000 m, straight line). ``required`` marks what the MOHURD
complete-community guide asks of every community: a community service station, kindergarten,
nursery, elderly service station (with meal help, hence the canteen), health station, supermarket,
parcel service, other convenience shops and public activity space.

The data migration loads these rows; ``load_demo`` adds any that are missing (a test database
flushed between browser tests loses them). Neither changes a row that exists: from then on the
city administrator edits the taxonomy in the admin.
"""

# code, zh, en, group, level, metres, everyday words, required, order
DEFAULTS = [
    (
        "canteen",
        "社区食堂",
        "Community canteen",
        "basic",
        10,
        500,
        "吃饭 食堂 饭堂 助餐 助餐点 老年餐 早饭 早餐 午饭 午餐 晚饭 晚餐 用餐 送餐",
        True,
        10,
    ),
    (
        "health_station",
        "健康驿站",
        "Health station",
        "basic",
        10,
        500,
        "看病 健康驿站 卫生服务站 卫生站 卫生室 诊所 医生 量血压 测血压 打针 体检",
        True,
        20,
    ),
    (
        "elderly_care",
        "养老服务站",
        "Elderly service station and day care",
        "basic",
        10,
        500,
        "养老 助老 托老 日间照料 照料 老人 老年人 照护 护理 陪护 医养",
        True,
        30,
    ),
    (
        "supermarket",
        "社区超市",
        "Supermarket",
        "commerce",
        10,
        500,
        "买菜 超市 购物 买东西 日用品 粮油",
        True,
        40,
    ),
    (
        "parcel",
        "快递驿站",
        "Parcel station",
        "commerce",
        10,
        500,
        "取快递 寄快递 快递 包裹 驿站 收件 寄件",
        True,
        50,
    ),
    (
        "service_centre",
        "社区综合服务站",
        "Community service station and neighbourhood centre",
        "basic",
        10,
        500,
        "办事 政务 邻里中心 党群服务中心 服务站 服务大厅 年审 认证 社保 证明",
        True,
        60,
    ),
    (
        "convenience",
        "便利店",
        "Convenience store",
        "commerce",
        5,
        300,
        "便利店 小卖部 小超市 水果 水果店 买水果 零食 买烟酒",
        True,
        70,
    ),
    (
        "kindergarten",
        "幼儿园",
        "Kindergarten",
        "basic",
        5,
        300,
        "幼儿园 入园 上幼儿园 学前",
        True,
        80,
    ),
    (
        "nursery",
        "托育点",
        "Nursery and childcare",
        "basic",
        5,
        300,
        "托育 托儿所 托儿 带娃 看孩子 婴幼儿 早教",
        True,
        90,
    ),
    (
        "fitness",
        "健身场地",
        "Fitness and outdoor activity space",
        "culture",
        5,
        300,
        "健身 锻炼 运动 健身路径 健身房 健身馆 广场 广场舞 跳舞 打球 篮球 羽毛球 乒乓球 瑜伽 跑步",
        True,
        100,
    ),
    (
        "library",
        "图书室",
        "Library and culture room",
        "culture",
        10,
        500,
        "看书 借书 读书 图书室 书屋 阅览室 文化活动室 活动室 书画 书法 画画 下棋 棋牌 琴房",
        False,
        110,
    ),
    (
        "children",
        "儿童之家",
        "Children's centre and after-school care",
        "culture",
        10,
        500,
        "写作业 课后辅导 四点半课堂 儿童之家 少儿 孩子 放学 托管 绘本 亲子",
        False,
        120,
    ),
    (
        "senior_university",
        "老年大学",
        "Senior university and learning centre",
        "culture",
        15,
        1000,
        "上课 学习 老年大学 社区学校 兴趣班 培训 课程 摄影 烹饪 古筝 电钢琴 吉他",
        False,
        130,
    ),
    (
        "health_centre",
        "社区卫生服务中心",
        "Community health service centre",
        "basic",
        15,
        1000,
        "看病 社区医院 卫生服务中心 门诊 打疫苗 疫苗 体检 开药",
        False,
        140,
    ),
    ("pharmacy", "药店", "Pharmacy", "commerce", 15, 1000, "买药 药店 药房 医保 开药", False, 150),
    (
        "barber",
        "理发店",
        "Barber",
        "commerce",
        15,
        1000,
        "剪头 剪头发 理发 剪发 美发 剃头 烫发",
        False,
        160,
    ),
    (
        "laundry_repair",
        "洗衣维修",
        "Laundry and repairs",
        "commerce",
        15,
        1000,
        "洗衣 干洗 洗衣服 修鞋 修衣服 缝补 衣物修补 维修 修理 配钥匙 磨刀 修家电",
        False,
        170,
    ),
    (
        "fresh_market",
        "菜市场",
        "Fresh market",
        "commerce",
        15,
        1000,
        "买菜 菜市场 菜场 早市 农贸市场 菜店 生鲜 买肉",
        False,
        180,
    ),
]


def add_missing(category_model) -> int:
    """Create the default categories that are not there yet; returns how many were made.
    Takes the model as an argument so the data migration can pass its historical one."""
    existing = set(category_model.objects.values_list("code", flat=True))
    rows = [
        category_model(
            code=code,
            name_zh=zh,
            name_en=en,
            group=group,
            level=level,
            distance_m=metres,
            words=words,
            required=required,
            icon=code.replace("_", "-"),
            sort_order=order,
        )
        for code, zh, en, group, level, metres, words, required, order in DEFAULTS
        if code not in existing
    ]
    category_model.objects.bulk_create(rows)
    return len(rows)


# Smallest floor area (m²) a candidate site needs to host a category, from the community-service
# provisions of GB 50180-2018 Appendix B and the 2021 complete-community guidance (社区食堂 and
# 养老服务站 ≥ 150–350 m², 健康驿站/卫生站 ≥ 120 m², 托育 ≥ 200 m²); the lower end, as an idle
# room is rarely large. A category not listed has no minimum.
MIN_FLOOR_AREA_M2: dict[str, int] = {
    "canteen": 150,
    "health_station": 120,
    "elderly_care": 150,
    "supermarket": 100,
    "parcel": 30,
    "service_centre": 200,
    "convenience": 50,
    "kindergarten": 600,
    "nursery": 200,
    "library": 60,
    "children": 60,
    "senior_university": 150,
    "health_centre": 1000,
    "pharmacy": 50,
    "barber": 20,
    "laundry_repair": 20,
    "fresh_market": 300,
}
