"""Straight-line distances and walking times between WGS-84 points.

Every straight line the portal shows or compares is computed here and nowhere else (walks along
streets add up such lines: streets.network). Over the few kilometres of a living circle the
equirectangular approximation differs from the great-circle distance by far less than a metre.
"""

import itertools
import math
from collections.abc import Sequence

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180  # ≈ 111,195 m along a meridian

# An older resident's walking pace: 1 m/s (60 m a minute), the pace the 15-minute-circle
# guidance assumes for seniors (a younger adult walks about 80 m a minute).
SENIOR_METRES_PER_MINUTE = 60

Point = tuple[float, float]  # (latitude, longitude)


def distance_m(a: Point, b: Point) -> float:
    """Straight-line metres between two nearby points."""
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dy = (b[0] - a[0]) * METRES_PER_DEGREE
    dx = (b[1] - a[1]) * METRES_PER_DEGREE * math.cos(mean_lat)
    return math.hypot(dx, dy)


def distances_m(lat, lng, to_lat, to_lng):
    """``distance_m`` over numpy arrays: from many points to one, or pairwise."""
    import numpy as np

    mean_lat = np.radians((lat + to_lat) / 2)
    dy = (to_lat - lat) * METRES_PER_DEGREE
    dx = (to_lng - lng) * METRES_PER_DEGREE * np.cos(mean_lat)
    return np.hypot(dx, dy)


def walking_minutes(metres: float) -> int:
    """Whole minutes at a senior's pace, rounded up, at least one."""
    return max(1, math.ceil(metres / SENIOR_METRES_PER_MINUTE))


def offset(point: Point, north_m: float, east_m: float) -> Point:
    """The point ``north_m`` metres north and ``east_m`` metres east of ``point``."""
    lat, lng = point
    dlat = north_m / METRES_PER_DEGREE
    dlng = east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return lat + dlat, lng + dlng


def bounding_box(point: Point, metres: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of the square that holds every point within ``metres``."""
    lat, lng = point
    dlat = metres / METRES_PER_DEGREE
    # The circle is widest in longitude at the latitude farthest from the equator.
    widest = min(89.9, abs(lat) + dlat)
    dlng = metres / (METRES_PER_DEGREE * math.cos(math.radians(widest)))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def crosses(a: Point, b: Point, line: Sequence[Point]) -> bool:
    """Whether the straight line from ``a`` to ``b`` crosses the polyline ``line`` (a railway, a
    river). In degrees as they are: over a few kilometres the map is a linear image of the
    ground, and whether two segments cross survives any linear map."""

    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    for c, d in itertools.pairwise(line):
        if side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0:
            return True
    return False
