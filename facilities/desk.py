"""The staff desk: what in my community needs attention, each item linked to the form that
fixes it. Read through communities.access like every scoped query."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.db.models import Exists, OuterRef

from communities import access
from communities.models import CompoundGate, ResidentialCompound
from facilities.models import Facility, FacilityPhoto, Meal, OpeningHours
from portal import audit
from streets import network

MENU_DAYS_AHEAD = 3  # a canteen should have published the next three days
RECENT_SHOWN = 6


@dataclass
class Desk:
    no_hours: list[Facility] = field(default_factory=list)
    no_photo: list[Facility] = field(default_factory=list)
    no_phone: list[Facility] = field(default_factory=list)
    no_menu: list[Facility] = field(default_factory=list)
    overdue: list[Facility] = field(default_factory=list)  # planned, opening date passed
    recent: list[audit.Entry] = field(default_factory=list)  # from the audit trail
    # More than network.SNAP_M from every street of the district's network: check the point.
    far_facilities: list[Facility] = field(default_factory=list)
    far_compounds: list[ResidentialCompound] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.no_hours
            or self.no_photo
            or self.no_phone
            or self.no_menu
            or self.overdue
            or self.far_facilities
            or self.far_compounds
        )


def for_user(user, today: date) -> Desk | None:
    """The desk of someone who keeps communities; None for anyone else (nothing to keep)."""
    scope = access.scope_for(user)
    if not scope.community_ids:
        return None
    menu_days = Meal.objects.filter(
        facility=OuterRef("pk"),
        date__gt=today,
        date__lte=today + timedelta(days=MENU_DAYS_AHEAD),
    )
    facilities = list(
        access.editable(Facility.objects.visible(), user)
        .select_related("category")
        .annotate(
            has_hours=Exists(OpeningHours.objects.filter(facility=OuterRef("pk"))),
            has_photo=Exists(FacilityPhoto.objects.filter(facility=OuterRef("pk"))),
            has_menu=Exists(menu_days),
        )
        .order_by("name")
    )
    built = [f for f in facilities if f.is_built]
    far_facilities, far_compounds = _off_streets(user, facilities)
    return Desk(
        no_hours=[f for f in built if not f.has_hours],
        no_photo=[f for f in built if not f.has_photo],
        no_phone=[f for f in built if not f.phone],
        no_menu=[
            f
            for f in built
            if f.category.code == "canteen" and f.status == Facility.Status.OPEN and not f.has_menu
        ],
        overdue=[
            f
            for f in facilities
            if not f.is_built and f.planned_opening and f.planned_opening < today
        ],
        recent=audit.in_scope(user, RECENT_SHOWN),
        far_facilities=far_facilities,
        far_compounds=far_compounds,
    )


def _off_streets(user, facilities: list[Facility]):
    """The user's facilities, and compounds whose every gate (or whose point, without gates), lie
    farther than network.SNAP_M from the streets of their district's network: their walks fall
    back to straight lines until the point is corrected."""
    compounds = list(
        access.editable(ResidentialCompound.objects.all(), user)
        .select_related("community__subdistrict")
        .order_by("name")
    )
    districts = {c.community.subdistrict.district_id for c in compounds}
    streets = network.load_streets(districts) if districts else {}
    if not streets:
        return [], []
    gates: dict[int, list] = {}
    for compound_id, lat, lng in CompoundGate.objects.filter(compound__in=compounds).values_list(
        "compound_id", "latitude", "longitude"
    ):
        gates.setdefault(compound_id, []).append((lat, lng))
    far_compounds = []
    for district, streets_of in streets.items():
        mine = [c for c in compounds if c.community.subdistrict.district_id == district]
        starts = [(c, p) for c in mine for p in gates.get(c.pk, [c.point])]
        if not starts:
            continue
        placed = streets_of.place(
            np.array([p[0] for _c, p in starts]), np.array([p[1] for _c, p in starts])
        )
        on = {c.pk for (c, _p), ok in zip(starts, placed.on_streets.tolist(), strict=True) if ok}
        far_compounds += [c for c in mine if c.pk not in on]
    # A facility is checked against the network of its community's district, where it has one.
    by_community = {c.community_id: c.community.subdistrict.district_id for c in compounds}
    far_facilities = []
    for district, streets_of in streets.items():
        mine = [f for f in facilities if by_community.get(f.community_id) == district]
        if mine:
            placed = streets_of.place(
                np.array([f.latitude for f in mine]), np.array([f.longitude for f in mine])
            )
            far_facilities += [
                f for f, ok in zip(mine, placed.on_streets.tolist(), strict=True) if not ok
            ]
    return sorted(far_facilities, key=lambda f: f.name), sorted(far_compounds, key=lambda c: c.name)
