"""``manage.py load_demo``: real districts and subdistricts, the seed communities where the news
puts them, plausible invented numbers, demo accounts, and the same rows on every run."""

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Sum

from communities import demo_data
from communities.demo_data import DEMO_PASSWORD
from communities.models import Community, District, Membership, ResidentialCompound, Subdistrict
from portal.lib.geo import distance_m
from portal.management.commands.load_demo import build_plan

pytestmark = pytest.mark.django_db

User = get_user_model()

SEED_PLACES = {
    "新竹社区": "青年路街道",
    "天元社区": "开元路街道",
    "大学城社区": "学府街道",
    "安东社区": "安乐街道",
    "石油社区": "关林街道",
}


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # The real hasher is slow on purpose; these tests load the demo data many times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


SNAPSHOT = {
    District: ("code", "name", "city", "city_code", "province", "province_code"),
    Subdistrict: ("code", "name", "district__code"),
    Community: (
        "slug",
        "subdistrict__code",
        "name",
        "population",
        "households",
        "feature",
        "description",
        "office_address",
        "phone",
        "is_demo",
        "demo_note",
        "latitude",
        "longitude",
    ),
    ResidentialCompound: (
        "community__slug",
        "name",
        "population",
        "households",
        "is_demo",
        "latitude",
        "longitude",
    ),
    User: ("username", "first_name", "is_active", "is_staff", "is_superuser"),
    Membership: (
        "user__username",
        "role",
        "community__slug",
        "subdistrict__code",
        "district__code",
    ),
}


def snapshot(with_ids: bool = True) -> dict[str, list[dict]]:
    """Every row the command writes with its values (passwords are checked by logging in)."""
    ids = ("id",) if with_ids else ()
    return {
        model.__name__: list(model.objects.order_by(*fields).values(*ids, *fields))
        for model, fields in SNAPSHOT.items()
    }


# ---- places ----


def test_it_creates_both_districts_with_their_real_codes():
    load_demo()
    districts = {d.code: d for d in District.objects.all()}
    assert set(districts) == {"220106", "410311"}
    lvyuan, luolong = districts["220106"], districts["410311"]
    assert (lvyuan.name, lvyuan.city, lvyuan.city_code) == ("绿园区", "长春市", "2201")
    assert (lvyuan.province, lvyuan.province_code) == ("吉林省", "22")
    assert (luolong.name, luolong.city, luolong.city_code) == ("洛龙区", "洛阳市", "4103")
    assert (luolong.province, luolong.province_code) == ("河南省", "41")


def test_it_creates_every_subdistrict_and_town_of_both_districts():
    load_demo()
    assert Subdistrict.objects.count() == 32
    assert Subdistrict.objects.filter(district__code="220106").count() == 14
    assert Subdistrict.objects.filter(district__code="410311").count() == 18
    for code, name in [
        ("220106005", "青年路街道"),
        ("220106010", "林园街道"),
        ("220106401", "皓月产业园区"),
        ("410311002", "开元路街道"),
        ("410311004", "关林街道"),
        ("410311199", "佃庄镇"),
    ]:
        assert Subdistrict.objects.get(code=code).name == name
    assert all(s.code.startswith(s.district.code) for s in Subdistrict.objects.all())


def test_every_seed_community_is_in_the_subdistrict_the_news_names():
    load_demo()
    for community, subdistrict in SEED_PLACES.items():
        assert Community.objects.get(name=community).subdistrict.name == subdistrict


def test_linyuan_and_leifeng_are_placed_in_real_lvyuan_subdistricts_marked_as_assumed():
    load_demo()
    linyuan = Community.objects.get(name="林园社区")
    leifeng = Community.objects.get(name="雷锋社区")
    assert linyuan.subdistrict.code == "220106010"
    assert leifeng.subdistrict.district.code == "220106"
    for community in (linyuan, leifeng):
        assert "演示假设" in community.demo_note
    for name in SEED_PLACES:
        assert "演示假设" not in Community.objects.get(name=name).demo_note


def test_dikan_sanyuan_compound_belongs_to_shiyou_and_is_the_only_real_compound():
    load_demo()
    compound = ResidentialCompound.objects.get(name="地勘三院小区")
    assert compound.community.name == "石油社区"
    assert compound.is_demo is False
    assert list(ResidentialCompound.objects.filter(is_demo=False)) == [compound]


def test_seed_communities_are_real_but_say_what_is_invented():
    load_demo()
    seeds = Community.objects.filter(is_demo=False)
    assert sorted(seeds.values_list("name", flat=True)) == sorted(
        c.name for c in demo_data.SEED_COMMUNITIES
    )
    for community in seeds:
        assert "演示数据" in community.demo_note
        assert community.feature and community.description
    assert Community.objects.get(name="林园社区").feature.startswith("“四多三高”")
    assert "墨香林园" in Community.objects.get(name="林园社区").feature
    assert "翰林苑" in Community.objects.get(name="大学城社区").feature
    assert "邻心园" in Community.objects.get(name="石油社区").feature


def test_invented_communities_are_marked_as_demo_data():
    load_demo()
    invented = Community.objects.filter(is_demo=True)
    assert invented.count() == len(demo_data.INVENTED_COMMUNITIES)
    assert all(c.demo_note for c in invented)
    assert not invented.filter(name__in=[c.name for c in demo_data.SEED_COMMUNITIES]).exists()


def test_there_are_at_least_20_communities_and_150_compounds_spread_over_both_districts():
    load_demo()
    assert Community.objects.count() >= 20
    assert ResidentialCompound.objects.count() >= 150
    for code in ("220106", "410311"):
        assert Community.objects.filter(subdistrict__district__code=code).count() >= 10
    for community in Community.objects.all():
        assert 5 <= community.compounds.count() <= 9


def test_every_compound_has_a_plausible_population_and_household_count():
    load_demo()
    for compound in ResidentialCompound.objects.all():
        assert 300 <= compound.population <= 4000
        assert 2.3 <= compound.population / compound.households <= 2.9


def test_every_community_has_an_address_and_a_local_phone_number():
    load_demo()
    for community in Community.objects.select_related("subdistrict__district"):
        district = community.subdistrict.district
        assert community.office_address.startswith(f"{district.city}{district.name}")
        prefix = "0431-8" if district.code == "220106" else "0379-6"
        assert community.phone.startswith(prefix)
        assert len(community.phone) == len("0431-81234567")


def test_every_community_and_compound_lies_inside_its_districts_box():
    load_demo()
    boxes = {d.code: (d.lat_range, d.lng_range) for d in demo_data.DISTRICTS}
    communities = Community.objects.select_related("subdistrict__district")
    for community in communities:
        (lat_lo, lat_hi), (lng_lo, lng_hi) = boxes[community.subdistrict.district.code]
        for place in [community, *community.compounds.all()]:
            assert lat_lo <= place.latitude <= lat_hi, place
            assert lng_lo <= place.longitude <= lng_hi, place


def test_compounds_lie_a_short_walk_from_their_community_office():
    load_demo()
    for compound in ResidentialCompound.objects.select_related("community"):
        metres = distance_m(compound.point, compound.community.point)
        assert 290 <= metres <= 910, (compound, metres)


def test_each_communitys_population_and_households_are_the_sums_of_its_compounds():
    load_demo()
    for community in Community.objects.all():
        totals = community.compounds.aggregate(p=Sum("population"), h=Sum("households"))
        assert (community.population, community.households) == (totals["p"], totals["h"])


def test_a_compound_added_by_staff_counts_in_the_totals_after_a_reload():
    load_demo()
    community = Community.objects.get(name="新竹社区")
    before = community.population
    ResidentialCompound.objects.create(
        community=community,
        name="员工新增小区",
        population=500,
        households=200,
        latitude=community.latitude,
        longitude=community.longitude,
    )
    load_demo()
    community.refresh_from_db()
    assert community.population == before + 500
    assert ResidentialCompound.objects.filter(name="员工新增小区").exists()


def test_slugs_come_from_the_names_pinyin():
    load_demo()
    slugs = dict(Community.objects.values_list("name", "slug"))
    assert slugs["林园社区"] == "linyuan"
    assert slugs["大学城社区"] == "daxuecheng"
    assert len(set(slugs.values())) == len(slugs)


# ---- idempotence and determinism ----


def test_running_twice_changes_no_row_and_no_value():
    load_demo()
    first = snapshot()
    load_demo()
    assert snapshot() == first


def test_a_fresh_load_gives_the_same_values_as_the_first():
    load_demo()
    first = snapshot(with_ids=False)
    Membership.objects.all().delete()
    User.objects.all().delete()
    ResidentialCompound.objects.all().delete()
    Community.objects.all().delete()
    Subdistrict.objects.all().delete()
    District.objects.all().delete()
    load_demo()
    assert snapshot(with_ids=False) == first


def test_the_plan_is_the_same_on_every_call():
    assert build_plan() == build_plan()


def test_a_failing_run_leaves_nothing_behind(monkeypatch):
    from portal.management.commands import load_demo as command

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(command, "make_staff", broken)
    with pytest.raises(RuntimeError):
        load_demo()
    assert not District.objects.exists()
    assert not Community.objects.exists()


# ---- accounts ----


def test_staff_linyuan_keeps_linyuan_only_and_logs_in_with_the_demo_password():
    load_demo()
    user = authenticate(username="staff-linyuan", password=DEMO_PASSWORD)
    assert user is not None
    assert user.is_staff and not user.is_superuser
    memberships = list(user.memberships.values_list("role", "community__name"))
    assert memberships == [(Membership.Role.STAFF, "林园社区")]
    assert user.has_perm("communities.change_community")


def test_every_seed_community_has_one_staff_account_named_after_its_slug():
    load_demo()
    for spec in demo_data.SEED_COMMUNITIES:
        community = Community.objects.get(name=spec.name)
        user = User.objects.get(username=f"staff-{community.slug}")
        assert user.is_staff
        assert list(user.memberships.values_list("role", "community")) == [
            (Membership.Role.STAFF, community.pk)
        ]
    assert User.objects.filter(username__startswith="staff-").count() == 7


def test_officials_read_their_district_and_are_not_staff():
    load_demo()
    for username, code in [("official-lvyuan", "220106"), ("official-luolong", "410311")]:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None
        assert not user.is_staff and not user.is_superuser
        assert list(user.memberships.values_list("role", "district__code")) == [
            (Membership.Role.OFFICIAL, code)
        ]


def test_the_city_administrator_is_a_superuser_with_a_city_admin_membership():
    load_demo()
    user = authenticate(username="cityadmin", password=DEMO_PASSWORD)
    assert user is not None
    assert user.is_superuser and user.is_staff
    membership = user.memberships.get()
    assert membership.role == Membership.Role.CITY_ADMIN
    assert membership.community is membership.subdistrict is membership.district is None


def test_a_rerun_restores_the_demo_password_and_drops_other_roles():
    load_demo()
    user = User.objects.get(username="staff-linyuan")
    user.set_password("changed-by-someone")
    user.save()
    Membership.objects.create(
        user=user, role=Membership.Role.STAFF, community=Community.objects.get(name="雷锋社区")
    )
    load_demo()
    assert authenticate(username="staff-linyuan", password=DEMO_PASSWORD) == user
    assert list(user.memberships.values_list("community__name", flat=True)) == ["林园社区"]


def test_no_accounts_option_creates_no_users():
    output = load_demo("--no-accounts")
    assert not User.objects.exists()
    assert not Membership.objects.exists()
    assert Community.objects.count() >= 20
    assert DEMO_PASSWORD not in output


# ---- output ----


def test_the_output_counts_the_rows_and_lists_the_demo_credentials_with_a_warning():
    output = load_demo()
    assert "2 districts, 32 subdistricts" in output
    assert f"{Community.objects.count()} communities" in output
    assert f"{ResidentialCompound.objects.count()} residential compounds" in output
    for username in ["staff-linyuan", "staff-shiyou", "official-lvyuan", "official-luolong"]:
        line = next(line for line in output.splitlines() if username in line)
        assert DEMO_PASSWORD in line
    assert "cityadmin" in output
    assert "never use them in production" in output.lower()


def test_verbosity_zero_prints_nothing():
    out = io.StringIO()
    call_command("load_demo", verbosity=0, stdout=out)
    assert out.getvalue() == ""
    assert Community.objects.count() >= 20
