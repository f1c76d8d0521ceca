"""Commit, then reveal, in a real browser: before registration opens, a visitor reads a lottery
class's commitment on its course page and on its draw page. Residents apply, registration
closes, the seats are drawn; the visitor reloads the draw page and checks, with nothing but what
the page says and SHA-256 (here Python's hashlib, ``sha256sum`` for a resident), that the secret
revealed is the one committed before, that the seed follows from it and the application
numbers, and that the order follows from the seed. Both pages pass axe and fit 320 px, in
Chinese and in English."""

import hashlib
import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from courses import enrolment, lottery
from courses.models import Term
from facilities import taxonomy
from facilities.models import Category
from tests.browser.conftest import check_page
from tests.courses.conftest import make_class, residents

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set SCREENSHOTS=/tmp/… to keep a picture of each page as the visitor saw it.
SCREENSHOTS = os.environ.get("SCREENSHOTS")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def picture(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def lottery_class(community_a, compound_a):
    """A lottery class set up now, an hour before its registration opens."""
    taxonomy.add_missing(Category)  # transactional tests run after others flushed them
    now = timezone.now()
    term = Term.objects.create(
        community=community_a,
        year=now.year,
        season=Term.Season.AUTUMN,
        registration_opens=now + timedelta(hours=1),
        registration_closes=now + timedelta(hours=2),
        starts_on=now.date() + timedelta(days=7),
        ends_on=now.date() + timedelta(days=120),
    )
    return make_class(term, compound_a, "书法", capacity=2, allocation="lottery")


def test_a_visitor_notes_the_commitment_and_checks_the_draw_against_it(page, lottery_class):
    term = lottery_class.course.term
    course_page = f"/courses/{lottery_class.course.slug}/"
    draw_page = f"/courses/classes/{lottery_class.pk}/draw/"

    # Before registration opens: the same commitment on both pages, in Chinese.
    page.goto(course_page)
    check_page(page)
    noted = page.locator(".class-table .commitment code.hash").inner_text()
    picture(page, "course-before-zh")
    assert re.fullmatch("[0-9a-f]{64}", noted)
    page.goto(draw_page)
    check_page(page)
    assert page.locator("#commitment-title + p code.hash").inner_text() == noted
    assert page.locator("#draw-secret").count() == 0
    assert page.locator("#main .notice").count() == 0  # committed in time: nothing to warn of
    picture(page, "draw-before-zh")

    # Five residents apply while the window is open; the draw comes after it closes.
    opened = term.registration_opens + timedelta(minutes=5)
    numbers = [enrolment.enrol(u, lottery_class, now=opened).pk for u in residents(5)]
    lottery.draw(lottery_class, now=term.registration_closes + timedelta(minutes=1))

    page.goto(draw_page)
    check_page(page)
    picture(page, "draw-after-zh")
    secret = page.locator("#draw-secret").inner_text()
    seed_text = page.locator("#draw-seed-text").inner_text()
    seed = page.locator("#draw-seed").inner_text()
    order = [
        int(cell.split()[0])
        for cell in page.locator(".draw-table tbody th[scope=row]").all_inner_texts()
    ]

    # 1. The secret revealed is the one committed before registration opened.
    assert sha(secret) == noted
    # 2. The seed is the SHA-256 of "secret:numbers", the numbers ascending.
    assert seed_text == f"{secret}:{','.join(str(n) for n in sorted(numbers))}"
    assert seed == sha(seed_text)
    # 3. The order: each number by the SHA-256 of "seed:number", smallest first.
    assert order == sorted(numbers, key=lambda n: sha(f"{seed}:{n}"))
    assert page.locator(".command").first.inner_text() == f"printf '%s' '{secret}' | sha256sum"

    # The same pages in English, and on a 320 px phone (check_page reflows each).
    page.get_by_role("button", name="English").click()
    page.goto(draw_page)
    check_page(page)
    assert page.locator("#draw-secret").inner_text() == secret
    picture(page, "draw-after-en")
    page.set_viewport_size({"width": 320, "height": 800})
    picture(page, "draw-after-en-320")
    page.goto(course_page)
    check_page(page)
    assert page.locator(".class-table .commitment code.hash").inner_text() == noted
    picture(page, "course-after-en-320")
