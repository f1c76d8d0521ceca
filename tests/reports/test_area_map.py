"""The coverage reports' area map: projection, sizes, drawing order and the rendered SVG."""

import random
import re
import xml.etree.ElementTree as ET
from math import hypot, pi

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from portal.lib import geo
from reports import area_map
from reports.area_map import Candidate, Home, Site, layout

CENTRE = (34.62, 112.45)  # Luoyang
SVG = "{http://www.w3.org/2000/svg}"


def at(north: float, east: float) -> tuple[float, float]:
    return geo.offset(CENTRE, north, east)


def home(north: float, east: float, population: int = 500, covered: bool = True, label=""):
    return Home(label or f"{north:+.0f} {east:+.0f}", *at(north, east), population, covered)


def spread(count: int, metres: float = 3000, seed: int = 1) -> list[Home]:
    rng = random.Random(seed)
    return [
        home(
            rng.uniform(-metres / 2, metres / 2),
            rng.uniform(-metres, metres),
            rng.choice([0, 120, 800, 2500, 6000]),
            covered=rng.random() < 0.6,
            label=f"小区{i}",
        )
        for i in range(count)
    ]


def markers(view: area_map.AreaMap):
    """Every drawn marker with its half-extent on the canvas."""
    yield from ((m.x, m.y, m.r) for m in view.homes)
    yield from ((m.x, m.y, m.half) for m in view.sites)
    yield from ((m.x, m.y, m.half) for m in (*view.candidates, *view.picks))


# --- the projection ------------------------------------------------------------------------------


def test_a_kilometre_north_and_a_kilometre_east_are_equally_long_on_the_map():
    view = layout([home(0, 0, label="o"), home(1000, 0, label="n"), home(0, 1000, label="e")], [])
    drawn = {m.label: m for m in view.homes}
    o, n, e = drawn["o"], drawn["n"], drawn["e"]
    north_px = hypot(n.x - o.x, n.y - o.y)
    east_px = hypot(e.x - o.x, e.y - o.y)
    assert north_px == pytest.approx(east_px, abs=1)
    assert north_px == pytest.approx(1000 * view.px_per_m, abs=0.2)


def test_north_is_up_and_east_is_right():
    view = layout([home(0, 0, label="o"), home(800, 0, label="n"), home(0, 600, label="e")], [])
    drawn = {m.label: m for m in view.homes}
    assert drawn["n"].y < drawn["o"].y and drawn["n"].x == pytest.approx(drawn["o"].x, abs=0.1)
    assert drawn["e"].x > drawn["o"].x and drawn["e"].y == pytest.approx(drawn["o"].y, abs=0.1)


def test_the_canvas_keeps_the_areas_shape():
    wide = layout([home(0, -2000), home(1000, 2000)], [])  # 4 km by 1 km
    tall = layout([home(-2000, 0), home(2000, 1000)], [])  # 1 km by 4 km
    assert wide.width == 800 and wide.height < 400
    assert tall.height == 640  # as high as allowed, and narrower than the canvas
    xs = [m.x for m in tall.homes]
    ys = [m.y for m in tall.homes]
    assert (max(ys) - min(ys)) / (max(xs) - min(xs)) == pytest.approx(4, rel=0.01)
    assert (max(xs) + min(xs)) / 2 == pytest.approx(tall.width / 2, abs=0.1)  # centred across


def test_every_marker_lies_inside_the_canvas():
    sites = [Site("s", *at(-1500, 3000)), Site("p", *at(1500, -3000), planned=True)]
    candidates = [Candidate("c", *at(1400, 2900)), Candidate("k", *at(-1400, -2900), rank=1)]
    for view in (
        layout(spread(300), sites, candidates, reach_m=500),
        layout(spread(2000, 9000), sites, candidates, width=400, max_height=300),
        layout([home(0, 0)], []),
    ):
        for x, y, extent in markers(view):
            assert extent <= x <= view.width - extent
            assert extent <= y <= view.height - extent


def test_a_single_point_or_identical_points_do_not_divide_by_zero():
    for homes in ([home(0, 0)], [home(0, 0)] * 5):
        view = layout(homes, [Site("s", *at(0, 0))], [Candidate("c", *at(0, 0), rank=1)])
        assert view.width == 800 and area_map.MIN_HEIGHT <= view.height <= 640
        x, y = view.homes[0].x, view.homes[0].y
        assert (x, y) == (view.sites[0].x, view.sites[0].y) == (view.picks[0].x, view.picks[0].y)
        assert 0 < x < view.width and 0 < y < view.height


def test_no_homes_is_the_empty_map():
    assert layout([], []).empty
    view = layout([], [Site("s", *at(0, 0))], [Candidate("c", *at(100, 100))])
    assert view.empty and view.site_count == 1
    assert not layout([home(0, 0)], []).empty


# --- sizes ---------------------------------------------------------------------------------------


def test_a_circles_area_is_proportional_to_the_population():
    view = layout(
        [home(0, 0, 4000, label="a"), home(300, 0, 1000, label="b"), home(0, 300, 250, label="c")],
        [],
    )
    drawn = {m.label: m for m in view.homes}
    assert drawn["a"].r == view.home_r_max == area_map.HOME_R_MAX
    assert drawn["a"].r > drawn["b"].r > drawn["c"].r
    assert pi * drawn["b"].r ** 2 / (pi * drawn["a"].r ** 2) == pytest.approx(1 / 4, rel=0.02)
    assert drawn["c"].r ** 2 / drawn["a"].r ** 2 == pytest.approx(1 / 16, rel=0.03)


def test_radii_are_clamped_and_an_empty_compound_gets_the_smallest():
    assert area_map.home_radius(0, 5000) == area_map.HOME_R_MIN
    assert area_map.home_radius(1, 5000) == area_map.HOME_R_MIN
    assert area_map.home_radius(5000, 5000) == area_map.HOME_R_MAX
    assert area_map.home_radius(0, 0) == area_map.HOME_R_MIN
    view = layout([home(0, 0, 0), home(100, 0, 0)], [])
    assert {m.r for m in view.homes} == {area_map.HOME_R_MIN}


def test_a_crowded_map_draws_smaller_circles_but_keeps_the_proportions():
    sparse = layout(spread(50), [])
    crowded = layout(spread(2000), [])
    assert sparse.home_r_max == area_map.HOME_R_MAX
    assert area_map.HOME_R_MAX_CROWDED <= crowded.home_r_max < area_map.HOME_R_MAX
    assert max(m.r for m in crowded.homes) == crowded.home_r_max
    for m in crowded.homes:
        if m.r > area_map.HOME_R_MIN:
            ratio = (m.r / crowded.home_r_max) ** 2
            assert ratio == pytest.approx(m.population / crowded.max_population, abs=0.02)


def test_the_scale_bar_is_a_round_length_at_the_maps_scale():
    for metres in (300, 3000, 12000, 40000):
        view = layout([home(0, -metres / 2), home(0, metres / 2)], [])
        bar = view.scale_bar
        assert bar.metres in area_map.SCALE_BAR_METRES
        assert bar.px <= view.width / 4
        assert bar.px == pytest.approx(bar.metres * view.px_per_m, abs=0.1)
        assert bar.label == f"{bar.metres} m"
        # Measured on the map: two homes ``metres`` apart.
        a, b = sorted(view.homes, key=lambda m: m.x)
        assert bar.px == pytest.approx((b.x - a.x) * bar.metres / metres, abs=1)
        assert 0 < bar.x < bar.right < view.width and 0 < bar.y < view.height


def test_a_pick_circle_is_the_walking_distance_at_the_maps_scale():
    view = layout(
        spread(100),
        [],
        [Candidate("a", *at(0, 0), rank=1), Candidate("b", *at(100, 100))],
        reach_m=500,
    )
    (circle,) = view.pick_circles
    assert circle.r == pytest.approx(500 * view.px_per_m, abs=0.1)
    assert (circle.cx, circle.cy, circle.rank) == (view.picks[0].x, view.picks[0].y, 1)
    # Against a home 500 m east of the pick.
    view = layout(
        [home(0, 0), home(0, 500, label="edge")], [], [Candidate("a", *at(0, 0), 1)], reach_m=500
    )
    edge = next(m for m in view.homes if m.label == "edge")
    assert edge.x - view.pick_circles[0].cx == pytest.approx(view.pick_circles[0].r, abs=1)
    assert layout(spread(10), [], [Candidate("a", *at(0, 0), 1)]).pick_circles == ()


# --- drawing order -------------------------------------------------------------------------------


def test_uncovered_homes_are_drawn_above_the_covered_ones():
    view = layout(spread(200), [])
    flags = [m.covered for m in view.homes]
    assert flags == sorted(flags, reverse=True)  # covered first, underneath
    assert view.covered_count + view.uncovered_count == 200
    assert view.covered_count == sum(flags) and 0 < view.covered_count < 200
    # Within each, larger first so the small ones stay visible.
    for group in (view.covered_homes, view.uncovered_homes):
        assert [m.r for m in group] == sorted((m.r for m in group), reverse=True)


def test_picks_come_last_and_by_rank():
    candidates = [
        Candidate("third", *at(0, 0), rank=3),
        Candidate("plain", *at(10, 0)),
        Candidate("first", *at(20, 0), rank=1),
        Candidate("second", *at(30, 0), rank=2),
        Candidate("other", *at(40, 0)),
    ]
    view = layout(spread(20), [Site("s", *at(0, 0))], candidates, reach_m=300)
    assert [p.label for p in view.picks] == ["first", "second", "third"]
    assert [c.label for c in view.candidates] == ["plain", "other"]
    assert [c.rank for c in view.pick_circles] == [1, 2, 3]
    assert (view.candidate_count, view.pick_count) == (5, 3)


def test_it_counts_open_and_planned_facilities():
    sites = [Site("a", *at(0, 0)), Site("b", *at(10, 0), True), Site("c", *at(0, 10))]
    view = layout([home(0, 0)], sites)
    assert (view.site_count, view.sites_open, view.sites_planned) == (3, 2, 1)


# --- the template --------------------------------------------------------------------------------


def render(view: area_map.AreaMap, language: str = "en", **context) -> str:
    with translation.override(language):
        return render_to_string(
            "reports/includes/area_map.html",
            {"map": view, "title": "Elderly canteens in 西工区", **context},
        )


def svg_of(html: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg class=\"area-map__svg\".*?</svg>", html, re.S).group(0))


@pytest.fixture
def example() -> area_map.AreaMap:
    homes = [
        home(0, 0, 3000, True, "A"),
        home(400, 300, 800, False, "B"),
        home(-300, -500, 0, False, "C"),
        home(200, -200, 1500, True, "D"),
        home(-500, 600, 100, False, "E"),
    ]
    sites = [Site("食堂", *at(50, 50)), Site("新食堂", *at(-400, 500), planned=True)]
    candidates = [
        Candidate("闲置用房 <&>", *at(300, 400), rank=2),
        Candidate("活动室", *at(-300, 550), rank=1),
        Candidate("仓库", *at(100, -400)),
    ]
    return layout(homes, sites, candidates, reach_m=500)


def test_the_map_is_a_well_formed_svg_with_a_title_and_a_description(example):
    html = render(example)
    svg = svg_of(html)
    assert svg.get("viewBox") == f"0 0 {example.width} {example.height}"
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Elderly canteens in 西工区"
    assert " ".join(desc.text.split()) == (
        "Residential compounds within walking distance: 2; not within walking distance: 3."
        " Facilities: 1 open, 1 planned. Candidate sites: 3, of which 2 suggested."
        " North is up; the scale bar is 200 m long."
    )


def test_it_draws_one_circle_per_home_and_the_rank_numbers(example):
    svg = svg_of(render(example))
    groups = {g.get("class"): g for g in svg.iter(f"{SVG}g")}
    covered = groups["area-map__homes area-map__homes--covered"]
    uncovered = groups["area-map__homes area-map__homes--uncovered"]
    assert len(covered.findall(f"{SVG}circle")) == 2
    assert len(uncovered.findall(f"{SVG}circle")) == 3
    assert uncovered.get("fill").startswith("url(#")  # hatched, not colour alone
    assert len(groups["area-map__reach"].findall(f"{SVG}circle")) == 2
    picks = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "area-map__pick"]
    assert [p.find(f"{SVG}text").text for p in picks] == ["1", "2"]
    assert [p.find(f"{SVG}title").text for p in picks] == [
        "Suggested site 1: 活动室",
        "Suggested site 2: 闲置用房 <&>",
    ]
    planned = [r for r in svg.iter(f"{SVG}rect") if "area-map__site--planned" in r.get("class", "")]
    assert len(planned) == 1 and planned[0].get("stroke-dasharray")
    scale = next(t for t in svg.iter(f"{SVG}text") if t.get("class") == "area-map__scale-label")
    assert scale.text == "200 m" == example.scale_bar.label


def test_its_text_is_legible_and_it_has_no_style_attributes(example):
    html = render(example)
    assert "style=" not in html and "<style" not in html
    texts = list(svg_of(html).iter(f"{SVG}text"))
    assert len(texts) == 4  # two ranks, the scale bar and the "N"
    assert all(float(t.get("font-size")) >= 14 for t in texts)


def test_the_legend_is_text_with_the_counts(example):
    html = render(example)
    legend = re.search(r"<ul class=\"area-map__legend\">.*?</ul>", html, re.S).group(0)
    items = [
        " ".join(re.sub(r"<[^>]+>", " ", li).split())
        for li in re.findall(r"<li.*?</li>", legend, re.S)
    ]
    assert items == [
        "Residential compound within walking distance: 2",
        "Residential compound not within walking distance: 3",
        "Circle area shows the number of residents (largest: 3000)",
        "Facility open: 1",
        "Facility planned or under construction: 1",
        "Other candidate site (idle room): 1",
        "Suggested site, numbered by rank: 2",
        "Walking distance around a suggested site: 500 m",
    ]
    assert "<figure" in html and "<figcaption" in html


def test_ids_take_the_given_prefix(example):
    svg = svg_of(render(example, id="canteens"))
    assert svg.get("aria-labelledby") == "canteens-title canteens-desc"


def test_an_empty_area_is_said_in_words():
    html = render(layout([], [Site("s", *at(0, 0))]))
    assert "<svg" not in html
    assert "There are no residential compounds in this area to map." in html


def test_coordinates_are_not_localised(settings, example):
    settings.USE_THOUSAND_SEPARATOR = True
    html = render(layout(spread(20), [], width=1200, max_height=1100), "zh-hans")
    assert 'viewBox="0 0 1200 ' in html
    assert "1,200" not in svg_of(html).get("viewBox")


def test_a_district_of_2000_compounds_stays_small():
    view = layout(
        spread(2000, 9000),
        [Site(f"s{i}", *at(i * 40, -i * 60)) for i in range(200)],
        [
            Candidate(f"c{i}", *at(-i * 10, i * 20), rank=i + 1 if i < 5 else None)
            for i in range(300)
        ],
        reach_m=1000,
    )
    html = render(view)
    svg = svg_of(html)
    homes = [g for g in svg.iter(f"{SVG}g") if "area-map__homes" in (g.get("class") or "")]
    assert sum(len(g.findall(f"{SVG}circle")) for g in homes) == 2000
    assert len(html) < 150_000


# --- a city: its communities instead of its compounds -------------------------------------------


def city_groups(count: int, metres: float = 30_000, seed: int = 2) -> list[area_map.Group]:
    rng = random.Random(seed)
    groups = []
    for i in range(count):
        population = rng.choice([0, 900, 4000, 12000, 33000])
        groups.append(
            area_map.Group(
                f"社区{i}",
                *at(rng.uniform(-metres / 2, metres / 2), rng.uniform(-metres / 2, metres / 2)),
                population,
                rng.randint(0, population),
            )
        )
    return groups


def test_a_city_of_2500_communities_is_drawn_under_300_kb():
    groups = city_groups(2500)
    sites = [
        Site(f"s{i}", *at(i * 7 % 30_000 - 15_000, i * 13 % 30_000 - 15_000)) for i in range(3000)
    ]
    planned = [
        Site(f"p{i}", *at(i * 11 % 30_000 - 15_000, i * 3 % 30_000 - 15_000), True)
        for i in range(300)
    ]
    view = layout(
        [], sites + planned, [Candidate("c", *at(0, 0), rank=1)], reach_m=500, groups=groups
    )
    assert view.grouped and view.homes == () and view.sites == ()
    drawn = [g for g in groups if g.population]
    assert view.group_count == len(drawn)
    assert [view.band(b) for b in area_map.BANDS] == [
        sum(g.band == b for g in drawn) for b in area_map.BANDS
    ]
    html = render(view)
    assert len(html) < 300_000
    svg = svg_of(html)
    circles = [
        c
        for g in svg.iter(f"{SVG}g")
        if "area-map__groups" in (g.get("class") or "")
        for c in g.findall(f"{SVG}circle")
    ]
    assert len(circles) == len(drawn)
    squares = {
        p.get("class"): p.get("d")
        for p in svg.iter(f"{SVG}path")
        if "squares" in (p.get("class") or "")
    }
    assert [d.count("z") for d in squares.values()] == [3000, 300]
    desc = " ".join(svg.find(f"{SVG}desc").text.split())
    assert desc.startswith(f"Communities: {len(drawn)}. Everyone within walking distance: ")
    assert "Facilities: 3000 open, 300 planned." in desc
    assert "Each circle is a community" in html
    assert all(
        0 <= float(c.get("cx")) <= view.width and 0 <= float(c.get("cy")) <= view.height
        for c in circles
    )


def test_a_groups_band_is_the_matrix_cells_band():
    from reports.report_data import Cell

    for population, covered in [
        (100, 100),
        (100, 99),
        (100, 80),
        (100, 79),
        (1000, 500),
        (7, 3),
        (5, 0),
    ]:
        group = area_map.Group("g", 0, 0, population, covered)
        assert group.band == Cell(population, covered).band


def test_a_map_draws_compounds_or_their_communities_not_both():
    with pytest.raises(ValueError):
        layout([home(0, 0)], [], groups=city_groups(3))
