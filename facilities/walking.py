"""The finder's walks: facilities near a compound (or a point) ranked by the walk along the
district's streets, from the compound's gates, where the district has a street network.

The straight-line search (``FacilityQuerySet.near``) still picks the candidates: a walk is never
shorter than the straight line, so every facility the walk reaches within the distance is among
them. They are then walked to in one go (streets.network), kept when the walk is within the
distance, and ranked by it. A facility more than 200 m from every street keeps its straight
line, as does an origin that far from one (then nothing here is used).
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone

from facilities.models import Facility
from portal.lib import geo
from streets import network
from streets.models import StreetNetwork


@dataclass(frozen=True)
class Walked:
    """The network a search walks along, and what the page says of it."""

    streets: network.Streets
    source: str
    as_of: date
    is_demo: bool


def for_district(district_id: int) -> Walked | None:
    """The district's network, if it has one (one query, and two the first time a process
    reads it)."""
    row = (
        StreetNetwork.objects.filter(district_id=district_id)
        .values_list("id", "source_sha256", "imported_at", "source_name", "source_date", "is_demo")
        .first()
    )
    if row is None:
        return None
    pk, sha, imported, name, as_of, demo = row
    streets = network.read(district_id, pk, sha, imported)
    return Walked(streets, name, timezone.localdate(as_of or imported), demo)


def for_point(point: geo.Point) -> Walked | None:
    """The network whose extent holds ``point`` (a resident's own location)."""
    lat, lng = point
    district = (
        StreetNetwork.objects.filter(south__lte=lat, north__gte=lat, west__lte=lng, east__gte=lng)
        .order_by("district__code")
        .values_list("district_id", flat=True)
        .first()
    )
    return for_district(district) if district is not None else None


def rank(
    walked: Walked, starts: list[geo.Point], facilities: QuerySet, within: int | None
) -> tuple[list[tuple[int, float]], Walked] | None:
    """(facility id, walking metres) of the ``facilities`` (a ``near`` queryset) within
    ``within`` metres on foot (or, without it, each within its category's walk), nearest first;
    None when the origin is off the streets."""
    streets = walked.streets
    origin = streets.place(np.array([p[0] for p in starts]), np.array([p[1] for p in starts]))
    if not origin.on_streets.any():
        return None
    rows = list(
        facilities.order_by().values_list(
            "id", "latitude", "longitude", "distance", "category__distance_m"
        )
    )
    if not rows:
        return [], walked
    ids, lat, lng, line, own = (np.array(c) for c in zip(*rows, strict=True))
    limits = np.full(len(ids), float(within)) if within else own.astype(float)
    ends = streets.place(lat.astype(float), lng.astype(float))
    metres = streets.walk(origin, ends, float(limits.max()))
    # A facility off the streets keeps its straight line.
    metres = np.where(ends.on_streets, metres, line.astype(float))
    keep = np.flatnonzero(metres <= limits)
    order = keep[np.lexsort((ids[keep], metres[keep]))]
    return [(int(ids[i]), float(metres[i])) for i in order], walked


def rows(page: list[tuple[int, float]]) -> list[Facility]:
    """The facilities of one page of ``rank``'s result, in its order, each with ``distance``."""
    found = Facility.objects.select_related("category", "community").in_bulk(
        [fid for fid, _ in page]
    )
    result = []
    for fid, metres in page:
        facility = found[fid]
        facility.distance = metres
        result.append(facility)
    return result


# A facility's map draws at most this many street segments, main roads first.
MAP_STREETS = 1500


def segments(walked: Walked, point: geo.Point, metres: float) -> list:
    """The street segments around ``point`` for a facility's map: (end, end, main road)."""
    south, north, west, east = geo.bounding_box(point, metres)
    streets = walked.streets
    edges, major = streets.segments_in(south, west, north, east, MAP_STREETS)
    lat, lng = streets.lat, streets.lng
    a, b = streets.source[edges], streets.target[edges]
    return [
        ((lat[i], lng[i]), (lat[j], lng[j]), big)
        for i, j, big in zip(a.tolist(), b.tolist(), major.tolist(), strict=True)
    ]


def from_facility(walked: Walked, facility, compounds, neighbours, limit_m: float) -> list:
    """The walk from ``facility`` to each of ``compounds`` (to the nearest of its gates, or its
    point) and then each of ``neighbours``, in that order; None where the facility, the place or
    the walk is off the streets or beyond ``limit_m``. One search, one query (the gates)."""
    from communities.models import CompoundGate

    streets = walked.streets
    start = streets.place(np.array([facility.latitude]), np.array([facility.longitude]))
    none = [None] * (len(compounds) + len(neighbours))
    if not start.on_streets.any():
        return none
    gates: dict[int, list] = {}
    for compound_id, lat, lng in CompoundGate.objects.filter(
        compound__in=[c.pk for c in compounds]
    ).values_list("compound_id", "latitude", "longitude"):
        gates.setdefault(compound_id, []).append((lat, lng))
    owners, points = [], []
    for i, c in enumerate(compounds):
        for point in gates.get(c.pk, [c.point]):
            owners.append(i)
            points.append(point)
    for j, f in enumerate(neighbours):
        owners.append(len(compounds) + j)
        points.append(f.point)
    if not points:
        return none
    ends = streets.place(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    metres = streets.walk(start, ends, limit_m)
    best = [np.inf] * len(none)
    for owner, m in zip(owners, metres.tolist(), strict=True):
        best[owner] = min(best[owner], m)
    return [m if np.isfinite(m) else None for m in best]
