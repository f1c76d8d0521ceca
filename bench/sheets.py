"""Resource list benchmark: preview and import a 5,000-row sheet through the admin pages.

    make bench            # or: DATABASE_URL=… python bench/sheets.py [rows] [repeats]

Makes a community of its own (基准测试社区, in the demo district 绿园区) kept by a staff member of
its own, then times each step through Django's test client, so a number is the whole request:
upload, reading the file, validation, the page (or the redirect after writing). The whole
sequence runs three times from scratch; it prints the median and the range of each step:

  preview new       a sheet of new facilities, each with weekly hours
  import new        confirming it: every facility, its hours and further categories written
  export xlsx       the community's list as an XLSX file
  preview unchanged that export uploaded again: every row unchanged
  preview changed   the export with every row's hours changed
  import changed    confirming it: every facility updated, its weekly hours replaced

It removes what it made after each run, and at the start whatever an interrupted run left behind,
so it can run again and again. Not a test: it reports, and stops only if a step fails.
"""

import io
import logging
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

from communities.models import Community  # noqa: E402
from communities.roles import make_staff  # noqa: E402
from facilities import sheets  # noqa: E402
from facilities.models import Facility, HoursException, OpeningHours  # noqa: E402
from portal import caching  # noqa: E402
from portal.lib import geo  # noqa: E402

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


def remove() -> None:
    """What an earlier run made: the bench community, its facilities and its staff member."""
    with transaction.atomic():
        facilities = Facility.objects.filter(community__slug=COMMUNITY_SLUG)
        for model in (OpeningHours, HoursException, Facility.other_categories.through):
            model.objects.filter(facility__in=facilities)._raw_delete(model.objects.db)
        facilities._raw_delete(Facility.objects.db)
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


def new_sheet(community: Community, rows: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheets.SHEET_TITLE
    sheet.append(sheets.HEADERS)
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
        sheet.append([values.get(c.key, "") for c in sheets.COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_new_hours(content: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book[sheets.SHEET_TITLE]
    column = sheets.HEADERS.index("营业时间") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=column, value="周一至周六 06:30-20:30")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed(seconds: dict[str, list[float]], label: str, call):
    start = time.perf_counter()
    response = call()
    seconds[label].append(time.perf_counter() - start)
    assert response.status_code in (200, 302), (label, response.status_code)
    return response


def preview(client: Client, content: bytes, expect: dict[str, int]):
    upload = SimpleUploadedFile("资源清单.xlsx", content)
    response = client.post(reverse("admin:facilities_facility_import"), {"sheet": upload})
    counts = response.context["plan"].counts
    assert all(counts[k] == v for k, v in expect.items()), counts
    return response


def confirm(client: Client, response):
    done = client.post(
        reverse("admin:facilities_facility_import_confirm"), {"sha256": response.context["digest"]}
    )
    assert done.status_code == 302, done.status_code
    return done


def run(rows: int, seconds: dict[str, list[float]]) -> None:
    """One sequence from scratch: a new community, its import, export and re-imports."""
    remove()
    community = setup()
    try:
        client = Client(HTTP_HOST="localhost")
        client.force_login(get_user_model().objects.get(username=USERNAME))
        content = new_sheet(community, rows)
        response = timed(seconds, "preview new", lambda: preview(client, content, {"new": rows}))
        timed(seconds, "import new", lambda: confirm(client, response))
        assert Facility.objects.filter(community=community).count() == rows
        url = reverse("admin:facilities_facility_export", args=["xlsx"])
        exported = timed(seconds, "export xlsx", lambda: client.get(url)).content
        unchanged = {"unchanged": rows}
        timed(seconds, "preview unchanged", lambda: preview(client, exported, unchanged))
        changed = with_new_hours(exported)
        response = timed(
            seconds, "preview changed", lambda: preview(client, changed, {"changed": rows})
        )
        timed(seconds, "import changed", lambda: confirm(client, response))
        hours = OpeningHours.objects.filter(facility__community=community)
        assert hours.count() == rows * 6, hours.count()
    finally:
        remove()


def main(rows: int, repeats: int) -> None:
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo", "--no-accounts", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # the pages link hashed CSS names
    setup_test_environment()  # so the test client keeps each page's context (the plan)
    logging.getLogger("portal.sheet_admin").setLevel(logging.WARNING)  # no line per import
    seconds: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        run(rows, seconds)
    print(f"{'step':<18} {'median s':>9} {'range s':>12}   ({rows:,} rows, {repeats} runs)")
    for label, values in seconds.items():
        spread = f"{min(values):.2f}–{max(values):.2f}"
        print(f"{label:<18} {statistics.median(values):>9.2f} {spread:>12}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 5000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 3,
    )
