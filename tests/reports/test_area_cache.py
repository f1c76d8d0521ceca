"""The report area in the shared cache: kept compactly (distances as float32, the straight-line
figures recomputed, the plan as its difference from today, the facilities as columns) and read
back with every figure the reports show unchanged."""

import pickle

import numpy as np
import pytest

from communities.models import Community
from facilities.models import Facility
from portal.lib import geo
from reports import coverage, report_data

pytestmark = pytest.mark.django_db


def test_a_stored_distance_stays_on_its_side_of_every_whole_and_half_metre():
    rng = np.random.default_rng(5)
    boundary = rng.integers(0, 8000, 200_000) / 2
    nudge = rng.choice([-1, 1], 200_000) * 10 ** rng.uniform(-12, -3, 200_000)
    metres = np.concatenate([boundary + nudge, boundary, rng.uniform(0, 4000, 1000), [np.inf]])
    boundary = np.concatenate([boundary, boundary, np.round(metres[-1001:-1]), [500]])
    kept = coverage.stored_metres(metres)
    assert kept.dtype == np.float32
    back = kept.astype(np.float64)
    assert np.array_equal(back <= boundary, metres <= boundary)
    assert np.array_equal(back >= boundary, metres >= boundary)
    assert np.array_equal(np.round(back), np.round(metres))
    assert np.array_equal(np.ceil(back / 60), np.ceil(metres / 60))
    finite = np.isfinite(metres)
    assert np.abs(back[finite] - metres[finite]).max() < 0.001
    assert np.isinf(back[~finite]).all()


def figures(area: report_data.Area) -> list:
    """Everything the report pages and exports show of an area."""
    shown = [
        area.progress(),
        area.nearest_ids,
        area.spots,
        area.population,
        [area.off_streets(p) for p in area.places],
    ]
    for plan in (False, True):
        shown += [
            area.figures(plan),
            area.totals(plan),
            area.line_totals(plan),
            area.complete(plan),
            area.matrix_rows(plan),
            [
                (g.place, g.service, g.residents, g.compounds, g.line_covered)
                for g in area.gap_rows(plan)
            ],
            [None if g.farthest_m is None else round(g.farthest_m) for g in area.gap_rows(plan)],
            [round(d, 2) if (d := area.detour(s.code, plan)) else d for s in area.required],
            [area.suggestions(s.code, plan, 3) for s in area.services],
        ]
        for row in area.compound_rows(plan):
            shown.append((row.id, row.name, row.population, row.off_streets))
            shown += [
                (
                    w.spot,
                    w.covered,
                    w.line_covered,
                    w.across,
                    w.minutes,
                    None if w.distance_m is None else round(w.distance_m),
                    None if w.line_m is None else round(w.line_m),
                )
                for w in row.walks
            ]
    return shown


def city(district) -> report_data.Area:
    return report_data.gather(Community.objects.filter(subdistrict__district=district))


def test_a_walked_city_reads_back_from_the_cache_with_every_figure_unchanged(generated_city):
    area = city(generated_city)
    assert area.walks and area.line_now is not None
    codes = [c.code for c in area.circles]
    assert any((area.plan.nearest[c] != area.now.nearest[c]).any() for c in codes)
    back = pickle.loads(pickle.dumps(area))
    assert figures(back) == figures(area)
    for mine, theirs in (
        (back.now, area.now),
        (back.plan, area.plan),
        (back.line_now, area.line_now),
        (back.line_plan, area.line_plan),
    ):
        for code in codes:
            assert np.array_equal(mine.nearest[code], theirs.nearest[code]), code
            np.testing.assert_allclose(mine.distance[code], theirs.distance[code], atol=0.001)
    # The straight lines are computed again, not stored: exactly the same.
    assert all(np.array_equal(back.line_now.distance[c], area.line_now.distance[c]) for c in codes)
    assert back.homes.gates is not None
    assert np.array_equal(back.homes.xyz, area.homes.xyz)
    assert back.walker.streets == {}


def test_the_cached_city_takes_a_few_hundred_bytes_a_compound(generated_city):
    area = city(generated_city)
    compounds = len(area.homes.ids)
    assert (compounds, len(area.spots)) == (400, 1000)
    assert len(pickle.dumps(area)) < 300 * compounds
    # Its street network is not in it, nor where the gates and facilities sit on it.
    walker = pickle.loads(pickle.dumps(area.walker))
    assert walker.streets == {} and walker.gates == {} and walker.sites == {}
    # What it keeps: a byte a compound (walked or not), a bit a facility (on the streets or not).
    assert len(pickle.dumps(walker)) < compounds + len(area.sites.ids) / 8 + 500


def test_a_city_read_back_from_the_cache_is_kept_current_as_gathering_anew(generated_city):
    area = pickle.loads(pickle.dumps(city(generated_city)))
    canteen = Facility.objects.filter(
        community__subdistrict__district=generated_city, category__code="canteen"
    ).first()
    canteen.latitude, canteen.longitude = geo.offset(canteen.point, 250, -150)
    canteen.save()
    area = report_data.refresh(area)
    assert area is not None and area.walker.streets
    fresh = city(generated_city)
    for mine, theirs in ((area.now, fresh.now), (area.plan, fresh.plan)):
        for code in theirs.nearest:
            assert np.array_equal(mine.nearest[code], theirs.nearest[code]), code
            np.testing.assert_allclose(mine.distance[code], theirs.distance[code], atol=0.001)
    assert figures(area) == figures(fresh)
