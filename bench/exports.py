"""City-wide reports benchmark on the generated city (20,000 compounds, 50,000 facilities, 2,486
communities, with its streets): what the city administrator's exports and map cost.

    DATABASE_URL=… [REDIS_URL=…] python bench/exports.py

Generates the city with ``manage.py generate_city`` when it is absent (as bench/coverage.py
does), gathers its report area once and prints: the area's size in the shared cache (pickled,
as the cache keeps it) and the time to write it, read it back and check that every figure reads
the same; the whole workbook (/reports/export.xlsx: six sheets, two million cells); each CSV
table streamed (the compounds table is 200,000 rows); the sites page's map of the whole city
(SVG, drawn by community). Times are medians of three runs, in Chinese as the pages default to.
Not a test: it reports.
"""

import os
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from city import ensure_city, timed  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import translation  # noqa: E402

from communities.models import Community  # noqa: E402
from reports import area_map, report_data, report_export, views  # noqa: E402

SERVICE = "canteen"


def shown(area: report_data.Area) -> list:
    """The figures the pages and exports show, to compare an area with its cached copy."""
    figures = []
    for plan in (False, True):
        figures += [
            area.figures(plan),
            area.totals(plan),
            area.line_totals(plan),
            area.complete(plan),
            [
                (
                    g.place.id,
                    g.service.code,
                    g.residents,
                    g.line_covered,
                    g.farthest_m and round(g.farthest_m),
                )
                for g in area.gap_rows(plan)
            ],
            [d and round(d, 2) for s in area.required for d in (area.detour(s.code, plan),)],
        ]
        figures += [
            (w.spot and w.spot.id, w.covered, w.minutes, w.distance_m and round(w.distance_m))
            for row in area.compound_rows(plan)
            for w in row.walks
        ]
    return figures


def main() -> None:
    translation.activate("zh-hans")
    district = ensure_city()
    communities = Community.objects.filter(subdistrict__district=district)
    gather_s, area = timed(lambda: report_data.gather(communities))
    print(
        f"the city's report area ({len(area.homes.ids):,} compounds, {len(area.spots):,} "
        f"facilities, {len(area.places):,} communities), gathered: {gather_s:.2f} s"
    )

    dump_s, stored = timed(lambda: pickle.dumps(area, pickle.HIGHEST_PROTOCOL), 3)
    load_s, back = timed(lambda: pickle.loads(stored), 3)
    same = shown(back) == shown(area)
    print(
        f"  in the shared cache: {len(stored) / 1e6:.1f} MB; pickled in {dump_s:.2f} s, "
        f"read back in {load_s:.2f} s (straight lines recomputed); every figure the same: "
        f"{'yes' if same else 'NO'}"
    )
    key = "bench-exports-area"
    set_s, _ = timed(lambda: cache.set(key, area, 60), 3)
    get_s, _ = timed(lambda: cache.get(key), 3)
    cache.delete(key)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"  through the cache ({backend}): written in {set_s:.2f} s, read in {get_s:.2f} s")

    title = f"{area.label}覆盖情况报告"
    book_s, book = timed(
        lambda: report_export.workbook(area, plan=False, code=SERVICE, k=5, title=title), 3
    )

    def tables():
        return [
            (table.columns, list(table.rows))
            for name in report_export.TABLES
            for table in (
                report_export._build(name, area, plan=False, code=SERVICE, k=5, title=""),
            )
        ]

    build_s, built = timed(tables, 3)
    cells = sum(len(columns) * len(rows) for columns, rows in built)
    print(
        f"the city-wide workbook (/reports/export.xlsx, {cells:,} table cells): {book_s:.2f} s, "
        f"{len(book) / 1e6:.1f} MB; of which making the tables' rows from the area "
        f"{build_s:.2f} s, the rest writing and deflating the sheets' XML"
    )

    for table in report_export.TABLES:

        def stream(table=table):
            first, size = None, 0
            start = time.perf_counter()
            for chunk in report_export.csv_chunks(area, table, plan=False, code=SERVICE, k=5):
                first = first if first is not None else time.perf_counter() - start
                size += len(chunk)
            return first, size

        csv_s, (first, size) = timed(stream, 3)
        print(
            f"  CSV {table}: {csv_s:.2f} s streamed ({size / 1e6:.2f} MB; "
            f"first bytes after {first * 1000:.0f} ms)"
        )

    def city_map():
        suggestions = area.suggestions(SERVICE, False, 5)
        drawn = views._map(area, SERVICE, False, suggestions)
        return drawn, render_to_string(
            "reports/includes/area_map.html", {"map": drawn, "title": title}
        )

    map_s, (drawn, html) = timed(city_map, 3)
    print(
        f"the city's sites map ({SERVICE}; {drawn.group_count:,} communities drawn, as above "
        f"{area_map.GROUP_ABOVE:,} compounds, and {drawn.site_count:,} facilities): "
        f"{len(html.encode()) / 1e3:.0f} KB, made in {map_s:.2f} s"
    )


if __name__ == "__main__":
    main()
