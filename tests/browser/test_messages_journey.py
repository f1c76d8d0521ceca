"""Messages in a real browser, delivered by a real worker (issue: messages, "Done when").

The demo loads into the test database while ``manage.py work`` runs in a process of its own,
sending through the real Alibaba Cloud adapter to the local fake provider (tests/fake_sms.py).
Then: 书法's draw reaches each applicant once; a resident gives up her seat in 视频剪辑 and the
first person waiting has an SMS within seconds; 林园社区's staff cancel 视频剪辑 from the back
office and reply to a wish, and everyone concerned hears of it once; staff read the outbox with
masked numbers, and a resident changes what they are told. Every page passes axe and reflows.
"""

import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from tests import fake_sms
from tests.browser.conftest import _context, check_page
from tests.browser.test_courses_journey import sign_in as resident_signs_in
from tests.browser.test_staff_and_officials import sign_in as staff_sign_in
from tests.portal.test_two_servers import _database_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
# courses.demo: 书法's five applicants, drawn when the demo loads; 视频剪辑's four seats
# (13800000004–07) and its waiting list (08 first, then 01); 林园's wish 社区理发点, posted by 05
# and supported by 06 and 07.
CALLIGRAPHY = ["13800000011", "13800000012", "13800000013", "13800000009", "13800000010"]
GIVES_UP = "13800000004"
FIRST_WAITING = "13800000008"
VIDEO_AFTER = ["13800000005", "13800000006", "13800000007", "13800000008", "13800000001"]
WISH = "社区理发点"
WISH_PEOPLE = ["13800000005", "13800000006", "13800000007"]
EVERY_PHONE = [f"138000000{n:02d}" for n in range(1, 14)]


def zh(message: str) -> str:
    """What the Chinese pages say for ``message``."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def wait_for(condition, timeout: float, what: str):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"after {timeout} s, still no {what}"
        time.sleep(0.05)
    return found


def kinds(sms, phone: str) -> Counter:
    """How many messages of each kind reached ``phone`` (by the template the adapter named)."""
    return Counter(
        r.template.removeprefix("CCP_").rsplit("_", 1)[0].lower()
        for r in list(sms.inbox)
        if r.phone == phone
    )


@pytest.fixture
def sms():
    with fake_sms.FakeSms() as fake:
        yield fake


@pytest.fixture
def worker(sms, live_server, settings, transactional_db, tmp_path):
    """``manage.py work`` in a process of its own, on the test database, sending to ``sms``;
    stopped before the database is emptied."""
    settings.PORTAL_URL = live_server.url
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "NOTICES_SMS": "aliyun",
        "ALIYUN_SMS_ENDPOINT": sms.url,
        "ALIYUN_ACCESS_KEY_ID": fake_sms.KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": fake_sms.KEY_SECRET,
        "NOTICES_SWEEP_SECONDS": "1",
        "NOTICES_TIMEOUT_SECONDS": "2",
        # The staff digest comes at its hour of the day, which would make this journey depend on
        # the clock (tests/notices/test_telling.py pins it): here it never comes.
        "NOTICES_DIGEST_HOUR": "24",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        "PORTAL_URL": live_server.url,
    }
    # Its log goes to a file: a pipe nobody reads would stop it once full.
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "work", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    assert process.returncode in (0, -15), log.read_text()[-3000:]


@pytest.fixture
def demo(worker, demo_accounts):
    """The demo, loaded while the worker runs (its draw's messages go out as it loads)."""


def new_page(browser, live_server):
    """A second person's own browser window."""
    return _context(browser, live_server)


def test_everyone_concerned_is_told_once_and_residents_choose_how(
    page, browser, live_server, sms, worker, demo
):
    from communities.models import Community
    from courses.models import CourseClass
    from notices.models import Channel, Choice, Kind, Notice
    from wishes.models import Wish

    # 1. 书法's draw, made as the demo loaded: each applicant hears their result once.
    def every_applicant_told():
        return all(kinds(sms, phone) for phone in CALLIGRAPHY)

    wait_for(every_applicant_told, 15, "draw result for every 书法 applicant")
    for phone in CALLIGRAPHY:
        told = kinds(sms, phone)
        assert told[Kind.DRAW_WON] + told[Kind.DRAW_WAIT] == 1, (phone, told)
        assert len([t for t in sms.texts(phone) if t.startswith("摇号结果")]) == 1, sms.texts(phone)
    won = sum(kinds(sms, phone)[Kind.DRAW_WON] for phone in CALLIGRAPHY)
    assert won == 3  # three seats, five applicants

    # 2. A resident gives up her seat in 视频剪辑; the first person waiting hears within seconds.
    assert not kinds(sms, FIRST_WAITING)[Kind.SEAT]
    resident_signs_in(page, GIVES_UP)
    page.goto("/me/")
    page.locator("a.my-classes__cancel", has_text="视频剪辑").click()
    check_page(page)
    started = time.monotonic()
    page.locator("#main form button[type=submit]").click()
    expect(page.locator("[role=status]")).to_contain_text("视频剪辑")

    def seat_told():
        return [t for t in sms.texts(FIRST_WAITING) if t.startswith("您已获得名额")]

    wait_for(seat_told, 10, f"seat SMS to {FIRST_WAITING}")
    seconds = time.monotonic() - started
    print(f"\nseat SMS reached the first person waiting {seconds:.2f} s after the click")
    assert seconds <= 10
    assert len(seat_told()) == 1
    assert "视频剪辑" in seat_told()[0]
    assert kinds(sms, GIVES_UP)[Kind.SEAT] == 0

    # 3. 林园社区's staff cancel 视频剪辑 from the back office: everyone still in it hears once.
    staff_context, staff = new_page(browser, live_server)
    staff_sign_in(staff, "staff-linyuan")
    video = CourseClass.objects.get(course__name="视频剪辑")
    staff.goto("/admin/courses/courseclass/")
    check_page(staff)
    staff.locator(f"input[name=_selected_action][value='{video.pk}']").check()
    staff.locator("select[name=action]").select_option("cancel_classes")
    staff.locator("button[name=index]").click()
    expect(staff.locator(".messagelist")).to_contain_text(str(len(VIDEO_AFTER)))
    video.refresh_from_db()
    assert video.cancelled_at is not None

    def everyone_in_it_told():
        return all(kinds(sms, phone)[Kind.CLASS_CANCELLED] for phone in VIDEO_AFTER)

    wait_for(everyone_in_it_told, 10, "class-cancelled SMS to everyone in 视频剪辑")
    for phone in VIDEO_AFTER:
        assert kinds(sms, phone)[Kind.CLASS_CANCELLED] == 1, phone
        assert any("视频剪辑" in t and "已取消" in t for t in sms.texts(phone)), sms.texts(phone)
    assert kinds(sms, GIVES_UP)[Kind.CLASS_CANCELLED] == 0  # she had left already

    # 4. Staff reply to a wish: its author and its supporters hear once.
    wish = Wish.objects.get(title=WISH)
    assert wish.replied_at is None
    staff.goto(f"/admin/wishes/wish/{wish.pk}/change/")
    staff.locator("#id_reply").fill("已联系理发师，每月第一个周六上午在社区活动室理发。")
    staff.locator("input[name=_save]").click()
    expect(staff.locator(".messagelist")).to_contain_text(WISH)

    def wish_people_told():
        return all(kinds(sms, phone)[Kind.WISH_REPLY] for phone in WISH_PEOPLE)

    wait_for(wish_people_told, 10, "wish-reply SMS to the author and supporters")
    for phone in WISH_PEOPLE:
        assert kinds(sms, phone)[Kind.WISH_REPLY] == 1, phone
        assert any(t.startswith(f"社区已回复“{WISH}”") for t in sms.texts(phone))
    others = set(EVERY_PHONE) - set(WISH_PEOPLE)
    assert not any(kinds(sms, phone)[Kind.WISH_REPLY] for phone in others)

    # 5. Staff read their community's outbox: who was told, by masked number only.
    staff.goto("/admin/notices/notice/")
    rows = staff.locator("#result_list tbody tr")
    linyuan = Community.objects.get(name="林园社区")
    expect(rows).to_have_count(Notice.objects.filter(community=linyuan).count())
    expect(staff.locator("#result_list")).to_contain_text("黄志强 (138****0008)")
    html = staff.content()
    assert not [phone for phone in EVERY_PHONE if phone in html]
    check_page(staff)

    def all_recorded_sent():
        return not Notice.objects.filter(community=linyuan).exclude(status="sent").exists()

    wait_for(all_recorded_sent, 5, "outbox with every message recorded as sent")
    staff_context.close()

    # 6. The person who got the seat chooses not to hear of their classes any more.
    resident_context, resident = new_page(browser, live_server)
    resident_signs_in(resident, FIRST_WAITING)
    check_page(resident)
    resident.locator("#main a[href='/accounts/messages/']").click()
    expect(resident).to_have_url(re.compile(r"/accounts/messages/$"))
    expect(resident.locator("#main")).to_contain_text("视频剪辑")  # the messages sent lately
    check_page(resident)
    # "Do not tell me" (不通知), the labels as shown: capitalised.
    off = re.compile(f"^{re.escape(zh(Channel.OFF.label))}$", re.IGNORECASE)
    resident.locator("#id_classes").get_by_label(off).check()
    resident.get_by_role("button", name=zh("Save my choices")).click()
    expect(resident.locator("[role=status]")).to_contain_text(zh("Your choices are saved."))
    expect(resident.locator("#id_classes input[value=off]")).to_be_checked()
    check_page(resident)
    choice = Choice.objects.get(user__username=FIRST_WAITING)
    assert (choice.classes, choice.seats, choice.wishes) == (Channel.OFF, Channel.SMS, Channel.SMS)
    resident_context.close()

    # Nobody heard of anything twice.
    for phone in EVERY_PHONE:
        assert all(n == 1 for n in kinds(sms, phone).values()), (phone, kinds(sms, phone))
    assert len({r.out_id for r in sms.inbox}) == len(sms.inbox)


def test_email_is_refused_without_an_address(page, demo_accounts):
    from django.contrib.auth import get_user_model

    from notices.models import Choice

    phone = "13800000002"
    assert get_user_model().objects.get(username=phone).email == ""
    resident_signs_in(page, phone)
    page.goto("/accounts/messages/")
    page.locator("#id_seats input[value=email]").check()
    page.get_by_role("button", name=zh("Save my choices")).click()

    error = zh("Give an email address, or choose another way to be told.")
    assert re.search(r"[\u4e00-\u9fff]", error), f"zh-hans has no translation of {error!r}"
    expect(page.locator(".error-summary")).to_contain_text(error)
    expect(page.locator("#id_email-error")).to_contain_text(error)
    expect(page).to_have_url(re.compile(r"/accounts/messages/$"))
    expect(page.locator("#id_seats input[value=email]")).to_be_checked()
    check_page(page)
    assert not Choice.objects.filter(user__username=phone).exists()
