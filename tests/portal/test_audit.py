"""The audit trail: every change to the kept data is recorded by PostgreSQL itself, with who made
it and what it was before, and only those who keep or read the community can see it."""

from datetime import date, time

import pgtrigger
import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facilities.models import Facility, HoursException, Meal, OpeningHours
from portal import audit
from tests.conftest import client_for
from tests.facilities.conftest import category

pytestmark = pytest.mark.django_db


def facility(community, name: str) -> Facility:
    return Facility.objects.create(
        community=community,
        category=category("canteen"),
        name=name,
        latitude=community.latitude,
        longitude=community.longitude,
    )


def test_an_admin_change_names_the_staff_member_and_both_values(staff_a, community_a):
    staff_a.first_name = "王丽"
    staff_a.save()
    canteen = facility(community_a, "新竹食堂")
    closure = HoursException.objects.create(facility=canteen, start_date=date(2026, 12, 1))
    staff = client_for(staff_a)
    response = staff.post(
        reverse("admin:facilities_hoursexception_change", args=[closure.pk]),
        {
            "facility": canteen.pk,
            "start_date": "2026-12-01",
            "end_date": "2026-12-03",
            "closed": "on",
            "note": "设备检修",
        },
    )
    assert response.status_code == 302

    latest = audit.for_facility(canteen)[0]
    assert latest.who == "王丽"
    assert latest.action == "update"
    assert latest.via == reverse("admin:facilities_hoursexception_change", args=[closure.pk])
    changes = {c.field: (c.before, c.after) for c in latest.changes}
    assert changes["原因"] == ("—", "设备检修")
    assert changes["结束日期"] == ("—", "2026-12-03")

    page = staff.get(reverse("admin:facilities_facility_history", args=[canteen.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "王丽" in text and "设备检修" in text and "2026-12-03" in text


def test_bulk_updates_and_deletes_are_recorded_too(community_a):
    canteen = facility(community_a, "新竹食堂")
    OpeningHours.objects.create(facility=canteen, weekday=0, opens=time(7), closes=time(19))
    # Neither fires a model signal: only a trigger in the database sees them.
    OpeningHours.objects.filter(facility=canteen).update(closes=time(20))
    OpeningHours.objects.filter(facility=canteen).delete()

    actions = [(e.model, e.action) for e in audit.for_facility(canteen)]
    assert actions[:3] == [
        (OpeningHours, "delete"),
        (OpeningHours, "update"),
        (OpeningHours, "insert"),
    ]
    update = audit.for_facility(canteen)[1]
    assert [(c.before, c.after) for c in update.changes] == [("19:00", "20:00")]


def test_a_management_command_signs_its_changes(db):
    call_command("generate_city", compounds=3, facilities=4, seed=2, verbosity=0)
    made = Facility.objects.filter(community__subdistrict__district__code="990101").first()
    entry = audit.for_facility(made)[-1]
    assert entry.action == "insert"
    assert entry.via == "generate_city"
    assert entry.who == "系统"


def test_nobody_can_rewrite_history(community_a):
    canteen = facility(community_a, "新竹食堂")
    canteen.phone = "0431-85550001"
    canteen.save()
    table = audit.event_model("facilities.Facility")._meta.db_table
    for sql in (f"UPDATE {table} SET phone = '110'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert audit.event_model("facilities.Facility").objects.filter(pgh_obj=canteen).count() == 2


def test_the_desk_lists_recent_changes_from_the_trail(staff_a, community_a, community_b):
    own, other = facility(community_a, "新竹食堂"), facility(community_b, "石油食堂")
    OpeningHours.objects.create(facility=own, weekday=0, opens=time(7), closes=time(19))
    OpeningHours.objects.create(facility=other, weekday=0, opens=time(7), closes=time(19))

    text = client_for(staff_a).get(reverse("admin:index")).content.decode()
    recent = text.split("最近修改")[1]
    assert reverse("admin:facilities_facility_history", args=[own.pk]) in recent
    assert "石油食堂" not in text
    changes = client_for(staff_a).get(reverse("admin:changes")).content.decode()
    assert "新竹食堂" in changes and "石油食堂" not in changes


def test_history_is_read_only_within_scope(
    client, staff_a, staff_b, official, community_a, community_b
):
    own, other = facility(community_a, "新竹食堂"), facility(community_b, "石油食堂")
    page = reverse("facilities:history", args=[own.slug])

    assert client.get(page).status_code == 302  # to sign in
    assert client_for(staff_b).get(page).status_code == 404
    assert (
        client_for(staff_b)
        .get(reverse("admin:facilities_facility_history", args=[own.pk]))
        .status_code
        == 404
    )
    assert client_for(staff_a).get(page).status_code == 200
    # The official of 新竹社区's district reads its history, and not 石油社区's.
    read = client_for(official)
    assert "新竹食堂" in read.get(page).content.decode()
    assert read.get(reverse("facilities:history", args=[other.slug])).status_code == 404
    area = read.get(reverse("communities:changes")).content.decode()
    assert "新竹食堂" in area and "石油食堂" not in area
    # Nothing on the page offers to change the record.
    assert "<form" not in read.get(page).content.decode().split("<main")[1].split("</main>")[0]


def test_history_pages_take_the_same_few_queries_however_many_changes(staff_a, community_a):
    staff = client_for(staff_a)

    def change(n: int) -> Facility:
        canteen = facility(community_a, f"食堂{n}")
        OpeningHours.objects.create(facility=canteen, weekday=0, opens=time(7), closes=time(19))
        canteen.category = category("supermarket" if n % 2 else "canteen")
        canteen.phone = "0431-85550002"
        canteen.save()
        return canteen

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(url).status_code == 200
        return len(captured)

    first = change(0)
    pages = [reverse("admin:changes"), reverse("facilities:history", args=[first.slug])]
    staff.get(pages[0])  # the session and permissions, once
    few = [queries(page) for page in pages]
    for n in range(1, 12):
        change(n)
    many = [queries(page) for page in pages]
    # At most one query per kind of related row (category, community, subdistrict, facility,
    # user), however many rows the events name.
    assert few[0] <= 18 and many[0] <= 18
    assert few[1] == many[1] <= 10


def test_a_row_from_before_the_trail_shows_its_value_before_the_first_change(community_a):
    """Rows that existed before tracking began get a baseline event from the migration, so the
    first recorded change still says what the value was."""
    with pgtrigger.ignore("facilities.Facility:insert_insert"):
        canteen = facility(community_a, "新竹食堂")
    assert not audit.event_model("facilities.Facility").objects.filter(pgh_obj=canteen).exists()
    baseline = audit.record_baseline("facilities.Facility")
    with connection.schema_editor() as editor:
        baseline.code(django_apps, editor)

    canteen.address = "青年路1号"
    canteen.save()
    entries = audit.for_facility(canteen)
    assert len(entries) == 1  # the baseline itself is never listed
    assert [(c.field, c.before, c.after) for c in entries[0].changes] == [
        ("地址", "—", "青年路1号")
    ]
    canteen.address = "青年路2号"
    canteen.save()
    assert [(c.before, c.after) for c in audit.for_facility(canteen)[0].changes] == [
        ("青年路1号", "青年路2号")
    ]


def test_saving_a_form_unchanged_records_nothing(staff_a, community_a):
    """Browsers send textarea line breaks as CRLF: stored as LF, an unchanged menu stays
    unchanged rather than filling the trail with rewrites of every dish list."""
    canteen = facility(community_a, "新竹食堂")
    meal = Meal.objects.create(
        facility=canteen, date=date(2026, 12, 1), kind="lunch", dishes="米饭\n青菜", price=12
    )
    response = client_for(staff_a).post(
        reverse("admin:facilities_meal_change", args=[meal.pk]),
        {
            "facility": canteen.pk,
            "date": "2026-12-01",
            "kind": "lunch",
            "dishes": "米饭\r\n青菜",
            "price": "12.00",
        },
    )
    assert response.status_code == 302
    assert [e.action for e in audit.for_facility(canteen)] == ["insert", "insert"]
    meal.refresh_from_db()
    assert meal.dishes == "米饭\n青菜"
