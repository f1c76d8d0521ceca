"""Picking a point on the map in the back office: 林园社区's staff member clicks the map under
林园小区's fields and then under one of its gates, and saves; without JavaScript she types the
point as 高德 gives it instead. The page passes axe and reflows to 320 px (checked with scripts,
which axe needs)."""

import pytest
from playwright.sync_api import expect

from communities.models import ResidentialCompound
from portal.lib import coords, geo
from tests.browser.conftest import check_page, second_step
from tests.browser.test_staff_and_officials import DEMO_PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def change_url(compound: ResidentialCompound) -> str:
    return f"/admin/communities/residentialcompound/{compound.pk}/change/"


def click_map(page, across: float, down: float) -> geo.Point:
    """Click the map at a share of its width and height; the point there, by its bounds."""
    svg = page.locator("svg.point-map__svg")
    edges = {k: float(svg.get_attribute(f"data-{k}")) for k in ("south", "west", "north", "east")}
    box = svg.bounding_box()
    svg.click(position={"x": box["width"] * across, "y": box["height"] * down})
    lat = edges["north"] - down * (edges["north"] - edges["south"])
    lng = edges["west"] + across * (edges["east"] - edges["west"])
    return lat, lng


def shown_point(page, prefix: str = "") -> geo.Point:
    return (
        float(page.locator(f"#id_{prefix}latitude").input_value()),
        float(page.locator(f"#id_{prefix}longitude").input_value()),
    )


def test_staff_pick_a_compounds_point_and_a_gates_on_the_map(page, demo_accounts):
    compound = ResidentialCompound.objects.get(name="林园小区")
    gate = compound.gates.order_by("name", "id").first()  # the first row of the gates
    sign_in(page, "staff-linyuan")
    page.goto(change_url(compound))
    expect(page.locator("[data-point-map-controls]")).to_be_visible()
    check_page(page)

    # The compound's own point, chosen first: the fields take the clicked point, in WGS-84.
    target = page.get_by_label("点击地图设置的位置")
    expect(target).to_have_value("")
    expected = click_map(page, 0.3, 0.6)
    assert geo.distance_m(shown_point(page), expected) < 5  # a pixel is about 3 m here
    expect(page.locator("#id_point_system")).to_have_value("wgs84")
    expect(page.get_by_role("status")).to_contain_text("林园小区本身的位置：已设为")

    # Then a gate: its row is offered by its name, and the next click sets it alone.
    page.locator("#id_gates-0-point_system").select_option("gcj02")
    target.select_option(label=f"出入口第 1 行 · {gate.name}")
    compound_point = shown_point(page)
    gate_expected = click_map(page, 0.7, 0.25)
    assert geo.distance_m(shown_point(page, "gates-0-"), gate_expected) < 5
    expect(page.locator("#id_gates-0-point_system")).to_have_value("wgs84")
    assert shown_point(page) == compound_point
    check_page(page)

    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("林园小区")
    compound.refresh_from_db()
    gate.refresh_from_db()
    assert geo.distance_m(compound.point, expected) < 5
    assert geo.distance_m(gate.point, gate_expected) < 5
    assert compound.point_system == gate.point_system == "wgs84"


def test_without_javascript_the_point_is_typed_as_amap_gives_it(page_without_js, demo_accounts):
    page = page_without_js
    compound = ResidentialCompound.objects.get(name="林苑小区")
    place = geo.offset(compound.point, 40, -25)
    amap = [round(v, 6) for v in coords.from_wgs84(*place, coords.System.GCJ02)]
    page.goto("/accounts/login/")  # sign_in's axe check needs scripts: signed in by hand
    page.get_by_label("用户名").fill("staff-linyuan")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    second_step(page, "staff-linyuan", check=False)
    expect(page.locator("h1")).to_have_text("我的账户")
    page.goto(change_url(compound))
    # The map is a picture; what a click would do is not offered.
    expect(page.get_by_role("img", name="林园社区地图")).to_be_visible()
    expect(page.locator("[data-point-map-controls]")).to_be_hidden()

    page.get_by_label("坐标系:", exact=True).select_option("gcj02")
    page.get_by_label("纬度:", exact=True).fill(str(amap[0]))
    page.get_by_label("经度:", exact=True).fill(str(amap[1]))
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("林苑小区")
    compound.refresh_from_db()
    assert geo.distance_m(compound.point, place) < 1
    assert compound.point_system == "gcj02"
