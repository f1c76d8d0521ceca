"""Staff and officials in a real browser: sign in, keep a community's data, see an area."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_page, second_step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "demo-portal-2026"


def sign_in(page, username: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="登录").click()
    check_page(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    second_step(page, username)
    expect(page.locator("h1")).to_have_text("我的账户")


def test_staff_keep_their_own_compounds_in_the_back_office(page, demo_accounts):
    sign_in(page, "staff-shiyou")
    check_page(page)
    page.get_by_role("link", name="进入工作人员后台").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    check_page(page)

    page.get_by_role("link", name="小区", exact=True).first.click()
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    communities = set(page.locator("#result_list tbody td.field-community").all_inner_texts())
    assert communities == {"石油社区"}
    check_page(page)

    page.get_by_role("link", name="地勘三院小区").click()
    population = page.get_by_label("人口")
    population.fill("2468")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("地勘三院小区")
    check_page(page)

    page.goto("/communities/shiyou/")
    expect(page.locator("#main")).to_contain_text("2,468")  # grouped by thousands


def test_staff_get_not_found_for_another_communitys_compound(page, demo_accounts):
    from communities.models import ResidentialCompound

    other = ResidentialCompound.objects.exclude(community__name="石油社区").first()
    sign_in(page, "staff-shiyou")
    response = page.goto(f"/admin/communities/residentialcompound/{other.pk}/change/")
    assert response.status == 404


def test_official_sees_their_districts_communities_in_elder_mode(page, demo_accounts):
    sign_in(page, "official-luolong")
    page.get_by_role("button", name="长者模式").click()
    area = page.get_by_role("region", name="我负责区域内的社区")
    expect(area.get_by_role("link", name="石油社区")).to_be_visible()
    expect(area.get_by_role("link", name="林园社区")).to_have_count(0)  # another district
    check_page(page, elder=True)
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="登录")).to_be_visible()


def test_linyuan_staff_change_their_canteens_hours_but_cannot_reach_leifengs(page, demo_accounts):
    from facilities.models import Facility, OpeningHours

    canteen = Facility.objects.get(name="林园小区助餐点")
    first = OpeningHours.objects.filter(facility=canteen).order_by("weekday", "opens").first()
    sign_in(page, "staff-linyuan")
    page.goto("/admin/facilities/facility/")
    names = set(page.locator("#result_list tbody th").all_inner_texts())
    assert "林园小区助餐点" in names and "雷锋社区长者食堂" not in names
    check_page(page)

    page.get_by_role("link", name="林园小区助餐点").click()
    closes = page.locator('input[name="hours-0-closes"]')
    expect(closes).to_have_value(re.compile(f"^{first.closes:%H:%M}"))
    closes.fill("13:40")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("林园小区助餐点")
    check_page(page)
    first.refresh_from_db()
    assert f"{first.closes:%H:%M}" == "13:40"

    # 雷锋社区's facilities are not there, by any URL.
    leifeng = Facility.objects.get(name="雷锋社区长者食堂")
    for view in ("change", "delete", "history"):
        response = page.goto(f"/admin/facilities/facility/{leifeng.pk}/{view}/")
        assert response.status == 404, view
    exception = leifeng.exceptions.first() or leifeng.meals.first()
    if exception is not None:
        model = exception._meta.model_name
        response = page.goto(f"/admin/facilities/{model}/{exception.pk}/change/")
        assert response.status == 404


def test_staff_close_a_facility_for_a_while_and_residents_see_it(page, demo_accounts):
    from datetime import timedelta

    from django.utils import timezone

    from facilities.models import Facility

    barber = Facility.objects.get(name="地勘三院理发店")
    sign_in(page, "staff-shiyou")
    page.goto("/admin/facilities/facility/")
    page.locator(f'input[name="_selected_action"][value="{barber.pk}"]').check()
    page.locator('select[name="action"]').select_option("close_for_a_while")
    page.locator('button[name="index"]').click()
    expect(page.locator("h1")).to_have_text("暂停开放一段时间")
    check_page(page)
    today = timezone.localdate()
    page.get_by_label("开始日期").fill(f"{today:%Y-%m-%d}")
    page.get_by_label("结束日期").fill(f"{today + timedelta(days=2):%Y-%m-%d}")
    page.get_by_label("原因").fill("店面装修")
    page.get_by_role("button", name="确定暂停开放").click()
    expect(page.locator(".messagelist")).to_contain_text("已将 1 处设施设为暂停开放")
    check_page(page)
    page.goto(barber.get_absolute_url())
    expect(page.locator(".status--large")).to_contain_text("今天休息（店面装修）")
