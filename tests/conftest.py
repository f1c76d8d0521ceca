"""Shared fixtures: a small place hierarchy and the personas every view test checks.

Personas: an anonymous visitor (``client``), a resident with no role, staff of community A, staff
of community B, an official of the district, and a city administrator.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from communities.models import (
    Community,
    District,
    Membership,
    ResidentialCompound,
    Subdistrict,
)
from communities.roles import make_staff
from facilities import taxonomy
from facilities.models import Category

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _empty_cache():
    """No cached fragment from one test reaches another (the test cache is local memory)."""
    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database with the default categories, which the data migration loads. Browser
    tests flush the database after each test, so a database kept from an earlier run (pytest's
    --reuse-db) may have lost them."""
    with django_db_blocker.unblock():
        taxonomy.add_missing(Category)


@pytest.fixture
def district(db) -> District:
    return District.objects.create(
        code="220106",
        name="绿园区",
        city="长春市",
        city_code="2201",
        province="吉林省",
        province_code="22",
    )


@pytest.fixture
def other_district(db) -> District:
    return District.objects.create(
        code="410311",
        name="洛龙区",
        city="洛阳市",
        city_code="4103",
        province="河南省",
        province_code="41",
    )


@pytest.fixture
def subdistrict(district) -> Subdistrict:
    return Subdistrict.objects.create(district=district, code="220106005", name="青年路街道")


@pytest.fixture
def community_a(subdistrict) -> Community:
    return Community.objects.create(
        subdistrict=subdistrict,
        name="新竹社区",
        population=3000,
        households=1100,
        feature="特色楼栋",
        description="打造老年大学，建设医养综合体。",
        office_address="青年路88号",
        phone="0431-85550000",
        latitude=43.88,
        longitude=125.27,
    )


@pytest.fixture
def community_b(other_district) -> Community:
    subdistrict = Subdistrict.objects.create(
        district=other_district, code="410311004", name="关林街道"
    )
    return Community.objects.create(
        subdistrict=subdistrict,
        name="石油社区",
        population=2000,
        households=800,
        latitude=34.60,
        longitude=112.45,
    )


@pytest.fixture
def compound_a(community_a) -> ResidentialCompound:
    return ResidentialCompound.objects.create(
        community=community_a,
        name="新竹一区",
        population=1200,
        households=450,
        latitude=43.881,
        longitude=125.271,
    )


@pytest.fixture
def compound_b(community_b) -> ResidentialCompound:
    return ResidentialCompound.objects.create(
        community=community_b,
        name="地勘三院小区",
        population=900,
        households=350,
        latitude=34.601,
        longitude=112.451,
    )


def _user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


@pytest.fixture
def resident(db):
    return _user("resident")


@pytest.fixture
def staff_a(community_a):
    user = _user("staff-a")
    make_staff(user, community_a)
    return user


@pytest.fixture
def staff_b(community_b):
    user = _user("staff-b")
    make_staff(user, community_b)
    return user


@pytest.fixture
def official(district):
    user = _user("official")
    Membership.objects.create(user=user, role=Membership.Role.OFFICIAL, district=district)
    return user


@pytest.fixture
def city_admin(db):
    user = _user("cityadmin", is_staff=True, is_superuser=True)
    Membership.objects.create(user=user, role=Membership.Role.CITY_ADMIN)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
