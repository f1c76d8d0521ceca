"""Shared fixtures of the course tests: a term whose window is open at NOW, classes, residents."""

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from courses.models import Course, CourseClass, Term
from residents.models import Resident
from tests.facilities.conftest import category, place


@pytest.fixture(autouse=True)
def _categories(db):
    """Transactional tests run after others have flushed the migration's categories."""
    from facilities import taxonomy
    from facilities.models import Category

    taxonomy.add_missing(Category)


NOW = timezone.make_aware(datetime(2026, 9, 1, 9, 0))


def resident(phone: str, birth_year: int = 1958, name: str = "居民"):
    user = get_user_model().objects.create_user(username=phone, password="x")
    Resident.objects.create(user=user, name=name, phone=phone, birth_year=birth_year)
    return user


def residents(n: int, start: int = 13800000000):
    return [resident(str(start + i)) for i in range(n)]


@pytest.fixture
def term(community_a) -> Term:
    return Term.objects.create(
        community=community_a,
        year=2026,
        season=Term.Season.AUTUMN,
        priority_opens=NOW - timedelta(days=3),
        registration_opens=NOW - timedelta(days=1),
        registration_closes=NOW + timedelta(days=14),
        starts_on=date(2026, 9, 15),
        ends_on=date(2027, 1, 15),
    )


def make_class(term, compound, name="摄影", capacity=2, **fields) -> CourseClass:
    course, _ = Course.objects.get_or_create(
        term=term, name=name, defaults={"subject": "photography", "audience": "senior"}
    )
    venue = place(
        compound,
        community=term.community,
        category=category("senior_university"),
        name=f"{name}教室",
    )
    return CourseClass.objects.create(
        course=course,
        weekday=2,
        starts_at=time(9),
        ends_at=time(11),
        first_date=date(2026, 9, 16),
        last_date=date(2027, 1, 13),
        facility=venue,
        capacity=capacity,
        **fields,
    )


@pytest.fixture
def photography(term, compound_a) -> CourseClass:
    return make_class(term, compound_a)
