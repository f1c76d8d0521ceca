"""``manage.py generate_city``: a large synthetic city to benchmark coverage, search and reports.

    manage.py generate_city --compounds 20000 --facilities 50000 --seed 1
    manage.py generate_city --remove

Everything lives under one district with a code no real division has (``DISTRICT_CODE``: real
province codes end at 82), in a province and city named as demo data, so it can never clash with
or touch the demo districts (220106, 410311) or real data: removing it deletes that district and
everything under it. Every row is marked ``is_demo``; community and facility slugs start with
``gen-``. The city gets a generated street network (``streets.generated``, with a node at least
every 60 m along its streets, as an extract has them: some 400,000 nodes at 20,000 compounds) and
its compounds their gates. The same seed gives the same names, points, streets and gates (only
planned opening dates move with today). Running it again replaces the previous generated city.

Rows are built in memory and written with ``bulk_create`` in batches: no query per row.
"""

import math
import random
import time as clock
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from communities.models import Community, CompoundGate, District, ResidentialCompound, Subdistrict
from facilities import demo_data
from facilities.demo import first_of_month, hhmm
from facilities.models import Category, Facility, HoursException, OpeningHours
from portal import audit, caching
from portal.lib import geo
from streets import generated, loader
from streets.models import StreetEdge, StreetNetwork, StreetNode

DISTRICT_CODE = "990101"
CITY = {
    "name": "生成区",
    "city": "演示市",
    "city_code": "9901",
    "province": "演示省",
    "province_code": "99",
}
SLUG_PREFIX = "gen-"
DEMO_NOTE = "基准测试用的生成数据：名称、人口、位置和设施均为随机生成。"
# The city's centre, far from both demo districts; every point around it is synthetic.
CENTRE = (32.05, 117.80)
BATCH = 5000

COMPOUNDS_PER_COMMUNITY = (5, 11)
COMMUNITIES_PER_SUBDISTRICT = 12
MAX_SUBDISTRICTS = 999  # the last three digits of a 9-digit code
# A dense city has a community office every 600–800 m.
KM_PER_COMMUNITY = 0.7
SIDE_KM = (6, 60)
COMPOUND_DISTANCE_M = (150, 700)
COMPOUND_POPULATION = (300, 4000)
PEOPLE_PER_HOUSEHOLD = (2.4, 2.8)

# Name parts: community and subdistrict names are two of these, as many real ones are.
NAME_CHARS = "福安康和顺瑞祥嘉兴华明德春秋翠景润泽丰隆锦绣新金玉宁泰平永长清怡民乐盛富"
COMPOUND_SUFFIXES = ("小区", "花园", "家园", "苑", "里", "新村", "一区", "二区", "名居", "公寓")
STREET_SUFFIXES = ("路", "街", "大道", "大街")

# category → (name suffix, weekly hours profile of demo_data.HOURS, share of facilities)
KINDS: dict[str, tuple[str, str, int]] = {
    "canteen": ("社区食堂", "canteen_lunch_dinner", 4),
    "health_station": ("健康驿站", "health_station", 5),
    "elderly_care": ("养老服务站", "elderly_station", 4),
    "supermarket": ("超市", "supermarket", 7),
    "parcel": ("快递驿站", "parcel", 7),
    "service_centre": ("社区服务站", "office_long", 3),
    "convenience": ("便利店", "convenience", 12),
    "kindergarten": ("幼儿园", "kindergarten", 5),
    "nursery": ("托育点", "nursery", 3),
    "fitness": ("健身广场", "outdoor", 7),
    "library": ("书屋", "library", 3),
    "children": ("儿童之家", "after_school", 3),
    "senior_university": ("社区学校", "classes", 2),
    "health_centre": ("社区卫生服务中心", "health_centre", 2),
    "pharmacy": ("药房", "pharmacy", 6),
    "barber": ("理发店", "barber", 5),
    "laundry_repair": ("洗衣店", "laundry", 3),
    "fresh_market": ("菜市场", "market", 3),
}
# Cumulative odds of each status; the rest are open.
STATUS_ODDS = (
    (0.04, Facility.Status.PLANNED),
    (0.07, Facility.Status.UNDER_CONSTRUCTION),
    (0.09, Facility.Status.TEMPORARILY_CLOSED),
    (0.10, Facility.Status.CLOSED),
)


class Command(BaseCommand):
    help = (
        f"Generate a reproducible synthetic city (district {DISTRICT_CODE}, all demo data) with "
        "the given numbers of compounds and facilities, replacing any generated before; "
        "--remove deletes it. Never touches other districts."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--compounds", type=int, default=2000, help="Residential compounds.")
        parser.add_argument("--facilities", type=int, default=5000, help="Facilities.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same city.")
        parser.add_argument(
            "--remove", action="store_true", help="Delete the generated city and stop."
        )
        parser.add_argument(
            "--no-streets",
            action="store_true",
            help="Generate no street network or gates: distances stay straight lines.",
        )

    @audit.command_context("generate_city")
    def handle(
        self,
        *args,
        compounds: int,
        facilities: int,
        seed: int,
        remove: bool,
        no_streets: bool = False,
        verbosity: int = 1,
        **options,
    ) -> None:
        started = clock.perf_counter()
        # Bulk writes send no signals and deletes one per row: bump once, after the commit.
        with transaction.atomic(), caching.bump_once():
            transaction.on_commit(caching.bump)
            removed = remove_city()
            if remove:
                if verbosity >= 1:
                    self.stdout.write(self._removed(removed))
                return
            if compounds < 1 or facilities < 0:
                raise CommandError("Give at least one compound and no negative facility count.")
            made = generate_city(compounds, facilities, seed, with_streets=not no_streets)
        # Fresh statistics for the planner at once: a table grown from hundreds of rows to
        # fifty thousand is otherwise planned as small until autovacuum comes round (the home
        # page's category counts sorted 45,000 rows it thought were 300). Only the tables just
        # written: ANALYZE records a table's size outside the transaction, and an empty one
        # recorded as empty is then checked row by row with sequential scans by the next bulk
        # load's foreign keys.
        written = [District, Subdistrict, Community, ResidentialCompound, Facility, OpeningHours]
        if not no_streets:
            written += [CompoundGate, StreetNetwork, StreetNode, StreetEdge]
        with connection.cursor() as cursor:
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in written)
            cursor.execute(f"ANALYZE {tables}")
        if verbosity >= 1:
            if removed:
                self.stdout.write(self._removed(removed))
            seconds = clock.perf_counter() - started
            self.stdout.write(self.style.SUCCESS(f"{made} in {seconds:.1f} s."))

    def _removed(self, counts: dict[str, int]) -> str:
        if not counts:
            return "No generated city to remove."
        parts = ", ".join(f"{n} {what}" for what, n in counts.items())
        return f"Removed the generated city: {parts}."


def remove_city() -> dict[str, int]:
    """Delete the generated district and everything under it; returns what was deleted."""
    district = District.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        return {}
    facilities = Facility.objects.filter(community__subdistrict__district=district)
    communities = Community.objects.filter(subdistrict__district=district)
    counts = {"facilities": facilities.count()}
    # Children first, each in one statement, so that the facility delete has nothing to cascade.
    for model in (OpeningHours, HoursException, Facility.other_categories.through):
        model.objects.filter(facility__in=facilities).delete()
    facilities.delete()
    counts["street networks"] = int(loader.delete_network(district))
    # The gates in one statement: the ORM would fetch each one to send it a signal (caching's,
    # which the command holds back and sends once anyway).
    compounds, params = (
        ResidentialCompound.objects.filter(community__in=communities)
        .values("pk")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{CompoundGate._meta.db_table}" WHERE compound_id IN ({compounds})',
            params,
        )
        counts["gates"] = cursor.rowcount
    counts["residential compounds"], _ = ResidentialCompound.objects.filter(
        community__in=communities
    ).delete()
    counts["communities"], _ = communities.delete()
    counts["subdistricts"], _ = Subdistrict.objects.filter(district=district).delete()
    district.delete()
    return counts


def generate_city(n_compounds: int, n_facilities: int, seed: int, with_streets: bool = True) -> str:
    """Write a new generated city, with its street network and gates unless ``with_streets``
    is false; returns a sentence saying what was made."""
    rng = random.Random(seed)
    district = District.objects.create(code=DISTRICT_CODE, **CITY)
    label = f"{district.city}{district.name}"
    sizes = _community_sizes(rng, n_compounds)
    # About a dozen communities a subdistrict, as in real districts, within the code's digits.
    n_subdistricts = min(MAX_SUBDISTRICTS, max(1, round(len(sizes) / COMMUNITIES_PER_SUBDISTRICT)))
    share, extra = divmod(len(sizes), n_subdistricts)
    groups = [share + (i < extra) for i in range(n_subdistricts)]
    side_m = 1000 * min(max(math.sqrt(len(sizes)) * KM_PER_COMMUNITY, SIDE_KM[0]), SIDE_KM[1])

    subdistricts = Subdistrict.objects.bulk_create(
        Subdistrict(district=district, code=f"{DISTRICT_CODE}{i + 1:03d}", name=name + "街道")
        for i, name in enumerate(_names(rng, len(groups)))
    )
    communities, streets = _communities(rng, label, subdistricts, groups, side_m)
    compounds = [_compounds(rng, c, size) for c, size in zip(communities, sizes, strict=True)]
    for community, own in zip(communities, compounds, strict=True):
        community.population = sum(c.population for c in own)
        community.households = sum(c.households for c in own)
    Community.objects.bulk_create(communities, batch_size=BATCH)
    ResidentialCompound.objects.bulk_create((c for own in compounds for c in own), batch_size=BATCH)

    categories = dict(Category.objects.filter(code__in=KINDS).values_list("code", "pk"))
    missing = set(KINDS) - set(categories)
    if missing:
        raise CommandError(f"Categories missing (run migrate): {', '.join(sorted(missing))}")
    codes = list(KINDS)
    # Every category at least once, then by its share.
    drawn = codes[:n_facilities] + rng.choices(
        codes, [KINDS[c][2] for c in codes], k=max(0, n_facilities - len(codes))
    )
    facilities = _facilities(rng, label, communities, streets, compounds, drawn, categories)
    Facility.objects.bulk_create(facilities, batch_size=BATCH)
    hours = _weekly_hours(facilities, drawn)
    OpeningHours.objects.bulk_create(hours, batch_size=BATCH)
    walkable = "no street network"
    if with_streets:
        laid = loader.load_generated(district, seed=f"city:{seed}", piece_m=generated.PIECE_M)
        network = laid.network
        walkable = (
            f"a street network of {network.node_count:,} nodes and {network.edge_count:,} "
            f"edges ({network.length_km:,.0f} km), {laid.gates:,} compound gates"
        )

    population = sum(c.population for c in communities)
    return (
        f"Generated {label} ({DISTRICT_CODE}): {len(subdistricts)} subdistricts, "
        f"{len(communities)} communities, {n_compounds} residential compounds "
        f"(population {population}), {len(facilities)} facilities in {len(set(drawn))} "
        f"categories, {len(hours)} opening hours, {walkable}, over "
        f"{side_m / 1000:.0f} × {side_m / 1000:.0f} km (seed {seed})"
    )


def _community_sizes(rng: random.Random, n_compounds: int) -> list[int]:
    """How many compounds each community has; they add up to ``n_compounds``."""
    sizes, total = [], 0
    while total < n_compounds:
        sizes.append(rng.randint(*COMPOUNDS_PER_COMMUNITY))
        total += sizes[-1]
    sizes[-1] -= total - n_compounds
    return sizes


def _communities(
    rng: random.Random,
    label: str,
    subdistricts: list[Subdistrict],
    groups: list[int],
    side_m: float,
) -> tuple[list[Community], list[str]]:
    """``groups[i]`` communities in subdistrict i, each subdistrict a cell of a grid over a
    square of ``side_m`` around ``CENTRE``; and the street each community's addresses are on."""
    columns = math.ceil(math.sqrt(len(groups)))
    rows = math.ceil(len(groups) / columns)
    cell_height, cell_width = side_m / rows, side_m / columns
    south_west = geo.offset(CENTRE, -side_m / 2, -side_m / 2)
    communities, streets = [], []
    for s, (subdistrict, count) in enumerate(zip(subdistricts, groups, strict=True)):
        row, column = divmod(s, columns)
        for name in _names(rng, count):
            north = (row + rng.random()) * cell_height
            east = (column + rng.random()) * cell_width
            lat, lng = geo.offset(south_west, north, east)
            street = name[0] + rng.choice(STREET_SUFFIXES)
            communities.append(
                Community(
                    subdistrict=subdistrict,
                    name=name + "社区",
                    slug=f"{SLUG_PREFIX}c{len(communities) + 1:05d}",
                    office_address=f"{label}{street}{rng.randint(1, 999)}号",
                    is_demo=True,
                    demo_note=DEMO_NOTE,
                    latitude=round(lat, 6),
                    longitude=round(lng, 6),
                )
            )
            streets.append(street)
    return communities, streets


def _compounds(rng: random.Random, community: Community, size: int) -> list[ResidentialCompound]:
    stem = community.name.removesuffix("社区")
    suffixes = rng.sample(COMPOUND_SUFFIXES, min(size, len(COMPOUND_SUFFIXES)))
    compounds = []
    for k in range(size):
        suffix = suffixes[k] if k < len(suffixes) else f"{k + 1}区"
        lat, lng = _around(rng, community.point, COMPOUND_DISTANCE_M)
        population = rng.randint(*COMPOUND_POPULATION)
        compounds.append(
            ResidentialCompound(
                community=community,
                name=stem + suffix,
                population=population,
                households=round(population / rng.uniform(*PEOPLE_PER_HOUSEHOLD)),
                is_demo=True,
                latitude=lat,
                longitude=lng,
            )
        )
    return compounds


def _facilities(
    rng: random.Random,
    label: str,
    communities: list[Community],
    streets: list[str],
    compounds: list[list[ResidentialCompound]],
    drawn: list[str],
    categories: dict[str, int],
) -> list[Facility]:
    """A facility of each category in ``drawn``, each in a random community near one of its
    compounds or its office."""
    today = timezone.localdate()
    names_taken: set[tuple[int, str]] = set()
    facilities = []
    for index, code in enumerate(drawn, start=1):
        c = rng.randrange(len(communities))
        community = communities[c]
        anchor = community.point if rng.random() < 0.2 else rng.choice(compounds[c]).point
        lat, lng = _around(rng, anchor, demo_data.DISTANCE_M)
        base = community.name.removesuffix("社区") + KINDS[code][0]
        name, n = base, 1
        while (c, name) in names_taken:
            n += 1
            name = f"{base}（{n}）"
        names_taken.add((c, name))
        draw = rng.random()
        status = next((s for odds, s in STATUS_ODDS if draw < odds), Facility.Status.OPEN)
        opened = date(2010, 1, 1) + timedelta(rng.randrange(5479))  # to the end of 2024
        built = status not in (Facility.Status.PLANNED, Facility.Status.UNDER_CONSTRUCTION)
        facilities.append(
            Facility(
                community=community,
                category_id=categories[code],
                name=name,
                slug=f"{SLUG_PREFIX}f{index:06d}",
                address=f"{label}{streets[c]}{rng.randint(1, 999)}号",
                status=status,
                opened_on=opened if built else None,
                planned_opening=None if built else first_of_month(today, rng.randint(1, 18)),
                step_free_entrance=rng.random() < 0.6,
                seating=rng.random() < 0.5,
                holiday_rule=demo_data.CATALOGUE[code].holiday_rules[0],
                is_demo=True,
                latitude=lat,
                longitude=lng,
            )
        )
    return facilities


def _weekly_hours(facilities: list[Facility], drawn: list[str]) -> list[OpeningHours]:
    """The category's weekly hours for every facility that has been built."""
    profiles = {
        code: [(d, hhmm(o), hhmm(c)) for days, o, c in demo_data.HOURS[profile] for d in days]
        for code, (_, profile, _) in KINDS.items()
    }
    return [
        OpeningHours(facility_id=facility.pk, weekday=d, opens=o, closes=c)
        for facility, code in zip(facilities, drawn, strict=True)
        if facility.status in (Facility.Status.OPEN, Facility.Status.TEMPORARILY_CLOSED)
        for d, o, c in profiles[code]
    ]


def _around(rng: random.Random, point: geo.Point, metres: tuple[int, int]) -> geo.Point:
    """A point a random distance within ``metres`` from ``point``, in a random direction."""
    distance, bearing = rng.uniform(*metres), rng.uniform(0, 2 * math.pi)
    lat, lng = geo.offset(point, distance * math.cos(bearing), distance * math.sin(bearing))
    return round(lat, 6), round(lng, 6)


def _names(rng: random.Random, count: int) -> list[str]:
    """``count`` different two-character names (numbered once the pairs run out)."""
    pairs = len(NAME_CHARS) ** 2
    picks = rng.sample(range(pairs), min(count, pairs))
    names = [NAME_CHARS[p // len(NAME_CHARS)] + NAME_CHARS[p % len(NAME_CHARS)] for p in picks]
    names += [f"{names[i % pairs]}{i // pairs + 1}" for i in range(pairs, count)]
    return names
