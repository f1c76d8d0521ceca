"""Shared fixtures: a small place hierarchy and the personas every view test checks.

Personas: an anonymous visitor (``client``), a resident with no role, staff of community A, staff
of community B, an official of the district, and a city administrator.
"""

import base64
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities import two_factor
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
    """A client signed in as ``user``, past the second sign-in step when the account needs one
    (with an authenticator made for the test)."""
    client = Client()
    client.force_login(user)
    if client.session.get(two_factor.PENDING):
        pass_second_step(client, user)
    return client


def totp_code(key: bytes, steps_ahead: int = 0) -> str:
    """What a phone app shows now (or ``steps_ahead`` half-minutes later) for ``key``."""
    totp = TOTP(key, step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def key_on_page(html: str) -> bytes:
    """The set-up page's key as it prints it, read the way a person types it into the app."""
    shown = re.search(r'id="setup-key">([A-Z2-7 ]+)<', html).group(1)
    compact = shown.replace(" ", "")
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


def next_code(username: str) -> str:
    """A code the user's authenticator accepts now: one half-minute after the last one used."""
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    now_step = int(time.time()) // 30
    return totp_code(device.bin_key, max(0, device.last_t + 1 - now_step))


def pass_second_step(client: Client, user) -> None:
    """Mark the client's session as having passed the second step, as the code page would."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    del session[two_factor.PENDING]
    session.save()


def pytest_terminal_summary(terminalreporter):
    """The attack suite's count (tests/security): how many attempts were made, by kind. Before
    it, how many open-data documents were validated against the HSDS schemas (tests/opendata),
    and what the scale-out test measured (tests/portal/test_scale_out.py)."""
    from tests.opendata.conftest import VALIDATED
    from tests.portal.test_outage import OUTAGE_REPORTS
    from tests.portal.test_scale_out import SCALE_OUT_REPORT
    from tests.security.conftest import ATTEMPTS

    if SCALE_OUT_REPORT:
        terminalreporter.section("scale-out: PgBouncer and a read replica (test_scale_out.py)")
        for line in SCALE_OUT_REPORT:
            terminalreporter.write_line(line)
    for report in OUTAGE_REPORTS:
        terminalreporter.section("database outage (bench/outage.py)")
        for line in report.splitlines():
            if not line.startswith(("RESULT ", "ANSWERS ")):
                terminalreporter.write_line(line)
    if VALIDATED:
        terminalreporter.section("open data")
        terminalreporter.write_line(f"{VALIDATED['documents']:6d}  HSDS documents validated")
    if not ATTEMPTS:
        return
    terminalreporter.section("attack suite")
    for kind, count in sorted(ATTEMPTS.items()):
        terminalreporter.write_line(f"{count:6d}  {kind}")
    terminalreporter.write_line(f"{sum(ATTEMPTS.values()):6d}  attempts in all, each refused")
