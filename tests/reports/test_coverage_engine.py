"""The coverage engine against a brute-force reference (geo.distance_m over every pair), and its
loader against the database."""

import math
import random

import numpy as np
import pytest

from facilities.models import Facility
from portal.lib import geo
from reports import coverage
from reports.coverage import Circle, Homes, Live, Site, Sites
from tests.facilities.conftest import category, place

CENTRE = (34.60, 112.45)
STATUSES = ["open", "open", "open", "paused", "planned", "building", "closed"]
CIRCLES = [
    Circle("canteen", 500, required=True),
    Circle("health_station", 300, required=True),
    Circle("library", 1000),
    Circle("nursery", 800, required=True),  # no facility at all
]
WITH_FACILITIES = ["canteen", "health_station", "library"]


def random_city(seed: int = 7, n_homes: int = 300, n_sites: int = 250):
    """Compounds and facilities scattered over 6 × 6 km, some compounds empty, facilities of one
    to three categories and every status, plus pairs placed 499.5 m and 500.5 m apart."""
    rnd = random.Random(seed)

    def point() -> geo.Point:
        return geo.offset(CENTRE, rnd.uniform(-3000, 3000), rnd.uniform(-3000, 3000))

    homes = []
    for i in range(n_homes):
        lat, lng = point()
        population = 0 if i % 10 == 0 else rnd.randint(100, 3000)
        community = i % 12
        homes.append((1000 + i, lat, lng, population, community, community // 4, community // 8))
    sites, further = [], []
    for i in range(n_sites):
        lat, lng = point()
        codes = rnd.sample(WITH_FACILITIES, rnd.choice([1, 1, 2, 3]))
        sites.append((5000 + i, lat, lng, rnd.choice(STATUSES), codes[0]))
        further += [(5000 + i, code) for code in codes[1:]]
    # Threshold cases, far from everything else: one canteen 499.5 m from one compound and
    # 500.5 m from another.
    far = geo.offset(CENTRE, 20_000, 0)
    homes.append((9001, *geo.offset(far, 499.5, 0), 800, 99, 99, 99))
    homes.append((9002, *geo.offset(far, 0, -500.5), 800, 99, 99, 99))
    sites.append((9900, *far, "open", "canteen"))
    return homes, sites, further


def reference(homes, sites, further, code: str, statuses, reach_m: float):
    """For each compound: (nearest facility id, metres) by trying every facility."""
    codes = {s[0]: {s[4]} for s in sites}
    for fid, c in further:
        codes[fid].add(c)
    serving = [s for s in sites if s[3] in statuses and code in codes[s[0]]]
    result = []
    for h in homes:
        best = min(
            ((geo.distance_m(h[1:3], s[1:3]), s[0]) for s in serving), default=(math.inf, -1)
        )
        result.append((best[1], best[0]) if best[0] <= reach_m else (-1, math.inf))
    return result


@pytest.fixture
def city():
    homes, sites, further = random_city()
    return homes, sites, further, Homes.from_rows(homes), Sites.from_rows(sites, further)


def assert_matches_reference(matrix, rows, statuses):
    homes, sites, further = rows
    for circle in CIRCLES:
        ref = reference(homes, sites, further, circle.code, statuses, 2 * circle.distance_m)
        assert matrix.nearest[circle.code].tolist() == [r[0] for r in ref]
        np.testing.assert_allclose(matrix.distance[circle.code], [r[1] for r in ref], atol=1e-6)


def test_vectorised_distance_is_geos_formula():
    rnd = random.Random(1)
    a = [geo.offset(CENTRE, rnd.uniform(-5000, 5000), rnd.uniform(-5000, 5000)) for _ in range(200)]
    b = [geo.offset(CENTRE, rnd.uniform(-5000, 5000), rnd.uniform(-5000, 5000)) for _ in range(200)]
    got = coverage.distances_m(
        np.array([p[0] for p in a]),
        np.array([p[1] for p in a]),
        np.array([p[0] for p in b]),
        np.array([p[1] for p in b]),
    )
    np.testing.assert_allclose(
        got, [geo.distance_m(p, q) for p, q in zip(a, b, strict=True)], atol=1e-9
    )


def test_the_chord_agrees_with_geo_distance_to_well_under_a_metre():
    """The tree's chords, turned back into metres, are within centimetres of geo.distance_m over
    10 km, so a metre of slack never loses a candidate."""
    rnd = random.Random(2)
    for _ in range(200):
        p = geo.offset((rnd.uniform(18, 53), rnd.uniform(74, 134)), 0, 0)
        q = geo.offset(p, rnd.uniform(-7000, 7000), rnd.uniform(-7000, 7000))
        xyz = coverage.unit_vectors(np.array([p[0], q[0]]), np.array([p[1], q[1]]))
        chord = np.linalg.norm(xyz[0] - xyz[1])
        great_circle = 2 * geo.EARTH_RADIUS_M * math.asin(chord / 2)
        assert abs(great_circle - geo.distance_m(p, q)) < 0.05


def test_nearest_facility_and_distance_equal_brute_force(city):
    homes, sites, further, h, s = city
    matrix = coverage.compute(h, s, CIRCLES)
    assert_matches_reference(matrix, (homes, sites, further), coverage.SERVING)


def test_a_compound_just_inside_the_walk_is_covered_and_just_outside_is_not(city):
    *_, h, s = city
    matrix = coverage.compute(h, s, CIRCLES)
    inside, outside = (np.flatnonzero(h.ids == i)[0] for i in (9001, 9002))
    assert matrix.distance["canteen"][inside] == pytest.approx(499.5, abs=1e-6)
    assert matrix.distance["canteen"][outside] == pytest.approx(500.5, abs=1e-6)
    covered = matrix.covered("canteen")
    assert covered[inside] and not covered[outside]


def test_a_category_without_facilities_covers_nobody(city):
    *_, h, s = city
    matrix = coverage.compute(h, s, CIRCLES)
    assert (matrix.nearest["nursery"] == -1).all()
    assert all(f.covered["nursery"] == 0 for f in matrix.rollup("district").values())
    # nursery is required, so no community with residents meets the standard.
    assert not any(matrix.complete_communities().values())


def test_rollups_weigh_compounds_by_population(city):
    homes, _, _, h, s = city
    matrix = coverage.compute(h, s, CIRCLES)
    covered = matrix.covered("canteen")
    for level, column in [("community", 4), ("subdistrict", 5), ("district", 6)]:
        figures = matrix.rollup(level)
        for area, f in figures.items():
            rows = [i for i, home in enumerate(homes) if home[column] == area]
            assert f.population == sum(homes[i][3] for i in rows)
            assert f.covered["canteen"] == sum(homes[i][3] for i in rows if covered[i])
    city_figures = matrix.rollup("city")[0]
    assert city_figures.population == sum(home[3] for home in homes)
    assert city_figures.covered["library"] == int(h.population[matrix.covered("library")].sum())


def test_compounds_without_residents_do_not_count_against_a_community():
    homes = Homes.from_rows(
        [
            (1, *CENTRE, 500, 1, 1, 1),
            (2, *geo.offset(CENTRE, 2000, 0), 0, 1, 1, 1),  # empty and far from the canteen
            (3, *geo.offset(CENTRE, 2000, 0), 10, 2, 1, 1),  # lived in and far
        ]
    )
    sites = Sites.from_rows([(10, *geo.offset(CENTRE, 100, 0), "open", "canteen")])
    matrix = coverage.compute(homes, sites, [Circle("canteen", 500, required=True)])
    assert matrix.complete_communities() == {1: True, 2: False}
    assert matrix.rollup("community")[1].share("canteen") == 1.0


def test_what_if_counts_planned_and_building_facilities_as_open(city):
    homes, sites, further, h, s = city
    result = coverage.what_if(h, s, CIRCLES)
    assert_matches_reference(result.then, (homes, sites, further), coverage.WITH_PLANNED)
    gained = result.gained("subdistrict")
    for area, by_code in gained.items():
        for code, residents in by_code.items():
            then = result.then.rollup("subdistrict")[area].covered[code]
            now = result.now.rollup("subdistrict")[area].covered[code]
            assert residents == then - now >= 0
    assert sum(sum(by_code.values()) for by_code in gained.values()) > 0


def test_a_planned_facility_that_opens_counts_today_as_the_what_if_said(city):
    homes, sites, further, h, s = city
    before = coverage.what_if(h, s, CIRCLES)
    opened = [(*site[:3], "open" if site[3] == "planned" else site[3], site[4]) for site in sites]
    after = coverage.compute(h, Sites.from_rows(opened, further), CIRCLES)
    assert_matches_reference(after, (homes, opened, further), coverage.SERVING)
    for circle in CIRCLES:
        # Building sites are still left out, so today reaches no farther than the what-if.
        assert (after.covered(circle.code) <= before.then.covered(circle.code)).all()
        assert (after.covered(circle.code) >= before.now.covered(circle.code)).all()
    assert (after.covered("canteen") != before.now.covered("canteen")).any()


def test_incremental_updates_equal_a_full_recompute(city):
    _, sites, further, h, s = city
    live = Live(h, s, CIRCLES)
    current = {row[0]: list(row) for row in sites}
    extra = {}
    for fid, code in further:
        extra.setdefault(fid, set()).add(code)

    def full():
        rows = [tuple(r) for r in current.values()]
        pairs = [(fid, code) for fid, codes in extra.items() for code in codes]
        return coverage.compute(h, Sites.from_rows(rows, pairs), CIRCLES)

    def change(fid, lat, lng, status, code):
        current[fid] = [fid, lat, lng, status, code]
        live.put(Site(fid, lat, lng, status, frozenset({code} | extra.get(fid, set()))))

    rnd = random.Random(3)
    steps = []
    for n in range(30):
        fid = rnd.choice(list(current))
        _, lat, lng, status, code = current[fid]
        match n % 3:
            case 0:  # added
                steps.append("add")
                fid = 7000 + n
                lat, lng = geo.offset(CENTRE, rnd.uniform(-3000, 3000), rnd.uniform(-3000, 3000))
                change(fid, lat, lng, "open", rnd.choice(WITH_FACILITIES))
            case 1:  # moved a few hundred metres
                steps.append("move")
                lat, lng = geo.offset((lat, lng), rnd.uniform(-400, 400), rnd.uniform(-400, 400))
                change(fid, lat, lng, status, code)
            case 2:  # closed
                steps.append("close")
                live.close(fid)
                current[fid][3] = "closed"
        expected = full()
        for circle in CIRCLES:
            assert live.matrix.nearest[circle.code].tolist() == (
                expected.nearest[circle.code].tolist()
            ), steps
            np.testing.assert_allclose(
                live.matrix.distance[circle.code], expected.distance[circle.code], atol=1e-9
            )


def brute_force_greedy(matrix, code, candidates, k):
    circle = next(c for c in matrix.circles if c.code == code)
    homes = matrix.homes
    waiting = {i: int(homes.population[i]) for i in np.flatnonzero(~matrix.covered(code)).tolist()}
    floor = coverage.MIN_FLOOR_AREA_M2.get(code, 0)
    picks = []
    for _ in range(k):
        gains = []
        for c, (lat, lng, area) in enumerate(candidates):
            if (area or 0) < floor:
                continue
            served = [
                i
                for i in waiting
                if geo.distance_m((homes.lat[i], homes.lng[i]), (lat, lng)) <= circle.distance_m
            ]
            gains.append((sum(waiting[i] for i in served), -c, served))
        gain, minus_c, served = max(gains, key=lambda g: g[:2])
        if gain <= 0:
            break
        picks.append((-minus_c, gain))
        for i in served:
            waiting[i] = 0
    return picks


def test_greedy_site_choice_equals_a_brute_force_greedy(city):
    *_, h, s = city
    matrix = coverage.compute(h, s, CIRCLES)
    rnd = random.Random(5)
    candidates = [
        (*geo.offset(CENTRE, rnd.uniform(-3000, 3000), rnd.uniform(-3000, 3000)), area)
        for area in rnd.choices([None, 80, 120, 150, 300], k=40)
    ]
    for code in ("canteen", "nursery", "library"):
        picks = coverage.best_sites(matrix, code, candidates, k=5)
        assert [(p.candidate, p.gained) for p in picks] == brute_force_greedy(
            matrix, code, candidates, 5
        )
    picked = {p.candidate for p in coverage.best_sites(matrix, "canteen", candidates, k=40)}
    assert all(candidates[c][2] >= 150 for c in picked)  # a canteen needs 150 m²


def test_the_engines_statuses_are_the_models():
    assert {Facility.Status.OPEN, Facility.Status.TEMPORARILY_CLOSED} == coverage.SERVING
    assert {
        Facility.Status.PLANNED,
        Facility.Status.UNDER_CONSTRUCTION,
    } == coverage.WITH_PLANNED - coverage.SERVING


@pytest.mark.django_db
def test_the_loader_reads_compounds_gates_facilities_and_categories_in_five_queries(
    compound_a, compound_b, django_assert_max_num_queries
):
    gate = compound_b.gates.create(
        name="北门", latitude=compound_b.latitude + 0.0005, longitude=compound_b.longitude
    )
    centre = place(
        compound_b,
        north=300,
        community=compound_b.community,
        category=category("service_centre"),
        name="石油社区党群服务中心",
    )
    centre.other_categories.add(category("canteen"), category("library"))
    place(
        compound_b,
        north=100,
        community=compound_b.community,
        category=category("health_station"),
        name="已关闭的卫生站",
        status=Facility.Status.CLOSED,
    )
    place(
        compound_a,
        east=200,
        community=compound_a.community,
        category=category("canteen"),
        name="规划中的食堂",
        status=Facility.Status.PLANNED,
    )
    with django_assert_max_num_queries(5):
        homes, sites, circles = coverage.load()
    assert sorted(homes.ids.tolist()) == sorted([compound_a.pk, compound_b.pk])
    b = homes.ids.tolist().index(compound_b.pk)
    a = homes.ids.tolist().index(compound_a.pk)
    # B walks from its gate, A (no gates) from its point.
    starts = homes.starts()
    assert starts.home.tolist() == sorted([a, b])
    assert (starts.lat[starts.home == b][0], starts.lng[starts.home == b][0]) == gate.point
    assert (starts.lat[starts.home == a][0], starts.lng[starts.home == a][0]) == compound_a.point
    assert homes.district[b] == compound_b.community.subdistrict.district_id
    assert "canteen" in {c.code for c in circles if c.required}

    result = coverage.what_if(homes, sites, circles)
    assert result.now.nearest["canteen"][b] == centre.pk
    assert result.now.distance["canteen"][b] == pytest.approx(300, abs=0.01)
    assert result.now.nearest["health_station"][b] == -1  # the closed one doesn't count
    a = homes.ids.tolist().index(compound_a.pk)
    assert not result.now.covered("canteen")[a] and result.then.covered("canteen")[a]
    district_a = compound_a.community.subdistrict.district_id
    assert result.gained("district")[district_a]["canteen"] == compound_a.population

    only_a = coverage.load([district_a])[0]
    assert only_a.ids.tolist() == [compound_a.pk]
