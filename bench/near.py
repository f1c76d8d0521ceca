"""The near query at city scale: a compound, one category, that category's walking distance,
nearest first — against the demo data plus a generated city.

    make bench            # or: DATABASE_URL=… python bench/near.py [compounds] [facilities]

Generates the city if it is not there yet (generate_city --compounds 20000 --facilities 50000 by
default), then times the query for many compounds and categories and prints the median, p95 and
maximum, and the plan PostgreSQL chose (the node that reads the facility table shows whether the
(latitude, longitude) index does the work). Not a test: it reports.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from communities.models import ResidentialCompound  # noqa: E402
from facilities.models import Category, Facility  # noqa: E402

SAMPLES = 300


def ensure_city(compounds: int, facilities: int) -> None:
    call_command("migrate", verbosity=0)
    call_command("load_demo", "--no-accounts", verbosity=0)
    generated = ResidentialCompound.objects.filter(community__slug__startswith="gen-").count()
    if generated != compounds:
        start = time.perf_counter()
        call_command(
            "generate_city",
            compounds=compounds,
            facilities=facilities,
            seed=1,
            verbosity=0,
        )
        print(f"generate_city: {time.perf_counter() - start:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def near_query(compound: ResidentialCompound, category: Category):
    return (
        Facility.objects.operating()
        .in_category(category)
        .near(compound.point, category.distance_m)
        .only("id", "name", "latitude", "longitude")
    )


def main(compounds: int, facilities: int) -> None:
    ensure_city(compounds, facilities)
    print(
        f"{ResidentialCompound.objects.count()} compounds, {Facility.objects.count()} facilities, "
        f"{Category.objects.count()} categories"
    )
    rng = random.Random(5)
    all_compounds = list(ResidentialCompound.objects.only("id", "latitude", "longitude"))
    categories = list(Category.objects.all())
    timings, found = [], []
    for _ in range(SAMPLES):
        compound, category = rng.choice(all_compounds), rng.choice(categories)
        start = time.perf_counter()
        rows = list(near_query(compound, category))
        timings.append((time.perf_counter() - start) * 1000)
        found.append(len(rows))
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(
        f"near query ({SAMPLES} random compound × category pairs, round trip from Django): "
        f"median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms, max {max(timings):.2f} ms; "
        f"{statistics.mean(found):.1f} facilities found on average"
    )

    compound = all_compounds[len(all_compounds) // 2]
    category = Category.objects.get(code="canteen")
    plan = near_query(compound, category).explain(analyze=True)
    print("\nEXPLAIN ANALYZE (a compound in the middle of the list, canteens, 500 m):")
    for line in plan.splitlines():
        if any(word in line for word in ("Index", "Scan", "Execution Time", "Planning Time")):
            print("  " + line.strip())


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [20000, 50000][len(args) :]))
