"""The demo facilities that ``load_demo`` loads: constants and texts, no database access.

- The seed facilities are the ones the two news articles name (``is_demo=False``). Their names,
  categories and descriptions retell the articles; their hours, phones, addresses and points are
  invented, and each description says so (``SEED_NOTE``).
- Every other facility is invented (``is_demo=True``): a few written out here because they carry a
  community's feature (春华社区's meal point, 瑞祥社区's parcel station …), the rest drawn by
  ``facilities.demo`` from ``CATALOGUE`` with a fixed seed, so every run gives the same ones.
- Some required categories are missing on purpose (``GAP_COUNTS``): a coverage display where every
  community has everything would show nothing.

Values are plain strings (category codes, ``Facility.Status`` and ``HolidayRule`` values, hours
profile keys); ``facilities.demo`` checks them when it builds the plan.
"""

from dataclasses import dataclass
from datetime import date

# Seed of the random draws (which facilities, where, hours, menus). Changing it redraws every
# invented facility.
SEED = 20230811

# Appended to every seed facility's description: the news gives names, not hours or numbers.
SEED_NOTE = "（名称和介绍来自新闻报道；开放时间、电话、地址和位置为演示数据。）"

# A facility lies this far (straight line) from the compound or office it is drawn near.
DISTANCE_M = (50, 900)


@dataclass(frozen=True)
class DemoException:
    """A dated exception: ``first_day`` days from today (or, with ``next_week``, the weekday of
    next week, 0 = Monday), lasting ``days`` days; closed unless ``opens`` and ``closes`` are
    given."""

    note: str
    first_day: int
    days: int = 1
    next_week: bool = False
    opens: str = ""
    closes: str = ""


@dataclass(frozen=True)
class DemoFacility:
    """A facility written out by hand. Fields left at ``None`` (or empty) are drawn like those
    of the catalogue's facilities."""

    community: str
    name: str
    category: str
    other_categories: tuple[str, ...] = ()
    status: str = "open"
    near: str | None = None  # a compound of the community; None: its office
    metres: tuple[int, int] = (50, 300)
    bearing: float | None = None  # from ``near``, degrees clockwise from north; None: drawn
    hours: str | None = None  # a key of HOURS
    holiday_rule: str | None = None
    opens_in_months: int | None = None  # planned / under construction
    opened_on: date | None = None
    floor_area: int | None = None
    seats: int | None = None
    access: tuple[str, ...] | None = None  # accessibility fields that are true
    operator: str = ""
    price_notes: str | None = None
    description: str = ""
    senior_prices: str | None = None  # a key of SENIOR_BANDS (canteens)
    exceptions: tuple[DemoException, ...] = ()
    phone: bool = True
    is_demo: bool = True


# ---- opening hours ----

DAILY = (0, 1, 2, 3, 4, 5, 6)
WEEKDAYS = (0, 1, 2, 3, 4)
MON_SAT = (0, 1, 2, 3, 4, 5)
TUE_SUN = (1, 2, 3, 4, 5, 6)
WEEKEND = (5, 6)
SATURDAY = (5,)

# Weekly hours profiles: (weekdays, opens, closes). A range closing at or before it opens runs
# past midnight; 00:00–00:00 is open round the clock.
HOURS: dict[str, tuple[tuple[tuple[int, ...], str, str], ...]] = {
    "canteen": (
        (DAILY, "06:30", "08:30"),
        (DAILY, "11:00", "13:00"),
        (DAILY, "17:00", "18:30"),
    ),
    "canteen_lunch_dinner": ((DAILY, "11:00", "13:00"), (DAILY, "17:00", "18:30")),
    "meal_point": ((DAILY, "11:00", "13:00"),),
    "health_station": ((WEEKDAYS, "08:00", "17:00"), (SATURDAY, "08:00", "12:00")),
    "health_station_break": (
        (WEEKDAYS, "08:00", "11:30"),
        (WEEKDAYS, "13:30", "17:00"),
        (SATURDAY, "08:00", "11:30"),
    ),
    "clinic": ((DAILY, "08:00", "20:00"),),
    "health_centre": ((WEEKDAYS, "08:00", "17:30"), (WEEKEND, "08:00", "12:00")),
    "day_care": ((DAILY, "07:30", "17:30"),),
    "elderly_station": ((WEEKDAYS, "08:30", "17:00"), (SATURDAY, "09:00", "15:00")),
    "supermarket": ((DAILY, "07:00", "21:00"),),
    "supermarket_late": ((DAILY, "07:30", "22:00"),),
    "parcel": ((DAILY, "08:30", "20:30"),),
    "parcel_short": ((DAILY, "09:00", "19:00"),),
    "office": ((WEEKDAYS, "08:30", "11:30"), (WEEKDAYS, "13:00", "17:00")),
    "office_long": ((WEEKDAYS, "08:30", "17:30"), (SATURDAY, "09:00", "12:00")),
    "neighbourhood_centre": ((WEEKDAYS, "08:30", "19:00"), (WEEKEND, "09:00", "17:00")),
    "convenience": ((DAILY, "07:00", "23:00"),),
    "convenience_late": ((DAILY, "07:00", "01:00"),),
    "round_the_clock": ((DAILY, "00:00", "00:00"),),
    "fruit": ((DAILY, "08:00", "21:00"),),
    "kindergarten": ((WEEKDAYS, "07:30", "17:30"),),
    "nursery": ((WEEKDAYS, "07:30", "18:00"),),
    "outdoor": ((DAILY, "06:00", "21:00"),),
    "gym": ((DAILY, "06:30", "21:30"),),
    "library": ((TUE_SUN, "09:00", "17:00"),),
    "library_break": ((TUE_SUN, "09:00", "11:30"), (TUE_SUN, "13:30", "17:30")),
    "after_school": ((WEEKDAYS, "15:30", "19:00"), (SATURDAY, "09:00", "16:00")),
    "classes": ((WEEKDAYS, "08:30", "11:30"), (WEEKDAYS, "14:00", "16:30")),
    "pharmacy": ((DAILY, "08:00", "21:30"),),
    "barber": ((DAILY, "08:30", "19:00"),),
    "barber_no_monday": ((TUE_SUN, "09:00", "19:30"),),
    "laundry": ((DAILY, "08:00", "19:00"),),
    "repair": ((MON_SAT, "08:30", "17:30"),),
    "market": ((DAILY, "05:30", "11:30"), (DAILY, "15:30", "19:00")),
    "morning_market": ((DAILY, "05:00", "09:00"),),
    "night_market": ((DAILY, "20:00", "02:00"),),
}

# ---- canteens ----

# Senior price bands as canteens set them: (from age, to age or None, share of the normal price).
# 0 is free of charge. They differ between canteens on purpose.
SENIOR_BANDS: dict[str, tuple[tuple[int, int | None, float], ...]] = {
    "decades": ((60, 69, 0.85), (70, 79, 0.7), (80, None, 0.5)),
    "two_bands": ((60, 79, 0.8), (80, None, 0.5)),
    "free_at_90": ((60, 69, 0.85), (70, 79, 0.7), (80, 89, 0.5), (90, None, 0)),
    "from_65": ((65, 74, 0.8), (75, 84, 0.65), (85, None, 0.45)),
}

# Normal prices in whole yuan.
MEAL_PRICES = {"breakfast": (5, 8), "lunch": (12, 18), "dinner": (10, 15)}

# Dishes by meal and course; a day's meal takes from each course (see facilities.demo._dishes).
DISHES: dict[str, dict[str, tuple[str, ...]]] = {
    "breakfast": {
        "粥": ("小米粥", "大米粥", "玉米碴粥", "八宝粥", "豆浆", "南瓜粥", "紫米粥"),
        "面点": ("肉包子", "素包子", "花卷", "馒头", "油条", "发糕", "烧饼", "菜盒子", "蒸饺"),
        "配菜": ("煮鸡蛋", "茶叶蛋", "拌咸菜", "酱黄瓜", "拌海带丝", "豆腐乳"),
    },
    "lunch": {
        "荤菜": (
            "红烧肉",
            "鱼香肉丝",
            "宫保鸡丁",
            "土豆炖牛肉",
            "红烧鸡块",
            "糖醋里脊",
            "清蒸鲈鱼",
            "肉末茄子",
            "青椒肉丝",
            "木须肉",
            "小鸡炖蘑菇",
            "红烧带鱼",
        ),
        "素菜": (
            "西红柿炒鸡蛋",
            "清炒油菜",
            "醋溜土豆丝",
            "地三鲜",
            "麻婆豆腐",
            "蒜蓉西兰花",
            "白菜炖豆腐",
            "炒豆芽",
            "家常豆腐",
            "凉拌黄瓜",
        ),
        "汤饭": ("米饭", "馒头", "紫菜蛋花汤", "冬瓜汤", "二米饭", "西红柿鸡蛋汤"),
    },
    "dinner": {
        "荤菜": ("肉末豆腐", "西葫芦炒肉片", "白菜炖粉条", "蒜薹炒肉", "香菇炒肉"),
        "素菜": ("炒青菜", "凉拌菠菜", "蒸南瓜", "手撕包菜", "西红柿炒茄子", "炒土豆片"),
        "主食": ("蔬菜面条", "小米粥", "猪肉白菜饺子", "花卷", "杂粮粥", "疙瘩汤"),
    },
}

# How many dishes of each course a meal has: 3–5 in all.
MEAL_COURSES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "breakfast": (("粥", 1, 1), ("面点", 1, 2), ("配菜", 1, 1)),
    "lunch": (("荤菜", 1, 2), ("素菜", 1, 2), ("汤饭", 1, 1)),
    "dinner": (("荤菜", 1, 1), ("素菜", 1, 2), ("主食", 1, 1)),
}

# Each district's own dishes join the common ones (长春: northeastern; 洛阳: Henan).
REGIONAL_DISHES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "220106": {
        "breakfast": {"面点": ("粘豆包", "大饼子")},
        "lunch": {"荤菜": ("锅包肉", "酸菜炖粉条"), "素菜": ("拔丝地瓜", "尖椒干豆腐")},
        "dinner": {"主食": ("酸菜馅饺子", "大碴子粥")},
    },
    "410311": {
        "breakfast": {"粥": ("胡辣汤", "豆沫", "不翻汤")},
        "lunch": {"荤菜": ("洛阳水席肉片", "黄焖鸡块"), "汤饭": ("牛肉汤", "蒸面条")},
        "dinner": {"主食": ("浆面条", "烩面", "糊涂面")},
    },
}

# ---- the catalogue of invented facilities ----


@dataclass(frozen=True)
class Kind:
    """How the demo invents facilities of one category for a community."""

    count: tuple[int, int]  # how many a community gets (before gaps)
    names: tuple[str, ...]  # {stem} 春华, {community} 春华社区, {compound} 春华小区, {brand}
    hours: tuple[str, ...]
    descriptions: tuple[str, ...]
    brands: tuple[str, ...] = ()
    operators: tuple[str, ...] = ("个体经营",)
    price_notes: tuple[str, ...] = ("",)
    holiday_rules: tuple[str, ...] = ("usual",)
    floor_area: tuple[int, int] | None = None
    seats: tuple[int, int] | None = None
    at_office: bool = False  # drawn next to the community office, not a compound
    phone: bool = True
    # The name of one the community plans where it has none (a gap); None: drawn from ``names``.
    planned_name: str | None = None


CATALOGUE: dict[str, Kind] = {
    "canteen": Kind(
        count=(1, 1),
        names=("{stem}社区长者食堂", "{stem}社区食堂", "{compound}助餐点", "{stem}邻里食堂"),
        hours=("canteen", "canteen", "canteen_lunch_dinner", "meal_point"),
        descriptions=(
            "面向全体居民开放的社区食堂，菜品现做现卖；60岁以上老人按年龄段享受长者价，"
            "行动不便的老人可电话预约送餐上门。",
            "社区助餐点，饭菜少油少盐、软烂适口，老人凭身份证享受长者价。",
        ),
        operators=(
            "{community}居民委员会",
            "{brand}餐饮管理有限公司（受{community}委托运营）",
            "{brand}养老服务中心",
        ),
        brands=("福寿", "颐和", "康乐", "善德", "百味"),
        price_notes=("长者价按年龄段，见下表；送餐上门每份加收2元。", "可用现金、微信和老年卡。"),
        floor_area=(80, 300),
        seats=(30, 120),
        planned_name="{stem}社区长者食堂",
    ),
    "health_station": Kind(
        count=(1, 2),
        names=("{stem}社区健康驿站", "{stem}社区卫生服务站", "{compound}卫生室", "{brand}诊所"),
        brands=("仁爱", "康济", "济民", "惠康", "益民"),
        hours=("health_station", "health_station", "health_station_break", "clinic"),
        holiday_rules=("sunday", "usual"),
        descriptions=(
            "提供常见病诊疗、测血压血糖、慢病随访和家庭医生签约服务。",
            "社区医生坐诊，可量血压、测血糖、换药打针，并为老年人建立健康档案。",
        ),
        operators=("{subdistrict}社区卫生服务中心", "个体诊所"),
        price_notes=("测血压、血糖免费；家庭医生签约居民一般诊疗费减免。", ""),
        floor_area=(60, 200),
        planned_name="{stem}社区健康驿站",
    ),
    "elderly_care": Kind(
        count=(1, 1),
        names=("{stem}社区养老服务站", "{stem}日间照料中心", "{stem}颐养之家"),
        hours=("day_care", "elderly_station"),
        descriptions=(
            "为老年人提供日间照料、助浴、康复训练和文化娱乐，可预约上门探访。",
            "老人白天可在这里休息、用餐、做康复活动，子女下班后接回家。",
        ),
        operators=("{brand}养老服务有限公司", "{community}居民委员会"),
        brands=("福寿", "颐和", "安康", "善德", "松鹤"),
        price_notes=("日间照料每天30元（含午餐）；80岁以上老人助浴免费。", ""),
        floor_area=(150, 600),
        seats=(15, 50),
        planned_name="{stem}社区养老服务站",
    ),
    "supermarket": Kind(
        count=(1, 2),
        names=("{brand}超市", "{stem}惠民超市", "{brand}生活超市"),
        brands=("鑫源", "百姓", "家家福", "金穗", "万家乐", "润丰", "佳佳", "德惠"),
        hours=("supermarket", "supermarket", "supermarket_late"),
        descriptions=(
            "粮油米面、日用百货和新鲜蔬果，满50元可送货上门。",
            "社区平价超市，每周三老年人会员日。",
        ),
        operators=("个体经营", "{brand}商贸有限公司"),
        price_notes=("满50元免费送货上楼。", "每周三60岁以上会员九五折。", ""),
        floor_area=(60, 600),
        planned_name="{stem}社区惠民超市",
    ),
    "parcel": Kind(
        count=(1, 2),
        names=("{brand}快递驿站", "{compound}快递驿站", "{stem}邮政快递服务点"),
        brands=("瑞祥", "顺达", "安达", "邻里", "便民", "速达"),
        hours=("parcel", "parcel", "parcel_short"),
        descriptions=(
            "代收代寄各家快递，包裹保管三天；老人的大件可预约送货上楼。",
            "快递代收点，取件凭取件码，寄件当天揽收。",
        ),
        operators=("{brand}快递服务部", "个体经营"),
        price_notes=("寄件首重8元起；代收免费。", ""),
        floor_area=(20, 80),
        planned_name="{stem}社区快递驿站",
    ),
    "service_centre": Kind(
        count=(1, 1),
        names=("{community}党群服务中心",),
        hours=("office", "office_long"),
        holiday_rules=("closed",),
        descriptions=(
            "社区居委会所在地，办理社保、居住证明、高龄补贴和退休人员认证等事项，"
            "也是居民议事和开展活动的地方。",
        ),
        operators=("{community}居民委员会",),
        floor_area=(200, 800),
        at_office=True,
    ),
    "convenience": Kind(
        count=(1, 3),
        names=("{brand}便利店", "{compound}小卖部", "{brand}水果店", "{brand}烟酒副食"),
        brands=("乐家", "小满", "四季", "优品", "如意", "一家", "鲜果园", "喜来"),
        hours=("convenience", "convenience", "fruit", "convenience_late"),
        descriptions=("小区门口的便利店，日用品、零食饮料和水果都有。", "开在小区里的小店。"),
        floor_area=(15, 80),
        planned_name="{stem}社区便民店",
    ),
    "kindergarten": Kind(
        count=(1, 2),
        names=("{stem}幼儿园", "{compound}幼儿园", "{brand}幼儿园"),
        brands=("小天使", "阳光", "童心", "彩虹", "启明星", "蒲公英"),
        hours=("kindergarten",),
        holiday_rules=("closed",),
        descriptions=("招收3至6岁幼儿，设小班、中班、大班。", "普惠性幼儿园，提供午餐和午睡。"),
        operators=("{district}教育局（公办）", "{brand}教育咨询有限公司（民办普惠）"),
        price_notes=("保教费按物价部门核定标准收取。", ""),
        floor_area=(800, 3000),
        seats=(90, 360),
        planned_name="{stem}社区幼儿园",
    ),
    "nursery": Kind(
        count=(0, 1),
        names=("{stem}社区托育点", "{brand}托育园", "{brand}托育中心"),
        brands=("贝贝", "小树苗", "暖暖", "乐童", "小橡果"),
        hours=("nursery",),
        holiday_rules=("closed",),
        descriptions=("为3岁以下婴幼儿提供全日托、半日托和临时托。",),
        operators=("{brand}托育服务有限公司",),
        price_notes=("全日托每月1800元，半日托每月1100元。", ""),
        floor_area=(150, 500),
        seats=(20, 60),
        planned_name="{stem}社区托育点",
    ),
    "fitness": Kind(
        count=(1, 2),
        names=(
            "{compound}健身路径",
            "{stem}社区全民健身广场",
            "{stem}口袋公园",
            "{stem}社区篮球场",
            "{compound}健身角",
        ),
        hours=("outdoor",),
        descriptions=(
            "露天健身器材和步道，早晚跳广场舞、打太极的居民很多。",
            "社区室外活动场地，设有健身器材和休息座椅。",
        ),
        operators=("{community}居民委员会",),
        price_notes=("免费开放。",),
        floor_area=(150, 2000),
        phone=False,
        planned_name="{stem}社区健身广场",
    ),
    "library": Kind(
        count=(0, 1),
        names=("{stem}社区书屋", "{stem}社区图书室", "{stem}社区文化活动室"),
        hours=("library", "library_break"),
        holiday_rules=("sunday",),
        descriptions=(
            "藏书三千余册，有报刊阅览区和大字本图书，可免费借阅。",
            "居民读书、下棋、练书法的活动室。",
        ),
        operators=("{community}居民委员会", "{district}图书馆社区分馆"),
        price_notes=("免费借阅，每人每次限借3册。", "免费开放。"),
        floor_area=(40, 200),
        seats=(10, 40),
    ),
    "children": Kind(
        count=(0, 1),
        names=("{stem}社区儿童之家", "{stem}四点半课堂"),
        hours=("after_school",),
        holiday_rules=("closed",),
        descriptions=("放学后有志愿者辅导写作业，周六开展绘本阅读和手工活动。",),
        operators=("{community}居民委员会",),
        price_notes=("作业辅导免费；手工活动材料费自理。",),
        floor_area=(60, 200),
        seats=(15, 40),
    ),
    "senior_university": Kind(
        count=(0, 1),
        names=("{stem}社区老年学校", "{stem}社区学校"),
        hours=("classes",),
        holiday_rules=("closed",),
        descriptions=("开设书法、国画、合唱、智能手机使用等课程，按学期报名。",),
        operators=("{community}居民委员会", "{district}老年大学社区教学点"),
        price_notes=("每门课每学期100元，教材另计。",),
        floor_area=(100, 400),
        seats=(20, 60),
    ),
    "health_centre": Kind(
        count=(0, 1),
        names=("{stem}社区卫生服务中心",),
        hours=("health_centre",),
        holiday_rules=("sunday",),
        descriptions=("设全科、中医科、预防保健科，可打疫苗、做体检和开常用药。",),
        operators=("{district}卫生健康局",),
        price_notes=("65岁以上老人每年免费体检一次。",),
        floor_area=(800, 3000),
    ),
    "pharmacy": Kind(
        count=(1, 2),
        names=("{brand}药房", "{brand}大药房", "{brand}堂药店"),
        brands=("和顺", "康宁", "济生", "益寿", "百草", "仁心", "福康", "永安"),
        hours=("pharmacy",),
        descriptions=("医保定点药店，可刷医保卡买药，店内免费测血压。",),
        operators=("{brand}医药连锁有限公司",),
        price_notes=("医保定点；60岁以上每月8日购药九折。", ""),
        floor_area=(40, 200),
    ),
    "barber": Kind(
        count=(1, 1),
        names=("{brand}理发店", "{brand}美发", "{stem}爱心理发室"),
        brands=("老王", "金剪刀", "新潮", "小李", "时尚"),
        hours=("barber", "barber_no_monday"),
        descriptions=("剪发、烫染，行动不便的老人可预约上门理发。",),
        price_notes=("理发：老人10元，其他15元。", "剪发15元，烫发80元起；老人理发8元。"),
        floor_area=(15, 60),
    ),
    "laundry_repair": Kind(
        count=(0, 1),
        names=("{brand}洗衣店", "{stem}便民维修点", "{brand}干洗店", "{compound}修鞋配钥匙"),
        brands=("洁美", "净衣坊", "清清", "佳洁"),
        hours=("laundry", "repair"),
        descriptions=("干洗水洗、衣物修补、修鞋配钥匙。", "小家电维修、磨刀、配钥匙。"),
        price_notes=("修裤边10元，换拉链15元起；干洗外套25元。", "配钥匙5元起，磨刀3元。"),
        floor_area=(15, 60),
    ),
    "fresh_market": Kind(
        count=(0, 1),
        names=("{stem}菜市场", "{stem}早市", "{brand}生鲜菜店"),
        brands=("田园", "丰收", "鲜多多", "绿源"),
        hours=("market", "morning_market"),
        descriptions=("蔬菜、肉蛋、豆制品和主食摊位齐全，每天早晚两市。",),
        operators=("{brand}市场管理有限公司", "个体经营"),
        floor_area=(300, 2000),
    ),
}

# The required categories of the complete-community standard (as migration 0002 marks them)
# that a community may lack; the community office (service_centre) is never missing.
GAP_CANDIDATES = (
    "canteen",
    "health_station",
    "elderly_care",
    "supermarket",
    "parcel",
    "convenience",
    "kindergarten",
    "nursery",
    "fitness",
)
# How many required categories a community goes without (weights for 0, 1, 2, 3): gaps in the
# coverage figures, some of them with a facility planned to fill them.
GAP_COUNTS = (3, 5, 4, 2)
# The share of gaps with a facility planned or under construction to fill them.
GAP_PLANNED = 0.5

# Status odds of an invented facility (the rest are open).
PAUSED_ODDS = 0.03
CLOSED_ODDS = 0.012

# Accessibility odds of a drawn facility.
ACCESS_ODDS = {
    "step_free_entrance": 0.6,
    "lift": 0.15,
    "accessible_toilet": 0.3,
    "seating": 0.5,
    "hearing_loop": 0.05,
}
ACCESS_FIELDS = tuple(ACCESS_ODDS)
FULL_ACCESS = ("step_free_entrance", "lift", "accessible_toilet", "seating", "hearing_loop")

# Exceptions drawn for open facilities (canteens excepted: their menus cover the whole week).
MAINTENANCE_ODDS = 0.05
MAINTENANCE_NOTES = ("设备检修", "设备检修", "消防设施检修")
STOCKTAKING = frozenset({"supermarket", "convenience", "pharmacy", "fresh_market"})
STOCKTAKING_NOTE = "内部盘点"
SHORT_DAY_ODDS = 0.04
SHORT_DAY_NOTES = ("员工培训，下午暂停服务", "下午计划停电，提前结束")
CLOSURE_NOTES = ("内部装修，暂停开放", "设备更新改造，暂停开放", "消防整改，暂停开放")

PLANNED_DESCRIPTIONS = {
    "planned": "规划建设中：选址和建设方案已确定，建成后向居民开放。",
    "building": "正在施工建设，建成后向居民开放。",
}
CLOSED_DESCRIPTION = "已停止营业。"

# Streets of invented street numbers: the community's own, else its district's.
STREETS: dict[str, tuple[str, ...]] = {
    "林园社区": ("和平大街", "林园路"),
    "雷锋社区": ("普阳街", "雷锋路"),
    "新竹社区": ("青年路", "新竹路"),
    "春华社区": ("正阳街", "春华路"),
    "和顺社区": ("春城大街", "和顺街"),
    "翠竹社区": ("普阳街", "翠竹路"),
    "康宁社区": ("铁西路", "康宁街"),
    "景福社区": ("景阳大路", "景福街"),
    "瑞祥社区": ("迎宾路", "瑞祥街"),
    "丰泽社区": ("自立街", "丰泽路"),
    "明德社区": ("林园路", "明德街"),
    "嘉禾社区": ("正阳街", "嘉禾路"),
    "天元社区": ("开元大道", "天元路"),
    "大学城社区": ("学府街", "翰林路"),
    "安东社区": ("安乐街", "东苑路"),
    "石油社区": ("关林路", "石油街"),
    "兴隆社区": ("太康东路", "兴隆街"),
    "安泰社区": ("古城路", "安泰街"),
    "福润社区": ("科技大道", "福润路"),
    "祥和社区": ("翠云路", "祥和街"),
    "聚贤社区": ("龙门大道", "聚贤路"),
    "龙韵社区": ("定鼎门街", "龙韵路"),
    "嘉园社区": ("李楼路", "嘉园街"),
    "怡景社区": ("洛浦路", "怡景街"),
}
DISTRICT_STREETS = {"220106": ("西安大路", "锦程大街"), "410311": ("开元大道", "牡丹大道")}

ADDRESS_SUFFIXES = ("一楼", "底商", "旁平房", "东侧", "西门旁")

# ---- facilities written out ----

_DIKAN = "地勘三院小区"

SEED_FACILITIES: tuple[DemoFacility, ...] = (
    # ---- 林园社区 ----
    DemoFacility(
        community="林园社区",
        name="林园社区老年大学",
        category="senior_university",
        status="building",
        opens_in_months=3,
        floor_area=110,
        seats=40,
        access=("step_free_entrance", "seating"),
        operator="林园社区居民委员会",
        description=(
            "林园社区正在筹办的老年大学。社区已腾出一间一百多平方米的教室，配好投影仪、黑板和"
            "可按课程需要自由拼放的活动桌椅；目前正与省、市老年大学和社会组织商谈课程。开办前的"
            "意向调查里，居民最想学的是摄影、烹饪和视频剪辑。"
        ),
        price_notes="",
        is_demo=False,
    ),
    DemoFacility(
        community="林园社区",
        name="“墨香林园”品牌工作站",
        category="library",
        hours="library",
        holiday_rule="sunday",
        floor_area=120,
        seats=30,
        operator="林园社区居民委员会",
        description=(
            "林园社区以文化建设为依托打造的品牌工作站：居民在这里读书、练字、交流，社区的"
            "文化活动也多在这里组织。"
        ),
        price_notes="免费开放。",
        is_demo=False,
    ),
    DemoFacility(
        community="林园社区",
        name="连心驿站",
        category="service_centre",
        hours="office",
        holiday_rule="closed",
        operator="林园社区居民委员会",
        description=(
            "林园社区借助连心驿站把治理做得更细：居民有事可以来这里反映、咨询和办理，"
            "社区工作人员和志愿者轮流值守。"
        ),
        price_notes="",
        is_demo=False,
    ),
    # ---- 雷锋社区 ----
    DemoFacility(
        community="雷锋社区",
        name="雷锋社区书画室",
        category="library",
        hours="library_break",
        holiday_rule="sunday",
        floor_area=60,
        seats=20,
        access=("step_free_entrance", "seating"),
        operator="雷锋社区居民委员会",
        description=(
            "雷锋社区面向“一老一幼”建成的书画室，“适老”又“适幼”：桌椅高度和采光兼顾老人和"
            "孩子，周末常有祖孙一起来练字画画。"
        ),
        price_notes="免费开放；笔墨纸砚可借用。",
        is_demo=False,
    ),
    DemoFacility(
        community="雷锋社区",
        name="雷锋社区图书室",
        category="library",
        hours="library_break",
        holiday_rule="sunday",
        floor_area=80,
        seats=24,
        access=("step_free_entrance", "seating"),
        operator="雷锋社区居民委员会",
        description=(
            "雷锋社区的图书室，“适老”又“适幼”：有大字本图书和老花镜，也有低矮书架上的绘本，"
            "老人和孩子都能在这里安静读书。"
        ),
        price_notes="免费借阅。",
        is_demo=False,
    ),
    DemoFacility(
        community="雷锋社区",
        name="雷锋社区超市",
        category="supermarket",
        status="planned",
        opens_in_months=8,
        floor_area=90,
        operator="雷锋社区居民委员会、物业服务企业（商谈中）",
        description=(
            "雷锋社区计划把一处闲置用房改建为社区超市，正与物业服务企业商谈。老城区寸土寸金，"
            "盘活存量用房是唯一的办法。"
        ),
        price_notes="",
        phone=False,
        is_demo=False,
    ),
    DemoFacility(
        community="雷锋社区",
        name="雷锋社区新时代文明实践站",
        category="service_centre",
        other_categories=("elderly_care", "children"),
        hours="office_long",
        holiday_rule="closed",
        floor_area=400,
        seats=60,
        access=("step_free_entrance", "accessible_toilet", "seating"),
        operator="雷锋社区居民委员会",
        description=(
            "以新时代文明实践站为载体，联合教育部门和社区卫生服务中心的医护力量，提供老幼共托、"
            "医养照护和文体娱乐等一站式服务。"
        ),
        price_notes="",
        is_demo=False,
    ),
    # ---- 新竹社区 ----
    DemoFacility(
        community="新竹社区",
        name="小暖超市",
        category="supermarket",
        hours="supermarket",
        floor_area=150,
        access=("step_free_entrance",),
        operator="新竹社区与物业服务企业联建共建",
        description="新竹社区与物业服务企业联建共建开设的社区超市，日用品、粮油和蔬果在家门口就能买到。",
        price_notes="满50元免费送货上楼。",
        is_demo=False,
    ),
    DemoFacility(
        community="新竹社区",
        name="新竹社区便民食堂",
        category="canteen",
        hours="canteen",
        floor_area=180,
        seats=80,
        access=("step_free_entrance", "accessible_toilet", "seating"),
        operator="新竹社区与物业服务企业联建共建",
        description="新竹社区开设的便民食堂，一日三餐对居民开放；60岁以上老人按年龄段享受长者价。",
        price_notes="长者价按年龄段，见下表；可用现金和微信。",
        senior_prices="decades",
        is_demo=False,
    ),
    DemoFacility(
        community="新竹社区",
        name="新竹社区医养综合体",
        category="elderly_care",
        other_categories=("health_station",),
        status="building",
        opens_in_months=6,
        floor_area=900,
        seats=60,
        access=FULL_ACCESS,
        operator="新竹社区与物业服务企业联建共建",
        description="新竹社区正在建设的医养综合体，建成后把养老照护和健康服务放在一处。",
        price_notes="",
        phone=False,
        is_demo=False,
    ),
    DemoFacility(
        community="新竹社区",
        name="新竹社区老年大学",
        category="senior_university",
        hours="classes",
        holiday_rule="closed",
        floor_area=200,
        seats=50,
        access=("step_free_entrance", "seating"),
        operator="新竹社区与物业服务企业联建共建",
        description="新竹社区与物业服务企业联建共建办起的老年大学，按学期开课。",
        price_notes="",
        is_demo=False,
    ),
    DemoFacility(
        community="新竹社区",
        name="新竹社区综合文化广场",
        category="fitness",
        status="planned",
        opens_in_months=10,
        floor_area=2500,
        operator="新竹社区居民委员会",
        description="新竹社区规划中的综合文化广场，供居民健身、跳广场舞和开展文体活动。",
        price_notes="",
        phone=False,
        is_demo=False,
    ),
    # ---- 天元社区 ----
    DemoFacility(
        community="天元社区",
        name="天元社区邻里中心",
        category="service_centre",
        other_categories=("health_station", "library", "children"),
        hours="office_long",
        holiday_rule="closed",
        floor_area=1200,
        seats=120,
        access=FULL_ACCESS,
        operator="天元社区居民委员会",
        description=(
            "邻里中心设有服务大厅，居民在工作人员指导下就能办好退休人员年审认证等政务和日常"
            "业务。办事只是中心的一部分：这里还提供文化活动、生活服务、健康问诊和少儿教育。"
        ),
        price_notes="",
        exceptions=(
            DemoException(
                note="下午召开居民议事会，服务大厅暂停办理",
                first_day=3,
                opens="08:30",
                closes="12:00",
            ),
        ),
        is_demo=False,
    ),
    # ---- 大学城社区 ----
    DemoFacility(
        community="大学城社区",
        name="翰林苑邻里中心",
        category="service_centre",
        other_categories=("children", "elderly_care", "parcel", "laundry_repair", "library"),
        near="翰林苑",
        metres=(50, 150),
        hours="neighbourhood_centre",
        holiday_rule="closed",
        opened_on=date(2023, 5, 15),
        floor_area=1500,
        seats=150,
        access=FULL_ACCESS,
        operator="大学城社区居民委员会",
        description=(
            "2023年5月中旬启用，面积约1500平方米，服务重点是“一老一少一青壮”：放学后孩子在这里"
            "写作业，由志愿者老师和工作人员辅导；“悦读坊”“淘乐园”等亲子空间定期组织绘本阅读、"
            "手工制作和亲子运动会。中心还设有衣物修补和快递驿站，并提供养老服务和政务服务。"
        ),
        price_notes="作业辅导和亲子活动免费；衣物修补按件收费。",
        is_demo=False,
    ),
    # ---- 安东社区 ----
    DemoFacility(
        community="安东社区",
        name="安东社区邻里中心",
        category="service_centre",
        other_categories=("senior_university", "library"),
        hours="neighbourhood_centre",
        holiday_rule="closed",
        floor_area=1000,
        seats=100,
        access=("step_free_entrance", "lift", "accessible_toilet", "seating"),
        operator="安东社区居民委员会",
        description=(
            "以文化体育见长：二楼开设古筝、电钢琴、吉他等乐器课程，教学设备齐全，由专业教师按"
            "学员年龄、身体条件和学习进度分班授课；社区还定期举办面向居民的文体比赛。"
        ),
        price_notes="乐器课按学期收费，详情到服务台咨询。",
        is_demo=False,
    ),
    DemoFacility(
        community="安东社区",
        name="安东社区儿童乐园",
        category="fitness",
        other_categories=("children",),
        hours="outdoor",
        metres=(50, 100),
        floor_area=600,
        access=("step_free_entrance", "seating"),
        operator="安东社区居民委员会",
        description="邻里中心门前的社区大院改成的开放式儿童乐园。",
        price_notes="免费开放。",
        phone=False,
        is_demo=False,
    ),
    DemoFacility(
        community="安东社区",
        name="安东社区全民健身广场",
        category="fitness",
        hours="outdoor",
        metres=(50, 100),
        floor_area=1500,
        access=("step_free_entrance", "seating"),
        operator="安东社区居民委员会",
        description="邻里中心门前的社区大院改成的全民健身广场，有体育教练带练，定期举办体育赛事。",
        price_notes="免费开放。",
        phone=False,
        is_demo=False,
    ),
    # ---- 石油社区: around 地勘三院小区 ----
    DemoFacility(
        community="石油社区",
        name="石油社区邻里中心健身馆",
        category="fitness",
        near=_DIKAN,
        metres=(50, 250),
        hours="gym",
        floor_area=800,
        access=("step_free_entrance", "accessible_toilet", "seating"),
        operator="石油社区居民委员会",
        description=(
            "由地勘三院小区一处废旧厂房改建，划出瑜伽、羽毛球、乒乓球场地，配有跑步机、拉力器"
            "等器材，时常满员。"
        ),
        price_notes="免费开放；羽毛球场需提前预约。",
        exceptions=(DemoException(note="设备检修", first_day=2, next_week=True),),
        is_demo=False,
    ),
    DemoFacility(
        community="石油社区",
        name="地勘三院理发店",
        category="barber",
        near=_DIKAN,
        metres=(50, 250),
        hours="barber",
        floor_area=20,
        description="小区里年久失修的杂物房改建的理发店，是小区“商业街”的一员。",
        price_notes="理发：老人10元，其他15元。",
        is_demo=False,
    ),
    DemoFacility(
        community="石油社区",
        name="地勘三院水果店",
        category="convenience",
        near=_DIKAN,
        metres=(50, 250),
        hours="fruit",
        floor_area=25,
        description="杂物房改建的水果店，小区“商业街”上的一家。",
        price_notes="",
        is_demo=False,
    ),
    DemoFacility(
        community="石油社区",
        name="地勘三院小超市",
        category="supermarket",
        near=_DIKAN,
        metres=(50, 250),
        hours="supermarket",
        floor_area=60,
        access=("step_free_entrance",),
        description="杂物房改建的小超市，日用品和粮油副食，小区“商业街”上的一家。",
        price_notes="",
        is_demo=False,
    ),
    DemoFacility(
        community="石油社区",
        name="“邻心园”政务服务室",
        category="service_centre",
        near=_DIKAN,
        metres=(50, 250),
        hours="office",
        holiday_rule="closed",
        floor_area=80,
        seats=20,
        access=("step_free_entrance", "seating"),
        operator="石油社区居民委员会",
        description=(
            "夹在小区“商业街”店铺之间的政务服务室，取名“邻心园”，也是居民参加社区活动、相互"
            "交流的地方。"
        ),
        price_notes="",
        is_demo=False,
    ),
)

# Invented, but written out: they carry a community's feature or a case the demo must show (a
# canteen within a walk of 地勘三院小区, a 24-hour shop, a night market, a closure, a canteen
# near 铁西一区 in a straight line but across the railway of the demo streets).
FEATURED_FACILITIES: tuple[DemoFacility, ...] = (
    DemoFacility(
        community="石油社区",
        name="石油社区长者食堂",
        category="canteen",
        near=_DIKAN,
        metres=(150, 350),
        hours="canteen",
        floor_area=160,
        seats=70,
        access=("step_free_entrance", "accessible_toilet", "seating"),
        operator="石油社区居民委员会",
        description="一日三餐对全体居民开放，午餐和晚餐有长者价；高龄老人可预约送餐上门。",
        senior_prices="decades",
    ),
    DemoFacility(
        community="石油社区",
        name="石油社区健康驿站",
        category="health_station",
        near=_DIKAN,
        metres=(150, 350),
        hours="health_station",
        holiday_rule="sunday",
        access=("step_free_entrance", "seating"),
        operator="关林街道社区卫生服务中心",
    ),
    DemoFacility(
        community="石油社区",
        name="济仁诊所",
        category="health_station",
        near=_DIKAN,
        metres=(250, 500),
        hours="clinic",
        operator="个体诊所",
    ),
    DemoFacility(
        community="石油社区",
        name="关林街道社区卫生服务中心",
        category="health_centre",
        near=_DIKAN,
        metres=(500, 850),
        hours="health_centre",
        holiday_rule="sunday",
        access=FULL_ACCESS,
    ),
    DemoFacility(
        community="春华社区",
        name="春华社区长者食堂",
        category="canteen",
        hours="canteen_lunch_dinner",
        senior_prices="two_bands",
        description="午间为老年人提供平价套餐，晚餐也对全体居民开放。",
    ),
    DemoFacility(
        community="春华社区",
        name="春华社区书屋",
        category="library",
        hours="library",
        holiday_rule="sunday",
        description="周末全天开放的社区书屋，有大字本图书和儿童绘本。",
    ),
    DemoFacility(
        community="和顺社区",
        name="和顺社区志愿服务站",
        category="elderly_care",
        hours="elderly_station",
        description="居民志愿者在这里结对帮扶独居老人，可预约陪诊、代购和上门探访。",
    ),
    DemoFacility(community="和顺社区", name="和顺药房", category="pharmacy", hours="pharmacy"),
    DemoFacility(
        community="翠竹社区",
        name="翠竹口袋公园",
        category="fitness",
        hours="outdoor",
        metres=(100, 400),
        description="小区间的边角地改成的口袋公园，沿路设有健身路径。",
        phone=False,
    ),
    DemoFacility(
        # North of the railway of the generated streets (streets.demo_data), 铁西一区 south of
        # it: 300 m apart in a straight line, a walk of kilometres round by the nearest crossing.
        community="康宁社区",
        name="康宁社区食堂",
        category="canteen",
        near="铁西一区",
        metres=(300, 300),
        bearing=0,
        hours="canteen",
        description="铁路北侧的社区食堂，一日三餐对全体居民开放，60岁以上老人享受长者价。",
    ),
    DemoFacility(
        community="康宁社区",
        name="康宁社区日间照料中心",
        category="elderly_care",
        hours="day_care",
        access=FULL_ACCESS,
        description="结合老旧小区改造建成的老年日间照料中心，提供午餐、午休和康复训练。",
    ),
    DemoFacility(
        community="康宁社区",
        name="康宁社区卫生服务站",
        category="health_station",
        status="paused",
        hours="health_station",
        exceptions=(DemoException(note="内部装修，暂停开放", first_day=-6, days=30),),
        description="社区卫生服务站正在装修，装修期间请到就近的社区卫生服务中心就诊。",
    ),
    DemoFacility(
        community="景福社区",
        name="景福社区托育点",
        category="nursery",
        hours="nursery",
        holiday_rule="closed",
    ),
    DemoFacility(
        community="景福社区",
        name="景福社区四点半课堂",
        category="children",
        hours="after_school",
        holiday_rule="closed",
    ),
    DemoFacility(community="瑞祥社区", name="瑞祥快递驿站", category="parcel", hours="parcel"),
    DemoFacility(
        community="瑞祥社区",
        name="瑞祥社区便民维修点",
        category="laundry_repair",
        hours="repair",
        description="每周安排便民维修，磨刀、配钥匙、修小家电。",
    ),
    DemoFacility(
        community="瑞祥社区",
        name="瑞祥24小时便利店",
        category="convenience",
        hours="round_the_clock",
        description="全天24小时营业，夜里也能买到常用药品、饮用水和日用品。",
    ),
    DemoFacility(
        community="丰泽社区",
        name="丰泽社区早市",
        category="fresh_market",
        hours="morning_market",
        description="由一处闲置用房改成的早市，每天清晨供应新鲜蔬菜、肉蛋和豆制品。",
    ),
    DemoFacility(
        community="丰泽社区",
        name="丰泽平价超市",
        category="supermarket",
        hours="supermarket_late",
    ),
    DemoFacility(
        community="明德社区",
        name="明德社区文化活动室",
        category="library",
        hours="library_break",
        holiday_rule="sunday",
        description="书画社和合唱团的活动室，每月办一次居民书画展演。",
    ),
    DemoFacility(
        community="嘉禾社区",
        name="嘉禾社区健康驿站",
        category="health_station",
        hours="health_station_break",
        holiday_rule="sunday",
        description="每月为老年人测血压、讲健康知识，家庭医生每周二、四坐诊。",
    ),
    DemoFacility(
        community="兴隆社区",
        name="兴隆社区食堂",
        category="canteen",
        hours="canteen",
        senior_prices="free_at_90",
        description="一日三餐对外开放，为行动不便的老人送餐上门；90岁以上老人午餐、晚餐免费。",
    ),
    DemoFacility(
        community="安泰社区",
        name="安泰社区老年活动中心",
        category="elderly_care",
        other_categories=("library",),
        hours="day_care",
        description="设有棋牌室和戏曲角，全天开放。",
    ),
    DemoFacility(
        community="福润社区",
        name="福润社区共享自习室",
        category="library",
        hours="library",
        description="年轻住户多，社区开设了共享自习室，旁边是青年人才驿站。",
    ),
    DemoFacility(
        community="祥和社区",
        name="祥和社区灯光篮球场",
        category="fitness",
        hours="outdoor",
        description="灯光篮球场，晚上开放到九点。",
        phone=False,
    ),
    DemoFacility(
        community="聚贤社区",
        name="聚贤社区非遗工坊",
        category="senior_university",
        hours="classes",
        holiday_rule="closed",
        description="本地手艺人开设的非遗工坊，教居民画牡丹、做剪纸。",
    ),
    DemoFacility(
        community="龙韵社区",
        name="龙韵夜市",
        category="fresh_market",
        hours="night_market",
        metres=(200, 600),
        description="每天晚上八点开市到凌晨两点，有小吃摊、水果和日用百货。",
        phone=False,
    ),
    DemoFacility(
        community="嘉园社区",
        name="嘉园社区便民菜店",
        category="fresh_market",
        hours="market",
        description="开在小区出入口的便民菜店。",
    ),
    DemoFacility(
        community="怡景社区",
        name="怡景社区亲子乐园",
        category="children",
        other_categories=("fitness",),
        hours="outdoor",
        description="沿洛河步道建的亲子乐园，旁边有健身器材。",
        phone=False,
    ),
)


# Idle rooms (闲置用房) the demo communities have listed as candidate sites, the way 洛龙区 took
# stock of "闲置房屋资源" before building neighbourhood centres: (name template, floor area m²,
# owner, notes, available from the first of the month this many months on: 0 this month, None not
# agreed yet). ``{compound}`` is one of the community's compounds; each community lists the first
# ``IDLE_ROOMS_PER_COMMUNITY`` of a rotation through this table, so sizes vary between neighbours
# and some rooms are too small for a canteen (150 m²).
IDLE_ROOMS = (
    ("{compound}原物业用房", 180, "物业服务企业", "一层临街，有独立出入口，需改造上下水。", 0),
    ("{compound}底商空置门面", 120, "个人业主（可长期租赁）", "一层两间打通，适合便民服务。", 2),
    ("{compound}原居委会旧址", 260, "社区居委会", "二层带电梯，可整体改造。", 0),
    ("{compound}锅炉房", 90, "国有企业（市热力公司）", "集中供暖后停用，层高较高。", None),
    ("{compound}地下车库边房", 40, "物业服务企业", "采光差，只适合存放或快递收发。", 0),
    ("{compound}原老年活动室", 210, "街道办事处", "一层朝南，门前有小广场。", 6),
)
IDLE_ROOMS_PER_COMMUNITY = 3
# How far from its compound's centre (metres, north and east) each room of a community stands.
IDLE_ROOM_OFFSETS = ((60, -40), (-80, 90), (120, 30))
