"""``manage.py load_demo``: the two seed districts with real subdistricts, the seed and invented
communities with their compounds, their facilities (``facilities.demo``), a generated street
network for each district with its compounds' gates (``streets.generated``, labelled as demo
data), and one demo account per role.

Idempotent: every row is found by its natural key (district and subdistrict code, community by
subdistrict and name, compound by community and name, user by username) and brought to the values
in ``communities.demo_data``; numbers and points come from ``random.Random`` with a fixed seed, so
a second run changes nothing (a street network with the same checksum is kept, gates are found by
compound and name). Everything happens in one transaction.
"""

import math
import random
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count, Sum

from communities import demo_data
from communities.demo_data import DEMO_PASSWORD, DemoCommunity, DemoDistrict
from communities.models import Community, District, Membership, ResidentialCompound, Subdistrict
from communities.roles import make_staff
from courses.demo import load_demo_courses, load_demo_residents
from facilities.demo import load_demo_facilities
from facilities.models import Facility, HoursException, Meal, OpeningHours
from portal import audit, caching
from portal.lib.geo import distance_m, offset
from streets import demo_data as street_data
from streets.loader import GeneratedNetwork, load_generated
from wishes.demo import load_demo_wishes

# A compound lies this far (straight line) from its community's office.
COMPOUND_DISTANCE_M = (300, 900)
MIN_COMPOUND_SEPARATION_M = 200
MIN_OFFICE_SEPARATION_M = 1200
# Offices keep this far from the edge of the district's box, so that compounds stay inside it.
OFFICE_MARGIN_M = 1000
COMPOUND_POPULATION = (300, 4000)
PEOPLE_PER_HOUSEHOLD = (2.4, 2.8)
COMPOUND_FIELDS = ("latitude", "longitude", "population", "households", "is_demo")


# ---- the plan: pure, deterministic numbers and points ----


@dataclass(frozen=True)
class CompoundPlan:
    name: str
    latitude: float
    longitude: float
    population: int
    households: int
    is_demo: bool


@dataclass(frozen=True)
class CommunityPlan:
    spec: DemoCommunity
    latitude: float
    longitude: float
    phone: str
    compounds: tuple[CompoundPlan, ...]


def _spread(rng: random.Random, district: DemoDistrict, count: int) -> list[tuple[float, float]]:
    """``count`` office points inside the district's box, kept apart where the box allows."""
    (lat_lo, lat_hi), (lng_lo, lng_hi) = district.lat_range, district.lng_range
    # Shrink the box by the margin; at its northern edge a metre is the most longitude.
    lat_lo, _ = offset((lat_lo, lng_lo), OFFICE_MARGIN_M, 0)
    lat_hi, _ = offset((lat_hi, lng_lo), -OFFICE_MARGIN_M, 0)
    widest = offset((district.lat_range[1], 0.0), 0, OFFICE_MARGIN_M)[1]
    lng_lo, lng_hi = lng_lo + widest, lng_hi - widest

    def draw() -> tuple[float, float]:
        return (rng.uniform(lat_lo, lat_hi), rng.uniform(lng_lo, lng_hi))

    return _scatter(draw, count, MIN_OFFICE_SEPARATION_M, attempts=500)


def _compound_points(
    rng: random.Random, office: tuple[float, float], count: int
) -> list[tuple[float, float]]:
    def draw() -> tuple[float, float]:
        distance = rng.uniform(*COMPOUND_DISTANCE_M)
        bearing = rng.uniform(0, 2 * math.pi)
        return offset(office, distance * math.cos(bearing), distance * math.sin(bearing))

    return _scatter(draw, count, MIN_COMPOUND_SEPARATION_M, attempts=200)


def _scatter(draw, count: int, min_gap_m: float, attempts: int) -> list[tuple[float, float]]:
    """``count`` points from ``draw()``: each the first draw at least ``min_gap_m`` from the
    points before it, or, where none is, the farthest of ``attempts`` draws."""
    points: list[tuple[float, float]] = []
    for _ in range(count):
        best, best_gap = None, -1.0
        for _attempt in range(attempts):
            candidate = draw()
            gap = min((distance_m(candidate, p) for p in points), default=math.inf)
            if gap > best_gap:
                best, best_gap = candidate, gap
            if gap >= min_gap_m:
                break
        points.append(best)
    return points


def build_plan(seed: int = demo_data.SEED) -> list[CommunityPlan]:
    """Every demo community with its office point, phone and compounds: the same on every call.

    Each district draws from its own ``random.Random``, and each community's compounds from one of
    their own, so editing one community's data moves nothing elsewhere.
    """
    plans = []
    for district in demo_data.DISTRICTS:
        specs = [c for c in demo_data.COMMUNITIES if c.district_code == district.code]
        offices = _spread(random.Random(f"{seed}:{district.code}"), district, len(specs))
        for spec, office in zip(specs, offices, strict=True):
            rng = random.Random(f"{seed}:{district.code}:{spec.name}")
            phone = f"{district.phone_prefix}{rng.randint(0, 9_999_999):07d}"
            compounds = []
            for name, (lat, lng) in zip(
                spec.compounds, _compound_points(rng, office, len(spec.compounds)), strict=True
            ):
                population = rng.randint(*COMPOUND_POPULATION)
                households = round(population / rng.uniform(*PEOPLE_PER_HOUSEHOLD))
                compounds.append(
                    CompoundPlan(
                        name=name,
                        latitude=round(lat, 6),
                        longitude=round(lng, 6),
                        population=population,
                        households=households,
                        is_demo=name not in spec.real_compounds,
                    )
                )
            plans.append(
                CommunityPlan(
                    spec=spec,
                    latitude=round(office[0], 6),
                    longitude=round(office[1], 6),
                    phone=phone,
                    compounds=tuple(compounds),
                )
            )
    return plans


# ---- the command ----


@dataclass(frozen=True)
class Credential:
    username: str
    role: str
    area: str


class Command(BaseCommand):
    help = (
        "Load the demo data: 长春市绿园区 and 洛阳市洛龙区 with their real subdistricts, the seed "
        "communities of the news and invented ones with compounds and facilities, and demo "
        "accounts. Safe to run again: it updates the same rows."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-accounts",
            action="store_true",
            help="Load places and facilities only; create or change no user accounts.",
        )
        parser.add_argument(
            "--no-streets",
            action="store_true",
            help="Generate no street networks or gates: distances stay straight lines.",
        )

    @audit.command_context("load_demo")
    def handle(
        self,
        *args,
        no_accounts: bool = False,
        no_streets: bool = False,
        verbosity: int = 1,
        **options,
    ) -> None:
        with transaction.atomic():
            districts = self._load_districts()
            subdistricts = self._load_subdistricts(districts)
            communities = self._load_communities(subdistricts)
            streets = {} if no_streets else self._load_streets(districts)
            load_demo_facilities(communities)
            load_demo_courses(communities)
            credentials = [] if no_accounts else self._load_accounts(districts, communities)
        caching.bump()  # bulk writes send no signals
        if verbosity >= 1:
            self._summarise(districts, credentials, streets)

    # -- places --

    def _load_districts(self) -> dict[str, District]:
        districts = {}
        for d in demo_data.DISTRICTS:
            districts[d.code], _ = District.objects.update_or_create(
                code=d.code,
                defaults={
                    "name": d.name,
                    "city": d.city,
                    "city_code": d.city_code,
                    "province": d.province,
                    "province_code": d.province_code,
                },
            )
        return districts

    def _load_subdistricts(self, districts: dict[str, District]) -> dict[str, Subdistrict]:
        subdistricts = {}
        for code, name in demo_data.SUBDISTRICTS:
            subdistricts[code], _ = Subdistrict.objects.update_or_create(
                code=code, defaults={"name": name, "district": districts[code[:6]]}
            )
        return subdistricts

    def _load_communities(self, subdistricts: dict[str, Subdistrict]) -> dict[str, Community]:
        communities = {}
        for plan in build_plan():
            spec = plan.spec
            community, _ = Community.objects.update_or_create(
                subdistrict=subdistricts[spec.subdistrict_code],
                name=spec.name,
                defaults={
                    "feature": spec.feature,
                    "description": spec.description,
                    "office_address": spec.office_address,
                    "phone": plan.phone,
                    "is_demo": spec.is_demo,
                    "demo_note": spec.demo_note,
                    "latitude": plan.latitude,
                    "longitude": plan.longitude,
                },
            )
            self._load_compounds(community, plan.compounds)
            # The community's totals are those of all its compounds, including any added by staff.
            totals = community.compounds.aggregate(p=Sum("population"), h=Sum("households"))
            community.population, community.households = totals["p"] or 0, totals["h"] or 0
            community.save(update_fields=["population", "households"])
            communities[spec.name] = community
        return communities

    def _load_compounds(self, community: Community, plans: tuple[CompoundPlan, ...]) -> None:
        """Like update_or_create by (community, name) for each compound, in three queries."""
        existing = {c.name: c for c in community.compounds.all()}
        to_create, to_update = [], []
        for plan in plans:
            values = {f: getattr(plan, f) for f in COMPOUND_FIELDS}
            compound = existing.get(plan.name)
            if compound is None:
                to_create.append(ResidentialCompound(community=community, name=plan.name, **values))
            elif any(getattr(compound, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(compound, f, v)
                to_update.append(compound)
        ResidentialCompound.objects.bulk_create(to_create)
        ResidentialCompound.objects.bulk_update(to_update, COMPOUND_FIELDS)

    def _load_streets(self, districts: dict[str, District]) -> dict[str, GeneratedNetwork]:
        """A generated network for each district (no extract of them is at hand) and the gates
        of its compounds; the seed and the barriers are the district's own."""
        return {
            code: load_generated(
                district,
                seed=f"{street_data.SEED}:{code}",
                barriers=street_data.BARRIERS.get(code, ()),
            )
            for code, district in districts.items()
        }

    # -- accounts --

    def _user(self, username: str, full_name: str, *, superuser: bool = False):
        """The account ``username`` with the demo password and no role yet."""
        user, _ = get_user_model().objects.update_or_create(
            username=username,
            defaults={
                "first_name": full_name,
                "is_active": True,
                "is_staff": superuser,
                "is_superuser": superuser,
                # Set on every run, so the documented password always works.
                "password": self._password_hash,
            },
        )
        user.groups.clear()
        return user

    def _only(self, user, membership: Membership) -> None:
        user.memberships.exclude(pk=membership.pk).delete()

    def _load_accounts(
        self, districts: dict[str, District], communities: dict[str, Community]
    ) -> list[Credential]:
        # One hash for all accounts: hashing is deliberately slow (most of this command's time).
        self._password_hash = make_password(DEMO_PASSWORD)
        credentials = []
        for spec in demo_data.SEED_COMMUNITIES:
            community = communities[spec.name]
            username = f"{demo_data.STAFF_USERNAME_PREFIX}{community.slug}"
            user = self._user(username, f"{community.name}工作人员（演示）")
            self._only(user, make_staff(user, community))
            area = f"{community.subdistrict.name} {community.name}"
            credentials.append(Credential(username, str(Membership.Role.STAFF.label), area))

        for d in demo_data.DISTRICTS:
            user = self._user(d.official_username, f"{d.name}官员（演示）")
            membership, _ = Membership.objects.get_or_create(
                user=user, role=Membership.Role.OFFICIAL, district=districts[d.code]
            )
            self._only(user, membership)
            credentials.append(
                Credential(d.official_username, str(Membership.Role.OFFICIAL.label), d.label)
            )

        user = self._user(demo_data.CITY_ADMIN_USERNAME, "市级管理员（演示）", superuser=True)
        membership, _ = Membership.objects.get_or_create(user=user, role=Membership.Role.CITY_ADMIN)
        self._only(user, membership)
        credentials.append(
            Credential(demo_data.CITY_ADMIN_USERNAME, str(Membership.Role.CITY_ADMIN.label), "全部")
        )
        for phone, name in load_demo_residents(communities, self._password_hash):
            credentials.append(Credential(phone, "居民", name))
        load_demo_wishes(communities)
        return credentials

    # -- output --

    def _summarise_facilities(self, communities) -> None:
        facilities = Facility.objects.filter(community__in=communities)
        per_status = dict(
            facilities.values("status").annotate(n=Count("id")).values_list("status", "n")
        )
        counts = ", ".join(
            f"{per_status[status]} {label}"
            for status, label in Facility.Status.choices
            if status in per_status
        )
        n_hours = OpeningHours.objects.filter(facility__in=facilities).count()
        n_exceptions = HoursException.objects.filter(facility__in=facilities).count()
        n_meals = Meal.objects.filter(facility__in=facilities).count()
        self.stdout.write(
            f"  Facilities: {sum(per_status.values())} ({counts}); {n_hours} opening hours, "
            f"{n_exceptions} exceptions to them, {n_meals} canteen meals."
        )

    def _summarise_streets(
        self, districts: dict[str, District], streets: dict[str, GeneratedNetwork]
    ) -> None:
        for code, laid in streets.items():
            network = laid.network
            what = "imported, kept" if laid.imported else "generated, demo data"
            if not laid.imported and not laid.stored:
                what += ", unchanged"
            self.stdout.write(
                f"  Streets of {districts[code]}: {network.node_count:,} nodes, "
                f"{network.edge_count:,} edges, {network.length_km:,.0f} km ({what}); "
                f"{laid.gates} compound gates"
            )

    def _summarise(
        self,
        districts: dict[str, District],
        credentials: list[Credential],
        streets: dict[str, GeneratedNetwork],
    ) -> None:
        out = self.stdout
        codes = list(districts)
        n_subdistricts = Subdistrict.objects.filter(district__code__in=codes).count()
        communities = Community.objects.filter(subdistrict__district__code__in=codes)
        n_compounds = ResidentialCompound.objects.filter(community__in=communities).count()
        out.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(districts)} districts, {n_subdistricts} subdistricts, "
                f"{communities.count()} communities, {n_compounds} residential compounds."
            )
        )
        per_district = (
            communities.values("subdistrict__district__code")
            .annotate(n=Count("id"), population=Sum("population"), households=Sum("households"))
            .order_by("subdistrict__district__code")
        )
        for row in per_district:
            district = districts[row["subdistrict__district__code"]]
            out.write(
                f"  {district}: {row['n']} communities, population {row['population']}, "
                f"households {row['households']}"
            )
        self._summarise_facilities(communities)
        self._summarise_streets(districts, streets)
        if not credentials:
            return
        out.write("")
        out.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        header = Credential("username", "role", "area")
        rows = [header, *credentials]
        widths = [max(_width(getattr(r, f)) for r in rows) for f in ("username", "role", "area")]
        for r in rows:
            cells = [_pad(r.username, widths[0]), _pad(r.role, widths[1]), _pad(r.area, widths[2])]
            out.write("  " + "  ".join([*cells, "password" if r is header else DEMO_PASSWORD]))
        out.write(
            self.style.WARNING(
                "WARNING: these are demo credentials with a published password. Never use them "
                "in production (run load_demo --no-accounts there, or not at all)."
            )
        )


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
