"""``manage.py generate_city``: a reproducible synthetic city under its own district, which it
replaces on every run and removes on request, never touching the demo districts."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Sum

from communities.models import Community, District, ResidentialCompound, Subdistrict
from facilities.management.commands.generate_city import DISTRICT_CODE
from facilities.models import Category, Facility, OpeningHours

pytestmark = pytest.mark.django_db

DEMO_CODES = ("220106", "410311")


def generate(*args: str) -> str:
    out = io.StringIO()
    # No streets: these tests are about the city's places (tests/streets has its streets).
    call_command("generate_city", *args, "--no-streets", stdout=out)
    return out.getvalue()


def small(seed: int = 7) -> str:
    return generate("--compounds", "200", "--facilities", "500", "--seed", str(seed))


def generated(model):
    path = {
        Subdistrict: "district__code",
        Community: "subdistrict__district__code",
        ResidentialCompound: "community__subdistrict__district__code",
        Facility: "community__subdistrict__district__code",
        OpeningHours: "facility__community__subdistrict__district__code",
    }[model]
    return model.objects.filter(**{path: DISTRICT_CODE})


def city() -> dict[str, list[tuple]]:
    """The generated names and points."""
    return {
        "compounds": list(
            generated(ResidentialCompound)
            .order_by("community__slug", "name")
            .values_list("community__name", "name", "latitude", "longitude", "population")
        ),
        "facilities": list(
            generated(Facility)
            .order_by("slug")
            .values_list("slug", "name", "category__code", "status", "latitude", "longitude")
        ),
    }


def demo_snapshot() -> dict[str, list[dict]]:
    """Every row outside the generated district, ids included."""
    outside = {
        District: {"code": DISTRICT_CODE},
        Subdistrict: {"district__code": DISTRICT_CODE},
        Community: {"subdistrict__district__code": DISTRICT_CODE},
        ResidentialCompound: {"community__subdistrict__district__code": DISTRICT_CODE},
        Facility: {"community__subdistrict__district__code": DISTRICT_CODE},
        OpeningHours: {"facility__community__subdistrict__district__code": DISTRICT_CODE},
    }
    return {
        model.__name__: list(model.objects.exclude(**inside).order_by("pk").values())
        for model, inside in outside.items()
    }


@pytest.fixture
def demo(db):
    call_command("load_demo", "--no-accounts", "--no-streets", verbosity=0)


def test_it_makes_exactly_the_compounds_and_facilities_asked_for():
    output = small()
    assert generated(ResidentialCompound).count() == 200
    assert generated(Facility).count() == 500
    district = District.objects.get(code=DISTRICT_CODE)
    assert district.city == "演示市"
    assert "200 residential compounds" in output and "500 facilities" in output


def test_codes_and_slugs_cannot_clash_with_real_ones():
    small()
    assert DISTRICT_CODE.startswith("99")
    for subdistrict in generated(Subdistrict):
        assert len(subdistrict.code) == 9 and subdistrict.code.startswith(DISTRICT_CODE)
    assert all(
        slug.startswith("gen-") for slug in generated(Community).values_list("slug", flat=True)
    )
    assert all(
        slug.startswith("gen-") for slug in generated(Facility).values_list("slug", flat=True)
    )


def test_every_category_is_present_mostly_open_with_weekly_hours():
    small()
    facilities = generated(Facility)
    assert set(facilities.values_list("category__code", flat=True)) == set(
        Category.objects.values_list("code", flat=True)
    )
    statuses = Counter(facilities.values_list("status", flat=True))
    assert statuses[Facility.Status.OPEN] >= 0.8 * 500
    assert statuses[Facility.Status.PLANNED] > 0
    open_without_hours = facilities.filter(status=Facility.Status.OPEN, hours__isnull=True)
    assert not open_without_hours.exists()
    assert not facilities.filter(status=Facility.Status.PLANNED, hours__isnull=False).exists()


def test_everything_generated_is_marked_as_demo_data():
    small()
    assert not generated(Community).filter(is_demo=False).exists()
    assert not generated(ResidentialCompound).filter(is_demo=False).exists()
    assert not generated(Facility).filter(is_demo=False).exists()


def test_compounds_have_people_and_communities_add_them_up():
    small()
    for compound in generated(ResidentialCompound):
        assert 300 <= compound.population <= 4000
        assert 2.3 <= compound.population / compound.households <= 2.9
    for community in generated(Community).annotate(total=Sum("compounds__population")):
        assert community.population == community.total


def test_points_spread_over_kilometres_not_one_spot():
    small()
    points = list(generated(ResidentialCompound).values_list("latitude", "longitude"))
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    # At least 5 km across: 0.045° of latitude is about 5 km.
    assert max(lats) - min(lats) > 0.045
    assert max(lngs) - min(lngs) > 0.045
    assert len(set(points)) == len(points)


def test_the_same_seed_gives_the_same_city_and_another_seed_another():
    small(seed=7)
    first = city()
    small(seed=7)
    assert city() == first
    small(seed=8)
    assert city() != first


def test_running_again_replaces_the_previous_city():
    small()
    generate("--compounds", "100", "--facilities", "50", "--seed", "1")
    assert District.objects.filter(code=DISTRICT_CODE).count() == 1
    assert generated(ResidentialCompound).count() == 100
    assert generated(Facility).count() == 50


def test_it_leaves_the_demo_districts_untouched(demo):
    before = demo_snapshot()
    small()
    assert demo_snapshot() == before
    generate("--remove")
    assert demo_snapshot() == before


def test_remove_deletes_the_whole_generated_city(demo):
    small()
    output = generate("--remove")
    assert "Removed the generated city" in output
    assert not District.objects.filter(code=DISTRICT_CODE).exists()
    for model in (Subdistrict, Community, ResidentialCompound, Facility, OpeningHours):
        assert not generated(model).exists()
    assert not Facility.objects.filter(slug__startswith="gen-").exists()
    assert set(District.objects.values_list("code", flat=True)) == set(DEMO_CODES)
    assert Facility.objects.count() >= 300
