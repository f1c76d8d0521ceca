"""The back office and the coverage reports under attack: every admin model, every admin custom
view and action, and every report page and export, tried by people who must not reach the
victim's data, each attempt named and counted (tests/security/conftest.py).

The victim is community A (tests/security/fixtures.py: a row of every kind, every name holding
"青松"). The attackers: staff of a neighbour community in A's subdistrict, staff of a community
in another district, an official of another subdistrict of A's district, an official of another
district, and a resident of another community. Each tries to list, view, change, delete, add
into, export and bulk-act on A's rows; A's own staff then forge foreign keys, read-only fields
and inline rows pointing at community B. "Changes nothing" is checked for real: every table's row
count and every row of A's community (and the attacked row itself) are read before and after.

The models, their actions and custom URLs and the report URLs are read from the admin site and
the report URLconf, so one added later is attacked automatically, and a test fails until it has
a data builder (``BUILDERS``) or an attack (``CUSTOM_VIEWS``).

Speed: the city is built once for the module, inside a transaction rolled back at the end; each
test runs in its own savepoint, so an attack that did get through cannot leak into the next.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from html.parser import HTMLParser

import openpyxl
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.forms.models import _get_foreign_key
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from communities import roles
from communities.models import District, Membership, Subdistrict
from courses.models import Attendance, Course, CourseClass, Term
from facilities import sheets
from facilities.models import Category, Facility
from reports import report_export
from reports import urls as report_urls
from residents.models import Resident
from tests.conftest import client_for
from tests.security.conftest import attempt
from tests.security.fixtures import City, World, build_city

pytestmark = pytest.mark.django_db

User = get_user_model()


# ---- the city, built once -------------------------------------------------------------------


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """The whole scene and the owners' forms, in a transaction that ends with the module."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_city()
            clients = _sign_in(built)
            yield Scene(built, _harvest(built, clients), clients)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def scene(city) -> "Scene":
    """The module's city, for each test (which runs in its own savepoint)."""
    return city


@dataclass
class Forms:
    """What the owners' browsers would post back, by model label: the change form of A's row
    and an empty add form (with the inline management forms), and who could add."""

    change: dict[str, dict[str, list[str]]]
    add: dict[str, dict[str, list[str]]]
    add_owner: dict[str, str]  # "staff" (A's staff) or "city" (the city administrator)
    offered: dict[str, set[str]]  # the fields the owner's change form offers (not read-only)


@dataclass
class Scene:
    city: City
    forms: Forms
    clients: dict[int, Client]

    def client(self, user) -> Client:
        """The user's signed-in client, made with the city: its session outlives each test's
        savepoint. Should an attack sign it out, the next attacks by staff would fail (they expect
        403 or 404, never the sign-in page), as would the report attacks (200 or 403). Cookies
        but the session's are dropped: a message left by one test is not shown in the next."""
        client = self.clients[user.pk]
        for name in list(client.cookies):
            if name != settings.SESSION_COOKIE_NAME:
                del client.cookies[name]
        return client

    @property
    def a(self) -> World:
        return self.city.a

    @property
    def b(self) -> World:
        return self.city.b


# ---- the attackers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    describes: str
    user: Callable[[City], models.Model]
    back_office: bool  # staff, who get into the admin (and see their own community there)
    # Works in the victim's district: reads what belongs to the whole district (Builder).
    in_victims_district: bool = False


PERSONAS = {
    "staff-of-neighbour": Persona(
        "staff of another community in the same subdistrict",
        lambda c: c.neighbour.staff,
        True,
        in_victims_district=True,
    ),
    "staff-of-other-district": Persona(
        "staff of a community in another district", lambda c: c.b.staff, True
    ),
    "official-of-other-subdistrict": Persona(
        "an official of another subdistrict of the same district",
        lambda c: c.official_across,
        False,
        in_victims_district=True,
    ),
    "official-of-other-district": Persona(
        "an official of another district", lambda c: c.official_b, False
    ),
    "resident": Persona("a resident of another community", lambda c: c.b.resident_user, False),
}


# ---- the data builders: the victim row of each admin model, and its forms --------------------


def _today(days: int = 0) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Builder:
    """How to attack one admin model: the victim row in a world, the fields of an add form that
    put a new row into that world's community (``attacker`` for forms naming a user), and a
    change of one field. ``city_wide`` rows belong to no community: only the city administrator
    keeps them; ``staff_read`` ones (categories) staff may read but not change; ``district_read``
    ones belong to a whole district (its street network): staff of any community in the district
    may read them but not change them, so reading the victim's is no attack for staff of its
    neighbour (``Persona.in_victims_district``), and staff of another district must not."""

    victim: Callable[[World], models.Model]
    add: Callable[[World, models.Model], dict]
    edit: Callable[[World], dict]
    city_wide: bool = False
    staff_read: bool = False
    district_read: bool = False

    def read_by(self, persona: "Persona") -> bool:
        """Whether ``persona`` may read the victim row (so listing and viewing are no attack)."""
        if not persona.back_office:
            return False
        return self.staff_read or (self.district_read and persona.in_victims_district)


def _point(w: World, north: float = 0.003) -> dict:
    return {"latitude": str(w.community.latitude + north), "longitude": str(w.community.longitude)}


BUILDERS: dict[str, Builder] = {
    "auth.Group": Builder(
        victim=lambda w: Group.objects.get(name=roles.STAFF_GROUP),
        add=lambda w, u: {"name": f"{w.marker}组"},
        edit=lambda w: {"name": "改名的组"},
        city_wide=True,
    ),
    "auth.User": Builder(
        victim=lambda w: w.resident_user,
        add=lambda w, u: {
            "username": f"forged-{w.community.pk}",
            "password1": "Forged-password-4711",
            "password2": "Forged-password-4711",
        },
        edit=lambda w: {"first_name": "改名"},
        city_wide=True,
    ),
    "communities.District": Builder(
        victim=lambda w: w.district,
        add=lambda w, u: {
            "code": "220199",
            "name": "伪造区",
            "city": "长春市",
            "city_code": "2201",
            "province": "吉林省",
            "province_code": "22",
        },
        edit=lambda w: {"name": "改名区"},
        city_wide=True,
    ),
    "communities.Subdistrict": Builder(
        victim=lambda w: w.subdistrict,
        add=lambda w, u: {"district": w.district.pk, "code": "220104099", "name": "伪造街道"},
        edit=lambda w: {"name": "改名街道"},
        city_wide=True,
    ),
    "communities.Community": Builder(
        victim=lambda w: w.community,
        add=lambda w, u: {
            "subdistrict": w.subdistrict.pk,
            "name": f"{w.marker}伪造社区",
            "population": "10",
            "households": "5",
            **_point(w),
        },
        edit=lambda w: {"feature": "改过的特色"},
    ),
    "communities.ResidentialCompound": Builder(
        victim=lambda w: w.compound,
        add=lambda w, u: {
            "community": w.community.pk,
            "name": f"{w.marker}伪造小区",
            "population": "10",
            "households": "5",
            **_point(w),
        },
        edit=lambda w: {"population": "1999"},
    ),
    "communities.Membership": Builder(
        victim=lambda w: w.membership,
        add=lambda w, u: {"user": u.pk, "role": "staff", "community": w.community.pk},
        edit=lambda w: {"user": w.resident_user.pk},
        city_wide=True,
    ),
    "facilities.Category": Builder(
        victim=lambda w: Category.objects.get(code="canteen"),
        add=lambda w, u: {
            "code": "forged",
            "name_zh": "伪造类别",
            "name_en": "Forged",
            "group": "basic",
            "level": "5",
            "distance_m": "300",
            "icon": "canteen",
            "sort_order": "0",
        },
        edit=lambda w: {"distance_m": "4321"},
        city_wide=True,
        staff_read=True,
    ),
    "facilities.Facility": Builder(
        victim=lambda w: w.facility,
        add=lambda w, u: {
            "community": w.community.pk,
            "category": Category.objects.get(code="canteen").pk,
            "name": f"{w.marker}伪造设施",
            "status": "open",
            "holiday_rule": "usual",
            **_point(w),
        },
        edit=lambda w: {"address": "改过的地址"},
    ),
    "facilities.HoursException": Builder(
        victim=lambda w: w.exception,
        add=lambda w, u: {
            "facility": w.facility.pk,
            "start_date": _today(20),
            "closed": "on",
            "note": "伪造",
        },
        edit=lambda w: {"note": "改过的原因"},
    ),
    "facilities.Meal": Builder(
        victim=lambda w: w.meal,
        add=lambda w, u: {
            "facility": w.facility.pk,
            "date": _today(5),
            "kind": "dinner",
            "dishes": "伪造的菜",
            "price": "12.00",
        },
        edit=lambda w: {"dishes": "改过的菜"},
    ),
    "facilities.IdleRoom": Builder(
        victim=lambda w: w.idle_room,
        add=lambda w, u: {
            "community": w.community.pk,
            "name": f"{w.marker}伪造用房",
            "floor_area": "100",
            **_point(w),
        },
        edit=lambda w: {"owner": "改过的业主"},
    ),
    "courses.Term": Builder(
        victim=lambda w: w.term,
        add=lambda w, u: {
            "community": w.community.pk,
            "year": str(timezone.localdate().year + 1),
            "season": "spring",
            "registration_opens_0": _today(10),
            "registration_opens_1": "09:00:00",
            "registration_closes_0": _today(20),
            "registration_closes_1": "09:00:00",
            "starts_on": _today(30),
            "ends_on": _today(120),
            "class_limit": "2",
        },
        edit=lambda w: {"class_limit": "3"},
    ),
    "courses.Course": Builder(
        victim=lambda w: w.course,
        add=lambda w, u: {
            "term": w.term.pk,
            "name": f"{w.marker}伪造课",
            "subject": "cooking",
            "audience": "all",
            "fee": "0",
        },
        edit=lambda w: {"provider": "改过的机构"},
    ),
    "courses.CourseClass": Builder(
        victim=lambda w: w.class_lottery,
        add=lambda w, u: {
            "course": w.course.pk,
            "weekday": "1",
            "starts_at": "14:00",
            "ends_at": "16:00",
            "first_date": _today(7),
            "last_date": _today(70),
            "facility": w.facility.pk,
            "capacity": "5",
            "allocation": "first_come",
        },
        edit=lambda w: {"teacher": "改过的老师"},
    ),
    "courses.Draw": Builder(
        victim=lambda w: w.draw,
        add=lambda w, u: {
            "course_class": w.class_lottery.pk,
            "seed": "forged",
            "drawn_at_0": _today(),
            "drawn_at_1": "09:00:00",
            "seats": "1",
            "applications": "[]",
        },
        edit=lambda w: {"seed": "forged"},
    ),
    "courses.Enrolment": Builder(
        victim=lambda w: w.enrolment,
        add=lambda w, u: {"course_class": w.class_first.pk, "user": u.pk, "status": "enrolled"},
        edit=lambda w: {"status": "cancelled"},
    ),
    "residents.Resident": Builder(
        victim=lambda w: w.resident,
        add=lambda w, u: {
            "phone": "13911112222",
            "name": "伪造居民",
            "birth_year": "1960",
            "compound": w.compound.pk,
        },
        edit=lambda w: {"name": "改名的居民"},
    ),
    "streets.StreetNetwork": Builder(
        victim=lambda w: w.street_network,
        add=lambda w, u: {
            "district": w.district.pk,
            "source_name": f"{w.marker}.osm.pbf",
            "source_sha256": "0" * 64,
            "node_count": "1",
            "edge_count": "1",
            "length_km": "1",
        },
        edit=lambda w: {"source_name": "forged.osm.pbf", "is_demo": "on"},
        city_wide=True,
        district_read=True,
    ),
    "wishes.Wish": Builder(
        victim=lambda w: w.wish,
        add=lambda w, u: {
            "community": w.community.pk,
            "kind": "service",
            "title": "伪造的愿望",
            "text": "伪造",
        },
        edit=lambda w: {"status": "declined", "reply": "改过的答复"},
    ),
    "notices.Notice": Builder(
        victim=lambda w: w.notice,
        add=lambda w, u: {"user": u.pk, "community": w.community.pk, "text": "伪造的短信"},
        edit=lambda w: {"provider_id": "forged"},
    ),
}

REGISTRY = admin.site._registry
MODELS = sorted(model._meta.label for model in REGISTRY)


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _admin(label: str) -> admin.ModelAdmin:
    return REGISTRY[_model(label)]


def _builder(label: str) -> Builder:
    builder = BUILDERS.get(label)
    if builder is None:
        pytest.fail(
            f"{label} is in the admin but has no data builder in tests/security/"
            "test_admin_attacks.py BUILDERS: add one, so the attack suite covers it"
        )
    return builder


def _url(label: str, view: str, *args) -> str:
    model = _model(label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _rf_request(user, method: str = "get"):
    request = getattr(RequestFactory(), method)("/")
    request.user = user
    return request


# ---- reading forms as a browser would send them ---------------------------------------------


class _FormReader(HTMLParser):
    """The fields a browser would send from the form with the given id: text and hidden inputs,
    ticked boxes and radios, the chosen options (the first of a single select when none is
    marked), and text areas."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._options: list[tuple[str, bool]] = []
        self._textarea = None
        self._text: list[str] = []

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            self.found |= self.inside
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if not name or "disabled" in a or kind in ("submit", "button", "image", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value") or "on")
                return
            self._add(name, a.get("value") or "")
        elif tag == "select":
            self._select = None if "disabled" in a else (name, "multiple" in a)
            self._options = []
        elif tag == "option" and self._select:
            self._options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea":
            self._textarea = None if "disabled" in a else name
            self._text = []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            for value in chosen:
                self._add(name, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self._add(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None


def read_form(response, form_id: str) -> dict[str, list[str]]:
    reader = _FormReader(form_id)
    reader.feed(response.content.decode())
    assert reader.found, f"no form #{form_id} on the page"
    return reader.data


def _form_id(label: str) -> str:
    return f"{_model(label)._meta.model_name}_form"


def _sign_in(c: City) -> dict[int, Client]:
    users = [persona.user(c) for persona in PERSONAS.values()]
    return {user.pk: client_for(user) for user in [*users, c.a.staff, c.city_admin, c.official_a]}


def _harvest(c: City, clients: dict[int, Client]) -> Forms:
    """The owners' change and add forms of every admin model, read once for the module."""
    owners = {"staff": clients[c.a.staff.pk], "city": clients[c.city_admin.pk]}
    change, add, add_owner, offered = {}, {}, {}, {}
    for label in MODELS:
        builder = BUILDERS.get(label)
        if builder is None:
            continue
        owner = owners["city" if builder.city_wide else "staff"]
        victim = builder.victim(c.a)
        response = owner.get(_url(label, "change", victim.pk))
        assert response.status_code == 200, f"{label}: the owner cannot open A's row"
        change[label] = read_form(response, _form_id(label))
        offered[label] = set(response.context["adminform"].form.fields)
        for who in ([] if builder.city_wide else ["staff"]) + ["city"]:
            response = owners[who].get(_url(label, "add"))
            if response.status_code == 200:
                add[label], add_owner[label] = read_form(response, _form_id(label)), who
                break
    return Forms(change, add, add_owner, offered)


def _post_data(base: dict[str, list[str]], **fields) -> dict[str, list[str]]:
    data = {name: list(values) for name, values in base.items()}
    for name, value in fields.items():
        data[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    data["_save"] = ["Save"]
    return data


# ---- "changes nothing": the state an attack must leave as it found ---------------------------

# Row counts of every table of these apps (the audit trail's event tables and the admin's log
# included); sessions and two-step devices change with every sign-in and are left out.
COUNTED_APPS = {
    "auth",
    "admin",
    "communities",
    "streets",
    "facilities",
    "courses",
    "residents",
    "wishes",
}


def _counted_tables() -> list[str]:
    tables = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in COUNTED_APPS
        and not model._meta.proxy
        and model._meta.managed
        and model._meta.model_name != "signinfailure"
    }
    return sorted(tables)


def _rows(queryset, *exclude: str) -> models.QuerySet:
    """Every column of the rows, in order, but the ``exclude``d ones (a sign-in's stamp)."""
    names = [f.attname for f in queryset.model._meta.concrete_fields if f.name not in exclude]
    return queryset.order_by("pk").values(*names)


def _part(key: str, queryset: models.QuerySet) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return (
        f"SELECT %s, (SELECT coalesce(json_agg(row_to_json(x)), '[]') FROM ({sql}) x)",
        [key, *params],
    )


def _read(parts: list[tuple[str, list]], counts: bool = False) -> dict:
    """The rows of each part's query as JSON, and the row count of every counted table, in
    one round trip to the database (a state is read twice per attempt)."""
    if counts:
        # A function takes at most 100 arguments: 50 tables to an object, the objects joined.
        tables = _counted_tables()
        objects = " || ".join(
            "jsonb_build_object("
            + ", ".join(f"'{t}', (SELECT count(*) FROM \"{t}\")" for t in tables[i : i + 50])
            + ")"
            for i in range(0, len(tables), 50)
        )
        parts = [*parts, (f"SELECT 'counts', ({objects})::json", [])]
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(f"({sql})" for sql, _ in parts),
            [param for _, params in parts for param in params],
        )
        return dict(cursor.fetchall())


OTP_DEVICES = {
    "django_otp.plugins.otp_totp": "otp_totp.TOTPDevice",
    "django_otp.plugins.otp_static": "otp_static.StaticDevice",
}


def _world_rows(w: World) -> dict[str, models.QuerySet]:
    """Every row of the world's community, of every model that says how it reaches one, its
    residents, its people's accounts, memberships and two-step devices."""
    rows = {}
    for model in apps.get_models():
        path = getattr(model, "community_path", None)
        if path is not None:
            rows[model._meta.label] = _rows(
                model._default_manager.filter(**{f"{path}id": w.community.pk})
            )
    people = [w.resident_user.pk, w.staff.pk]
    rows["residents"] = _rows(Resident.objects.filter(compound__community=w.community))
    rows["users"] = _rows(User.objects.filter(pk__in=people), "last_login")
    rows["groups"] = _rows(User.groups.through.objects.filter(user__in=people))
    rows["memberships"] = _rows(Membership.objects.filter(user__in=people))
    rows["categories"] = _rows(
        Facility.other_categories.through.objects.filter(facility__community=w.community)
    )
    for app, label in OTP_DEVICES.items():
        if apps.is_installed(app):
            rows[label] = _rows(apps.get_model(label).objects.filter(user__in=people))
    return rows


_WORLD_SQL: dict[int, list[tuple[str, list]]] = {}


def _world_parts(w: World) -> list[tuple[str, list]]:
    """The world's queries as SQL, made once (the ORM's compiling would cost more than the
    queries)."""
    key = id(w)
    if key not in _WORLD_SQL:
        _WORLD_SQL[key] = [_part(label, qs) for label, qs in _world_rows(w).items()]
    return _WORLD_SQL[key]


def world_state(w: World) -> dict:
    return _read(_world_parts(w))


def state(scene: Scene, *extra: models.Model, counts: bool = True) -> dict:
    """The counts, community A's rows, and the given rows (city-wide victims) as they are."""
    parts = list(_world_parts(scene.a))
    for i, row in enumerate(extra):
        parts.append(_part(f"extra {i}", _rows(type(row)._default_manager.filter(pk=row.pk))))
    return _read(parts, counts)


# ---- what a refusal looks like --------------------------------------------------------------


def _to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def _text(response) -> str:
    """The response as text, a workbook's cells included."""
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8", errors="replace")


def _leaks(response, w: World) -> str:
    """Where the response shows something of the world (its marker or its community's URL
    name), as a snippet of the text around it; "" when nowhere."""
    text = _text(response)
    # A page refused (a 404 that repeats the address asked for) names the slug it was asked.
    needles = (w.marker, w.community.slug) if response.status_code == 200 else (w.marker,)
    for needle in needles:
        at = text.find(needle)
        if at >= 0:
            return text[max(at - 120, 0) : at + 120]
    return ""


def refused(response, persona: Persona, *allowed: int) -> bool:
    """Staff get one of the ``allowed`` codes (403 and 404 unless told); anyone else is sent to
    the admin's sign-in page."""
    if persona.back_office:
        return response.status_code in (allowed or (403, 404))
    return _to_login(response)


def _cases(*, skip_readers: bool = False):
    for label in MODELS:
        builder = BUILDERS.get(label)
        for key, persona in PERSONAS.items():
            if skip_readers and builder and builder.read_by(persona):
                continue  # staff may read categories, and their district's network: no attack
            yield pytest.param(label, key, id=f"{label}-{key}")


# ---- coverage: nothing in the admin is left out ----------------------------------------------


def test_every_admin_model_has_a_data_builder():
    missing = [label for label in MODELS if label not in BUILDERS]
    assert not missing, f"admin models without a data builder in BUILDERS: {missing}"


STANDARD_VIEWS = {"changelist", "add", "history", "delete", "change"}
SITE_VIEWS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
}


def _custom_url_names() -> set[str]:
    names = {p.name for p in admin.site.get_urls() if getattr(p, "name", None)} - SITE_VIEWS
    for model, model_admin in REGISTRY.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        names |= {
            p.name
            for p in model_admin.get_urls()
            if p.name and p.name.removeprefix(prefix) not in STANDARD_VIEWS
        }
    return names


def test_every_custom_admin_view_is_attacked():
    missing = _custom_url_names() - {view.url_name for view in CUSTOM_VIEWS}
    assert not missing, f"admin views with no attack in CUSTOM_VIEWS: {sorted(missing)}"


def _report_url_cases():
    for pattern in report_urls.urlpatterns:
        for kwargs in REPORT_ARGS.get(pattern.name, [{}]):
            yield pattern.name, kwargs


def test_every_report_url_is_attacked():
    unknown = [
        p.name
        for p in report_urls.urlpatterns
        if p.pattern.converters and p.name not in REPORT_ARGS
    ]
    assert not unknown, f"report URLs taking arguments with no attack in REPORT_ARGS: {unknown}"


# ---- controls: the owner does reach the victim, so the attacks' failures mean something -------


def _owner(scene: Scene, label: str):
    return scene.city.city_admin if _builder(label).city_wide else scene.a.staff


@pytest.mark.parametrize("label", MODELS)
def test_the_owner_sees_and_opens_the_victim(scene, label):
    builder = _builder(label)
    victim = builder.victim(scene.a)
    client = scene.client(_owner(scene, label))
    listed = client.get(_url(label, "changelist"))
    assert listed.status_code == 200
    assert victim.pk in [row.pk for row in listed.context["cl"].result_list]
    assert _url(label, "change", victim.pk) in listed.content.decode()
    assert client.get(_url(label, "change", victim.pk)).status_code == 200


@pytest.mark.parametrize(
    "label", [label for label in MODELS if label in BUILDERS and BUILDERS[label].district_read]
)
def test_staff_in_the_victims_district_read_its_district_rows_and_no_more(scene, label):
    """What the list and view attacks leave out for staff of A's neighbour (``district_read``)
    is theirs to read, and only to read: the change and delete attacks try the rest."""
    victim = _builder(label).victim(scene.a)
    for staff in (scene.a.staff, scene.city.neighbour.staff):
        client = scene.client(staff)
        listed = client.get(_url(label, "changelist"))
        assert [row.pk for row in listed.context["cl"].result_list] == [victim.pk]
        page = client.get(_url(label, "change", victim.pk))
        assert page.status_code == 200
        assert not page.context["has_change_permission"]
        assert not page.context["has_delete_permission"]
        assert 'name="_save"' not in page.content.decode()


@pytest.mark.parametrize("label", MODELS)
def test_the_owner_can_make_the_change_the_attackers_try(scene, label):
    builder = _builder(label)
    victim = builder.victim(scene.a)
    owner = _owner(scene, label)
    if not _admin(label).has_change_permission(_rf_request(owner), victim):
        pytest.skip("nobody changes these rows in the admin")
    before = list(_rows(type(victim).objects.filter(pk=victim.pk)))
    data = _post_data(scene.forms.change[label], **builder.edit(scene.a))
    response = scene.client(owner).post(_url(label, "change", victim.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(_rows(type(victim).objects.filter(pk=victim.pk))) != before


@pytest.mark.parametrize("label", MODELS)
def test_the_owner_can_make_the_addition_the_attackers_try(scene, label):
    builder = _builder(label)
    if label not in scene.forms.add:
        pytest.skip("nobody adds these rows in the admin")
    who = scene.forms.add_owner[label]
    owner = scene.a.staff if who == "staff" else scene.city.city_admin
    model = _model(label)
    count = model.objects.count()
    data = _post_data(scene.forms.add[label], **builder.add(scene.a, owner))
    response = scene.client(owner).post(_url(label, "add"), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert model.objects.count() == count + 1


# ---- the attacks on every admin model --------------------------------------------------------


@pytest.mark.parametrize("label,who", list(_cases(skip_readers=True)))
def test_list(scene, label, who):
    builder, persona = _builder(label), PERSONAS[who]
    victim = builder.victim(scene.a)
    client = scene.client(persona.user(scene.city))
    link = _url(label, "change", victim.pk)
    queries = [("", (200, 403)), (f"?q={scene.a.marker}", (200, 403))]
    path = getattr(_model(label), "community_path", None)
    if path:  # filtered by the victim's community: a lookup the list does not offer is a 400
        queries.append((f"?{path}id__exact={scene.a.community.pk}", (200, 400, 403)))
    for query, allowed in queries:
        name = attempt("admin: list", f"{label}{query} by {persona.describes}")
        response = client.get(_url(label, "changelist") + query)
        assert refused(response, persona, *allowed), name
        if response.status_code == 200:
            assert victim.pk not in [row.pk for row in response.context["cl"].result_list], name
            assert link not in response.content.decode(), name
            if "?q=" not in query:  # the search box shows what was searched for
                assert not _leaks(response, scene.a), f"{name}: {_leaks(response, scene.a)}"


@pytest.mark.parametrize("label,who", list(_cases(skip_readers=True)))
def test_view(scene, label, who):
    builder, persona = _builder(label), PERSONAS[who]
    victim = builder.victim(scene.a)
    client = scene.client(persona.user(scene.city))
    for view in ["change", "history"]:
        name = attempt(
            f"admin: {'view' if view == 'change' else 'history'}", f"{label} by {persona.describes}"
        )
        response = client.get(_url(label, view, victim.pk))
        assert refused(response, persona), name
        assert not _leaks(response, scene.a), f"{name}: {_leaks(response, scene.a)}"
    # The admin's "view on site" link: at most the public page residents see anyway.
    name = attempt("admin: view on site", f"{label} by {persona.describes}")
    content_type = ContentType.objects.get_for_model(victim)
    response = client.get(reverse("admin:view_on_site", args=[content_type.pk, victim.pk]))
    if persona.back_office:
        assert response.status_code in (302, 404), name
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("admin:index")), name
    else:
        assert _to_login(response), name


def _list_editable_cases():
    for label in MODELS:
        if _admin(label).list_editable:
            for key in PERSONAS:
                yield pytest.param(label, key, id=f"{label}-{key}")


@pytest.mark.parametrize("label,who", list(_list_editable_cases()))
def test_list_editable(scene, label, who):
    """The changelist's own form (list_editable), posted with the victim's row."""
    builder, persona = _builder(label), PERSONAS[who]
    victim = builder.victim(scene.a)
    model_admin = _admin(label)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(victim.pk),
        "_save": "Save",
    }
    edit = builder.edit(scene.a)
    for field in model_admin.list_editable:
        data[f"form-0-{field}"] = edit.get(field, "forged")
    before = state(scene, victim)
    name = attempt("admin: bulk action", f"list_editable of {label} by {persona.describes}")
    response = scene.client(persona.user(scene.city)).post(_url(label, "changelist"), data)
    assert refused(response, persona, 200, 403), name
    assert state(scene, victim) == before, name


@pytest.mark.parametrize("label,who", list(_cases()))
def test_change(scene, label, who):
    builder, persona = _builder(label), PERSONAS[who]
    victim = builder.victim(scene.a)
    client = scene.client(persona.user(scene.city))
    data = _post_data(scene.forms.change[label], **builder.edit(scene.a))
    before = state(scene, victim)
    name = attempt("admin: change", f"{label} by {persona.describes}")
    response = client.post(_url(label, "change", victim.pk), data)
    assert refused(response, persona), name
    assert state(scene, victim) == before, name


@pytest.mark.parametrize("label,who", list(_cases()))
def test_delete(scene, label, who):
    builder, persona = _builder(label), PERSONAS[who]
    victim = builder.victim(scene.a)
    client = scene.client(persona.user(scene.city))
    before = state(scene, victim)
    name = attempt("admin: delete", f"{label}, the confirmation page, by {persona.describes}")
    response = client.get(_url(label, "delete", victim.pk))
    assert refused(response, persona), name
    assert not _leaks(response, scene.a), f"{name}: {_leaks(response, scene.a)}"
    name = attempt("admin: delete", f"{label}, confirmed, by {persona.describes}")
    response = client.post(_url(label, "delete", victim.pk), {"post": "yes"})
    assert refused(response, persona), name
    assert state(scene, victim) == before, name


@pytest.mark.parametrize("label,who", list(_cases()))
def test_add_into_the_victims_community(scene, label, who):
    builder, persona = _builder(label), PERSONAS[who]
    attacker = persona.user(scene.city)
    client = scene.client(attacker)
    data = _post_data(scene.forms.add.get(label, {}), **builder.add(scene.a, attacker))
    before = state(scene)
    name = attempt("admin: add", f"{label} into {scene.a.community} by {persona.describes}")
    response = client.post(_url(label, "add"), data)
    assert refused(response, persona, 200, 403), name
    if response.status_code == 200:  # the form, with what is wrong with it
        assert response.context["errors"], name
    assert state(scene) == before, name


def _action_cases():
    for label in MODELS:
        model_admin = REGISTRY[_model(label)]
        names = list(admin.site._actions) + [
            a if isinstance(a, str) else a.__name__ for a in (model_admin.actions or [])
        ]
        for action in names:
            for key in PERSONAS:
                yield pytest.param(label, action, key, id=f"{label}-{action}-{key}")


def _action_data(action: str, pk, **more) -> dict:
    return {
        "action": action,
        "_selected_action": [str(pk)],
        "index": "0",
        "post": "yes",  # delete_selected's confirmation
        # close_for_a_while's dates
        "apply": "1",
        "start_date": _today(1),
        "end_date": _today(3),
        "note": "伪造",
        **more,
    }


@pytest.mark.parametrize("label,action,who", list(_action_cases()))
def test_bulk_action(scene, label, action, who):
    builder, persona = _builder(label), PERSONAS[who]
    victim = builder.victim(scene.a)
    client = scene.client(persona.user(scene.city))
    # Everything across the pages is the attacker's own list: their own rows may change, so
    # only the counts of the ticked attempt are compared.
    for how, more, counted in [
        ("ticked", {}, True),
        ("all across pages", {"select_across": "1"}, False),
    ]:
        before = state(scene, victim, counts=counted)
        name = attempt("admin: bulk action", f"{action} on {label}, {how}, by {persona.describes}")
        response = client.post(_url(label, "changelist"), _action_data(action, victim.pk, **more))
        assert refused(response, persona, 200, 302, 403), name
        assert state(scene, victim, counts=counted) == before, name


@pytest.mark.parametrize(
    "label,action",
    [
        ("facilities.Facility", "copy_menus_to_next_week"),
        ("facilities.Facility", "close_for_a_while"),
        ("courses.CourseClass", "draw_lots"),
        ("courses.Enrolment", "cancel_enrolments"),
    ],
)
def test_the_owner_can_take_the_actions_the_attackers_try(scene, label, action):
    victim = _builder(label).victim(scene.a)
    before = state(scene, victim)
    response = scene.client(scene.a.staff).post(
        _url(label, "changelist"), _action_data(action, victim.pk)
    )
    assert response.status_code == 302
    assert state(scene, victim) != before


def _autocomplete_cases():
    for label in MODELS:
        for field in _admin(label).autocomplete_fields:
            for key in PERSONAS:
                yield pytest.param(label, field, key, id=f"{label}.{field}-{key}")


@pytest.mark.parametrize("label,field,who", list(_autocomplete_cases()))
def test_autocomplete(scene, label, field, who):
    persona = PERSONAS[who]
    model = _model(label)
    client = scene.client(persona.user(scene.city))
    for term in ["", scene.a.marker]:
        name = attempt("admin: autocomplete", f"{label}.{field} «{term}» by {persona.describes}")
        response = client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field,
                "term": term,
            },
        )
        assert refused(response, persona, 200, 403), name
        assert not _leaks(response, scene.a), f"{name}: {_leaks(response, scene.a)}"


# ---- forged foreign keys, read-only fields and inline rows, by A's own staff ------------------


def _scoped_labels() -> list[str]:
    return [label for label in MODELS if label in BUILDERS and not BUILDERS[label].city_wide]


def _counterpart(model: type[models.Model], w: World) -> models.Model | None:
    if model is User:
        return w.staff
    return w.rows().get(model._meta.label)


def _fk_cases():
    for label in _scoped_labels():
        for field in _model(label)._meta.concrete_fields:
            # Foreign keys to what belongs to a community or a place, or to a person; not to
            # city-wide data (categories), which every community chooses from.
            if (field.many_to_one or field.one_to_one) and (
                hasattr(field.related_model, "community_path")
                or field.related_model in (Subdistrict, District, User)
            ):
                yield pytest.param(label, field.name, id=f"{label}.{field.name}")


def _b_state(scene: Scene) -> dict:
    return {"b": world_state(scene.b)}


@pytest.mark.parametrize("label,field_name", list(_fk_cases()))
def test_forged_foreign_key(scene, label, field_name):
    """A's staff edit their own row but point it at B's community, compound, facility …"""
    model = _model(label)
    victim = _builder(label).victim(scene.a)
    field = model._meta.get_field(field_name)
    target = _counterpart(field.related_model, scene.b)
    if target is None:
        pytest.fail(f"no row of {field.related_model._meta.label} in the world to point at")
    client = scene.client(scene.a.staff)
    before = {**_b_state(scene), "own": getattr(victim, field.attname)}
    data = _post_data(scene.forms.change[label], **{field_name: target.pk})
    name = attempt(
        "admin: forged foreign key", f"{label}.{field_name} → {target} of B by A's staff"
    )
    response = client.post(_url(label, "change", victim.pk), data)
    victim.refresh_from_db()
    assert response.status_code in (200, 302, 403), name
    if field_name in scene.forms.change[label]:  # offered in the form: refused with a reason
        assert (
            response.status_code == 200 and field_name in response.context["adminform"].form.errors
        ), name
    assert {**_b_state(scene), "own": getattr(victim, field.attname)} == before, name


def _forged_value(field: models.Field, current, b: World):
    if field.is_relation:
        target = _counterpart(field.related_model, b)
        return target.pk if target is not None else None
    if isinstance(field, models.BooleanField):
        return "" if current else "on"
    if isinstance(field, models.DateTimeField):
        return "2001-02-03 04:05:06"
    if isinstance(field, models.DateField):
        return "2001-02-03"
    if isinstance(field, models.TimeField):
        return "04:05"
    if isinstance(field, models.DecimalField):
        return "99.99"
    if isinstance(field, models.FloatField):
        return "1.5"
    if isinstance(field, models.IntegerField):
        return str((current or 0) + 7)
    if isinstance(field, models.JSONField):
        return "[4, 7, 11]"
    return "forged"


# What staff must never set, whatever the forms come to offer: where a row sits and its address
# (the city's), the demo flags, counts kept by the code, stamps, draws, enrolments (changed only
# through courses.enrolment), a resident's number and account, and what a resident wrote.
READ_ONLY_FOR_STAFF = {
    "communities.Community": ["slug", "subdistrict", "is_demo", "demo_note"],
    "communities.ResidentialCompound": ["is_demo"],
    "facilities.Facility": ["slug", "is_demo", "updated_at"],
    "courses.Course": ["slug"],
    "courses.CourseClass": ["enrolled_count"],
    "courses.Draw": ["course_class", "seed", "drawn_at", "seats", "applications"],
    "courses.Enrolment": [
        "course_class",
        "user",
        "status",
        "created_at",
        "enrolled_at",
        "cancelled_at",
        "by_staff",
        "draw_rank",
    ],
    "residents.Resident": ["user", "phone", "privacy_accepted_at", "calendar_token", "created_at"],
    "wishes.Wish": [
        "community",
        "kind",
        "title",
        "text",
        "author",
        "created_at",
        "replied_at",
        "replied_by",
        "support_count",
    ],
}


@pytest.mark.parametrize("label", _scoped_labels())
def test_forged_read_only_fields(scene, label):
    """A's staff post values for every field their form does not offer (read-only, excluded or
    not editable: audit stamps, counts, seeds, slugs, the demo flag …): none is taken."""
    model = _model(label)
    victim = _builder(label).victim(scene.a)
    offered = scene.forms.offered[label] - set(READ_ONLY_FOR_STAFF.get(label, []))
    forged, fields = {}, []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in offered:
            continue
        value = _forged_value(field, getattr(victim, field.attname), scene.b)
        if value is None:
            continue
        fields.append(field)
        forged[field.name] = value
        if isinstance(field, models.DateTimeField):
            forged[f"{field.name}_0"], forged[f"{field.name}_1"] = "2001-02-03", "04:05:06"
    if not fields:
        pytest.skip("the form offers every field")
    before = {**_b_state(scene), "own": [_kept(victim, f) for f in fields]}
    name = attempt(
        "admin: forged read-only field",
        f"{label} {', '.join(f.name for f in fields)} by A's staff",
    )
    response = scene.client(scene.a.staff).post(
        _url(label, "change", victim.pk), _post_data(scene.forms.change[label], **forged)
    )
    assert response.status_code in (302, 403), name
    victim.refresh_from_db()
    assert {**_b_state(scene), "own": [_kept(victim, f) for f in fields]} == before, name


def _kept(row: models.Model, field: models.Field):
    """The field's value; for a stamp every save sets (``auto_now``), only whether it is the
    forged date."""
    value = getattr(row, field.attname)
    if getattr(field, "auto_now", False):
        return "forged" if value.year == 2001 else "stamped by the save"
    return value


def _inline_cases():
    for label in _scoped_labels():
        for inline in _admin(label).inlines:
            yield pytest.param(label, inline, id=f"{label}-{inline.__name__}")


@pytest.mark.parametrize("label,inline", list(_inline_cases()))
def test_forged_inline_rows(scene, label, inline):
    """A's staff save their own row with an inline row id of B's: edited, deleted, or moved
    back to B's parent; and with a new inline row naming B's parent."""
    parent = _model(label)
    fk = _get_foreign_key(parent, inline.model, fk_name=inline.fk_name)
    prefix = fk.remote_field.get_accessor_name(model=inline.model).replace("+", "")
    base = scene.forms.change[label]
    assert int(base[f"{prefix}-INITIAL_FORMS"][0]) >= 1, f"A's {label} has no {prefix} row"
    theirs = _counterpart(inline.model, scene.b)
    assert theirs is not None, f"no row of {inline.model._meta.label} in B's world"
    victim = _builder(label).victim(scene.a)
    client = scene.client(scene.a.staff)
    before = _b_state(scene)
    b_parent = getattr(theirs, fk.attname)
    for how, more in [
        ("edited", {}),
        ("deleted", {f"{prefix}-0-DELETE": "on"}),
        ("moved to B's parent", {f"{prefix}-0-{fk.name}": b_parent}),
    ]:
        name = attempt(
            "admin: forged inline row",
            f"{label} with {inline.model._meta.label} {theirs.pk} of B, {how}, by A's staff",
        )
        data = _post_data(base, **{f"{prefix}-0-id": theirs.pk, **more})
        response = client.post(_url(label, "change", victim.pk), data)
        assert response.status_code in (200, 302), name
        assert _b_state(scene) == before, name
    name = attempt(
        "admin: forged inline row",
        f"{label} with a new {inline.model._meta.label} naming B's parent, by A's staff",
    )
    new = int(base[f"{prefix}-TOTAL_FORMS"][0])
    copied = {
        key.replace(f"{prefix}-0-", f"{prefix}-{new}-"): values
        for key, values in base.items()
        if key.startswith(f"{prefix}-0-") and key != f"{prefix}-0-id"
    }
    data = _post_data(
        {**base, **copied},
        **{f"{prefix}-TOTAL_FORMS": new + 1, f"{prefix}-{new}-{fk.name}": b_parent},
    )
    response = client.post(_url(label, "change", victim.pk), data)
    assert response.status_code in (200, 302), name
    assert _b_state(scene) == before, name


# ---- the custom admin views -----------------------------------------------------------------


@dataclass(frozen=True)
class CustomView:
    """One attack on an admin view of a project's own: the URL name, its arguments from the
    victim's world, and a POST to send (None: a GET). ``lists`` views answer staff with their
    own data (exports, the desk, the changes page): the victim's must simply not be in it."""

    url_name: str
    args: Callable[[World], list]
    post: Callable[[World], dict] | None = None
    lists: bool = False
    kind: str = "admin: custom view"
    # What must not show in the answer, when not the world's marker: a preview repeats the
    # uploaded sheet, so only what the sheet did not hold may not show.
    secrets: Callable[[World], list[str]] | None = None


def _stolen_sheet(w: World) -> dict:
    """A's resource list, as exported by A's staff, with an address changed, and a new row
    naming A's community: uploaded by someone else."""
    rows = sheets.export_rows(w.staff)
    keys = [c.key for c in sheets.COLUMNS]
    rows[0][keys.index("address")] = "伪造的地址"
    new = list(rows[0])
    new[keys.index("slug")] = ""
    new[keys.index("name")] = f"{w.marker}伪造新设施"
    content = sheets.to_csv([*rows, new])
    return {"sheet": _upload("stolen.csv", content)}


def _upload(name: str, content: bytes, content_type: str = "text/csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def _extract(w: World) -> dict:
    """A real OpenStreetMap extract, to become the street network of the world's district."""
    content = (settings.BASE_DIR / "tests" / "streets" / "data" / "helsinki.osm.pbf").read_bytes()
    return {
        "district": w.district.pk,
        "extract": _upload("helsinki.osm.pbf", content, "application/octet-stream"),
    }


CUSTOM_VIEWS = [
    CustomView("courses_courseclass_desk", lambda w: [w.class_first.pk]),
    CustomView(
        "courses_courseclass_desk",
        lambda w: [w.class_first.pk],
        post=lambda w: {"phone": "13911113333", "name": "伪造", "birth_year": "1960"},
    ),
    CustomView("courses_courseclass_roster", lambda w: [w.class_first.pk], kind="admin: export"),
    CustomView("courses_courseclass_attendance", lambda w: [w.class_first.pk]),
    CustomView(
        "courses_courseclass_attendance_meeting",
        lambda w: [w.class_first.pk, w.meeting.isoformat()],
    ),
    CustomView(
        "courses_courseclass_attendance_meeting",
        lambda w: [w.class_first.pk, w.meeting.isoformat()],
        # Everyone shown and nobody ticked: the victim's mark would turn to absent.
        post=lambda w: {"shown": [str(w.enrolment.pk)]},
    ),
    CustomView("residents_resident_password", lambda w: [w.resident.pk]),
    CustomView("residents_resident_password", lambda w: [w.resident.pk], post=lambda w: {}),
    CustomView("facilities_facility_export", lambda w: ["xlsx"], lists=True, kind="admin: export"),
    CustomView("facilities_facility_export", lambda w: ["csv"], lists=True, kind="admin: export"),
    CustomView("facilities_facility_template", lambda w: [], lists=True, kind="admin: export"),
    CustomView("facilities_facility_import", lambda w: [], lists=True, kind="admin: import"),
    CustomView(
        "facilities_facility_import",
        lambda w: [],
        post=_stolen_sheet,
        lists=True,
        kind="admin: import",
        secrets=lambda w: [w.facility.address],
    ),
    CustomView(
        "facilities_facility_import_confirm",
        lambda w: [],
        post=lambda w: {"sha256": "0" * 64},
        lists=True,
        kind="admin: import",
    ),
    # The other lists kept in Excel: the same pages, the same scope.
    *(
        CustomView(f"{model}_export", lambda w, kind=kind: [kind], lists=True, kind="admin: export")
        for model in ("communities_residentialcompound", "facilities_idleroom")
        for kind in ("xlsx", "csv")
    ),
    *(
        view
        for model in ("communities_residentialcompound", "facilities_idleroom")
        for view in (
            CustomView(f"{model}_template", lambda w: [], lists=True, kind="admin: export"),
            CustomView(f"{model}_import", lambda w: [], lists=True, kind="admin: import"),
            CustomView(
                f"{model}_import_confirm",
                lambda w: [],
                post=lambda w: {"sha256": "0" * 64},
                lists=True,
                kind="admin: import",
            ),
        )
    ),
    # The community list is the city administrator's alone: every staff member is refused.
    CustomView("communities_community_export", lambda w: ["xlsx"], kind="admin: export"),
    CustomView("communities_community_template", lambda w: [], kind="admin: export"),
    CustomView("communities_community_import", lambda w: [], kind="admin: import"),
    CustomView(
        "communities_community_import_confirm",
        lambda w: [],
        post=lambda w: {"sha256": "0" * 64},
        kind="admin: import",
    ),
    CustomView("auth_user_password_change", lambda w: [w.resident_user.pk]),
    CustomView(
        "auth_user_password_change",
        lambda w: [w.resident_user.pk],
        post=lambda w: {
            "password1": "Forged-password-4711",
            "password2": "Forged-password-4711",
            "usable_password": "true",
        },
    ),
    CustomView("streets_streetnetwork_import", lambda w: [], kind="admin: import"),
    CustomView("streets_streetnetwork_import", lambda w: [], post=_extract, kind="admin: import"),
    CustomView("changes", lambda w: [], lists=True),
    CustomView("index", lambda w: [], lists=True),
]


def _custom_cases():
    for view in CUSTOM_VIEWS:
        for key in PERSONAS:
            verb = "POST" if view.post else "GET"
            yield pytest.param(view, key, id=f"{view.url_name}-{verb}-{key}")


@pytest.mark.parametrize("view,who", list(_custom_cases()))
def test_custom_admin_view(scene, view, who):
    persona = PERSONAS[who]
    client = scene.client(persona.user(scene.city))
    url = reverse(f"admin:{view.url_name}", args=view.args(scene.a))
    before = state(scene)
    name = attempt(view.kind, f"{'POST' if view.post else 'GET'} {url} by {persona.describes}")
    response = client.post(url, view.post(scene.a)) if view.post else client.get(url)
    if view.lists:
        assert refused(response, persona, 200, 302, 403), name
    else:
        assert refused(response, persona), name
    if view.secrets:
        text = _text(response)
        assert not [secret for secret in view.secrets(scene.a) if secret in text], name
    else:
        assert not _leaks(response, scene.a), f"{name}: {_leaks(response, scene.a)}"
    assert state(scene) == before, name


@pytest.mark.parametrize(
    "view", [v for v in CUSTOM_VIEWS if v.lists and not v.post], ids=lambda v: v.url_name
)
def test_the_owner_finds_the_victim_in_the_lists_the_attackers_read(scene, view):
    response = scene.client(scene.a.staff).get(
        reverse(f"admin:{view.url_name}", args=view.args(scene.a))
    )
    assert response.status_code == 200
    if view.url_name.endswith(("_template", "_import")):
        return  # a blank sheet and an upload form: nobody's data
    assert _leaks(response, scene.a)


def test_forged_compound_at_the_desk(scene):
    """A's staff register a new resident at their own class's desk, living in B's compound."""
    a, b = scene.a, scene.b
    residents = Resident.objects.count()
    name = attempt("admin: forged foreign key", "desk registration into B's compound by A's staff")
    response = scene.client(a.staff).post(
        reverse("admin:courses_courseclass_desk", args=[a.class_first.pk]),
        {"phone": "13911114444", "name": "伪造", "birth_year": "1960", "compound": b.compound.pk},
    )
    assert response.status_code == 200, name
    assert "compound" in response.context["form"].errors, name
    assert Resident.objects.count() == residents, name


def test_forged_enrolment_in_the_attendance_register(scene):
    """A's staff save their own class's register listing B's enrolment."""
    a, b = scene.a, scene.b
    before = _b_state(scene)
    name = attempt("admin: forged inline row", "B's enrolment in A's attendance register")
    response = scene.client(a.staff).post(
        reverse(
            "admin:courses_courseclass_attendance_meeting",
            args=[a.class_first.pk, a.meeting.isoformat()],
        ),
        {"shown": [str(b.enrolment.pk), str(a.enrolment.pk)], "present": [str(a.enrolment.pk)]},
    )
    assert response.status_code == 302, name
    assert _b_state(scene) == before, name
    assert not Attendance.objects.filter(enrolment=b.enrolment).exclude(pk=b.attendance.pk).exists()


def test_forged_rows_in_an_imported_sheet(scene):
    """A's staff upload B's resource list (B's facility by its 编号) and a new row in B's
    community: refused, nothing imported."""
    before = _b_state(scene)
    client = scene.client(scene.a.staff)
    name = attempt("admin: import", "B's facilities in a sheet uploaded by A's staff")
    response = client.post(reverse("admin:facilities_facility_import"), _stolen_sheet(scene.b))
    assert response.status_code == 200, name
    plan = response.context["plan"]
    assert plan is not None and not plan.ok, name
    client.post(reverse("admin:facilities_facility_import_confirm"), {"sha256": "0" * 64})
    assert _b_state(scene) == before, name


def test_staff_of_another_community_cannot_take_a_resident_over_through_their_desk(scene):
    a, b = scene.a, scene.b
    now = timezone.now()
    term = Term.objects.create(
        community=b.community,
        year=now.year + 1,
        season=Term.Season.SPRING,
        registration_opens=now - timedelta(days=1),
        registration_closes=now + timedelta(days=14),
        starts_on=timezone.localdate() + timedelta(days=30),
        ends_on=timezone.localdate() + timedelta(days=120),
    )
    course = Course.objects.create(
        term=term, name=f"{b.marker}书法课", subject="calligraphy", audience="all"
    )
    desk_class = CourseClass.objects.create(
        course=course,
        weekday=0,
        starts_at=time(9),
        ends_at=time(11),
        first_date=term.starts_on,
        last_date=term.ends_on,
        facility=b.facility,
        capacity=10,
    )
    client = scene.client(b.staff)
    password = User.objects.get(pk=a.resident_user.pk).password
    name = attempt(
        "admin: change",
        "staff of another district enrol A's resident at their desk by mobile number, then reset "
        "the password and rename them",
    )
    client.post(
        reverse("admin:courses_courseclass_desk", args=[desk_class.pk]), {"phone": a.resident.phone}
    )
    response = client.post(reverse("admin:residents_resident_password", args=[a.resident.pk]))
    assert response.status_code in (403, 404), name
    assert User.objects.get(pk=a.resident_user.pk).password == password, name
    before = Resident.objects.filter(pk=a.resident.pk).values("name", "birth_year").get()
    client.post(
        reverse("admin:residents_resident_change", args=[a.resident.pk]),
        {"name": "改名", "birth_year": 1950},
    )
    after = Resident.objects.filter(pk=a.resident.pk).values("name", "birth_year").get()
    assert after == before, name


# ---- the coverage reports -------------------------------------------------------------------

REPORT_ARGS: dict[str, list[dict]] = {
    "community": [{"slug": None}],  # the victim community's
    "export-csv": [{"table": table} for table in report_export.TABLES],
}


# Each report plainly, and for a service A lacks with a few sites to suggest (A's idle room
# among them).
REPORT_QUERIES = ["", "?service=health_station&k=3"]


def _report_url(name: str, kwargs: dict, query: str, w: World) -> str:
    kwargs = {k: (w.community.slug if k == "slug" else v) for k, v in kwargs.items()}
    return reverse(f"reports:{name}", kwargs=kwargs) + query


def _report_cases(personas):
    for name, kwargs in _report_url_cases():
        for query in REPORT_QUERIES:
            for key in personas:
                label = "-".join([name, *map(str, kwargs.values())]) + ("-service" if query else "")
                yield pytest.param(name, kwargs, query, key, id=f"{label}-{key}")


@pytest.mark.parametrize("name,kwargs,query,who", list(_report_cases(PERSONAS)))
def test_report(scene, name, kwargs, query, who):
    persona = PERSONAS[who]
    client = scene.client(persona.user(scene.city))
    url = _report_url(name, kwargs, query, scene.a)
    kind = "reports: export" if name.startswith("export") else "reports: view"
    before = state(scene)
    attempt_name = attempt(kind, f"{url} by {persona.describes}")
    response = client.get(url)
    if who == "resident":
        assert response.status_code == 403, attempt_name
    elif name == "community":
        assert response.status_code == 404, attempt_name
    else:
        assert response.status_code == 200, attempt_name
    assert not _leaks(response, scene.a), f"{attempt_name}: {_leaks(response, scene.a)}"
    assert state(scene) == before, attempt_name


# Tables without a community's name in them: the summary is per service over the whole area, and
# the suggestions of the default service (a canteen, which A has) name no room.
NAMELESS_REPORTS = {
    ("export-csv", "summary", ""),
    ("export-csv", "summary", REPORT_QUERIES[1]),
    ("export-csv", "suggestions", ""),
}


@pytest.mark.parametrize("name,kwargs,query,who", list(_report_cases(["staff", "official"])))
def test_the_owners_reports_show_the_victim(scene, name, kwargs, query, who):
    user = scene.a.staff if who == "staff" else scene.city.official_a
    response = scene.client(user).get(_report_url(name, kwargs, query, scene.a))
    assert response.status_code == 200
    if (name, kwargs.get("table"), query) not in NAMELESS_REPORTS:
        assert _leaks(response, scene.a)
