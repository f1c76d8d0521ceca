"""The demo courses ``load_demo`` loads: the seed news' classes, a term open around today, and
(with accounts) demo residents enrolled so that some classes are full and people wait.

林园社区's 老年大学 (摄影, 烹饪, 视频剪辑), 安东社区's music rooms (古筝, 电钢琴, 吉他 by level) and
大学城社区's youth programme (课后辅导, 绘本阅读, 手工, 亲子运动会) come from the news; the classes
meet in each community's own facilities. Dates move with the day it is loaded: registration
opened a week ago (returning students three days before that) and closes in a fortnight; classes
start in three weeks and run sixteen weeks. 视频剪辑 is full with people waiting; 摄影 has one seat
left. 天元社区's term closed yesterday: its 书法 class gives its three seats by lottery, committed
(courses.lottery.commit) a fortnight ago, before registration opened, and the five demo residents
who applied have been drawn.

Safe to run again: rows are matched by their natural keys, enrolments are only added.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from communities.models import Community
from courses import enrolment, lottery
from courses.models import Course, CourseClass, Term
from facilities.models import Facility
from residents.models import Resident

# Where classes meet, by preference: the first category a community has a facility of.
VENUES = ("senior_university", "service_centre", "library", "children", "elderly_care")


@dataclass(frozen=True)
class DemoClass:
    level: str
    weekday: int  # Monday 0
    starts: time
    ends: time
    capacity: int
    teacher: str
    min_age: int | None = None
    max_age: int | None = None
    lottery: bool = False


@dataclass(frozen=True)
class DemoCourse:
    community: str
    name: str
    subject: str
    audience: str
    provider: str
    fee: int
    description: str
    classes: tuple[DemoClass, ...]


COURSES = (
    DemoCourse(
        "林园社区", "摄影", "photography", "senior", "省老年大学林园教学点", 200,
        "用手机和相机拍好身边的风景和家人：构图、光线、后期修图，每节课都有外拍练习。",
        (DemoClass("初级", 1, time(9), time(11), 6, "王老师", 50),),
    ),
    DemoCourse(
        "林园社区", "烹饪", "cooking", "senior", "林园社区老年大学", 150,
        "家常菜和养生汤，少油少盐的做法；最后一节课大家一起做一桌菜。",
        (DemoClass("", 3, time(14), time(16), 12, "李师傅", 50),),
    ),
    DemoCourse(
        "林园社区", "视频剪辑", "video", "senior", "林园社区老年大学", 120,
        "把手机里的照片和视频剪成小片子，配上音乐和字幕，发给儿女。",
        (DemoClass("", 4, time(9, 30), time(11), 4, "赵老师", 50),),
    ),
    DemoCourse(
        "安东社区", "古筝", "guzheng", "all", "安东社区邻里中心", 300,
        "从基础音阶开始，一个学期学会两三首小曲；琴由邻里中心提供。",
        (
            DemoClass("初级", 0, time(9), time(10, 30), 8, "陈老师", 8),
            DemoClass("中级", 2, time(9), time(10, 30), 8, "陈老师", 8),
        ),
    ),
    DemoCourse(
        "安东社区", "电钢琴", "piano", "all", "安东社区邻里中心", 300,
        "识谱和双手配合，适合零基础的老人和孩子。",
        (DemoClass("初级", 5, time(9), time(10, 30), 10, "周老师", 6),),
    ),
    DemoCourse(
        "安东社区", "吉他", "guitar", "all", "安东社区邻里中心", 260,
        "按级别分班：初级学和弦和扫弦，中级学指弹。",
        (
            DemoClass("初级", 5, time(14), time(15, 30), 10, "孙老师", 10),
            DemoClass("中级", 6, time(14), time(15, 30), 10, "孙老师", 10),
        ),
    ),
    DemoCourse(
        "大学城社区", "课后辅导", "homework", "youth", "翰林苑邻里中心", 0,
        "放学后在邻里中心写作业，大学生志愿者辅导。",
        (DemoClass("", 0, time(16, 30), time(18), 20, "志愿者", 6, 12),),
    ),
    DemoCourse(
        "大学城社区", "绘本阅读", "reading", "parent_child", "翰林苑邻里中心“悦读坊”", 0,
        "家长和孩子一起读绘本、讲故事。",
        (DemoClass("", 5, time(10), time(11), 12, "刘老师", 3, 8),),
    ),
    DemoCourse(
        "大学城社区", "手工", "crafts", "youth", "翰林苑邻里中心“淘乐园”", 50,
        "剪纸、黏土和旧物改造，作品在邻里中心展出。",
        (DemoClass("", 6, time(10), time(11, 30), 15, "吴老师", 6, 14),),
    ),
    DemoCourse(
        "大学城社区", "亲子运动会", "sports", "parent_child", "翰林苑邻里中心", 0,
        "每周一次亲子游戏和体能训练，学期末办一场运动会。",
        (DemoClass("", 6, time(15), time(16, 30), 20, "郑老师", 3, 12),),
    ),
    DemoCourse(
        "天元社区", "书法", "calligraphy", "all", "天元社区老年学校", 80,
        "毛笔楷书入门，从握笔和基本笔画练起；名额少，报名截止后摇号。",
        (DemoClass("", 2, time(9), time(11), 3, "孙老师", lottery=True),),
    ),
)  # fmt: skip
# 天元社区's registration closed yesterday and its lottery class has been drawn.
CLOSED = {"天元社区"}

# Demo residents (password DEMO_PASSWORD): (mobile, name, birth year, community).
RESIDENTS = (
    ("13800000001", "张桂兰", 1958, "林园社区"),
    ("13800000002", "李秀英", 1955, "林园社区"),
    ("13800000003", "王建国", 1952, "林园社区"),
    ("13800000004", "刘淑珍", 1960, "林园社区"),
    ("13800000005", "陈玉梅", 1957, "林园社区"),
    ("13800000006", "杨德明", 1950, "林园社区"),
    ("13800000007", "赵丽华", 1962, "林园社区"),
    ("13800000008", "黄志强", 1954, "林园社区"),
    ("13800000009", "周海燕", 1986, "大学城社区"),
    ("13800000010", "吴晓东", 1983, "安东社区"),
    ("13800000011", "孙丽娟", 1961, "天元社区"),
    ("13800000012", "马国强", 1956, "天元社区"),
    ("13800000013", "朱玉珍", 1959, "天元社区"),
)
# Who is enrolled where, in order: 摄影 初级 keeps one seat of six; 视频剪辑 (four seats) is full
# with two people waiting. Nobody takes more than the two classes a season allows.
ENROLMENTS = (
    ("摄影", "初级", ("13800000001", "13800000002", "13800000003", "13800000004",
                    "13800000005")),
    ("烹饪", "", ("13800000002", "13800000003")),
    ("视频剪辑", "", ("13800000004", "13800000005", "13800000006", "13800000007",
                   "13800000008", "13800000001")),
    ("古筝", "初级", ("13800000010",)),
    # Applications for the lottery class, made before its registration closed; five for three
    # seats, drawn when the demo loads.
    ("书法", "", ("13800000011", "13800000012", "13800000013", "13800000009", "13800000010")),
)  # fmt: skip


def current_term(today: date) -> tuple[int, str]:
    return (today.year, Term.Season.AUTUMN if today.month >= 7 else Term.Season.SPRING)


def _moment(day: date, at: time = time(9)) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def load_demo_courses(communities: dict[str, Community], today: date | None = None) -> None:
    """Terms, courses and classes of the seed communities among ``communities``."""
    today = today or timezone.localdate()
    year, season = current_term(today)
    starts = today + timedelta(days=21)
    for spec in COURSES:
        community = communities.get(spec.community)
        if community is None:
            continue
        venue = _venue(community)
        if venue is None:
            continue
        closes = today + timedelta(days=-1 if spec.community in CLOSED else 14)
        term, _ = Term.objects.update_or_create(
            community=community,
            year=year,
            season=season,
            defaults={
                "priority_opens": _moment(today - timedelta(days=10)),
                "registration_opens": _moment(today - timedelta(days=7)),
                "registration_closes": _moment(closes, time(18)),
                "starts_on": starts,
                "ends_on": starts + timedelta(weeks=16),
            },
        )
        course, _ = Course.objects.update_or_create(
            term=term,
            name=spec.name,
            defaults={
                "subject": spec.subject,
                "audience": spec.audience,
                "provider": spec.provider,
                "fee": spec.fee,
                "description": spec.description,
            },
        )
        for c in spec.classes:
            first = starts + timedelta(days=(c.weekday - starts.weekday()) % 7)
            fields = {
                "starts_at": c.starts,
                "ends_at": c.ends,
                "first_date": first,
                "last_date": first + timedelta(weeks=15),
                "facility": venue,
                "room": "二楼教室" if spec.community == "安东社区" else "",
                "teacher": c.teacher,
                "capacity": c.capacity,
                "min_age": c.min_age,
                "max_age": c.max_age,
            }
            allocation = (
                CourseClass.Allocation.LOTTERY if c.lottery else CourseClass.Allocation.FIRST_COME
            )
            course_class, created = CourseClass.objects.update_or_create(
                course=course,
                level=c.level,
                weekday=c.weekday,
                defaults={**fields, "allocation": allocation},
                create_defaults={**fields, "allocation": CourseClass.Allocation.FIRST_COME},
            )
            if created and c.lottery:
                # As the story goes, the class was set up, and its draw committed, before
                # registration opened; then it became a lottery (nobody had applied yet).
                lottery.commit(course_class, now=_moment(today - timedelta(days=14)))
                course_class.allocation = allocation
                course_class.save(update_fields=["allocation"])


def _venue(community: Community) -> Facility | None:
    facilities = {
        f.category.code: f
        for f in Facility.objects.filter(community=community, status="open").select_related(
            "category"
        )
    }
    return next((facilities[code] for code in VENUES if code in facilities), None) or next(
        iter(facilities.values()), None
    )


def load_demo_residents(
    communities: dict[str, Community], password_hash: str, today: date | None = None
) -> list[tuple[str, str]]:
    """The demo residents (mobile number, name) and their enrolments, made only once."""
    today = today or timezone.localdate()
    User = get_user_model()
    made = []
    for phone, name, birth_year, community_name in RESIDENTS:
        user, _created = User.objects.get_or_create(
            username=phone, defaults={"password": password_hash, "first_name": name}
        )
        community = communities.get(community_name)
        compound = community.compounds.order_by("name").first() if community else None
        Resident.objects.get_or_create(
            user=user,
            defaults={"name": name, "phone": phone, "birth_year": birth_year, "compound": compound},
        )
        made.append((phone, name))
    year, season = current_term(today)
    for course_name, level, phones in ENROLMENTS:
        course_class = CourseClass.objects.filter(
            course__name=course_name,
            course__term__year=year,
            course__term__season=season,
            level=level,
        ).first()
        if course_class is None:
            continue
        term = course_class.course.term
        # Applications to a closed term were made while it was open.
        when = min(timezone.now(), term.registration_closes - timedelta(hours=1))
        for phone in phones:
            user = User.objects.get(username=phone)
            if course_class.enrolments.filter(user=user).exists():
                continue
            try:
                enrolment.enrol(user, course_class, now=when)
            except enrolment.Refused:
                continue
    lottery.draw_due()
    return made
