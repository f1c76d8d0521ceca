"""The demo data that ``manage.py load_demo`` loads: constants and texts, no database access.

- Districts and subdistricts are real: the 2023 statistical division codes of 长春市绿园区 and
  洛阳市洛龙区 (from the public, WTFPL-licensed "Administrative-divisions-of-China" data set),
  copied here because the command may read nothing outside the repository.
- The seven seed communities are real places named in two news articles (绿园区, June 2023;
  洛龙区, August 2023). Their features and descriptions retell those articles in our own words;
  their population, households, points, addresses, phones and compounds are invented (except the
  name of 地勘三院小区), and each says so in its ``demo_note``.
- Every other community is invented (``is_demo``), in a real subdistrict.

Numbers and points are not written here: the command draws them from ``random.Random(SEED)`` so
they are the same on every run and every machine.
"""

from dataclasses import dataclass, field

# The one password of every demo account. Documented in the README; never use it in production.
DEMO_PASSWORD = "demo-portal-2026"

# Seed of the random numbers (population, households, points, phones). Changing it moves every
# demo compound.
SEED = 20230613


@dataclass(frozen=True)
class DemoDistrict:
    code: str
    name: str
    city: str
    city_code: str
    province: str
    province_code: str
    official_username: str
    phone_prefix: str  # area code and the first digit of local numbers: "0431-8"
    # Where the district's demo points are drawn (WGS-84 degrees): a box well inside the district.
    lat_range: tuple[float, float]
    lng_range: tuple[float, float]

    @property
    def label(self) -> str:
        return f"{self.city}{self.name}"


DISTRICTS: tuple[DemoDistrict, ...] = (
    DemoDistrict(
        code="220106",
        name="绿园区",
        city="长春市",
        city_code="2201",
        province="吉林省",
        province_code="22",
        official_username="official-lvyuan",
        phone_prefix="0431-8",
        lat_range=(43.86, 43.92),
        lng_range=(125.22, 125.31),
    ),
    DemoDistrict(
        code="410311",
        name="洛龙区",
        city="洛阳市",
        city_code="4103",
        province="河南省",
        province_code="41",
        official_username="official-luolong",
        phone_prefix="0379-6",
        lat_range=(34.58, 34.64),
        lng_range=(112.40, 112.50),
    ),
)

# (code, name): every 街道, 镇 and development zone of both districts. The district is the
# code's first six digits.
SUBDISTRICTS: tuple[tuple[str, str], ...] = (
    ("220106001", "正阳街道"),
    ("220106003", "春城街道"),
    ("220106005", "青年路街道"),
    ("220106006", "普阳街道"),
    ("220106007", "铁西街道"),
    ("220106010", "林园街道"),
    ("220106011", "同心街道"),
    ("220106012", "迎宾街道"),
    ("220106013", "自立街道"),
    ("220106100", "合心镇"),
    ("220106101", "西新镇"),
    ("220106102", "城西镇"),
    ("220106400", "绿园经济开发区"),
    ("220106401", "皓月产业园区"),
    ("410311002", "开元路街道"),
    ("410311003", "龙门石窟街道"),
    ("410311004", "关林街道"),
    ("410311005", "太康东路街道"),
    ("410311006", "古城街道"),
    ("410311007", "科技园街道"),
    ("410311008", "翠云路街道"),
    ("410311009", "龙门街道"),
    ("410311010", "学府街道"),
    ("410311011", "定鼎门街道"),
    ("410311012", "李楼街道"),
    ("410311013", "安乐街道"),
    ("410311014", "丰李街道"),
    ("410311021", "李村街道"),
    ("410311194", "寇店镇"),
    ("410311195", "诸葛镇"),
    ("410311197", "庞村镇"),
    ("410311199", "佃庄镇"),
)

_ASSUMED_SUBDISTRICT = "所属街道为演示假设：新闻未写明其街道。"
_INVENTED_NUMBERS = "人口、户数、位置、地址、电话和小区为演示数据。"
_INVENTED_COMMUNITY = "演示社区：名称、人口、户数、位置、地址、电话和小区均为虚构。"


@dataclass(frozen=True)
class DemoCommunity:
    subdistrict_code: str
    name: str
    feature: str
    description: str
    office_address: str
    compounds: tuple[str, ...]
    is_demo: bool = True
    demo_note: str = _INVENTED_COMMUNITY
    # Compound names that are real (named by the news); the others are invented (is_demo).
    real_compounds: frozenset[str] = field(default_factory=frozenset)

    @property
    def district_code(self) -> str:
        return self.subdistrict_code[:6]

    @property
    def is_seed(self) -> bool:
        """Named by the news articles: gets a staff account."""
        return not self.is_demo


SEED_COMMUNITIES: tuple[DemoCommunity, ...] = (
    # ---- 长春市绿园区 (news of 2023-06-13) ----
    DemoCommunity(
        subdistrict_code="220106010",  # 林园街道: assumed, the news names no subdistrict
        name="林园社区",
        feature="“四多三高”：老教师、老干部、退役军人、在校大学生多，素质、文化、需求高；"
        "“墨香林园”品牌工作站",
        description=(
            "林园社区坐落在吉林大学和平校区之中，居民里退休教师、离退休干部、退役军人和在读大学生"
            "都不少，大家文化素养高、对服务的期待也高，社区把这一特点概括为“四多三高”。社区以文化"
            "建设为抓手，打造了“墨香林园”品牌工作站，并借助连心驿站把治理做得更细。社区正在筹办"
            "老年大学：已腾出一间一百多平方米的教室，配好投影仪、黑板和可以随课程灵活拼放的桌椅，"
            "正与省、市老年大学和社会组织商谈课程；此前开展的意向调查中，居民最想学的是摄影、烹饪"
            "和视频剪辑。"
        ),
        office_address="长春市绿园区林园街道吉林大学和平校区内",
        compounds=(
            "林园小区",
            "和平校区教工一区",
            "和平校区教工二区",
            "和平校区教工三区",
            "专家楼小区",
            "离退休楼小区",
            "林苑小区",
        ),
        is_demo=False,
        demo_note=_ASSUMED_SUBDISTRICT + _INVENTED_NUMBERS,
    ),
    DemoCommunity(
        subdistrict_code="220106006",  # 普阳街道: assumed, the news names no subdistrict
        name="雷锋社区",
        feature="“社区—雷锋广场—6·Da七彩城—汽车文化园”服务轴线；适老适幼的书画室、图书室",
        description=(
            "雷锋社区沿着“社区—雷锋广场—6·Da七彩城—汽车文化园”这条轴线布置服务，由轴上的节点向"
            "周边辐射，目标是建成15分钟便民生活圈。社区坦言自己的短板是设施老旧、活动场地不足；"
            "老城区用地紧张，只能靠盘活存量，因此社区梳理出一份资源清单，正和物业服务企业商量把一处"
            "闲置用房改成社区超市。面向“一老一幼”，社区已建成兼顾老人和孩子的书画室、图书室，并以"
            "新时代文明实践站为依托，联合教育部门和社区卫生服务中心，提供老幼共托、医养照护和文体"
            "娱乐等一站式服务。"
        ),
        office_address="长春市绿园区普阳街雷锋社区党群服务中心",
        compounds=(
            "雷锋小区",
            "向阳小区",
            "友谊小区",
            "雷锋里",
            "七彩家园",
            "新华小区",
            "和谐家园",
            "育才小区",
        ),
        is_demo=False,
        demo_note=_ASSUMED_SUBDISTRICT + _INVENTED_NUMBERS,
    ),
    DemoCommunity(
        subdistrict_code="220106005",  # 青年路街道
        name="新竹社区",
        feature="特色楼栋、老年大学、医养综合体、便民食堂、“小暖超市”、综合文化广场",
        description=(
            "新竹社区隶属青年路街道。社区结合“幸福小区”创建，计划打造以党建宣传、书香文化、助老服务"
            "为主题的特色楼栋，主张从小区做起、在整个社区统筹资源。社区与物业服务企业联建共建，"
            "办起老年大学，建设医养综合体，开设便民食堂和“小暖超市”，还规划了一处综合文化广场，"
            "让日常所需的服务就在家门口。"
        ),
        office_address="长春市绿园区青年路新竹社区服务中心",
        compounds=(
            "新竹小区",
            "竹园小区",
            "青年路小区",
            "幸福里小区",
            "青竹苑",
            "翠园小区",
            "绿竹家园",
            "东风小区",
        ),
        is_demo=False,
        demo_note=_INVENTED_NUMBERS,
    ),
    # ---- 洛阳市洛龙区 (news of 2023-08-11) ----
    DemoCommunity(
        subdistrict_code="410311002",  # 开元路街道
        name="天元社区",
        feature="邻里中心服务大厅：政务服务和日常业务就近办",
        description=(
            "天元社区属开元路街道。社区邻里中心设有服务大厅，居民在工作人员指导下就能办好退休人员"
            "年审认证等政务和日常业务。办事只是邻里中心的一部分：这里还提供文化活动、生活服务、"
            "健康问诊和少儿教育，力求把居民生活里大大小小的需要都照顾到。"
        ),
        office_address="洛阳市洛龙区开元大道天元社区邻里中心",
        compounds=(
            "天元小区",
            "开元花园",
            "天元名居",
            "开元里",
            "元和苑",
            "天润家园",
            "开元路小区",
        ),
        is_demo=False,
        demo_note=_INVENTED_NUMBERS,
    ),
    DemoCommunity(
        subdistrict_code="410311010",  # 学府街道
        name="大学城社区",
        feature="翰林苑邻里中心：服务“一老一少一青壮”",
        description=(
            "大学城社区属学府街道。社区的翰林苑邻里中心于2023年5月中旬启用，面积约1500平方米，"
            "服务重点是“一老一少一青壮”。孩子放学后可以在这里写作业，由志愿者老师和工作人员辅导；"
            "“悦读坊”“淘乐园”等亲子空间定期组织绘本阅读、手工制作和亲子运动会。中心还引入了"
            "衣物修补和快递驿站，同时承担养老服务和政务服务。"
        ),
        office_address="洛阳市洛龙区学府街道翰林苑邻里中心",
        compounds=(
            "翰林苑",
            "学府小区",
            "大学城一区",
            "大学城二区",
            "书香苑",
            "学子苑",
            "博雅家园",
            "师苑小区",
        ),
        is_demo=False,
        demo_note=_INVENTED_NUMBERS,
    ),
    DemoCommunity(
        subdistrict_code="410311013",  # 安乐街道
        name="安东社区",
        feature="文体特色邻里中心：古筝、电钢琴、吉他课，儿童乐园和全民健身广场",
        description=(
            "安东社区隶属安乐街道，邻里中心以文化体育见长：二楼开设古筝、电钢琴、吉他等乐器课程，"
            "教学设备配得很齐，由专业教师按学员年龄、身体条件和学习进度分班授课。中心门前的社区大院"
            "整体改成了开放式儿童乐园和全民健身广场，社区还定期举办面向居民的文体比赛。"
        ),
        office_address="洛阳市洛龙区安乐街道安东社区邻里中心",
        compounds=(
            "安东小区",
            "安乐花园",
            "东苑小区",
            "安居里",
            "乐和家园",
            "安泰苑",
            "东方小区",
        ),
        is_demo=False,
        demo_note=_INVENTED_NUMBERS,
    ),
    DemoCommunity(
        subdistrict_code="410311004",  # 关林街道
        name="石油社区",
        feature="盘活闲置：废旧厂房改健身馆，杂物房改“商业街”，“邻心园”政务服务室",
        description=(
            "石油社区位于关林街道，邻里中心建设与老旧小区改造同步推进。地勘三院小区原有一处废旧厂房，"
            "如今改成了健身场馆，划出瑜伽、羽毛球、乒乓球场地，配有跑步机、拉力器等器材，时常满员。"
            "小区里多间年久失修的杂物房改建成理发店、水果店和小超市，连成一条热闹的“商业街”；"
            "夹在其间的政务服务室取名“邻心园”，也是居民参加社区活动、相互交流的地方。"
        ),
        office_address="洛阳市洛龙区关林街道石油社区党群服务中心",
        compounds=(
            "地勘三院小区",
            "石油小区",
            "石油一区",
            "石油二区",
            "关林小区",
            "油田家属院",
            "石化小区",
            "关林花园",
        ),
        is_demo=False,
        demo_note=(
            "人口、户数、位置、地址、电话和小区为演示数据；地勘三院小区的名称来自新闻，"
            "其人口、户数和位置为演示数据。"
        ),
        real_compounds=frozenset({"地勘三院小区"}),
    ),
)

INVENTED_COMMUNITIES: tuple[DemoCommunity, ...] = (
    # ---- 长春市绿园区 ----
    DemoCommunity(
        subdistrict_code="220106001",  # 正阳街道
        name="春华社区",
        feature="老年助餐点、社区书屋",
        description="（演示）春华社区以助餐和阅读为重点，午间为老年人提供平价套餐，周末开放社区书屋。",
        office_address="长春市绿园区正阳街春华社区服务中心",
        compounds=(
            "春华小区",
            "春华园",
            "正阳小区",
            "兴华里",
            "华苑小区",
            "春晖家园",
            "正阳花园",
        ),
    ),
    DemoCommunity(
        subdistrict_code="220106003",  # 春城街道
        name="和顺社区",
        feature="邻里互助、志愿服务站",
        description="（演示）和顺社区组织居民志愿者结对帮扶独居老人，设有一处志愿服务站。",
        office_address="长春市绿园区春城大街和顺社区服务中心",
        compounds=("和顺小区", "和顺里", "顺达小区", "春城花园", "和美家园", "安顺小区"),
    ),
    DemoCommunity(
        subdistrict_code="220106006",  # 普阳街道
        name="翠竹社区",
        feature="健身路径、口袋公园",
        description="（演示）翠竹社区把小区间的边角地改成口袋公园，沿路设置健身路径。",
        office_address="长春市绿园区普阳街翠竹社区服务中心",
        compounds=(
            "翠竹苑",
            "翠竹小区",
            "普阳小区",
            "竹韵家园",
            "松竹小区",
            "碧水园",
            "普惠小区",
        ),
    ),
    DemoCommunity(
        subdistrict_code="220106007",  # 铁西街道
        name="康宁社区",
        feature="老旧小区改造、日间照料中心",
        description="（演示）康宁社区以老旧小区为主，结合改造工程建设了一处老年日间照料中心。",
        office_address="长春市绿园区铁西街道康宁社区服务中心",
        compounds=(
            "铁西一区",
            "铁西二区",
            "铁西三区",
            "康宁小区",
            "康泰家园",
            "宁馨苑",
            "机车小区",
            "工人新村",
        ),
    ),
    DemoCommunity(
        subdistrict_code="220106011",  # 同心街道
        name="景福社区",
        feature="托育点、四点半课堂",
        description="（演示）景福社区开设托育点和放学后的“四点半课堂”，方便双职工家庭。",
        office_address="长春市绿园区景阳大路景福社区服务中心",
        compounds=("景福小区", "景阳花园", "福安里", "福泽家园", "景苑小区", "同心小区"),
    ),
    DemoCommunity(
        subdistrict_code="220106012",  # 迎宾街道
        name="瑞祥社区",
        feature="快递驿站、便民维修",
        description="（演示）瑞祥社区在服务中心旁设快递驿站，每周安排便民维修和磨刀配钥匙。",
        office_address="长春市绿园区迎宾路瑞祥社区服务中心",
        compounds=(
            "瑞祥小区",
            "迎宾花园",
            "吉祥里",
            "瑞景家园",
            "祥和苑",
            "迎春小区",
            "瑞丰小区",
        ),
    ),
    DemoCommunity(
        subdistrict_code="220106013",  # 自立街道
        name="丰泽社区",
        feature="社区菜市场、平价超市",
        description="（演示）丰泽社区引入平价超市，并把一处闲置用房改成早市。",
        office_address="长春市绿园区自立街道丰泽社区服务中心",
        compounds=("丰泽园", "自立小区", "丰收小区", "泽润家园", "丰华里", "自强小区"),
    ),
    DemoCommunity(
        subdistrict_code="220106010",  # 林园街道
        name="明德社区",
        feature="书画社、合唱团",
        description="（演示）明德社区的书画社和合唱团由居民自己组织，每月在文化活动室办一次展演。",
        office_address="长春市绿园区林园街道明德社区服务中心",
        compounds=(
            "明德小区",
            "明珠花园",
            "德馨苑",
            "明华里",
            "书香门第",
            "明苑小区",
            "德惠家园",
        ),
    ),
    DemoCommunity(
        subdistrict_code="220106001",  # 正阳街道
        name="嘉禾社区",
        feature="社区卫生服务站、健康讲座",
        description="（演示）嘉禾社区与社区卫生服务站合作，每月为老年人测血压、讲健康知识。",
        office_address="长春市绿园区正阳街道嘉禾社区服务中心",
        compounds=(
            "嘉禾小区",
            "禾丰里",
            "嘉园小区",
            "绿园新村",
            "嘉禾花园",
            "嘉和家园",
            "禾润苑",
            "正阳新村",
            "锦绣家园",
        ),
    ),
    # ---- 洛阳市洛龙区 ----
    DemoCommunity(
        subdistrict_code="410311005",  # 太康东路街道
        name="兴隆社区",
        feature="社区食堂、助老配餐",
        description="（演示）兴隆社区食堂一日三餐对外开放，为行动不便的老人送餐上门。",
        office_address="洛阳市洛龙区太康东路兴隆社区服务中心",
        compounds=(
            "兴隆小区",
            "隆盛花园",
            "太康小区",
            "兴华里",
            "太康东苑",
            "隆兴家园",
            "兴业苑",
        ),
    ),
    DemoCommunity(
        subdistrict_code="410311006",  # 古城街道
        name="安泰社区",
        feature="老年活动中心、棋牌室",
        description="（演示）安泰社区的老年活动中心设有棋牌室和戏曲角，全天开放。",
        office_address="洛阳市洛龙区古城路安泰社区服务中心",
        compounds=("安泰小区", "古城花园", "泰和里", "古城小区", "安澜苑", "泰安家园"),
    ),
    DemoCommunity(
        subdistrict_code="410311007",  # 科技园街道
        name="福润社区",
        feature="青年人才驿站、共享自习室",
        description="（演示）福润社区年轻住户多，开设了共享自习室和青年人才驿站。",
        office_address="洛阳市洛龙区科技园街道福润社区服务中心",
        compounds=(
            "福润小区",
            "科技园小区",
            "润泽苑",
            "福满家园",
            "科苑小区",
            "润景花园",
            "福寿里",
        ),
    ),
    DemoCommunity(
        subdistrict_code="410311008",  # 翠云路街道
        name="祥和社区",
        feature="全民健身广场、篮球场",
        description="（演示）祥和社区建有灯光篮球场和全民健身广场，晚间开放。",
        office_address="洛阳市洛龙区翠云路祥和社区服务中心",
        compounds=("祥和小区", "翠云小区", "翠云花园", "祥瑞苑", "和园小区", "云景家园"),
    ),
    DemoCommunity(
        subdistrict_code="410311009",  # 龙门街道
        name="聚贤社区",
        feature="非遗工坊、牡丹书画",
        description="（演示）聚贤社区请本地手艺人开设非遗工坊，教居民画牡丹、做剪纸。",
        office_address="洛阳市洛龙区龙门大道聚贤社区服务中心",
        compounds=(
            "聚贤小区",
            "龙门花园",
            "贤德苑",
            "龙泉小区",
            "聚福里",
            "伊水家园",
            "龙门小区",
            "贤居苑",
        ),
    ),
    DemoCommunity(
        subdistrict_code="410311011",  # 定鼎门街道
        name="龙韵社区",
        feature="戏曲角、豫剧票友会",
        description="（演示）龙韵社区的豫剧票友会每周在社区广场排练，逢节日演出。",
        office_address="洛阳市洛龙区定鼎门街道龙韵社区服务中心",
        compounds=(
            "龙韵小区",
            "定鼎花园",
            "韵和苑",
            "定鼎小区",
            "隋唐小区",
            "龙泽家园",
            "天街小区",
        ),
    ),
    DemoCommunity(
        subdistrict_code="410311012",  # 李楼街道
        name="嘉园社区",
        feature="便民菜店、家政服务点",
        description="（演示）嘉园社区在小区出入口开设便民菜店，并设有家政服务预约点。",
        office_address="洛阳市洛龙区李楼街道嘉园社区服务中心",
        compounds=("嘉园小区", "李楼小区", "嘉和苑", "李楼花园", "嘉禾家园", "丰李小区"),
    ),
    DemoCommunity(
        subdistrict_code="410311002",  # 开元路街道
        name="怡景社区",
        feature="滨河步道、亲子乐园",
        description="（演示）怡景社区临近洛河，沿河步道旁建有亲子乐园和健身器材。",
        office_address="洛阳市洛龙区开元路街道怡景社区服务中心",
        compounds=(
            "怡景小区",
            "牡丹花园",
            "怡和苑",
            "洛浦家园",
            "景华里",
            "牡丹小区",
            "怡馨家园",
            "洛河小区",
        ),
    ),
)

COMMUNITIES: tuple[DemoCommunity, ...] = SEED_COMMUNITIES + INVENTED_COMMUNITIES

CITY_ADMIN_USERNAME = "cityadmin"
STAFF_USERNAME_PREFIX = "staff-"  # + the community's slug: staff-linyuan
