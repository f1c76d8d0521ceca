"""The attack suite's second half: requests made from outside the pages' own forms and links.
(The first half, test_admin_attacks.py, crosses community, subdistrict and district lines.)

- CSRF: every URL pattern the resolver knows is POSTed to by a user entitled to the action,
  with the body a browser would send, but without a CSRF token, with a forged one, and with a
  matching one from another origin: each is refused by the CSRF check (403) and no table
  changes. The same request with the token passes the check: the refusal was the token's.
- Open redirects: every view that honours ``next`` (or the Referer) is given off-site targets;
  no Location, meta refresh, link or hidden ``next`` field in its answer leaves the site, after
  a successful action too.
- Escaped text: every free-text field of the project's models holds markup, and every page
  that shows it shows it escaped.
- Malformed query strings: every GET URL pattern, with each parameter its view reads and the
  generic ones, answers below 500 (a 400, an ordinary page or an empty result) and changes
  nothing.

Each attempt is named and counted (tests.security.conftest.attempt); the run prints the count.
"""

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.apps import apps
from django.conf import settings as conf
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django.utils.html import escape
from django.views.csrf import csrf_failure
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities import roles
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
from courses import enrolment as enrolling
from courses.models import Attendance, Course, CourseClass, Draw, Enrolment, Term
from facilities import sheets, taxonomy
from facilities.models import (
    Category,
    Facility,
    FacilityPhoto,
    HoursException,
    IdleRoom,
    Meal,
    MealKind,
    SeniorPrice,
)
from notices.models import Kind, Notice
from portal.lib.geo import distance_m
from reports.report_export import TABLES
from residents.models import Resident
from streets.models import StreetEdge, StreetNetwork, StreetNode
from tests.conftest import PASSWORD, client_for
from tests.facilities.conftest import category, place, weekly
from tests.security.conftest import attempt
from wishes.models import Wish

HOST = "testserver"
EVIL = "evil.example"


# ---- the scene: one of everything, in community A (staff_a's), beside community B ----


@dataclass
class World:
    users: dict[str, object]  # persona → user ("anonymous" has none)
    objects: dict[type, models.Model]  # model → the row of it the attacks aim at
    profile: Resident
    open_class: CourseClass  # a first-come class the resident is not in
    lottery_class: CourseClass
    meeting_day: object  # a past meeting of ``objects[CourseClass]``
    extra: dict[str, object] = field(default_factory=dict)  # what a test reads once and keeps

    def __getitem__(self, model: type) -> models.Model:
        return self.objects[model]


@pytest.fixture(scope="module")
def scene(django_db_setup, django_db_blocker):
    """The world, built once for the module inside a transaction that is rolled back at its
    end; each test runs in a savepoint of it (pytest-django's ``db``), so whatever a test's
    requests change is gone before the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(scene, db) -> World:
    return scene


# Community A's district's street network: one footway past its compound and canteen.
STREET_ENDS = [(43.8805, 125.2705), (43.8830, 125.2725)]


def build_world() -> World:
    """Places and personas as tests/conftest.py makes them (its fixtures are per test, this
    scene is per module), and one row of every kind in community A."""
    district = District.objects.create(
        code="220106",
        name="绿园区",
        city="长春市",
        city_code="2201",
        province="吉林省",
        province_code="22",
    )
    other = District.objects.create(
        code="410311",
        name="洛龙区",
        city="洛阳市",
        city_code="4103",
        province="河南省",
        province_code="41",
    )
    community_a = Community.objects.create(
        subdistrict=Subdistrict.objects.create(
            district=district, code="220106005", name="青年路街道"
        ),
        name="新竹社区",
        population=3000,
        households=1100,
        feature="特色楼栋",
        description="打造老年大学。",
        office_address="青年路88号",
        demo_note="演示说明",
        latitude=43.88,
        longitude=125.27,
    )
    community_b = Community.objects.create(
        subdistrict=Subdistrict.objects.create(district=other, code="410311004", name="关林街道"),
        name="石油社区",
        population=2000,
        households=800,
        latitude=34.60,
        longitude=112.45,
    )
    compound_a = ResidentialCompound.objects.create(
        community=community_a,
        name="新竹一区",
        population=1200,
        households=450,
        latitude=43.881,
        longitude=125.271,
    )
    gate = CompoundGate.objects.create(
        compound=compound_a, name="新竹一区北门", latitude=43.8812, longitude=125.2711
    )
    ResidentialCompound.objects.create(
        community=community_b,
        name="地勘三院小区",
        population=900,
        households=350,
        latitude=34.601,
        longitude=112.451,
    )
    User = get_user_model()
    resident = User.objects.create_user(username="resident", password=PASSWORD)
    staff_a = User.objects.create_user(username="staff-a", password=PASSWORD)
    make_staff(staff_a, community_a)
    staff_b = User.objects.create_user(username="staff-b", password=PASSWORD)
    make_staff(staff_b, community_b)
    official = User.objects.create_user(username="official", password=PASSWORD)
    Membership.objects.create(user=official, role=Membership.Role.OFFICIAL, district=district)
    city_admin = User.objects.create_user(
        username="cityadmin", password=PASSWORD, is_staff=True, is_superuser=True
    )
    Membership.objects.create(user=city_admin, role=Membership.Role.CITY_ADMIN)
    taxonomy.add_missing(Category)
    now, today = timezone.now(), timezone.localdate()
    profile = Resident.objects.create(
        user=resident, name="王秀英", phone="13800000001", birth_year=1950, compound=compound_a
    )
    author = get_user_model().objects.create_user(username="13800000002", password=PASSWORD)
    Resident.objects.create(
        user=author, name="李建国", phone="13800000002", birth_year=1955, compound=compound_a
    )
    canteen = place(
        compound_a,
        north=200,
        community=community_a,
        category=category("canteen"),
        name="新竹长者食堂",
        address="青年路90号",
        operator="新竹餐饮公司",
        price_notes="午餐套餐15元。",
        description="社区长者食堂。",
    )
    canteen.other_categories.add(category("senior_university"))
    weekly(canteen, (time(11), time(13)))
    closed_day = HoursException.objects.create(
        facility=canteen, start_date=today + timedelta(days=2), closed=True, note="设备检修"
    )
    meal = Meal.objects.create(
        facility=canteen, date=today, kind=MealKind.LUNCH, dishes="红烧肉\n米饭", price=15
    )
    SeniorPrice.objects.create(facility=canteen, kind=MealKind.LUNCH, min_age=70, price=10)
    photo = FacilityPhoto.objects.create(
        facility=canteen,
        key="0" * 32,
        widths="480",
        width=480,
        height=360,
        alt_zh="食堂用餐区",
        alt_en="The dining room",
    )
    room = IdleRoom.objects.create(
        community=community_a,
        name="活动室",
        floor_area=200,
        owner="物业公司",
        notes="一楼朝南。",
        latitude=43.8815,
        longitude=125.2715,
    )
    first = today - timedelta(days=14)
    term = Term.objects.create(
        community=community_a,
        year=today.year,
        season=Term.Season.AUTUMN,
        registration_opens=now - timedelta(days=1),
        registration_closes=now + timedelta(days=14),
        starts_on=first,
        ends_on=today + timedelta(days=120),
        class_limit=5,
    )
    course = Course.objects.create(
        term=term,
        name="摄影入门",
        subject=Course.Subject.PHOTOGRAPHY,
        audience=Course.Audience.SENIOR,
        provider="老年大学",
        description="用手机拍好照片。",
    )

    def a_class(level: str, **fields) -> CourseClass:
        return CourseClass.objects.create(
            course=course,
            level=level,
            weekday=first.weekday(),
            starts_at=time(9),
            ends_at=time(11),
            first_date=first,
            last_date=today + timedelta(days=60),
            facility=canteen,
            room="二楼教室",
            teacher="张老师",
            capacity=5,
            **fields,
        )

    course_class, open_class = a_class("初级"), a_class("中级")
    lottery_class = a_class("高级", allocation=CourseClass.Allocation.LOTTERY)
    place_taken = enrolling.enrol(resident, course_class)
    applied = enrolling.enrol(author, lottery_class)
    draw = Draw.objects.create(
        course_class=lottery_class, seed="f00d", drawn_at=now, seats=5, applications=[applied.pk]
    )
    meeting_day = attendance.meetings_of(course_class)[0]
    assert meeting_day <= today
    Attendance.objects.create(
        enrolment=place_taken,
        date=meeting_day,
        present=True,
        recorded_at=now,
        recorded_by=staff_a,
    )
    wish = Wish.post(
        author=author, community=community_a, kind=Wish.Kind.FACILITY, title="助浴点", text="助浴。"
    )
    Wish.objects.filter(pk=wish.pk).update(
        status=Wish.Status.PLANNED, reply="已列入计划。", replied_at=now, replied_by=staff_a
    )
    network = StreetNetwork.objects.create(
        district=district,
        source_name="changchun.osm.pbf",
        source_sha256="0" * 64,
        imported_at=now,
        south=43.83,
        west=125.22,
        north=43.93,
        east=125.32,
        node_count=2,
        edge_count=1,
        length_km=distance_m(STREET_ENDS[0], STREET_ENDS[1]) / 1000,
        report={"ways_kept": {"footway": 1}, "ways_left": {}, "segments_outside": 0, "pieces": 1},
    )
    ends = [
        StreetNode.objects.create(network=network, osm_id=n, latitude=lat, longitude=lng)
        for n, (lat, lng) in enumerate(STREET_ENDS, start=1)
    ]
    metres = network.length_km * 1000
    StreetEdge.objects.create(
        network=network, source=ends[0], target=ends[1], length_m=metres, kind="footway"
    )
    objects = {
        District: community_a.subdistrict.district,
        Subdistrict: community_a.subdistrict,
        Community: community_a,
        ResidentialCompound: compound_a,
        CompoundGate: gate,
        StreetNetwork: network,
        Membership: Membership.objects.get(user=staff_a),
        Category: canteen.category,
        Facility: canteen,
        HoursException: closed_day,
        Meal: meal,
        FacilityPhoto: photo,
        IdleRoom: room,
        Term: term,
        Course: course,
        CourseClass: course_class,
        Enrolment: place_taken,
        Draw: draw,
        Resident: profile,
        Wish: wish,
        Notice: Notice.objects.create(
            key=f"wish-reply:{wish.pk}:1:{author.pk}",
            kind=Kind.WISH_REPLY,
            user=author,
            community=community_a,
            channel="sms",
            language="zh-hans",
            text="社区回复了您的需求“助浴点”。",
            status=Notice.Status.FAILED,
            attempts=1,
            next_attempt_at=now,
        ),
        get_user_model(): author,
        Group: Group.objects.get(name=roles.STAFF_GROUP),
    }
    users = {
        "anonymous": None,
        "resident": resident,
        "author": author,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "official": official,
        "city_admin": city_admin,
    }
    return World(users, objects, profile, open_class, lottery_class, meeting_day)


def client_as(world: World, persona: str, *, enforce_csrf: bool = False) -> Client:
    """A client of ``persona``, signed in past the second step where the account needs one."""
    if persona == "anonymous":
        return Client(enforce_csrf_checks=enforce_csrf)
    client = client_for(world.users[persona])
    client.handler.enforce_csrf_checks = enforce_csrf
    return client


# ---- every table, before and after ----

# Rows that move without anyone's action being let through: a session is written by every
# sign-in and message, migrations by nobody here.
UNWATCHED_TABLES = {"django_session", "django_migrations"}


def snapshot() -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows, in one query."""
    with connection.cursor() as cursor:
        tables = sorted(set(connection.introspection.table_names(cursor)) - UNWATCHED_TABLES)
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT %s, count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), "
                f"'')) FROM {connection.ops.quote_name(table)} t"
                for table in tables
            ),
            tables,
        )
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def changed(before: dict, after: dict) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# ---- every URL pattern ----


@dataclass(frozen=True)
class Route:
    pieces: tuple  # the patterns from the root to the view
    name: str | None
    callback: object

    def __str__(self) -> str:
        return self.name or "".join(str(p) for p in self.pieces)

    @property
    def params(self) -> list[str]:
        names = []
        for piece in self.pieces:
            if isinstance(piece, RoutePattern):
                names += list(piece.converters)
            else:
                names += list(piece.regex.groupindex)
        return names

    @property
    def csrf_exempt(self) -> bool:
        return getattr(self.callback, "csrf_exempt", False)

    @property
    def model(self) -> type | None:
        """The model of an admin model's page (``admin/<app>/<model>/…``)."""
        if len(self.pieces) == 3 and str(self.pieces[0]) == "admin/":
            app_label, model_name = str(self.pieces[1]).strip("/").split("/")
            return apps.get_model(app_label, model_name)
        return None

    @property
    def is_admin(self) -> bool:
        return str(self.pieces[0]) == "admin/"


def _walk(patterns, pieces=(), namespaces=()):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            spaces = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from _walk(pattern.url_patterns, (*pieces, pattern.pattern), spaces)
        else:
            name = ":".join((*namespaces, pattern.name)) if pattern.name else None
            yield Route((*pieces, pattern.pattern), name, pattern.callback)


ROUTES = list(_walk(get_resolver().url_patterns))


def param_value(route: Route, param: str, world: World):
    """A real value for a path parameter: the world's row the persona may act on."""
    name = route.name or ""
    if param == "object_id" and route.model is not None:
        return world[route.model].pk
    if name == "admin:view_on_site":
        community = world[Community]
        if param == "content_type_id":
            return ContentType.objects.get_for_model(community).pk
        return community.pk
    by_name = {
        ("communities:detail", "slug"): lambda: world[Facility].community.slug,
        ("reports:community", "slug"): lambda: world[Facility].community.slug,
        ("facilities:detail", "slug"): lambda: world[Facility].slug,
        ("facilities:poster", "slug"): lambda: world[Facility].slug,
        ("facilities:history", "slug"): lambda: world[Facility].slug,
        ("courses:detail", "slug"): lambda: world[Course].slug,
        ("courses:enrol", "pk"): lambda: world.open_class.pk,
        ("courses:draw", "pk"): lambda: world.lottery_class.pk,
        ("me:cancel", "pk"): lambda: world[CourseClass].enrolments.get().pk,
        ("me:calendar", "token"): lambda: world.profile.calendar_token,
        ("wishes:detail", "pk"): lambda: world[Wish].pk,
        ("wishes:support", "pk"): lambda: world[Wish].pk,
        ("reports:export-csv", "table"): lambda: TABLES[0],
        ("admin:facilities_facility_export", "kind"): lambda: "xlsx",
        ("admin:communities_residentialcompound_export", "kind"): lambda: "xlsx",
        ("admin:facilities_idleroom_export", "kind"): lambda: "xlsx",
        ("admin:communities_community_export", "kind"): lambda: "xlsx",
        ("admin:courses_courseclass_attendance_meeting", "day"): lambda: world.meeting_day,
        ("admin:app_list", "app_label"): lambda: "facilities",
        ("admin:auth_user_password_change", "id"): lambda: world.users["author"].pk,
        ("photo", "name"): lambda: f"{world[FacilityPhoto].key}-480.jpg",
        ("", "url"): lambda: "no-such-page/",
        ("opendata:service", "id"): lambda: _hsds("facility_service_id", world[Facility].pk),
        ("opendata:service_at_location", "id"): lambda: _hsds(
            "facility_sal_id", world[Facility].pk
        ),
        ("opendata:organization", "id"): lambda: _hsds(
            "organization_id", world[Facility].community_id
        ),
        ("opendata:taxonomy", "id"): lambda: _hsds("TAXONOMY_ID"),
        ("opendata:taxonomy_term", "id"): lambda: _hsds("term_id", world[Category].code),
        ("opendata:schema", "name"): lambda: "address.json",
        ("notices:sms-replies", "token"): lambda: "not-the-token",
    }
    if (name, param) not in by_name:
        raise LookupError(f"no value for <{param}> of {route}: add one to param_value()")
    return by_name[name, param]()


def _hsds(name: str, *args) -> str:
    """An open-data id (opendata.hsds), made as the API makes it."""
    from opendata import hsds

    value = getattr(hsds, name)
    return value(*args) if args else value


def path_for(route: Route, world: World) -> str:
    values = {p: param_value(route, p, world) for p in route.params}
    if route.name:
        return reverse(route.name, kwargs=values)
    path = "/"
    for piece in route.pieces:
        text = str(piece)
        if isinstance(piece, RoutePattern):
            text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), text)
        else:
            text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m[1]]), text).strip("^$")
        path += text
    return path


# Back-office models only the city administrator keeps (staff read their district's network).
CITY_WIDE = {District, Subdistrict, Membership, Category, Group, get_user_model(), StreetNetwork}


def persona_for(route: Route) -> str:
    """Who is entitled to the page's action."""
    name = route.name or ""
    if name in ("login", "admin:login", "residents:register"):
        return "anonymous"
    if name.startswith("reports:") or name in ("wishes:summary", "communities:changes"):
        return "official"
    if name == "two-factor-codes":
        return "staff_a"  # a verified session: residents without an authenticator have none
    if route.is_admin:
        return "city_admin" if route.model in CITY_WIDE else "staff_a"
    return "resident"


# ---- reading pages: links, redirect targets and forms ----


class Page(HTMLParser):
    """The URLs a page points to (links, sources, form actions, meta refreshes and hidden
    ``next`` fields) and the fields of its forms as a browser would send them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: list | None = None
        self.feed(html)
        self.close()

    def _add(self, name, value):
        if self._form is not None and name:
            self._form["fields"].setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = {k: v if v is not None else "" for k, v in attrs}
        for attr in ("href", "src", "action", "formaction"):
            if attr in a:
                self.urls.append(a[attr])
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.urls.append(re.sub(r"(?i)^\s*\d*\s*;?\s*url\s*=\s*", "", a.get("content", "")))
        if tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action")}
            self._form["fields"] = {}
            self.forms.append(self._form)
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if a.get("name") == "next":
                self.urls.append(a.get("value", ""))
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a.get("name"), a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self._add(a.get("name"), a.get("value", ""))
        elif tag == "select":
            self._select = {"name": a.get("name"), "first": None, "chosen": False}
            self._select["multiple"] = "multiple" in a
        elif tag == "option" and self._select is not None:
            if self._select["first"] is None:
                self._select["first"] = a.get("value", "")
            if "selected" in a:
                self._select["chosen"] = True
                self._add(self._select["name"], a.get("value", ""))
        elif tag == "textarea":
            self._textarea = [a.get("name")]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            s = self._select
            if not s["chosen"] and not s["multiple"] and s["first"] is not None:
                self._add(s["name"], s["first"])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, *text = self._textarea
            self._add(name, "".join(text).removeprefix("\n"))
            self._textarea = None

    def form_posting_to(self, path: str) -> dict[str, list[str]]:
        """The fields of the page's own POST form (the one that posts back to ``path``)."""
        for form in self.forms:
            if form["method"] == "post" and form["action"] in (None, "", path):
                fields = dict(form["fields"])
                fields.pop("csrfmiddlewaretoken", None)
                return fields
        return {}


# ==== 1. CSRF: every POST without a valid token is refused, and changes nothing ====

CSRF_MARK = "X-Attack-Suite-CSRF-Refused"
SECRET = "A" * 32  # a CSRF cookie as Django would set it (an unmasked secret)
FORGED = "B" * 32

# The only views that take a POST without a token, and why that is safe.
CSRF_EXEMPT = {
    "set_language": "sets the language cookie only: a forged post changes how pages read, "
    "nothing stored, and public pages stay cacheable whole (portal.caching.public_page)",
    "communities:display": "turns elder mode on or off in a cookie only, for the same reason",
    "opendata:": "the read-only open-data API: every method but GET and HEAD is answered 405",
    "notices:sms-replies": "the SMS provider's push of residents' replies: no browser session "
    "is read, the address carries its own secret (ALIYUN_SMS_REPLY_TOKEN), and all it can do "
    "is turn messages off for the number that replied",
}


def csrf_refused(request, reason=""):
    """Django's own CSRF failure page, marked so that a test can tell it from any other 403."""
    response = csrf_failure(request, reason)
    response[CSRF_MARK] = reason or "refused"
    return response


def exempt_reason(route: Route) -> str | None:
    name = route.name or ""
    for key, reason in CSRF_EXEMPT.items():
        if name == key or (key.endswith(":") and name.startswith(key)):
            return reason
    return None


@dataclass(frozen=True)
class Upload:
    """A file field of a body, made anew for each request (a posted file is read once)."""

    name: str
    content: bytes


def _totp(device: TOTPDevice) -> str:
    """The code the authenticator app shows now."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def _unchecked_post(client: Client, path: str, data: dict):
    """A request of the scene's own setting-up, with the CSRF check off for it."""
    client.handler.enforce_csrf_checks = False
    try:
        return client.post(path, data)
    finally:
        client.handler.enforce_csrf_checks = True


def _sheet(world: World) -> Upload:
    content = sheets.to_csv(sheets.export_rows(world.users["staff_a"]))
    return Upload("list.csv", content.encode() if isinstance(content, str) else content)


def _confirm_import(world: World, client: Client, path: str) -> dict:
    upload = _sheet(world)
    _unchecked_post(
        client,
        reverse("admin:facilities_facility_import"),
        {"sheet": SimpleUploadedFile(upload.name, upload.content)},
    )
    return {"sha256": client.session["sheet:facilities.facility"]["sha256"]}


def _action(name: str, model: type):
    return lambda world, client, path: {
        "action": name,
        "_selected_action": [world[model].pk],
        "index": "0",
        "post": "yes",
    }


NEW_PASSWORD = "Quiet-river-crossing-2026"

# What the entitled user fills in on top of the form as the page shows it (name → builder of
# the overrides, given the world, the client and the path). The builder may set things up
# first (with the CSRF check off for that).
FILLED_IN = {
    "login": lambda w, c, p: {"username": "resident", "password": PASSWORD},
    "admin:login": lambda w, c, p: {"username": "staff-a", "password": PASSWORD},
    "residents:register": lambda w, c, p: {
        "name": "赵敏",
        "phone": "13900000009",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "birth_year": "1960",
        "compound": str(w[ResidentialCompound].pk),
        "privacy": "on",
    },
    "residents:password": lambda w, c, p: {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    },
    "admin:password_change": lambda w, c, p: {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    },
    "residents:delete": lambda w, c, p: {"password": PASSWORD},
    "wishes:new": lambda w, c, p: {
        "community": str(w[Community].pk),
        "kind": "course",
        "title": "书法班",
        "text": "每周一次。",
    },
    "two-factor-setup": lambda w, c, p: {
        "code": _totp(TOTPDevice.objects.get(user=w.users["resident"], confirmed=False))
    },
    "admin:courses_courseclass_desk": lambda w, c, p: {
        "phone": "13900000008",
        "name": "钱学",
        "birth_year": "1950",
        "compound": str(w[ResidentialCompound].pk),
    },
    "admin:courses_courseclass_attendance_meeting": lambda w, c, p: {"present": []},
    "admin:facilities_facility_import": lambda w, c, p: {"sheet": _sheet(w)},
    # Not an extract of the district's streets: the import is refused, nothing changes.
    "admin:streets_streetnetwork_import": lambda w, c, p: {
        "district": str(w[District].pk),
        "extract": Upload("changchun.osm.pbf", b"not an extract"),
    },
    "admin:facilities_facility_import_confirm": _confirm_import,
    "admin:facilities_facility_changelist": lambda w, c, p: {
        "action": "copy_menus_to_next_week",
        "_selected_action": [w[Facility].pk],
        "index": "0",
    },
    "admin:courses_enrolment_changelist": _action("cancel_enrolments", Enrolment),
    "admin:communities_residentialcompound_changelist": _action(
        "delete_selected", ResidentialCompound
    ),
    "admin:wishes_wish_changelist": _action("delete_selected", Wish),
    "admin:facilities_meal_changelist": _action("delete_selected", Meal),
    "admin:communities_residentialcompound_add": lambda w, c, p: {
        "name": "新竹二区",
        "community": str(w[Community].pk),
        "population": "10",
        "households": "5",
        "latitude": str(w[Community].latitude),  # in the district: points outside are refused
        "longitude": str(w[Community].longitude),
    },
    "admin:communities_community_change": lambda w, c, p: {"feature": "改过的特色"},
    "admin:facilities_facility_change": lambda w, c, p: {"description": "改过的介绍。"},
    "admin:facilities_idleroom_change": lambda w, c, p: {"notes": "改过的说明。"},
    "admin:courses_course_change": lambda w, c, p: {"description": "改过的介绍。"},
    "admin:wishes_wish_change": lambda w, c, p: {"reply": "好的，已经安排。"},
}
# Actions whose control request (the same POST with the token) must change the database: the
# proof that the refused requests were real actions the user was entitled to.
CHANGES_WITH_TOKEN = {
    "login",
    "admin:login",
    "residents:register",
    "residents:password",
    "admin:password_change",
    "residents:delete",
    "courses:enrol",
    "me:cancel",
    "me:new-calendar",
    "wishes:new",
    "wishes:support",
    "two-factor-setup",
    "two-factor-codes",
    "admin:courses_courseclass_desk",
    "admin:courses_courseclass_attendance_meeting",
    "admin:residents_resident_password",
    "admin:facilities_facility_changelist",
    "admin:courses_enrolment_changelist",
    "admin:communities_residentialcompound_changelist",
    "admin:wishes_wish_changelist",
    "admin:facilities_meal_changelist",
    "admin:communities_residentialcompound_add",
    "admin:communities_community_change",
    "admin:facilities_facility_change",
    "admin:facilities_idleroom_change",
    "admin:courses_course_change",
    "admin:wishes_wish_change",
    "admin:facilities_idleroom_delete",
    "admin:streets_streetnetwork_delete",
}


def _materialised(body: dict) -> dict:
    return {
        k: SimpleUploadedFile(v.name, v.content) if isinstance(v, Upload) else v
        for k, v in body.items()
    }


def entitled_body(route: Route, world: World, client: Client, path: str) -> dict:
    """The body a browser would send from the page's own form, with the entitled user's
    entries: the page is fetched first (its GET), its form read, then filled in."""
    body = {}
    page = client.get(path)
    if page.status_code == 200 and "html" in page.get("Content-Type", ""):
        body = Page(page.content.decode()).form_posting_to(path)
    fill = FILLED_IN.get(route.name or "")
    if fill:
        body |= fill(world, client, path)
    return body


# The ways a request can lack a valid token: (name, extra cookie, extra body, request kwargs).
FORGERIES = [
    ("without a token or a CSRF cookie", None, {}, {}),
    ("with a forged token", SECRET, {"csrfmiddlewaretoken": FORGED}, {}),
    ("with a forged X-CSRFToken header", SECRET, {}, {"HTTP_X_CSRFTOKEN": FORGED}),
    (
        "with the right token sent from another origin",
        SECRET,
        {"csrfmiddlewaretoken": SECRET},
        {"HTTP_ORIGIN": f"https://{EVIL}"},
    ),
    (
        "over HTTPS with the right token and another site's Referer",
        SECRET,
        {"csrfmiddlewaretoken": SECRET},
        {"secure": True, "HTTP_REFERER": f"https://{EVIL}/form"},
    ),
]


def _post(client: Client, path: str, body: dict, cookie: str | None, **kwargs):
    if cookie is None:
        client.cookies.pop(conf.CSRF_COOKIE_NAME, None)
    else:
        client.cookies[conf.CSRF_COOKIE_NAME] = cookie
    return client.post(path, _materialised(body), **kwargs)


@pytest.fixture
def csrf_marked(settings):
    settings.CSRF_FAILURE_VIEW = f"{__name__}.csrf_refused"


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    route, world, csrf_marked
):
    persona = persona_for(route)
    path = path_for(route, world)
    client = client_as(world, persona, enforce_csrf=True)
    body = entitled_body(route, world, client, path)
    before = snapshot()

    if route.csrf_exempt:
        reason = exempt_reason(route)
        name = attempt("csrf", f"{route} ({path}) as {persona}, a view without the CSRF check")
        assert reason, f"{name}: csrf_exempt, and not in CSRF_EXEMPT with the reason it is safe"
        response = _post(client, path, body, None)
        assert response.status_code < 500, name
        if (route.name or "").startswith("opendata:"):
            assert response.status_code == 405, name
        assert changed(before, snapshot()) == [], name
        return

    names = []
    for forgery, cookie, extra, kwargs in FORGERIES:
        name = attempt("csrf", f"POST {path} ({route}) as {persona} {forgery}")
        response = _post(client, path, body | extra, cookie, **kwargs)
        assert response.status_code == 403, f"{name}: answered {response.status_code}"
        assert CSRF_MARK in response, f"{name}: a 403, but not the CSRF check's"
        names.append(name)
    assert changed(before, snapshot()) == [], f"tables changed after: {names}"

    # The control: the same request with the token passes the check.
    response = _post(client, path, body | {"csrfmiddlewaretoken": SECRET}, SECRET)
    control = f"control: POST {path} ({route}) as {persona} with the token"
    assert CSRF_MARK not in response, f"{control} was refused: {response[CSRF_MARK]}"
    assert response.status_code < 500, control
    if route.name in CHANGES_WITH_TOKEN:
        assert changed(before, snapshot()), f"{control} changed nothing: not a real action"


# ==== 2. Open redirects: no answer sends anyone off the site ====

# Off-site targets as people write them to slip past a check: absolute, scheme-relative,
# backslashes browsers read as slashes, whitespace and controls browsers drop, other schemes,
# credentials that make the real host a user name, and encodings of all these.
OFF_SITE = [
    f"https://{EVIL}/",
    f"http://{EVIL}",
    f"//{EVIL}",
    f"///{EVIL}",
    f"/\\{EVIL}",
    f"\\\\{EVIL}",
    f"\\/{EVIL}",
    f"https:{EVIL}",
    f"https:/{EVIL}",
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    f"%2F%2F{EVIL}",
    f" //{EVIL}",
    f"\t//{EVIL}",
    f"/%09/{EVIL}",
    f"/\t/{EVIL}",
    f"https://{HOST}@{EVIL}",
    f"https://{EVIL}\\@{HOST}/",
    f"//{EVIL}/%2F..",
]
# The actions that take a fresh account or a whole sign-in each time get the main kinds.
FEW_OFF_SITE = [
    f"https://{EVIL}/",
    f"//{EVIL}",
    f"/\\{EVIL}",
    f"https:{EVIL}",
    " JaVaScRiPt:alert(1)",
    f"%2F%2F{EVIL}",
    f"\t//{EVIL}",
    f"https://{HOST}@{EVIL}",
]
MARKERS = ("evil", "javascript:", "alert(")


def off_site(url: str) -> bool:
    """Whether a browser following ``url`` from one of our pages would leave the site. Read
    as browsers read it: leading and trailing spaces and control characters dropped, tabs and
    newlines dropped anywhere, backslashes taken for slashes."""
    url = url.strip("".join(map(chr, range(0x21))))
    url = re.sub(r"[\t\n\r]", "", url).replace("\\", "/")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return True
    if parts.scheme:
        return parts.scheme.lower() not in ("http", "https") or host != HOST
    return bool(parts.netloc) and host != HOST


def leaks(response) -> list[str]:
    """Where the answer would send the browser off the site: its redirect headers, and any
    link, form action, meta refresh or hidden ``next`` field that carries the attacker's
    target."""
    found = []
    for header in ("Location", "Refresh", "HX-Redirect", "HX-Location"):
        value = response.get(header)
        if value:
            url = re.sub(r"(?i)^\s*\d*\s*;?\s*url\s*=\s*", "", value)
            if off_site(url):
                found.append(f"{header}: {value}")
    if "html" in response.get("Content-Type", "") and not getattr(response, "streaming", False):
        for url in Page(response.content.decode()).urls:
            if any(m in url.lower() for m in MARKERS) and off_site(url):
                found.append(f"page points to {url!r}")
    return found


def follow(client: Client, response, hops: int = 4) -> list:
    """The answer and, while it redirects within the site, the pages it leads to."""
    answers = [response]
    while response.status_code in (301, 302, 303, 307, 308) and hops:
        location = response["Location"]
        if off_site(location):
            break
        # Resolved against the page that answered, as a browser does ("%2F%2Fx" is a path).
        response = client.get(urljoin(response.request["PATH_INFO"], location))
        answers.append(response)
        hops -= 1
    return answers


def new_resident(world: World, n: int, **extra):
    """A resident account of its own, for an action that can be done once per person."""
    phone = str(13700000000 + n)
    user = get_user_model().objects.create_user(username=phone, password=PASSWORD)
    Resident.objects.create(
        user=user, name="新居民", phone=phone, birth_year=1955, compound=world[ResidentialCompound]
    )
    return user


def _q(target: str) -> str:
    return urlencode({"next": target})


REDIRECT_CASES = {}


def redirect_case(name: str, targets: list[str] = OFF_SITE):
    def register(function):
        REDIRECT_CASES[name] = (function, targets)
        return function

    return register


@redirect_case("our sign-in page")
def _(world, target, n):
    return [Client().get(f"/accounts/login/?{_q(target)}")]


@redirect_case("our sign-in, with the right password")
def _(world, target, n):
    client = Client()
    answer = client.post(
        f"/accounts/login/?{_q(target)}",
        {"username": "resident", "password": PASSWORD, "next": target},
    )
    return follow(client, answer)


@redirect_case("our sign-in page, signed in already", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "resident")
    return follow(client, client.get(f"/accounts/login/?{_q(target)}"))


@redirect_case("the back office's sign-in page")
def _(world, target, n):
    return [Client().get(f"/admin/login/?{_q(target)}")]


@redirect_case("the back office's sign-in, with the right password")
def _(world, target, n):
    client = Client()
    answer = client.post(
        f"/admin/login/?{_q(target)}",
        {"username": "staff-a", "password": PASSWORD, "next": target},
    )
    return follow(client, answer)


@redirect_case("the back office's sign-in page, signed in already", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "staff_a")
    return follow(client, client.get(f"/admin/login/?{_q(target)}"))


@redirect_case("the second sign-in step, with the right code", FEW_OFF_SITE)
def _(world, target, n):
    staff = world.users["staff_a"]
    device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # each code is good once
    device.refresh_from_db()
    client = Client()
    client.force_login(staff)  # the password step: the session now waits for the code
    page = client.get(f"/accounts/two-factor/?{_q(target)}")
    answer = client.post("/accounts/two-factor/", {"code": _totp(device), "next": target})
    return [page, *follow(client, answer)]


@redirect_case("setting up the second step, with the right code", FEW_OFF_SITE)
def _(world, target, n):
    user = new_resident(world, n)
    client = client_as(world, "anonymous")
    client.force_login(user)
    page = client.get(f"/accounts/two-factor/setup/?{_q(target)}")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    answer = client.post(
        f"/accounts/two-factor/setup/?{_q(target)}", {"code": _totp(device), "next": target}
    )
    return [page, *follow(client, answer)]


@redirect_case("the recovery codes page", FEW_OFF_SITE)
def _(world, target, n):
    return [client_as(world, "staff_a").get(f"/accounts/two-factor/codes/?{_q(target)}")]


@redirect_case("signing out", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "resident")
    return follow(client, client.post(f"/accounts/logout/?{_q(target)}", {"next": target}))


@redirect_case("signing out of the back office", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "staff_a")
    return follow(client, client.post(f"/admin/logout/?{_q(target)}", {"next": target}))


@redirect_case("the language switch")
def _(world, target, n):
    client = Client()
    return [
        client.post("/i18n/setlang/", {"language": "en", "next": target}),
        client.get(f"/i18n/setlang/?{_q(target)}&language=en"),
        client.post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER=target),
    ]


@redirect_case("the elder-mode switch")
def _(world, target, n):
    client = Client()
    return [
        client.post("/display/", {"elder": "1", "next": target}),
        client.post("/display/", {"elder": "0"}, HTTP_REFERER=target),
    ]


@redirect_case("supporting a wish")
def _(world, target, n):
    client = client_as(world, "resident")
    path = reverse("wishes:support", args=[world[Wish].pk])
    return [
        *follow(client, client.post(f"{path}?{_q(target)}", {"next": target})),
        client.post(path, {"next": target}, HTTP_HX_REQUEST="true"),
    ]


@redirect_case("supporting a wish, not signed in", FEW_OFF_SITE)
def _(world, target, n):
    client = Client()
    path = reverse("wishes:support", args=[world[Wish].pk])
    return [
        *follow(client, client.post(path, {"next": target})),
        client.post(path, {"next": target}, HTTP_HX_REQUEST="true"),
    ]


@redirect_case("posting a wish", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "anonymous")
    client.force_login(new_resident(world, n))
    data = {"community": world[Community].pk, "kind": "course", "title": "书法班", "text": "每周。"}
    answer = client.post(
        f"/wishes/new/?{_q(target)}", data | {"next": target}, REMOTE_ADDR=f"10.0.0.{n}"
    )
    assert answer.status_code == 302, "the wish was not posted"
    return follow(client, answer)


@redirect_case("applying for a class", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "anonymous")
    client.force_login(new_resident(world, n))
    path = reverse("courses:enrol", args=[world.open_class.pk])
    return follow(client, client.post(f"{path}?{_q(target)}", {"next": target}))


@redirect_case("giving up a place", FEW_OFF_SITE)
def _(world, target, n):
    user = new_resident(world, n)
    place_held = enrolling.enrol(user, world.open_class)
    client = client_as(world, "anonymous")
    client.force_login(user)
    path = reverse("me:cancel", args=[place_held.pk])
    return follow(client, client.post(f"{path}?{_q(target)}", {"next": target}))


@redirect_case("registering", FEW_OFF_SITE)
def _(world, target, n):
    client = Client()
    data = {
        "name": "赵敏",
        "phone": str(13900000100 + n),
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "birth_year": "1960",
        "privacy": "on",
        "next": target,
    }
    answer = client.post(f"/accounts/register/?{_q(target)}", data, REMOTE_ADDR=f"10.0.1.{n}")
    assert answer.status_code == 302, "the registration did not go through"
    return follow(client, answer)


@redirect_case("changing one's password", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "anonymous")
    client.force_login(new_resident(world, n))
    data = {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "next": target,
    }
    answer = client.post(f"/accounts/password/?{_q(target)}", data)
    assert answer.status_code == 302, "the password was not changed"
    return follow(client, answer)


@redirect_case("deleting one's account", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "anonymous")
    client.force_login(new_resident(world, n))
    data = {"password": PASSWORD, "next": target}
    answer = client.post(f"/accounts/delete/?{_q(target)}", data)
    assert answer.status_code == 302, "the account was not deleted"
    return follow(client, answer)


@redirect_case("a page that needs signing in", FEW_OFF_SITE)
def _(world, target, n):
    client = Client()
    return [
        *follow(client, client.get(f"/me/?{_q(target)}")),
        *follow(client, client.get(f"/admin/?{_q(target)}")),
    ]


@redirect_case("saving in the back office, with the list's filters kept", FEW_OFF_SITE)
def _(world, target, n):
    client = client_as(world, "staff_a")
    path = reverse("admin:facilities_idleroom_change", args=[world[IdleRoom].pk])
    if "room form" not in world.extra:  # the same form each time: read once
        world.extra["room form"] = Page(client.get(path).content.decode()).form_posting_to(path)
    body = world.extra["room form"]
    query = urlencode({"_changelist_filters": target})
    saved = client.post(f"{path}?{query}", body)
    kept = client.post(f"{path}?{query}", body | {"_continue": "1"})
    assert saved.status_code == kept.status_code == 302, "the room was not saved"
    return [*follow(client, saved), kept]


@redirect_case("a path that reads as another host")
def _(world, target, n):
    client = Client()
    answers = []
    for path in (target, f"/{target}", f"/admin/{target}", f"/accounts/{target}"):
        raw = path.encode().decode("iso-8859-1")  # as a WSGI server hands the path on
        answers.append(client.get("/", PATH_INFO=raw))
    return answers


@pytest.mark.parametrize("case", REDIRECT_CASES)
def test_no_answer_redirects_off_the_site(case, world):
    found = []
    act, targets = REDIRECT_CASES[case]
    for n, target in enumerate(targets):
        name = attempt("open redirect", f"{case} with next={target!r}")
        for answer in act(world, target, n):
            assert answer.status_code < 500, f"{name}: answered {answer.status_code}"
            found += [f"{name}: {leak}" for leak in leaks(answer)]
    assert not found, "\n".join(found)


def test_the_view_on_site_link_stays_on_the_site(world):
    community = world[Community]
    kind = ContentType.objects.get_for_model(Community).pk
    name = attempt("open redirect", "the back office's view-on-site link")
    answer = client_as(world, "staff_a").get(f"/admin/r/{kind}/{community.pk}/")
    assert answer.status_code == 302, name
    assert answer["Location"].endswith(community.get_absolute_url()), name
    assert not off_site(answer["Location"]), name


@pytest.mark.parametrize(
    ("url", "leaves"),
    [
        ("/me/", False),
        ("/accounts/login/?next=https://evil.example/", False),
        ("https://testserver/me/", False),
        ("%2F%2Fevil.example", False),
        ("https://evil.example/", True),
        ("//evil.example", True),
        ("/\\evil.example", True),
        (" \t//evil.example", True),
        ("/\t/evil.example", True),
        ("https:evil.example", True),
        ("javascript:alert(1)", True),
        ("https://testserver@evil.example/", True),
    ],
)
def test_the_judge_of_off_site_targets_reads_them_as_a_browser(url, leaves):
    assert off_site(url) is leaves


# ==== 3. Free text is shown escaped on every page that shows it ====

TEXT_APPS = ("communities", "streets", "facilities", "courses", "residents", "wishes")
# Text columns no person types, or that no page shows, and why.
NOT_FREE_TEXT = {
    "communities.District.city_code": "a 4-digit statistical code, too short to hold markup",
    "communities.District.province_code": "a 2-digit statistical code, too short for markup",
    "communities.SignInFailure": "failed sign-ins, kept a quarter of an hour to slow guessing; "
    "no page shows them",
    "streets.StreetNetwork.source_sha256": "the extract's SHA-256, made by streets.loader",
    "streets.StreetEdge.kind": "an OpenStreetMap highway value read from the extract; no page "
    "shows one (the network's page shows the import's report)",
    "courses.Draw.seed": "made by courses.lottery, never typed by anyone",
    "courses.Draw.secret": "the commitment's secret, revealed by courses.lottery's draw; "
    "64 hexadecimal characters (a check constraint), never typed by anyone",
    "courses.Draw.commitment": "the commitment's SHA-256 copied by the draw; 64 hexadecimal "
    "characters (a check constraint), never typed by anyone",
    "courses.DrawCommitment.secret": "made by courses.lottery.commit, never typed, never shown "
    "before the draw; the database refuses any change and anything but 64 hexadecimal characters",
    "courses.DrawCommitment.digest": "the SHA-256 of the secret, made by courses.lottery.commit; "
    "the database refuses any change and anything but the secret's hash",
}


def free_text_fields() -> list[tuple[type, str]]:
    """Every text column of the project's models a person can type: no choices, no slugs, no
    format validator (phone numbers, codes), editable; history tables are copies of these."""
    import pghistory.models

    found = []
    for label in TEXT_APPS:
        for model in apps.get_app_config(label).get_models():
            if issubclass(model, pghistory.models.Event):
                continue
            for f in model._meta.concrete_fields:
                if (
                    isinstance(f, models.CharField | models.TextField)
                    and not isinstance(f, models.SlugField)
                    and not f.choices
                    and f.editable
                    and not any(hasattr(v, "regex") for v in f.validators)
                    and f"{model._meta.label}.{f.name}" not in NOT_FREE_TEXT
                    and model._meta.label not in NOT_FREE_TEXT
                ):
                    found.append((model, f.name))
    return found


@dataclass(frozen=True)
class Payload:
    """Markup put in one field, tagged so that each field can be told apart on a page."""

    text: str
    raw: tuple[str, ...]  # what must never appear on a page as it is

    @property
    def escaped(self) -> str:
        return escape(self.raw[0])

    @classmethod
    def fitting(cls, tag: str, limit: int | None) -> "Payload":
        forms = [
            (f'<script>alert("{tag}")</script>', f'<img src=x onerror=alert("{tag}")>'),
            (f"<script>{tag}</script>", f"<img src=x onerror={tag}>"),
            (f"<script>{tag}</script>",),
        ]
        for parts in forms:
            text = "".join(parts) + "\"'&"
            if limit is None or len(text) <= limit:
                return cls(text, tuple(p[: p.index(tag) + len(tag)] for p in parts))
        raise ValueError(f"no payload fits {limit} characters")


def plant_payloads(world: World) -> dict[str, Payload]:
    """Markup in every free-text field of the world's row of each model; ``label.field`` →
    its payload."""
    planted = {}
    for n, (model, name) in enumerate(free_text_fields()):
        label = f"{model._meta.label}.{name}"
        assert model in world.objects, f"{label}: the scene has no {model.__name__} to write in"
        payload = Payload.fitting(f"Z{n:02d}", model._meta.get_field(name).max_length)
        model.objects.filter(pk=world[model].pk).update(**{name: payload.text})
        planted[label] = payload
    return planted


def pages_showing_text(world: World) -> dict[str, list]:
    """Persona → the pages to read (a path, or a (path, POST data) pair for a page that only
    a form's post shows)."""
    facility, course, wish = world[Facility], world[Course], world[Wish]
    community = world[Community]
    public = [
        "/",
        "/search/?q=script",
        "/communities/",
        community.get_absolute_url(),
        "/facilities/",
        "/facilities/?q=script",
        f"/facilities/?community={community.slug}",
        facility.get_absolute_url(),
        reverse("facilities:poster", args=[facility.slug]),
        "/courses/",
        reverse("courses:detail", args=[course.slug]),
        reverse("courses:draw", args=[world.lottery_class.pk]),
        "/wishes/",
        f"/wishes/?community={community.slug}",
        wish.get_absolute_url(),
    ]
    mine = world[CourseClass].enrolments.get()
    history = reverse("facilities:history", args=[facility.slug])
    back_office = [
        "/admin/",
        "/admin/changes/",
        "/admin/facilities/facility/?q=script",
        history,
    ]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        back_office.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model in world.objects:
            pk = world[model].pk
            for view in ("change", "delete", "history"):
                back_office.append(reverse("admin:{}_{}_{}".format(*info, view), args=[pk]))
    class_pk = world[CourseClass].pk
    back_office += [
        reverse("admin:courses_courseclass_desk", args=[class_pk]),
        reverse("admin:courses_courseclass_attendance", args=[class_pk]),
        reverse("admin:courses_courseclass_attendance_meeting", args=[class_pk, world.meeting_day]),
        reverse("admin:residents_resident_password", args=[world.profile.pk]),
        (
            reverse("admin:facilities_facility_changelist"),
            {"action": "close_for_a_while", "_selected_action": [facility.pk]},
        ),
        (
            reverse("admin:communities_residentialcompound_changelist"),
            {"action": "delete_selected", "_selected_action": [world[ResidentialCompound].pk]},
        ),
    ]
    return {
        "anonymous": [*public, "/accounts/register/"],
        "resident": [
            *public,
            "/me/",
            "/accounts/",
            "/accounts/data/",
            "/accounts/delete/",
            reverse("courses:enrol", args=[world.open_class.pk]),
            reverse("me:cancel", args=[mine.pk]),
            "/wishes/new/",
        ],
        "official": [
            "/reports/",
            "/reports/matrix/",
            "/reports/gaps/",
            "/reports/sites/?service=canteen",
            reverse("reports:community", args=[community.slug]),
            "/wishes/summary/",
            "/accounts/changes/",
            history,
        ],
        # Staff see some fields read-only (shown as text, not in an input): their change pages.
        "staff_a": [p for p in back_office if isinstance(p, str) and p.endswith("/change/")],
        "city_admin": back_office,
    }


def test_free_text_is_shown_escaped_on_every_page_that_shows_it(world):
    planted = plant_payloads(world)
    shown, failures = set(), []
    for persona, pages in pages_showing_text(world).items():
        client = client_as(world, persona)
        for page in pages:
            path, data = page if isinstance(page, tuple) else (page, None)
            answer = client.post(path, data) if data else client.get(path)
            where = f"{path} as {persona}"
            if answer.status_code >= 500 or answer.status_code == 404:
                failures.append(f"{where}: answered {answer.status_code}")
                continue
            if "html" not in answer.get("Content-Type", ""):
                continue
            html = answer.content.decode()
            for label, payload in planted.items():
                raw = [r for r in payload.raw if r in html]
                if raw:
                    name = attempt("escaped text", f"{label} on {where}")
                    failures.append(f"{name}: shown as markup: {raw}")
                elif payload.escaped in html:
                    attempt("escaped text", f"{label} on {where}")
                    shown.add(label)
    never = sorted(set(planted) - shown)
    assert not failures, "\n".join(failures)
    assert not never, f"shown on no page read here (add the page, or say why): {never}"


def test_the_escape_judge_tells_markup_from_escaped_text():
    payload = Payload.fitting("Z99", None)
    raw_page = f"<p>{payload.text}</p>"
    escaped_page = f"<p>{escape(payload.text)}</p>"
    assert any(r in raw_page for r in payload.raw)
    assert payload.escaped not in raw_page
    assert not any(r in escaped_page for r in payload.raw)
    assert payload.escaped in escaped_page
    short = Payload.fitting("Z99", 40)
    assert len(short.text) <= 40 and short.raw == ("<script>Z99",)


# ==== 4. Malformed query strings answer below 500 and change nothing ====

HUGE = "9" * 100_000
# Every parameter gets each of these (the 100 000 characters once per page, all at once).
MALFORMED = [
    "",
    "'",
    "' OR 1=1 --",
    "1;DROP TABLE x",
    "\x00",
    "%00",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "[]",
    "\u202e\ufeff𝔘\u0301名",
]
# For the back office's object pages, which all read the same three parameters through the
# same admin code: the values most likely to break it.
FEW = ["\x00", "' OR 1=1 --", "99999999999999999999", "\u202e\ufeff𝔘\u0301名"]
# Bytes that are not UTF-8 at all, sent as they are.
RAW_QUERIES = ["%FF%FE%00=%ED%A0%80", "a=%C0%AF&a[]=1&a[x]=2"]

GENERIC_PARAMS = ["page", "q", "lat", "lng", "category", "day", "date", "term", "sort", "o", "p"]
# Parameters the views read (grep request.GET, and the forms that read the query string).
VIEW_PARAMS = {
    "communities:search": ["q"],
    "communities:list": ["subdistrict", "district", "page"],
    "facilities:search": [
        *("q", "category", "community", "near", "lat", "lng", "distance", "open_now"),
        *("accessible", "page"),
    ],
    "courses:list": ["audience", "subject", "community", "weekday", "seats", "page"],
    "wishes:list": ["community", "kind", "status", "sort", "page"],
    "login": ["next"],
    "admin:login": ["next"],
    "two-factor": ["next"],
    "two-factor-setup": ["next"],
    "two-factor-codes": ["next"],
    "set_language": ["next", "language"],
    "admin:autocomplete": ["term", "app_label", "model_name", "field_name", "page"],
}
REPORT_PARAMS = ["plan", "service", "sort", "order", "k", "page"]
OPENDATA_PARAMS = [
    *("search", "page", "per_page", "taxonomy_term_id", "taxonomy_id", "organization_id"),
    *("modified_after", "proximity", "lat", "lng", "compound"),
]
# Read outside a form (so one bad value could hide another's effect): each on its own too.
READ_BY_HAND = {
    "communities:list": ["subdistrict", "district", "page"],
    "facilities:search": ["near", "community"],
    "wishes:list": ["community"],
}
ADMIN_LIST_PARAMS = ["q", "o", "p", "e", "all", "_facets", "_to_field", "_popup"]
ADMIN_OBJECT_PARAMS = ["_changelist_filters", "_to_field", "_popup"]
# GET requests that may write, and what.
GET_WRITES = {
    "two-factor-setup": {
        "otp_totp_totpdevice": "the set-up page makes the unconfirmed authenticator it shows"
    },
    "admin:courses_courseclass_roster": {
        "courses_rosterread": "each roster download is in the audit trail (who read whose numbers)"
    },
}


def _offered(page: Page, path: str) -> tuple[set[str], set[str]]:
    """The parameters a page offers for itself: the fields of its GET forms, and the keys of
    its links back to itself (filters, sorting, pages). Returns (form fields, link keys)."""
    fields, keys = set(), set()
    for form in page.forms:
        if form["method"] == "get" and form["action"] in (None, "", path):
            fields |= set(form["fields"])
    for url in page.urls:
        parts = urlsplit(url)
        if parts.query and parts.path in ("", path):
            keys |= {k for k, _v in parse_qsl(parts.query, keep_blank_values=True)}
    return fields, keys


def params_for(route: Route, page: Page | None, path: str) -> tuple[list[str], list[str]]:
    """(the parameters that filter a back-office list, every other parameter) for a route."""
    name = route.name or ""
    fields, keys = _offered(page, path) if page else (set(), set())
    lookups: set[str] = set()
    others = set(GENERIC_PARAMS) | set(VIEW_PARAMS.get(name, ())) | fields
    if name.startswith("reports:"):
        others |= set(REPORT_PARAMS)
    if name.startswith("opendata:"):
        others |= set(OPENDATA_PARAMS)
    if route.model is not None and name.endswith("_changelist"):
        others |= set(ADMIN_LIST_PARAMS)
        lookups = keys - others
    else:
        others |= keys
        if route.model is not None:
            others |= set(ADMIN_OBJECT_PARAMS)
        if name.endswith("_add") and route.model is not None:
            others |= {f.name for f in route.model._meta.fields if f.editable}
    others.discard("csrfmiddlewaretoken")
    return sorted(lookups), sorted(others)


def rotations(params: list[str], values: list[str]) -> list[dict]:
    """Queries in which every parameter meets every value once, all parameters in each."""
    if not params:
        return []
    return [
        {p: values[(i + k) % len(values)] for i, p in enumerate(params)} for k in range(len(values))
    ]


def _get(client: Client, path: str, query):
    if isinstance(query, str):
        return client.get(f"{path}?{query}")
    return client.get(path, query)


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_malformed_query_parameters_answer_below_500_and_change_nothing(route, world):
    persona = persona_for(route)
    path = path_for(route, world)
    client = client_as(world, persona)
    # A public page is read by everyone (the open-data API answers all alike).
    public = (
        not route.is_admin
        and not (route.name or "").startswith("opendata:")
        and Client().get(path).status_code == 200
    )
    # Every client is signed in before the tables are read: signing in writes.
    personas = {persona: client}
    if public:
        for who in ("anonymous", "resident", "staff_a", "official"):
            personas.setdefault(who, client_as(world, who))
    before = snapshot()
    baseline = client.get(path)
    name = attempt("malformed query", f"GET {path} ({route}) as {persona}, no parameters")
    assert baseline.status_code < 500, f"{name}: answered {baseline.status_code}"
    if baseline.status_code == 405:
        return  # a POST-only view: refuses every GET alike
    html = baseline.status_code == 200 and "html" in baseline.get("Content-Type", "")
    page = Page(baseline.content.decode()) if html else None
    lookups, others = params_for(route, page, path)
    small = route.model is not None and not (route.name or "").endswith("_changelist")

    queries = []
    for group in (lookups, others):
        queries += rotations(group, FEW if small else MALFORMED)
    queries.append(dict.fromkeys(lookups + others, HUGE))
    queries.append({p: ["1", "'", "", "\x00"] for p in lookups + others})
    if not small:
        queries += RAW_QUERIES
        for p in READ_BY_HAND.get(route.name or "", ()):
            queries += [{p: v} for v in MALFORMED]

    failures = []
    for who, asking in personas.items():
        asking.raise_request_exception = False  # a 500 is recorded, and the run goes on
        for query in queries if who == persona else rotations(others, FEW):
            shown = query if isinstance(query, str) else {k: _short(v) for k, v in query.items()}
            name = attempt("malformed query", f"GET {path} ({route}) as {who} with {shown}")
            answer = _get(asking, path, query)
            if answer.status_code >= 500:
                failures.append(f"{name}: answered {answer.status_code}")
    allowed = set(GET_WRITES.get(route.name or "", {}))
    wrote = [t for t in changed(before, snapshot()) if t not in allowed]
    assert not failures, "\n".join(failures)
    assert not wrote, f"GET {path} ({route}) wrote to {wrote}"


def _short(value):
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value if len(value) < 40 else f"<{len(value)} characters>"


@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [
        ("anonymous", "/communities/?district=%00", 400),
        ("anonymous", "/communities/?subdistrict=a%00b", 400),
        ("anonymous", "/facilities/?community=%00", 400),
        ("anonymous", "/facilities/?%00=1", 400),
        ("anonymous", "/communities/%00/", 400),
        ("staff_a", "/admin/courses/enrolment/?status__exact=%00", 400),
        ("city_admin", "/admin/communities/membership/?role__exact=%00", 400),
        ("anonymous", f"/facilities/?near={'9' * 5000}", 200),
        ("anonymous", "/communities/?district=%2500", 404),
    ],
)
def test_a_nul_in_the_address_is_a_bad_request_not_a_server_error(world, persona, url, status):
    name = attempt("malformed query", f"GET {url[:60]} as {persona}")
    assert client_as(world, persona).get(url).status_code == status, name
