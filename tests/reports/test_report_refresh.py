"""report_data.refresh: an area brought up to date after facilities change must equal the area
gathered anew, and refresh must decline whenever it cannot know that."""

from datetime import time

import numpy as np
import pytest

from communities.models import Community, ResidentialCompound
from facilities.models import Category, Facility, IdleRoom, OpeningHours
from portal.lib import geo
from reports import report_data
from tests.facilities.conftest import category, place


@pytest.fixture
def far_compound(community_a) -> ResidentialCompound:
    return ResidentialCompound.objects.create(
        community=community_a,
        name="新竹远郊小区",
        population=700,
        latitude=43.889,
        longitude=125.271,
    )


@pytest.fixture
def facilities(compound_a, far_compound) -> dict[str, Facility]:
    community = compound_a.community
    centre = place(
        far_compound,
        north=-120,
        community=community,
        category=category("service_centre"),
        name="邻里中心",
    )
    centre.other_categories.add(category("elderly_care"), category("library"))
    return {
        "centre": centre,
        "canteen": place(
            compound_a, north=200, community=community, category=category("canteen"), name="食堂"
        ),
        "planned": place(
            far_compound,
            east=150,
            community=community,
            category=category("canteen"),
            name="规划食堂",
            status=Facility.Status.PLANNED,
        ),
        "station": place(
            far_compound,
            north=100,
            community=community,
            category=category("health_station"),
            name="健康驿站",
        ),
    }


def gathered(community_a) -> report_data.Area:
    return report_data.gather(Community.objects.filter(subdistrict=community_a.subdistrict))


def assert_same(a: report_data.Area, b: report_data.Area) -> None:
    assert list(a.homes.ids) == list(b.homes.ids)
    for mine, theirs in ((a.now, b.now), (a.plan, b.plan)):
        for code in theirs.nearest:
            assert np.array_equal(mine.nearest[code], theirs.nearest[code]), code
            assert np.allclose(mine.distance[code], theirs.distance[code]), code
    assert a.nearest_ids == b.nearest_ids
    assert a.spots == b.spots
    assert a.rooms == b.rooms
    assert a.figures(False) == b.figures(False) and a.figures(True) == b.figures(True)
    assert a.progress() == b.progress()


def _add(f, compound_a, far_compound):
    place(
        far_compound,
        east=-80,
        community=far_compound.community,
        category=category("canteen"),
        name="新食堂",
    )


def _move(f, compound_a, far_compound):
    lat, lng = geo.offset(far_compound.point, 30, 0)
    Facility.objects.filter(pk=f["canteen"].pk).update(latitude=lat, longitude=lng)


def _close(f, compound_a, far_compound):
    f["canteen"].status = Facility.Status.CLOSED
    f["canteen"].save()


def _open_the_planned(f, compound_a, far_compound):
    Facility.objects.filter(pk=f["planned"].pk).update(status=Facility.Status.OPEN)


def _recategorise(f, compound_a, far_compound):
    Facility.objects.filter(pk=f["station"].pk).update(category=category("canteen"))


def _close_the_centre(f, compound_a, far_compound):
    """A facility counting for further categories closes: they go with it."""
    Facility.objects.filter(pk=f["centre"].pk).update(status=Facility.Status.CLOSED)


def _delete(f, compound_a, far_compound):
    f["canteen"].delete()


def _rename(f, compound_a, far_compound):
    Facility.objects.filter(pk=f["canteen"].pk).update(name="新竹长者食堂")


def _add_idle_room(f, compound_a, far_compound):
    lat, lng = far_compound.point
    IdleRoom.objects.create(
        community=far_compound.community, name="锅炉房", floor_area=200, latitude=lat, longitude=lng
    )


@pytest.mark.parametrize(
    "change",
    [
        _add,
        _move,
        _close,
        _open_the_planned,
        _recategorise,
        _close_the_centre,
        _delete,
        _rename,
        _add_idle_room,
    ],
)
def test_a_refreshed_area_equals_one_gathered_anew(
    change, community_a, compound_a, far_compound, facilities, django_assert_max_num_queries
):
    before = gathered(community_a)
    change(facilities, compound_a, far_compound)

    with django_assert_max_num_queries(6):
        refreshed = report_data.refresh(before)

    assert refreshed is not None
    assert_same(refreshed, gathered(community_a))


def test_the_figures_follow_the_change(community_a, compound_a, far_compound, facilities):
    before = gathered(community_a)
    assert before.figures(False)[community_a.pk]["canteen"].covered == 1200
    _add(facilities, compound_a, far_compound)
    assert report_data.refresh(before).figures(False)[community_a.pk]["canteen"].covered == 1900


def test_an_edit_that_touches_no_figure_costs_two_queries(
    community_a, compound_a, facilities, django_assert_max_num_queries
):
    before = gathered(community_a)
    # Hours are in the audit trail, but decide no coverage figure.
    OpeningHours.objects.create(
        facility=facilities["canteen"], weekday=0, opens=time(7), closes=time(19)
    )
    with django_assert_max_num_queries(2):  # the marks and the categories
        assert report_data.refresh(before) is before


@pytest.mark.parametrize(
    "change",
    [
        lambda c: ResidentialCompound.objects.filter(pk=c.pk).update(population=5000),
        lambda c: Community.objects.filter(pk=c.community_id).update(name="新名字社区"),
        lambda c: Category.objects.filter(code="canteen").update(distance_m=800),
        lambda c: Facility.objects.get(name="食堂").other_categories.add(category("library")),
    ],
    ids=["compound", "community", "category", "further categories"],
)
def test_refresh_declines_what_it_cannot_apply(change, community_a, compound_a, facilities):
    before = gathered(community_a)
    change(compound_a)
    assert report_data.refresh(before) is None


def test_refresh_declines_when_the_trail_cannot_say_what_changed(
    community_a, compound_a, facilities
):
    before = gathered(community_a)
    marks = before.marks
    # As if an event had been committed below the highest id seen: counts disagree.
    before.marks = report_data.Marks(
        tuple(c - (i == 2) for i, c in enumerate(marks.counts)), marks.facility_max, marks.structure
    )
    assert report_data.refresh(before) is None
