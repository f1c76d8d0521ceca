"""The surroundings map: projection, what gets drawn, label placement and the rendered SVG."""

import random
import re
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from facilities import maps
from facilities.maps import Place, layout
from portal.lib import geo

HOME = (43.88, 125.27)
WIDTH, HEIGHT, RADIUS = 640, 400, 600
CX, CY = WIDTH / 2, HEIGHT / 2
# The radius fits the shorter side, less the margin.
PX_PER_M = (HEIGHT / 2 - maps.MARGIN) / RADIUS


def at(north: float, east: float, label: str = "", kind: str = "neighbour", url: str = "") -> Place:
    return Place(
        kind, label or f"{north:+.0f} {east:+.0f}", *geo.offset(HOME, north, east), url=url
    )


SUBJECT = Place("facility", "新竹社区长者食堂", *HOME)


def drawn(view: maps.MapView) -> dict[str, maps.Marker]:
    return {m.place.label: m for m in view.markers}


def test_the_subject_sits_at_the_centre_and_comes_first():
    view = layout(SUBJECT, [at(100, 100)])
    subject = view.markers[0]
    assert subject.place == SUBJECT
    assert (subject.x, subject.y, subject.distance_m) == (CX, CY, 0)


def test_a_place_300_m_north_is_straight_above_the_subject_at_scale():
    north = drawn(layout(SUBJECT, [at(300, 0, "north")]))["north"]
    assert north.x == pytest.approx(CX, abs=0.1)
    assert CY - north.y == pytest.approx(300 * PX_PER_M, abs=0.1)
    assert north.distance_m == 300


def test_east_is_right_west_is_left_and_south_is_below():
    view = drawn(layout(SUBJECT, [at(0, 200, "e"), at(0, -200, "w"), at(-200, 0, "s")]))
    assert view["e"].x - CX == pytest.approx(200 * PX_PER_M, abs=0.1)
    assert CX - view["w"].x == pytest.approx(200 * PX_PER_M, abs=0.1)
    assert view["s"].y - CY == pytest.approx(200 * PX_PER_M, abs=0.1)
    assert view["e"].y == view["w"].y == pytest.approx(CY, abs=0.1)


def test_distances_are_the_straight_lines_of_the_geo_helper():
    place = at(250, -330, "p")
    marker = drawn(layout(SUBJECT, [place]))["p"]
    assert marker.distance_m == round(geo.distance_m(HOME, place.point))
    assert marker.walking_minutes == geo.walking_minutes(marker.distance_m) == 7


def test_places_beyond_the_radius_are_dropped_even_where_the_wide_side_has_room():
    view = layout(SUBJECT, [at(0, 590, "kept"), at(0, 700, "wide side"), at(2000, 0, "far")])
    assert [m.place.label for m in view.others] == ["kept"]
    for marker in view.markers:
        assert 0 <= marker.x <= WIDTH and 0 <= marker.y <= HEIGHT


def test_only_the_nearest_twelve_others_are_drawn_nearest_first():
    others = [at(25 * i, 10, f"p{i}") for i in range(20, 0, -1)]
    view = layout(SUBJECT, others)
    assert [m.place.label for m in view.others] == [f"p{i}" for i in range(1, 13)]
    assert len(layout(SUBJECT, others, limit=5).others) == 5


def test_it_counts_compounds_and_other_facilities():
    view = layout(SUBJECT, [at(100, 0, kind="compound"), at(0, 100), at(-100, 0), at(0, 900)])
    assert (view.compound_count, view.neighbour_count) == (1, 2)


def test_it_refuses_a_subject_that_is_no_facility_an_unknown_kind_and_a_tiny_canvas():
    with pytest.raises(ValueError):
        layout(at(0, 0, kind="compound"), [])
    with pytest.raises(ValueError):
        Place("shop", "x", *HOME)
    with pytest.raises(ValueError):
        layout(SUBJECT, [], width=640, height=60)


def test_rings_are_drawn_only_for_the_walking_distances_that_fit():
    assert [m for m, _ in layout(SUBJECT, [], radius_m=600).rings] == [300, 500]
    assert [m for m, _ in layout(SUBJECT, [], radius_m=1000).rings] == [300, 500, 1000]
    assert [m for m, _ in layout(SUBJECT, [], radius_m=400).rings] == [300]
    for metres, px in layout(SUBJECT, []).rings:
        assert px == pytest.approx(metres * PX_PER_M, abs=0.1)
        assert px <= HEIGHT / 2


@pytest.mark.parametrize("radius_m", [300, 600, 1000, 1500])
def test_the_scale_bar_is_a_round_length_drawn_at_the_map_scale(radius_m):
    east = radius_m * 0.9
    view = layout(SUBJECT, [at(0, east, "e")], radius_m=radius_m)
    px_per_m = (drawn(view)["e"].x - CX) / east  # measured from a projected place
    assert view.scale_bar_m in (100, 200, 500, 1000)
    assert view.scale_bar_px == pytest.approx(view.scale_bar_m * px_per_m, rel=0.005)
    assert WIDTH / 10 <= view.scale_bar_px <= WIDTH / 4


# --- labels -------------------------------------------------------------------------------------

NAMES = [
    "惠民超市",
    "青年路社区卫生服务站",
    "新竹小区",
    "便利店",
    "Xinzhu Canteen",
    "Post",
    "老年大学 Senior University",
    "阳光幼儿园",
    "WWW Laundry & Repair",
    "菜鸟驿站",
]


def text_box(text: str, x: float, y: float, anchor: str, size: int) -> tuple[float, ...]:
    """The test's own estimate of a drawn label, from Chromium's getBBox with DejaVu Sans and Noto
    Sans CJK: a CJK character an em wide, a capital 0.75 em, anything else 0.6 em; from the
    ascent to the descent."""

    def em(c: str) -> float:
        return 1.0 if unicodedata.east_asian_width(c) in "WF" else 0.75 if c.isupper() else 0.6

    width = size * sum(em(c) for c in text)
    left = {"start": 0, "middle": -width / 2, "end": -width}[anchor] + x
    return left, y - size * 0.9, left + width, y + size * 0.25


def label_boxes(view: maps.MapView) -> list[tuple[float, ...]]:
    """Every drawn label: the places' and the rings' (in Chinese, the wider language)."""
    places = [
        text_box(m.label_text, m.label_x, m.label_y, m.label_anchor, m.font_size)
        for m in view.markers
        if m.label_shown
    ]
    rings = [text_box(f"{m} 米", x, y, anchor, 14) for m, x, y, anchor in view.ring_labels]
    return places + rings


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def random_places(rng: random.Random) -> list[Place]:
    places = []
    for _ in range(rng.randint(0, 25)):
        name = rng.choice(NAMES) + str(rng.randint(1, 99)) * rng.randint(0, 1)
        kind = rng.choice(["compound", "neighbour"])
        places.append(at(rng.uniform(-700, 700), rng.uniform(-700, 700), name, kind))
    return places


def test_labels_never_overlap_each_other_markers_or_the_canvas_edge():
    rng = random.Random(20260415)
    shown = hidden = rings = ring_labels = 0
    for _ in range(300):
        width, height = rng.choice([(640, 400), (480, 480), (360, 300)])
        radius_m = rng.choice([400, 600, 1000])
        view = layout(SUBJECT, random_places(rng), width=width, height=height, radius_m=radius_m)
        shown += sum(m.label_shown for m in view.markers)
        hidden += sum(not m.label_shown for m in view.markers)
        rings += len(view.rings)
        ring_labels += len(view.ring_labels)
        boxes = label_boxes(view)
        for i, box in enumerate(boxes):
            assert box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height
            assert not any(overlap(box, other) for other in boxes[i + 1 :])
            for marker in view.markers:
                h = marker.half_size
                assert not overlap(box, (marker.x - h, marker.y - h, marker.x + h, marker.y + h))
    # Skipping labels must stay the exception (about one in five on these crowded random maps, a
    # third of them on the smallest canvas), or the test above would pass for a map without any.
    assert hidden < 0.25 * (shown + hidden)
    assert ring_labels > 0.95 * rings


def test_every_label_finds_room_on_a_sparse_map():
    places = [at(0, 300, "东边"), at(0, -300, "西边"), at(300, 0, "北边"), at(-300, 0, "南边")]
    view = layout(SUBJECT, places)
    assert all(m.label_shown for m in view.markers)
    assert drawn(view)["东边"].label_anchor == "start"  # its first choice: the right


def test_a_label_with_no_room_is_left_off_but_the_marker_stays():
    crowd = [at(10 * i, 10 * j, f"拥挤的设施{i}{j}") for i in range(-1, 2) for j in range(-1, 3)]
    view = layout(SUBJECT, crowd)
    assert len(view.markers) == 1 + 12
    assert any(not m.label_shown for m in view.markers)
    assert view.subject.label_shown  # placed first, it always finds a slot on an open map


def test_a_long_name_is_shortened_on_the_map_only():
    name = "长春市绿园区青年路街道新竹社区综合为老服务中心"
    marker = drawn(layout(SUBJECT, [at(0, 200, name)]))[name]
    assert marker.label_text.endswith("…") and len(marker.label_text) < len(name)
    assert name.startswith(marker.label_text[:-1])
    assert marker.place.label == name


# --- the template --------------------------------------------------------------------------------


def render(view: maps.MapView, language: str = "en") -> str:
    with translation.override(language):
        return render_to_string("facilities/includes/map.html", {"map": view})


def svg_of(html: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg class=\"map__svg\".*?</svg>", html, re.S).group(0))


SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def example() -> maps.MapView:
    return layout(
        SUBJECT,
        [
            at(120, 80, "新竹小区", "compound", url="/c/xinzhu/"),
            at(-200, -150, "青年路8号院", "compound"),
            at(60, -90, "青年路社区卫生服务站", url="/f/health/?a=1&b=2"),
            at(-300, -40, "Post <&> Parcel", url="/f/parcel/"),
            at(900, 0, "远处的菜市场"),
        ],
    )


def test_the_map_renders_as_a_well_formed_svg_with_title_and_description(example):
    html = render(example)
    svg = svg_of(html)
    assert svg.get("viewBox") == "0 0 640 400"
    assert svg.find(f"{SVG}title").text == "Map of the surroundings of 新竹社区长者食堂"
    assert " ".join(svg.find(f"{SVG}desc").text.split()) == (
        "Residential compounds: 2. Other facilities: 2. Within 600 m, straight-line distances;"
        " north is up."
    )
    rings = svg.findall(f".//{SVG}circle[@class='map__ring']")
    assert [c.get("stroke-dasharray") for c in rings] == ["6 5", "6 5"]
    ring_labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "map__ring-label"]
    assert ring_labels == ["300 m", "500 m"]
    labels = [t.text for t in svg.iter(f"{SVG}text") if "map__label" in (t.get("class") or "")]
    assert "Post <&> Parcel" in labels  # escaped in the markup, whole once parsed
    assert "远处的菜市场" not in html


def test_the_svg_is_hidden_from_assistive_technology_and_holds_no_links(example):
    svg = svg_of(render(example))
    assert (svg.get("aria-hidden"), svg.get("focusable")) == ("true", "false")
    # Markers are far smaller than a 48 px target: the list below carries the links.
    assert svg.findall(f".//{SVG}a") == []


def test_the_list_below_carries_every_place_with_distance_walk_and_link(example):
    html = render(example)
    items = re.findall(r"<li class=\"map__item.*?</li>", html, re.S)
    assert len(items) == 4
    text = [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]
    assert text[0] == "● 青年路社区卫生服务站 · facility · 108 m · 2 min walk"
    assert text[1] == "■ 新竹小区 · residential compound · 144 m · 3 min walk"
    assert html.count("<svg") == 1  # the list's legend shapes are text a map stylesheet won't size
    assert '<a href="/f/health/?a=1&amp;b=2">青年路社区卫生服务站</a>' in items[0]
    assert "<a " not in items[2]  # 青年路8号院 has no page
    assert "Within 600 m of 新竹社区长者食堂" in html
    assert "pace of 60 m a minute" in html


def test_the_map_has_no_style_attributes_and_legible_text(example):
    html = render(example)
    assert "style=" not in html and "<style" not in html
    texts = list(svg_of(html).iter(f"{SVG}text"))
    assert texts
    for t in texts:
        assert float(t.get("font-size")) >= 14
        assert t.get("fill") in {"#1b1b1b", "#0b5e43", "#0a4f9c", "#5c4300"}


def test_it_renders_in_chinese_too(example):
    html = render(example, "zh-hans")
    assert svg_of(html).find(f"{SVG}title").text == "新竹社区长者食堂周边地图"
    assert html.count("<li") == 4


def test_coordinates_are_not_localised(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    html = render(layout(SUBJECT, [], width=1200, height=1000, radius_m=1000), "en")
    assert 'viewBox="0 0 1200 1000"' in html
    assert "1,200" not in html


def test_an_empty_surrounding_says_so():
    html = render(layout(SUBJECT, [at(2000, 0)]))
    assert "No residential compounds or other facilities within 600 m." in html
    assert "<ol" not in html
    svg_of(html)
