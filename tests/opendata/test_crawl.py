"""One crawl of the whole open-data API over the demo data, after residents have registered,
enrolled and wished and staff have kept idle rooms and notes: every page of every list and every
object's own document. Each of them is valid HSDS 3.1, and none holds any personal data."""

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from communities.models import ResidentialCompound
from communities.roles import make_staff
from courses.models import CourseClass, Enrolment
from facilities.models import Facility, IdleRoom
from residents.models import Resident
from tests.opendata.conftest import ABOUT, API, DETAILS, LISTS, get, page_schema, validate
from wishes.models import Support, Wish

pytestmark = pytest.mark.django_db

User = get_user_model()
PER_PAGE = 9  # small pages: many of them


@dataclass(frozen=True)
class Document:
    path: str
    schema: dict | str
    body: bytes


@pytest.fixture(scope="module")
def secrets(demo) -> list[str]:
    """Residents, staff and their private records on top of the demo's (rolled back with the
    demo data); the values that must never be published."""
    compound = ResidentialCompound.objects.get(name="林园小区")
    community = compound.community
    staff = User.objects.create_user(
        "staff-secret", first_name="职员司马甲", last_name="职员姓氏", email="staff.s@example.cn"
    )
    make_staff(staff, community)
    course_class = CourseClass.objects.get(course__name="摄影", level="初级")
    course_class.teacher = "教师上官丁"
    course_class.save()
    residents = []
    for n, (name, phone) in enumerate([("欧阳秘密", "13912345678"), ("诸葛隐私", "15987654321")]):
        user = User.objects.create_user(phone, first_name=name, email=f"resident{n}@example.cn")
        Resident.objects.create(
            user=user, name=name, phone=phone, birth_year=1950 + n, compound=compound
        )
        Enrolment.objects.create(
            course_class=course_class, user=user, status="waitlisted", by_staff=staff
        )
        residents.append(user)
    wish = Wish.objects.create(
        community=community,
        kind="course",
        title="私人愿望标题戊",
        text="我家住三单元五楼，电话13712340000",
        author=residents[0],
        reply="已联系司马甲处理",
        replied_by=staff,
        replied_at=timezone.now(),
    )
    Support.objects.create(wish=wish, user=residents[1])
    IdleRoom.objects.create(
        community=community,
        name="闲置房己",
        floor_area=200,
        owner="房东公孙庚 13698765432",
        available_from=timezone.localdate() + timedelta(days=30),
        notes="私密备注：钥匙在门卫处",
        latitude=compound.latitude,
        longitude=compound.longitude,
    )
    values = [
        "staff-secret",
        "职员司马甲",
        "职员姓氏",
        "staff.s@example.cn",
        "教师上官丁",
        "私人愿望标题戊",
        "我家住三单元五楼",
        "13712340000",
        "已联系司马甲处理",
        "闲置房己",
        "房东公孙庚",
        "13698765432",
        "私密备注",
        "resident0@example.cn",
    ]
    # The demo's residents (张桂兰, 13800000001 …) and its staff accounts' names too.
    for name, phone in Resident.objects.values_list("name", "phone"):
        values += [name, phone]
    values += [n for n in User.objects.values_list("first_name", flat=True) if n]
    assert Enrolment.objects.filter(user__resident__isnull=False).count() > 2
    return values


@pytest.fixture(scope="module")
def crawled(secrets) -> list[Document]:
    """Every document the API serves: its description, every page of every list and every
    object's own document."""
    client = Client()
    documents = [Document("", ABOUT, client.get(API).content)]
    for endpoint, item in LISTS.items():
        number, ids = 1, []
        while True:
            path = f"{endpoint}?per_page={PER_PAGE}&page={number}"
            response = client.get(API + path)
            assert response.status_code == 200, path
            documents.append(Document(path, page_schema(item), response.content))
            page = json.loads(response.content)
            ids += [i["id"] for i in page["contents"]]
            if page["last_page"]:
                break
            number += 1
        assert ids and len(ids) == len(set(ids)) == page["total_items"], endpoint
        for id_ in ids:
            response = client.get(f"{API}{endpoint}/{id_}")
            assert response.status_code == 200
            assert json.loads(response.content)["id"] == id_
            documents.append(Document(f"{endpoint}/{id_}", DETAILS[endpoint], response.content))
    return documents


def test_every_document_validates_against_the_hsds_schemas(api, crawled):
    for document in crawled:
        validate(json.loads(document.body), document.schema)
    public = Facility.objects.operating().count()
    assert len([d for d in crawled if d.path.startswith("services/")]) > public
    assert len([d for d in crawled if d.path.startswith("service_at_locations/")]) > public


def test_no_personal_data_in_any_document(api, crawled, secrets):
    text = b"\n".join(d.body for d in crawled).decode()
    text += get(api, "openapi.json").__repr__()
    assert "林园社区" in text and "林园小区助餐点" in text  # the crawl saw the data
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, leaked


def test_searching_for_a_person_finds_nothing(api, secrets):
    for endpoint in LISTS:
        for secret in ["欧阳秘密", "13912345678", "职员司马甲", "房东公孙庚", "张桂兰"]:
            assert get(api, endpoint, {"search": secret})["total_items"] == 0, (endpoint, secret)
