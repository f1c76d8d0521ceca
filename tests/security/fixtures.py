"""Data builders of the attack suite: whole communities with one row of every kind, so an attack
has a real victim to go after and the attacker a real community of their own.

``build_world`` fills a community with a compound and its gate, a canteen (hours, an exception, a
senior price, today's meal, a photo), an idle room, a term whose registration has closed, a course
with three classes (a first-come class with an enrolled resident and an attendance mark, a lottery
class with an application not drawn yet, a lottery class already drawn), a resident living in the
compound, a wish with a support, and a member of staff, and its district's street network (made
with the district's first world, shared by the others). Every name in it holds the world's
``marker``, so a page or a file that leaks any of it can be caught by looking for the marker
(the names of subdistricts and districts and their street networks, which several worlds share,
hold none).

``build_city`` makes the scene the attack files share: the victim community A, a neighbour N in
the same subdistrict, a community in another subdistrict of the same district (its official
attacks), and a community B in another district, each a whole world, plus the officials and a
city administrator.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from communities.models import (
    Community,
    CompoundGate,
    District,
    Membership,
    ResidentialCompound,
    Subdistrict,
)
from communities.roles import make_staff
from courses import attendance
from courses.models import Attendance, Course, CourseClass, Draw, Enrolment, Term
from facilities.models import (
    Category,
    Facility,
    FacilityPhoto,
    HoursException,
    IdleRoom,
    Meal,
    MealKind,
    OpeningHours,
    SeniorPrice,
)
from notices.models import Kind, Notice
from residents.models import Resident
from streets.models import StreetEdge, StreetNetwork, StreetNode
from wishes.models import Support, Wish

PASSWORD = "correct-horse-battery"


@dataclass
class World:
    """One community and a row of every kind in it."""

    marker: str
    district: District
    subdistrict: Subdistrict
    community: Community
    compound: ResidentialCompound
    gate: CompoundGate
    street_network: StreetNetwork  # the district's: shared with the district's other worlds
    facility: Facility
    hours: OpeningHours
    exception: HoursException
    senior_price: SeniorPrice
    meal: Meal
    photo: FacilityPhoto
    idle_room: IdleRoom
    term: Term
    course: Course
    class_first: CourseClass  # first come, first served; the resident holds a seat
    class_lottery: CourseClass  # by lottery, registration closed, one application not drawn
    class_drawn: CourseClass  # by lottery, drawn
    draw: Draw
    enrolment: Enrolment  # the resident's seat in class_first
    application: Enrolment  # the resident's application to class_lottery
    attendance: Attendance
    meeting: date  # a past meeting of class_first
    resident: Resident
    resident_user: models.Model
    wish: Wish
    support: Support
    staff: models.Model
    membership: Membership
    notice: Notice  # a message to the resident that failed (staff may resend it)

    def rows(self) -> dict[str, models.Model]:
        """The world's row of each model, by model label (``facilities.Facility``)."""
        rows = {}
        for value in vars(self).values():
            if isinstance(value, models.Model):
                rows.setdefault(value._meta.label, value)
        return rows


def _user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


def _street_network(district: District, point: tuple[float, float]) -> StreetNetwork:
    """The district's street network: two nodes and the footway between them, as an import of
    an extract would leave them (made once per district)."""
    found = StreetNetwork.objects.filter(district=district).first()
    if found is not None:
        return found
    lat, lng = point
    network = StreetNetwork.objects.create(
        district=district,
        source_name=f"{district.code}.osm.pbf",
        source_sha256="0" * 64,
        imported_at=timezone.now(),
        south=lat - 0.05,
        west=lng - 0.05,
        north=lat + 0.05,
        east=lng + 0.05,
        node_count=2,
        edge_count=1,
        length_km=0.111,
        report={
            "ways_kept": {"footway": 1},
            "ways_left": {"motorway": 1},
            "segments_outside": 0,
            "pieces": 1,
            "nodes_in_smaller_pieces": 0,
        },
    )
    a, b = (
        StreetNode.objects.create(network=network, osm_id=n, latitude=lat + d, longitude=lng)
        for n, d in [(1, 0.0), (2, 0.001)]
    )
    StreetEdge.objects.create(network=network, source=a, target=b, length_m=111, kind="footway")
    return network


def build_world(
    subdistrict: Subdistrict, marker: str, number: int, point: tuple[float, float]
) -> World:
    """A whole community named after ``marker``; ``number`` keeps phone numbers and file names
    apart from the other worlds'; ``point`` is where the community office stands."""
    lat, lng = point
    now = timezone.now()
    today = timezone.localdate()
    community = Community.objects.create(
        subdistrict=subdistrict,
        name=f"{marker}社区",
        population=3000,
        households=1000,
        feature=f"{marker}特色",
        description=f"{marker}社区的简介。",
        office_address=f"{marker}路1号",
        phone="0431-85550000",
        latitude=lat,
        longitude=lng,
    )
    compound = ResidentialCompound.objects.create(
        community=community,
        name=f"{marker}一区",
        population=1500,
        households=500,
        latitude=lat + 0.001,
        longitude=lng + 0.001,
    )
    gate = CompoundGate.objects.create(
        compound=compound, name=f"{marker}北门", latitude=lat + 0.0012, longitude=lng + 0.001
    )
    canteen = Category.objects.get(code="canteen")
    facility = Facility.objects.create(
        community=community,
        category=canteen,
        name=f"{marker}长者食堂",
        address=f"{marker}路2号",
        operator=f"{marker}居委会",
        price_notes=f"{marker}午餐15元",
        description=f"{marker}食堂的简介。",
        latitude=lat + 0.0015,
        longitude=lng + 0.001,
    )
    hours = OpeningHours.objects.create(
        facility=facility, weekday=today.weekday(), opens=time(11), closes=time(13)
    )
    exception = HoursException.objects.create(
        facility=facility, start_date=today + timedelta(days=10), closed=True, note=f"{marker}检修"
    )
    senior_price = SeniorPrice.objects.create(
        facility=facility, kind=MealKind.LUNCH, min_age=70, max_age=79, price=Decimal("8.00")
    )
    meal = Meal.objects.create(
        facility=facility,
        date=today,
        kind=MealKind.LUNCH,
        dishes=f"{marker}红烧肉\n米饭",
        price=Decimal("15.00"),
    )
    photo = FacilityPhoto.objects.create(
        facility=facility,
        key=f"attack{number:04d}photo",
        widths="480",
        width=480,
        height=360,
        alt_zh=f"{marker}食堂用餐区",
    )
    idle_room = IdleRoom.objects.create(
        community=community,
        name=f"{marker}闲置用房",
        floor_area=200,
        owner=f"{marker}物业",
        notes=f"{marker}备注",
        latitude=lat + 0.002,
        longitude=lng,
    )
    term = Term.objects.create(
        community=community,
        year=today.year,
        season=Term.Season.AUTUMN,
        registration_opens=now - timedelta(days=30),
        registration_closes=now - timedelta(days=1),
        starts_on=today - timedelta(days=28),
        ends_on=today + timedelta(days=90),
    )
    course = Course.objects.create(
        term=term,
        name=f"{marker}摄影课",
        subject=Course.Subject.PHOTOGRAPHY,
        audience=Course.Audience.SENIOR,
        provider=f"{marker}老年大学",
        description=f"{marker}课程简介",
    )

    def course_class(level: str, allocation: str) -> CourseClass:
        return CourseClass.objects.create(
            course=course,
            level=f"{marker}{level}",
            weekday=today.weekday(),
            starts_at=time(9),
            ends_at=time(11),
            first_date=today - timedelta(days=28),
            last_date=today + timedelta(days=84),
            facility=facility,
            room=f"{marker}教室",
            teacher=f"{marker}老师",
            capacity=10,
            allocation=allocation,
        )

    class_first = course_class("初级", CourseClass.Allocation.FIRST_COME)
    class_lottery = course_class("中级", CourseClass.Allocation.LOTTERY)
    class_drawn = course_class("高级", CourseClass.Allocation.LOTTERY)

    phone = f"1390000{number:04d}"
    resident_user = _user(phone, first_name=f"{marker}居民")
    resident = Resident.objects.create(
        user=resident_user, name=f"{marker}居民", phone=phone, birth_year=1955, compound=compound
    )
    enrolment = Enrolment.objects.create(
        course_class=class_first,
        user=resident_user,
        status=Enrolment.Status.ENROLLED,
        enrolled_at=now - timedelta(days=20),
    )
    CourseClass.objects.filter(pk=class_first.pk).update(enrolled_count=1)
    class_first.refresh_from_db()
    application = Enrolment.objects.create(
        course_class=class_lottery, user=resident_user, status=Enrolment.Status.APPLIED
    )
    drawn = Enrolment.objects.create(
        course_class=class_drawn,
        user=resident_user,
        status=Enrolment.Status.ENROLLED,
        enrolled_at=now - timedelta(days=1),
        draw_rank=1,
    )
    CourseClass.objects.filter(pk=class_drawn.pk).update(enrolled_count=1)
    class_drawn.refresh_from_db()
    draw = Draw.objects.create(
        course_class=class_drawn,
        seed=f"seed{number:04d}",
        drawn_at=now - timedelta(days=1),
        seats=1,
        applications=[drawn.pk],
    )
    meeting = max(d for d in attendance.meetings_of(class_first) if d < today)
    staff = _user(f"staff-{number:04d}", first_name=f"{marker}工作人员")
    membership = make_staff(staff, community)
    mark = Attendance.objects.create(
        enrolment=enrolment, date=meeting, present=True, recorded_at=now, recorded_by=staff
    )
    wish = Wish.post(
        author=resident_user,
        community=community,
        kind=Wish.Kind.SERVICE,
        title=f"{marker}想要理发",
        text=f"{marker}的老人想在家门口理发。",
    )
    return World(
        marker=marker,
        district=subdistrict.district,
        subdistrict=subdistrict,
        community=community,
        compound=compound,
        gate=gate,
        street_network=_street_network(subdistrict.district, point),
        facility=facility,
        hours=hours,
        exception=exception,
        senior_price=senior_price,
        meal=meal,
        photo=photo,
        idle_room=idle_room,
        term=term,
        course=course,
        class_first=class_first,
        class_lottery=class_lottery,
        class_drawn=class_drawn,
        draw=draw,
        enrolment=enrolment,
        application=application,
        attendance=mark,
        meeting=meeting,
        resident=resident,
        resident_user=resident_user,
        wish=wish,
        support=wish.supports.get(),
        staff=staff,
        membership=membership,
        notice=Notice.objects.create(
            key=f"wish-reply:{wish.pk}:{number}",
            kind=Kind.WISH_REPLY,
            user=resident_user,
            community=community,
            channel="sms",
            language="zh-hans",
            text=f"社区回复了您的需求“{marker}想要理发”。",
            status=Notice.Status.FAILED,
            attempts=1,
            next_attempt_at=now,
            last_error="isv.MOBILE_NUMBER_ILLEGAL: 非法手机号",
        ),
    )


@dataclass
class City:
    """The victim community A and everyone around it who might attack it."""

    a: World  # the victim
    neighbour: World  # another community of A's subdistrict
    across: World  # a community of another subdistrict of A's district
    b: World  # a community of another district
    official_a: models.Model  # official of A's district: reads A in reports
    official_across: models.Model  # official of the other subdistrict of A's district
    official_b: models.Model  # official of B's district
    city_admin: models.Model


def build_city() -> City:
    home = District.objects.create(
        code="220104",
        name="朝阳区",
        city="长春市",
        city_code="2201",
        province="吉林省",
        province_code="22",
    )
    away = District.objects.create(
        code="410305",
        name="涧西区",
        city="洛阳市",
        city_code="4103",
        province="河南省",
        province_code="41",
    )
    street = Subdistrict.objects.create(district=home, code="220104001", name="青年路街道")
    other_street = Subdistrict.objects.create(district=home, code="220104002", name="红旗街道")
    far_street = Subdistrict.objects.create(district=away, code="410305001", name="关林街道")
    a = build_world(street, "青松", 1, (43.880, 125.270))
    neighbour = build_world(street, "白杨", 2, (43.884, 125.276))
    across = build_world(other_street, "红枫", 3, (43.870, 125.260))
    b = build_world(far_street, "石油", 4, (34.600, 112.450))

    def official(username: str, **area) -> models.Model:
        user = _user(username)
        Membership.objects.create(user=user, role=Membership.Role.OFFICIAL, **area)
        return user

    city_admin = _user("attack-cityadmin", is_staff=True, is_superuser=True)
    Membership.objects.create(user=city_admin, role=Membership.Role.CITY_ADMIN)
    return City(
        a=a,
        neighbour=neighbour,
        across=across,
        b=b,
        official_a=official("official-home", district=home),
        official_across=official("official-other-street", subdistrict=other_street),
        official_b=official("official-away", district=away),
        city_admin=city_admin,
    )
