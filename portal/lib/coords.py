"""Coordinates as people have them: WGS-84, GCJ-02 and BD-09, and what went wrong with a point.

The portal stores WGS-84 (what GPS gives and ``portal.lib.geo`` measures in). Staff copy points
from the map apps everyone in China uses, and those are not WGS-84: 高德 (Amap) and 腾讯地图
(Tencent) give GCJ-02, the national obfuscated system, and 百度 (Baidu) gives BD-09, GCJ-02 with
Baidu's own twist on top. Read as WGS-84, a GCJ-02 point lands in a neighbouring compound (585 m
away in 长春 and in 洛阳) and a BD-09 point farther still (1.3–1.4 km there).

- ``System``: the three, as choices for a form or a sheet column.
- ``to_wgs84(lat, lng, system)`` and ``from_wgs84(lat, lng, system)``: one point, either way. A
  form can call ``to_wgs84`` in ``clean``; ``from_wgs84`` gives a point back as a map app shows it.
- ``likely_cause(lat, lng, system, bounds)``: for a point given for a district, ``None`` when it
  lies in the district, else what most likely went wrong (latitude and longitude swapped, another
  coordinate system, or simply outside), as a sentence in the active language, for the sheet
  importer to call per row.

The forward transforms are the well-known public formulas (GCJ-02's offset polynomial on the
Krasovsky 1940 ellipsoid; BD-09's shift and rotation); nobody publishes a closed-form inverse, so
the inverses iterate the forward transform until it lands on the given point to within 1e-9° (a
tenth of a millimetre), in three to five calls. Outside China's rough bounding rectangle GCJ-02 is
WGS-84 itself; BD-09's own step is applied everywhere (its formula has no such test, and the
portal's points are all in China anyway).

Plain functions of floats, no models: anything that reads a point may use them.
"""

import math
from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.lib import geo

Point = geo.Point  # (latitude, longitude)


class System(models.TextChoices):
    WGS84 = "wgs84", _("WGS-84 (GPS)")
    GCJ02 = "gcj02", _("GCJ-02 (Amap, Tencent Maps)")
    BD09 = "bd09", _("BD-09 (Baidu Maps)")


# GCJ-02 scales its offsets, in metres, to degrees on the Krasovsky 1940 ellipsoid.
_KRASOVSKY_A = 6_378_245.0
_KRASOVSKY_EE = 0.00669342162296594323  # first eccentricity squared, f = 1/298.3
# Baidu's shift of the origin, in degrees.
_BD_DLAT = 0.006
_BD_DLNG = 0.0065
_BD_K = math.pi * 3000 / 180

# The inverses stop when the forward transform of the estimate is this close to the given point:
# 1e-9° is about 0.1 mm, far below the 1 m the portal cares about. They get there in three to five
# calls (each round shrinks the miss about a thousandfold); the cap only guards against a loop.
_TOLERANCE_DEG = 1e-9
_MAX_ROUNDS = 20


def in_china(lat: float, lng: float) -> bool:
    """Whether GCJ-02 shifts the point: the rough rectangle around China that every public
    implementation uses (it takes in some neighbours' land, and no Chinese city lies outside)."""
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lng <= 137.8347


def _gcj02_offset_m(x: float, y: float) -> tuple[float, float]:
    """GCJ-02's (north, east) offset in metres, of x = longitude - 105, y = latitude - 35."""
    waves = 20 * math.sin(6 * x * math.pi) + 20 * math.sin(2 * x * math.pi)
    north = (
        -100
        + 2 * x
        + 3 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (waves + 20 * math.sin(y * math.pi) + 40 * math.sin(y / 3 * math.pi)) * 2 / 3
        + (160 * math.sin(y / 12 * math.pi) + 320 * math.sin(y / 30 * math.pi)) * 2 / 3
    )
    east = (
        300
        + x
        + 2 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (waves + 20 * math.sin(x * math.pi) + 40 * math.sin(x / 3 * math.pi)) * 2 / 3
        + (150 * math.sin(x / 12 * math.pi) + 300 * math.sin(x / 30 * math.pi)) * 2 / 3
    )
    return north, east


def wgs84_to_gcj02(lat: float, lng: float) -> Point:
    if not in_china(lat, lng):
        return lat, lng
    north, east = _gcj02_offset_m(lng - 105, lat - 35)
    phi = math.radians(lat)
    w = 1 - _KRASOVSKY_EE * math.sin(phi) ** 2
    # Metres in a degree of latitude (meridian radius) and of longitude (parallel radius).
    metres_lat = math.radians(_KRASOVSKY_A * (1 - _KRASOVSKY_EE) / (w * math.sqrt(w)))
    metres_lng = math.radians(_KRASOVSKY_A / math.sqrt(w) * math.cos(phi))
    return lat + north / metres_lat, lng + east / metres_lng


def gcj02_to_bd09(lat: float, lng: float) -> Point:
    r = math.hypot(lng, lat) + 0.00002 * math.sin(lat * _BD_K)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _BD_K)
    return r * math.sin(theta) + _BD_DLAT, r * math.cos(theta) + _BD_DLNG


def _inverse(forward: Callable[[float, float], Point], lat: float, lng: float) -> Point:
    """The point that ``forward`` takes to (lat, lng). Both transforms move a point by much less
    than a degree and change that move only slowly from place to place, so stepping back by the
    miss converges fast (the one-step approximation other code stops at is off by 1–2 m)."""
    guess_lat, guess_lng = lat, lng
    for _round in range(_MAX_ROUNDS):
        to_lat, to_lng = forward(guess_lat, guess_lng)
        miss_lat, miss_lng = to_lat - lat, to_lng - lng
        if abs(miss_lat) < _TOLERANCE_DEG and abs(miss_lng) < _TOLERANCE_DEG:
            break
        guess_lat, guess_lng = guess_lat - miss_lat, guess_lng - miss_lng
    return guess_lat, guess_lng


def gcj02_to_wgs84(lat: float, lng: float) -> Point:
    if not in_china(lat, lng):
        return lat, lng
    return _inverse(wgs84_to_gcj02, lat, lng)


def bd09_to_gcj02(lat: float, lng: float) -> Point:
    return _inverse(gcj02_to_bd09, lat, lng)


def from_wgs84(lat: float, lng: float, system: System | str) -> Point:
    """The WGS-84 point (lat, lng) as ``system`` writes it. Accepts anything ``float`` takes
    (a form's ``Decimal``) and returns floats."""
    point = float(lat), float(lng)
    match System(system):
        case System.WGS84:
            return point
        case System.GCJ02:
            return wgs84_to_gcj02(*point)
        case System.BD09:
            return gcj02_to_bd09(*wgs84_to_gcj02(*point))


def to_wgs84(lat: float, lng: float, system: System | str) -> Point:
    """The point given as (lat, lng) in ``system``, in WGS-84 (floats, like ``from_wgs84``)."""
    point = float(lat), float(lng)
    match System(system):
        case System.WGS84:
            return point
        case System.GCJ02:
            return gcj02_to_wgs84(*point)
        case System.BD09:
            return gcj02_to_wgs84(*bd09_to_gcj02(*point))


class Bounds(NamedTuple):
    """A district's bounding box in WGS-84 degrees. Note the order, the usual one for a box
    (south, west, north, east), not ``geo.bounding_box``'s (south, north, west, east)."""

    south: float
    west: float
    north: float
    east: float

    @classmethod
    def around(cls, points: Iterable[Point]) -> "Bounds":
        lats, lngs = zip(*points, strict=True)
        return cls(min(lats), min(lngs), max(lats), max(lngs))

    def enlarged(self, metres: float) -> "Bounds":
        south, west = geo.offset((self.south, self.west), -metres, -metres)
        north, east = geo.offset((self.north, self.east), metres, metres)
        return Bounds(south, west, north, east)

    def contains(self, point: Point) -> bool:
        lat, lng = point
        return self.south <= lat <= self.north and self.west <= lng <= self.east


# A district's box comes from its compounds and communities, and a facility or a gate may lie a
# little beyond the outermost of them: a point within this margin of the box is in the district.
# It is kept well below the shift between two systems (GCJ-02 moves a point 585 m in 长春 and 洛阳,
# 200–670 m in 95% of China's prefecture-level cities and 90 m at the least, in the far west;
# BD-09 moves it another 800–1,300 m), so that a point read in the wrong system at the district's
# edge still falls outside, where this check can see it.
MARGIN_M = 150

# What ``likely_cause`` says, each telling the person what to do next.
SWAPPED = _(
    "%(lat)s, %(lng)s is outside the district, but %(lng)s, %(lat)s is inside it: latitude and "
    "longitude look swapped. Enter the latitude first (in China it is the smaller number)."
)
OTHER_SYSTEM = _(
    "%(lat)s, %(lng)s is outside the district as %(given)s, but inside it as %(other)s: the point "
    "looks like it was taken in %(other)s. Choose %(other)s as its coordinate system."
)
OUTSIDE = _(
    "%(lat)s, %(lng)s, read as %(given)s, is outside the district, and neither swapping latitude "
    "and longitude nor another coordinate system puts it inside. Check the point on a map."
)


def _number(value: float) -> str:
    """A coordinate as people write it: up to six decimals (0.1 m), no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def likely_cause(
    lat: float,
    lng: float,
    system: System | str,
    bounds: Bounds | tuple[float, float, float, float],
    *,
    margin_m: float = MARGIN_M,
) -> str | None:
    """What most likely went wrong with a point given for a district, or ``None`` when nothing
    did. ``bounds`` is the box around the district's communities and compounds as they are, not
    widened: "in the district" means within ``margin_m`` of it, and each reading below is
    converted from its system to WGS-84 before that test.

    1. The point as given is in the district: ``None``.
    2. Else, with latitude and longitude exchanged (in the given system) it is: they are swapped.
    3. Else, read in another of the three systems it is: it was taken in that system. When both
       other systems would do, the one whose reading lies nearer the point as given.
    4. Else: it is outside the district.

    Step 3 can only see a point that the wrong system pushes out of the district, so ``margin_m``
    must stay well below the shift (see ``MARGIN_M``): with a margin of a kilometre or two every
    such point passes. A point in the wrong system well inside the district looks like a right
    one; choosing the system when the point is entered (``to_wgs84``) is what prevents those.
    """
    system = System(system)
    area = Bounds(*bounds).enlarged(margin_m)
    lat, lng = float(lat), float(lng)
    given = to_wgs84(lat, lng, system)
    if area.contains(given):
        return None
    values = {"lat": _number(lat), "lng": _number(lng), "given": system.label}
    if area.contains(to_wgs84(lng, lat, system)):
        return SWAPPED % values
    others = [
        (geo.distance_m(given, reading), other)
        for other in System
        if other != system and area.contains(reading := to_wgs84(lat, lng, other))
    ]
    if others:
        other = min(others)[1]
        return OTHER_SYSTEM % {**values, "other": other.label}
    return OUTSIDE % values
