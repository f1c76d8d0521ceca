"""Coverage engine benchmark on the generated city (20,000 compounds, 50,000 facilities).

    DATABASE_URL=… python bench/coverage.py

Generates the city with ``manage.py generate_city`` when it is absent (about 40 s, in the database
DATABASE_URL names; left in place so the next run is quick — ``generate_city --remove`` drops it),
then prints: the full-city matrix from the database (load + compute); the same figures from a
plain analyst pipeline (psycopg straight to the tables, one cKDTree per category) and the ratio,
checking both count the same covered compounds; a district-sized run; an incremental update; the
greedy top 10 among 500 candidate sites; walking along the generated streets (the full city,
a district-sized corner, the finder near one compound, and a plain one-Dijkstra-per-compound
pipeline for comparison); the officials' report area for the whole city (walked),
gathered and then kept current through report_data.refresh as a canteen is added, moved and
closed; peak memory. Not a test: it reports.
"""

import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from city import ensure_city, timed  # noqa: E402
from django.db import connection  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

from communities.models import ResidentialCompound  # noqa: E402
from portal.lib import geo  # noqa: E402
from reports import coverage  # noqa: E402
from streets import network  # noqa: E402


def engine(district_id: int) -> coverage.Matrix:
    homes, sites, circles = coverage.load([district_id])
    return coverage.compute(homes, sites, circles)


def plain_pipeline(district_id: int) -> dict[str, int]:
    """What an analyst would write: read both tables, one tree per category, count covered
    compounds. Chord threshold only (no re-check), which agrees except within millimetres."""
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        homes = np.array(
            conn.execute(
                "SELECT c.latitude, c.longitude FROM communities_residentialcompound c "
                "JOIN communities_community m ON m.id = c.community_id "
                "JOIN communities_subdistrict s ON s.id = m.subdistrict_id "
                "WHERE s.district_id = %s",
                [district_id],
            ).fetchall()
        )
        rows = conn.execute(
            "SELECT f.latitude, f.longitude, k.code FROM facilities_facility f "
            "JOIN facilities_category k ON k.id = f.category_id "
            "WHERE f.status IN ('open', 'paused') "
            "UNION ALL "
            "SELECT f.latitude, f.longitude, k.code FROM facilities_facility f "
            "JOIN facilities_facility_other_categories o ON o.facility_id = f.id "
            "JOIN facilities_category k ON k.id = o.category_id "
            "WHERE f.status IN ('open', 'paused')"
        ).fetchall()
        circles = conn.execute("SELECT code, distance_m FROM facilities_category").fetchall()
    xyz = coverage.unit_vectors(homes[:, 0], homes[:, 1])
    codes = np.array([r[2] for r in rows])
    points = np.array([r[:2] for r in rows])
    counts = {}
    for code, metres in circles:
        mine = points[codes == code]
        if not len(mine):
            counts[code] = 0
            continue
        tree = cKDTree(coverage.unit_vectors(mine[:, 0], mine[:, 1]))
        d, _ = tree.query(xyz)
        limit = 2 * np.sin(metres / geo.EARTH_RADIUS_M / 2)
        counts[code] = int((d <= limit).sum())
    return counts


def main() -> None:
    district_id = ensure_city().pk
    connection.close()  # the first query count after generating is not the point

    full_s, matrix = timed(lambda: engine(district_id), repeats=3)
    print(
        f"full city, load + compute ({len(matrix.homes.ids)} compounds, "
        f"{len(matrix.circles)} categories): {full_s:.3f} s"
    )
    homes, sites, circles = coverage.load([district_id])
    compute_s, _ = timed(lambda: coverage.compute(homes, sites, circles), repeats=3)
    print(f"  of which compute: {compute_s:.3f} s")

    plain_s, counts = timed(lambda: plain_pipeline(district_id), repeats=3)
    ours = {c.code: int(matrix.covered(c.code).sum()) for c in matrix.circles}
    assert ours == counts, {k: (ours[k], counts[k]) for k in ours if ours[k] != counts[k]}
    print(
        f"plain analyst pipeline: {plain_s:.3f} s; plain / engine = {plain_s / full_s:.2f} "
        "(above 1: the engine is the faster)"
    )

    # A district-sized run: the compounds and facilities of a 1,500-compound corner.
    rnd = np.random.default_rng(1)
    order = np.argsort(homes.lat + homes.lng)
    corner = homes.subset(order[:1500])
    south, north = corner.lat.min(), corner.lat.max()
    west, east = corner.lng.min(), corner.lng.max()
    near = np.flatnonzero(
        (sites.lat >= south - 0.02)
        & (sites.lat <= north + 0.02)
        & (sites.lng >= west - 0.02)
        & (sites.lng <= east + 0.02)
    )
    few = sites.subset(np.sort(rnd.choice(near, size=min(4000, len(near)), replace=False)))
    district_s, _ = timed(lambda: coverage.compute(corner, few, circles), repeats=5)
    size = f"1,500 compounds, {len(few.ids)} facilities"
    print(f"district-sized run ({size}): {district_s * 1000:.1f} ms")

    # Incremental: a canteen opens, moves 300 m, closes.
    live = coverage.Live(homes, sites, circles)
    spot = (float(homes.lat[100]), float(homes.lng[100]))
    steps = []
    for step in range(3):
        start = time.perf_counter()
        if step == 0:
            live.put(coverage.Site(-1, *spot, "open", frozenset({"canteen"})))
        elif step == 1:
            moved = geo.offset(spot, 300, 0)
            live.put(coverage.Site(-1, *moved, "open", frozenset({"canteen"})))
        else:
            live.close(-1)
        steps.append(time.perf_counter() - start)
    back = coverage.compute(homes, sites, circles)
    assert (live.matrix.distance["canteen"] == back.distance["canteen"]).all()
    print(
        "incremental update (add, move, close a canteen): "
        + ", ".join(f"{s * 1000:.1f} ms" for s in steps)
    )

    # Greedy: 500 candidate rooms scattered over the city, top 10 for a canteen.
    r = random.Random(2)
    candidates = []
    for _ in range(500):
        i = r.randrange(len(homes.ids))
        lat, lng = geo.offset(
            (homes.lat[i], homes.lng[i]), r.uniform(-300, 300), r.uniform(-300, 300)
        )
        candidates.append((lat, lng, r.choice([80, 120, 150, 200, 400])))
    greedy_s, picks = timed(lambda: coverage.best_sites(matrix, "canteen", candidates, k=10))
    print(
        f"greedy top 10 of 500 candidates (canteen): {greedy_s:.3f} s, "
        f"{sum(p.gained for p in picks)} residents newly within 500 m"
    )

    walking(district_id, homes, sites, circles)

    report_area(district_id, homes)

    # ru_maxrss is in kilobytes on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of the process): {peak:.0f} MB")


def walking(district_id: int, homes, sites, circles) -> None:
    """Walking along the generated streets: reading the network, the full city walked, a
    district-sized corner, the finder near one compound, and a plain pipeline (one Dijkstra per
    compound) for comparison."""
    from facilities import walking as finder
    from facilities.models import Facility

    network._networks.clear()
    read_s, streets = timed(lambda: coverage.load_streets([district_id]))
    if not streets:
        print("walking: the generated city has no street network (generate_city makes one)")
        return
    walked = streets[district_id]
    print(
        f"street network: {walked.nodes:,} nodes ({walked.junctions:,} junctions searched), "
        f"{len(walked.source):,} edges; "
        f"read and indexed once per process: {read_s:.3f} s"
    )
    full_s, matrix = timed(
        lambda: coverage.compute(
            homes, sites, circles, walker=coverage.Walker(streets, homes, sites)
        ),
        repeats=3,
    )
    line = coverage.compute(homes, sites, circles)
    print(f"full city walked (place every gate and facility, 18 searches): {full_s:.3f} s")
    pop = homes.population
    for code in ("canteen", "health_station", "elderly_care"):
        walk_share = (pop * matrix.covered(code)).sum() / pop.sum()
        line_share = (pop * line.covered(code)).sum() / pop.sum()
        both = np.isfinite(matrix.distance[code]) & np.isfinite(line.distance[code])
        detour = np.median(matrix.distance[code][both] / line.distance[code][both])
        print(
            f"  {code}: covered on foot {walk_share:.1%}, by straight line {line_share:.1%}, "
            f"median detour ×{detour:.2f}"
        )
    print(f"  compounds walked from a gate on the streets: {matrix.walked.mean():.1%}")

    # One district: a 1,500-compound corner with its own network (the city's streets cut to the
    # corner and 2 km around it, as an import of that district would be) and the facilities in it.
    order = np.argsort(homes.lat + homes.lng)
    corner = homes.subset(order[:1500])
    pad = 2000 / geo.METRES_PER_DEGREE
    box = (
        corner.lat.min() - pad,
        corner.lng.min() - pad * 1.2,
        corner.lat.max() + pad,
        corner.lng.max() + pad * 1.2,
    )
    own = {district_id: walked.cut(*box)}
    inside = np.flatnonzero(
        (sites.lat >= box[0])
        & (sites.lat <= box[2])
        & (sites.lng >= box[1])
        & (sites.lng <= box[3])
    )
    local = sites.subset(inside)
    district_s, _ = timed(
        lambda: coverage.compute(
            corner, local, circles, walker=coverage.Walker(own, corner, local)
        ),
        repeats=5,
    )
    print(
        f"one district walked (1,500 compounds, {len(local.ids):,} facilities, "
        f"{own[district_id].nodes:,} street nodes, {own[district_id].junctions:,} of them "
        f"junctions; placing included): {district_s * 1000:.0f} ms"
    )

    # The finder near one compound: the walk from its gates to every facility within 1 km.
    from communities.models import CompoundGate

    r = random.Random(3)
    times = []
    ranked = 0
    for _ in range(30):
        compound = ResidentialCompound.objects.get(pk=int(homes.ids[r.randrange(len(homes.ids))]))
        starts = [
            (lat, lng)
            for lat, lng in CompoundGate.objects.filter(compound=compound).values_list(
                "latitude", "longitude"
            )
        ] or [compound.point]
        start = time.perf_counter()
        found = finder.rank(
            finder.for_district(district_id),
            starts,
            Facility.objects.visible().near(compound.point, 1000),
            1000,
        )
        times.append(time.perf_counter() - start)
        ranked += len(found[0]) if found else 0
    print(
        f"near search walked for one compound (every facility within 1 km on foot, "
        f"{ranked / 30:.0f} on average): median {statistics.median(times) * 1000:.1f} ms, "
        f"slowest {max(times) * 1000:.1f} ms"
    )

    # The plain pipeline: for each compound, one Dijkstra from its gates, then the nearest of
    # every category among the facilities placed on the streets. Timed on a sample.
    sample = np.random.default_rng(4).choice(len(homes.ids), size=300, replace=False)
    ends = walked.place(sites.lat, sites.lng)
    starts = homes.starts()
    limit = 2 * max(c.distance_m for c in circles)
    rows_of = {c.code: sites.rows_for(c.code, coverage.SERVING) for c in circles}
    start = time.perf_counter()
    for row in sample.tolist():
        mine = starts.home == row
        placed = walked.place(starts.lat[mine], starts.lng[mine])
        metres = walked.walk(placed, ends, limit)
        nearest = {code: metres[rows].min() for code, rows in rows_of.items() if len(rows)}
    assert nearest
    per = (time.perf_counter() - start) / len(sample)
    plain_s = per * len(homes.ids)
    print(
        f"plain pipeline (one Dijkstra per compound): {per * 1000:.1f} ms a compound, "
        f"{plain_s:.0f} s for the city; plain / engine = {plain_s / full_s:.0f}"
    )


def report_area(district_id: int, homes: coverage.Homes) -> None:
    """The officials' reports for the whole city: gathering the area, then keeping it current
    as a canteen is added, moved and closed in the database (report_data.refresh), each checked
    against gathering anew. The canteen is deleted again at the end."""
    from communities.models import Community
    from facilities.models import Category, Facility
    from reports import report_data

    communities = Community.objects.filter(subdistrict__district_id=district_id)
    gather_s, area = timed(lambda: report_data.gather(communities))
    print(f"report area for the whole city, gathered: {gather_s:.3f} s")
    compound = ResidentialCompound.objects.get(pk=int(homes.ids[100]))
    lat, lng = geo.offset(compound.point, 60, 0)
    canteen = Facility.objects.create(
        community_id=compound.community_id,
        name="基准测试食堂",
        slug="bench-canteen",
        category=Category.objects.get(code="canteen"),
        latitude=lat,
        longitude=lng,
    )
    moved = geo.offset(compound.point, 360, 0)
    steps = [
        lambda: None,
        lambda: Facility.objects.filter(pk=canteen.pk).update(
            latitude=moved[0], longitude=moved[1]
        ),
        lambda: Facility.objects.filter(pk=canteen.pk).update(status=Facility.Status.CLOSED),
    ]
    times = []
    try:
        for step in steps:
            step()
            start = time.perf_counter()
            area = report_data.refresh(area)
            times.append(time.perf_counter() - start)
            assert area is not None
        fresh = report_data.gather(communities)
        for code in fresh.now.nearest:
            assert (area.now.nearest[code] == fresh.now.nearest[code]).all(), code
    finally:
        canteen.delete()
    print(
        "report area kept current (a canteen added, moved 300 m, closed; from the database): "
        + ", ".join(f"{t * 1000:.0f} ms" for t in times)
    )


if __name__ == "__main__":
    main()
