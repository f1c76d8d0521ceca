"""Sheet benchmarks: the resource list and the compound list through the admin pages.

    make bench            # or: DATABASE_URL=… python bench/sheets.py [facilities] [compounds]
                          #         [--rows N] [--repeats N]

Makes a community of its own (基准测试社区, in the demo district 绿园区) kept by a staff member of
its own, who signs in in two steps as staff must (an authenticator made for the bench, its code
typed on the code page), then times each step through Django's test client, so a number is the
whole request: upload, reading the file, validation, the page (or the redirect after writing).
Each list's sequence runs three times from scratch; it prints the median and the range of each
step.

The resource list (5,000 rows by default):

  preview new       a sheet of new facilities, each with weekly hours
  import new        confirming it: every facility, its hours and further categories written
  export xlsx       the community's list as an XLSX file
  preview unchanged that export uploaded again: every row unchanged
  preview changed   the export with every row's hours changed
  import changed    confirming it: every facility updated, its weekly hours replaced

The compound list (20,000 rows by default, a large district's whole list in one sheet; each
compound with two gates, one in ten given in GCJ-02 as 高德 shows it):

  preview new       a sheet of new compounds and their gates
  import new        confirming it: every compound and gate written
  export xlsx       the community's compounds as an XLSX file
  preview unchanged that export uploaded again: every row unchanged

and "preview + confirm", the two together per run, against the target of 10 s.

It removes what it made after each run, and at the start whatever an interrupted run left behind,
so it can run again and again. Not a test: it reports, and stops only if a step fails.
"""

import argparse
import io
import logging
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

import openpyxl  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.oath import TOTP  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from communities import sheets as compound_sheets  # noqa: E402
from communities.models import Community, CompoundGate, ResidentialCompound  # noqa: E402
from communities.roles import make_staff  # noqa: E402
from facilities import sheets  # noqa: E402
from facilities.models import Facility, HoursException, OpeningHours  # noqa: E402
from portal import caching  # noqa: E402
from portal.lib import coords, geo  # noqa: E402
from portal.lib.sheets import system_word  # noqa: E402

COMMUNITY_SLUG = "bench-sheets"
USERNAME = "bench-sheets"
CATEGORIES = ["社区食堂", "健康驿站", "社区超市", "快递驿站", "理发店"]
HOURS = [
    "周一至周五 08:00-17:00；周六 09:00-12:00",
    "每天 11:00-13:30,17:00-19:00",
    "每天 07:00-22:00",
    "周五、周六 18:00-02:00",
    "每天 00:00-24:00",
]
TOTAL = "preview + confirm"
TARGET_S = 10  # issue 21: a district's 20,000 compounds previewed and imported within 10 s
GCJ02_EVERY = 10  # one compound in ten given as 高德 shows it


def remove() -> None:
    """What an earlier run made: the bench community, its facilities and compounds, and its
    staff member (with the authenticator)."""
    with transaction.atomic():
        # _raw_delete is a plain DELETE: the cascade from the community would load every row to
        # send its post_delete, 60,000 of them for the compounds and their gates.
        facilities = Facility.objects.filter(community__slug=COMMUNITY_SLUG)
        for model in (OpeningHours, HoursException, Facility.other_categories.through):
            model.objects.filter(facility__in=facilities)._raw_delete(model.objects.db)
        facilities._raw_delete(Facility.objects.db)
        compounds = ResidentialCompound.objects.filter(community__slug=COMMUNITY_SLUG)
        CompoundGate.objects.filter(compound__in=compounds)._raw_delete(CompoundGate.objects.db)
        compounds._raw_delete(ResidentialCompound.objects.db)
        Community.objects.filter(slug=COMMUNITY_SLUG).delete()
        get_user_model().objects.filter(username=USERNAME).delete()
        transaction.on_commit(caching.bump)  # raw deletes send no signals


def setup() -> Community:
    linyuan = Community.objects.get(name="林园社区")
    community = Community.objects.create(
        subdistrict=linyuan.subdistrict,
        name="基准测试社区",
        slug=COMMUNITY_SLUG,
        latitude=linyuan.latitude,
        longitude=linyuan.longitude,
        is_demo=True,
    )
    user = get_user_model().objects.create_user(USERNAME, password=None)
    make_staff(user, community)
    return community


def staff_client() -> Client:
    """A client signed in as the bench's staff member and past the second step, as staff reach
    the back office: an authenticator for the account, and its current code typed on the code
    page."""
    user = get_user_model().objects.get(username=USERNAME)
    device = TOTPDevice.objects.create(user=user, name="bench phone", confirmed=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code = f"{totp.token():0{device.digits}d}"
    response = client.post(reverse("two-factor"), {"code": code})
    assert response.status_code == 302, response.status_code
    assert client.session.get(DEVICE_ID_SESSION_KEY) == device.persistent_id
    return client


def workbook(title: str, headers: list[str], rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed(seconds: dict[str, list[float]], label: str, call):
    start = time.perf_counter()
    response = call()
    seconds[label].append(time.perf_counter() - start)
    assert response.status_code in (200, 302), (label, response.status_code)
    return response


def preview(client: Client, pages: str, content: bytes, expect: dict[str, int]):
    """The preview page of the admin list ``pages`` ("app_model") for the sheet, whose row
    counts must be ``expect``."""
    upload = SimpleUploadedFile("清单.xlsx", content)
    response = client.post(reverse(f"admin:{pages}_import"), {"sheet": upload})
    assert response.status_code == 200, response.status_code
    plan = response.context["plan"]
    assert all(plan.counts[k] == v for k, v in expect.items()), (plan.counts, plan.problems[:5])
    return response


def confirm(client: Client, pages: str, response):
    done = client.post(
        reverse(f"admin:{pages}_import_confirm"), {"sha256": response.context["digest"]}
    )
    assert done.status_code == 302, done.status_code
    return done


def export(client: Client, pages: str):
    return client.get(reverse(f"admin:{pages}_export", args=["xlsx"]))


# --- The resource list -------------------------------------------------------------------------

FACILITIES = "facilities_facility"


def new_facilities(community: Community, rows: int) -> bytes:
    lines = []
    for i in range(rows):
        # Spread over a square about 1.4 km across around the community office.
        lat, lng = geo.offset(community.point, (i % 70) * 20 - 700, (i // 70) * 20 - 700)
        values = {
            "community": community.name,
            "name": f"基准测试设施{i:05d}",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "other_categories": "养老服务站" if i % 3 == 0 else "",
            "address": f"测试路{i}号",
            "latitude": round(lat, 6),
            "longitude": round(lng, 6),
            "phone": f"0431-8{i:07d}",
            "status": "正常开放",
            "hours": HOURS[i % len(HOURS)],
            "holiday_rule": "照常",
            "seats": 20 + i % 50,
            "step_free_entrance": "是" if i % 2 else "否",
        }
        lines.append([values.get(c.key, "") for c in sheets.COLUMNS])
    return workbook(sheets.SHEET_TITLE, sheets.HEADERS, lines)


def with_new_hours(content: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book[sheets.SHEET_TITLE]
    column = sheets.HEADERS.index("营业时间") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=column, value="周一至周六 06:30-20:30")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def facility_steps(client: Client, community: Community, rows: int, seconds) -> None:
    """New facilities imported, exported, uploaded again unchanged, then with new hours."""
    content = new_facilities(community, rows)
    response = timed(
        seconds, "preview new", lambda: preview(client, FACILITIES, content, {"new": rows})
    )
    timed(seconds, "import new", lambda: confirm(client, FACILITIES, response))
    assert Facility.objects.filter(community=community).count() == rows
    exported = timed(seconds, "export xlsx", lambda: export(client, FACILITIES)).content
    unchanged = {"unchanged": rows}
    timed(seconds, "preview unchanged", lambda: preview(client, FACILITIES, exported, unchanged))
    changed = with_new_hours(exported)
    response = timed(
        seconds, "preview changed", lambda: preview(client, FACILITIES, changed, {"changed": rows})
    )
    timed(seconds, "import changed", lambda: confirm(client, FACILITIES, response))
    hours = OpeningHours.objects.filter(facility__community=community)
    assert hours.count() == rows * 6, hours.count()


# --- The compound list -------------------------------------------------------------------------

COMPOUNDS = "communities_residentialcompound"


def compound_grid(community: Community, rows: int) -> list[geo.Point]:
    """Where the sheet's compounds stand: a square grid over the middle of the box around the
    district's communities and compounds, half as wide as the box's shorter side, so that every
    point and gate lies well inside the district (which ``PointCheck`` takes that box for)."""
    district = community.subdistrict.district_id
    box = coords.Bounds.around(
        [
            *Community.objects.filter(subdistrict__district=district).values_list(
                "latitude", "longitude"
            ),
            *ResidentialCompound.objects.filter(
                community__subdistrict__district=district
            ).values_list("latitude", "longitude"),
        ]
    )
    height_m = geo.distance_m((box.south, box.west), (box.north, box.west))
    width_m = geo.distance_m((box.south, box.west), (box.south, box.east))
    side_m = min(height_m, width_m) / 2
    middle = ((box.south + box.north) / 2, (box.west + box.east) / 2)
    across = math.ceil(math.sqrt(rows))
    step_m = side_m / across
    return [
        geo.offset(middle, (i // across) * step_m - side_m / 2, (i % across) * step_m - side_m / 2)
        for i in range(rows)
    ]


def as_given(point: geo.Point, system: str) -> geo.Point:
    """A WGS-84 point as a map app of ``system`` shows it, to seven decimals as exports write."""
    lat, lng = coords.from_wgs84(*point, system)
    return round(lat, 7), round(lng, 7)


def new_compounds(community: Community, rows: int) -> bytes:
    """New compounds, each with a north and an east gate a few metres from its point; one in
    ``GCJ02_EVERY`` given in GCJ-02 (its point and gates), the rest in WGS-84."""
    lines = []
    for i, point in enumerate(compound_grid(community, rows)):
        system = coords.System.GCJ02 if i % GCJ02_EVERY == 0 else coords.System.WGS84
        lat, lng = as_given(point, system)
        north = as_given(geo.offset(point, 6, 0), system)
        east = as_given(geo.offset(point, 0, 6), system)
        population = 300 + (i * 37) % 3000
        values = {
            "community": community.name,
            "name": f"基准测试小区{i:05d}",
            "address": f"测试路{i}号",
            "population": population,
            "households": population // 3,
            "latitude": lat,
            "longitude": lng,
            "point_system": system_word(system),
            "gates": f"北门 {north[0]},{north[1]}；东门 {east[0]},{east[1]}",
        }
        lines.append([values.get(c.key, "") for c in compound_sheets.COLUMNS])
    return workbook(compound_sheets.SHEET_TITLE, compound_sheets.LAYOUT.headers, lines)


def compound_steps(client: Client, community: Community, rows: int, seconds) -> None:
    """New compounds with their gates imported, exported, and uploaded again unchanged."""
    content = new_compounds(community, rows)
    response = timed(
        seconds, "preview new", lambda: preview(client, COMPOUNDS, content, {"new": rows})
    )
    timed(seconds, "import new", lambda: confirm(client, COMPOUNDS, response))
    seconds[TOTAL].append(seconds["preview new"][-1] + seconds["import new"][-1])
    compounds = ResidentialCompound.objects.filter(community=community)
    assert compounds.count() == rows, compounds.count()
    gates = CompoundGate.objects.filter(compound__community=community)
    assert gates.count() == rows * 2, gates.count()
    assert compounds.filter(point_system=coords.System.GCJ02).count() == math.ceil(
        rows / GCJ02_EVERY
    )
    exported = timed(seconds, "export xlsx", lambda: export(client, COMPOUNDS)).content
    everything = {"new": 0, "changed": 0, "unchanged": rows, "bad": 0}
    timed(seconds, "preview unchanged", lambda: preview(client, COMPOUNDS, exported, everything))


# --- Running -----------------------------------------------------------------------------------

# name: (what it is, its steps, rows by default)
LISTS = {
    "facilities": ("the resource list", facility_steps, 5000),
    "compounds": ("the compound list", compound_steps, compound_sheets.MAX_ROWS),
}


def run(steps, rows: int, seconds: dict[str, list[float]]) -> None:
    """One sequence from scratch: a new community and its staff member, the list's steps, and
    everything removed again."""
    remove()
    community = setup()
    try:
        steps(staff_client(), community, rows, seconds)
    finally:
        remove()


def report(title: str, rows: int, repeats: int, seconds: dict[str, list[float]]) -> None:
    def line(label: str, values: list[float]) -> None:
        spread = f"{min(values):.2f}–{max(values):.2f}"
        print(f"{label:<18} {statistics.median(values):>9.2f} {spread:>12}")

    print(f"{title}: {rows:,} rows, {repeats} runs")
    print(f"{'step':<18} {'median s':>9} {'range s':>12}")
    for label, values in seconds.items():
        if label != TOTAL:
            line(label, values)
    if TOTAL in seconds:
        line(TOTAL, seconds[TOTAL])
        median = statistics.median(seconds[TOTAL])
        verdict = "meets" if median <= TARGET_S else "misses"
        print(f"{TOTAL} of {rows:,} rows: {median:.2f} s against ≤ {TARGET_S} s: {verdict} it")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "lists", nargs="*", metavar="list", help="facilities, compounds (default: both)"
    )
    parser.add_argument("--rows", type=int, help="each list's rows (default: 5,000; 20,000)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if unknown := set(args.lists) - LISTS.keys():
        parser.error(f"no such list: {', '.join(sorted(unknown))}")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo", "--no-accounts", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # the pages link hashed CSS names
    setup_test_environment()  # so the test client keeps each page's context (the plan)
    logging.getLogger("communities.sheet_admin").setLevel(logging.WARNING)  # no line per import
    for name in args.lists or LISTS:
        title, steps, default_rows = LISTS[name]
        rows = args.rows or default_rows
        seconds: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.repeats):
            run(steps, rows, seconds)
        report(title, rows, args.repeats, seconds)


if __name__ == "__main__":
    main()
