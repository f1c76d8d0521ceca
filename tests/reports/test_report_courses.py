"""Courses and residents' wishes beside the coverage gaps in the officials' reports: the figures,
their query count, the community page in both languages, freshness after an enrolment, a wish or
a supporter, the overview, the matrix and its export, and scope."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities.models import Community, Membership, ResidentialCompound
from courses import enrolment
from courses.models import CourseClass, Term
from reports import report_data
from tests.conftest import client_for
from tests.courses.conftest import make_class, resident, residents
from wishes.models import Wish

OVERVIEW = reverse("reports:overview")
MATRIX = reverse("reports:matrix")


def english(user):
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page_of(community) -> str:
    return reverse("reports:community", args=[community.slug])


def make_term(community, *, year: int = 2026, ended: bool = False) -> Term:
    """A term whose registration is open now; ``ended``: one whose last day was yesterday."""
    now, today = timezone.now(), timezone.localdate()
    return Term.objects.create(
        community=community,
        year=year,
        season=Term.Season.AUTUMN,
        registration_opens=now - timedelta(days=1),
        registration_closes=now + timedelta(days=14),
        starts_on=today - timedelta(days=120 if ended else 10),
        ends_on=today - timedelta(days=1) if ended else today + timedelta(days=90),
    )


def wish(community, kind: str, title: str, supporters: int = 0, status: str = "open") -> Wish:
    people = residents(supporters + 1, start=13900000000 + Wish.objects.count() * 100)
    posted = Wish.post(author=people[0], community=community, kind=kind, title=title, text="……")
    for person in people[1:]:
        Wish.add_support(posted.pk, person)
    if status != "open":
        Wish.objects.filter(pk=posted.pk).update(status=status)
    posted.refresh_from_db()
    return posted


@pytest.fixture
def scene(compound_a, far_compound, canteen_a):
    """新竹社区: its canteen leaves 远郊小区's 700 residents beyond the walk. In a current term,
    摄影 (2 seats) has three applicants, so one waits, and 烹饪 (5 seats) one of them; an ended
    term's class is left out. Wishes: a canteen (open, 3 supporters besides its author), a barber
    (planned, 1), weekend care (a service, open), calligraphy (done) and bathing help (declined)."""
    community = compound_a.community
    term = make_term(community)
    photography = make_class(term, compound_a, name="摄影", capacity=2)
    cooking = make_class(term, compound_a, name="烹饪", capacity=5)
    old = make_class(make_term(community, year=2025, ended=True), compound_a, name="旧课")
    people = residents(3)
    for person in people:
        enrolment.enrol(person, photography)
    enrolment.enrol(people[0], cooking)
    enrolment.enrol(resident("13800009999"), old)
    wishes = {
        "canteen": wish(community, "facility", "想要一个社区食堂", supporters=3),
        "barber": wish(community, "facility", "社区理发点", supporters=1, status="planned"),
        "care": wish(community, "service", "周末托管", supporters=1),
        "done": wish(community, "course", "书法班", supporters=5, status="done"),
        "declined": wish(community, "service", "上门助浴", supporters=6, status="declined"),
    }
    return {
        "community": community,
        "photography": photography,
        "cooking": cooking,
        "people": people,
        "wishes": wishes,
    }


@pytest.fixture
def elsewhere(compound_b):
    """石油社区 in the other district: a full class with a waiting list and a wish."""
    community = compound_b.community
    full = make_class(make_term(community), compound_b, name="古筝", capacity=1)
    for person in residents(2, start=13700000000):
        enrolment.enrol(person, full)
    wish(community, "facility", "石油社区的游泳馆", supporters=2)
    return community


def other_official(other_district):
    user = get_user_model().objects.create_user(username="official-b", password="x")
    Membership.objects.create(user=user, role=Membership.Role.OFFICIAL, district=other_district)
    return user


# ---- the figures ----


def test_the_figures_count_current_classes_waiting_lists_and_open_wishes(scene):
    community = scene["community"]

    area = report_data.gather(Community.objects.filter(pk=community.pk))

    demand = area.demand_of(community.id)
    assert (demand.classes, demand.seats, demand.enrolled, demand.full) == (2, 7, 3, 1)
    assert (demand.waiting, demand.applied, demand.residents) == (1, 0, 2)
    assert demand.fill == 42  # 3 of 7 seats, rounded down
    by_kind = {w.kind: (w.wishes, w.support) for w in demand.wishes}
    # Done and declined wishes are left out; the planned barber is still open.
    assert by_kind == {"course": (0, 0), "facility": (2, 4 + 2), "service": (1, 2)}
    assert (demand.open_wishes, demand.support) == (3, 8)
    # Most supported first; of two as supported, the newer first.
    assert [w.title for w in demand.top] == ["想要一个社区食堂", "周末托管", "社区理发点"]
    assert [w.codes for w in demand.top] == [("canteen",), ("children",), ("barber",)]
    assert demand.top[2].status == "planned"


def test_an_application_to_a_lottery_class_counts_as_waiting_for_the_draw(
    scene, compound_a, district
):
    lottery = make_class(
        CourseClass.objects.get(pk=scene["photography"].pk).course.term,
        compound_a,
        name="电钢琴",
        capacity=1,
        allocation=CourseClass.Allocation.LOTTERY,
    )
    enrolment.enrol(residents(1, start=13600000000)[0], lottery)

    demand = report_data.read_demand([scene["community"].id])[scene["community"].id]

    assert (demand.applied, demand.waiting, demand.classes, demand.enrolled) == (1, 1, 3, 3)


def test_a_community_with_no_courses_or_wishes_has_zero_figures(compound_a):
    area = report_data.gather(Community.objects.filter(pk=compound_a.community_id))

    demand = area.demand_of(compound_a.community_id)
    assert (demand.classes, demand.waiting, demand.open_wishes, demand.fill) == (0, 0, 0, None)
    assert [w.kind for w in demand.wishes] == ["course", "facility", "service"]
    assert demand.top == ()


def _communities_with_demand(subdistrict, n: int) -> list[Community]:
    made = []
    for i in range(n):
        community = Community.objects.create(
            subdistrict=subdistrict, name=f"需求社区{i}", latitude=43.9, longitude=125.3
        )
        compound = ResidentialCompound.objects.create(
            community=community,
            name=f"需求小区{i}",
            population=100,
            latitude=43.9 + i * 0.002,
            longitude=125.3,
        )
        course_class = make_class(make_term(community), compound, name=f"课{i}", capacity=1)
        for person in residents(2, start=13500000000 + i * 10):
            enrolment.enrol(person, course_class)
        wish(community, "facility", f"社区食堂{i}", supporters=1)
        wish(community, "course", f"摄影班{i}")
        made.append(community)
    return made


def test_gathering_takes_the_same_number_of_queries_for_one_community_or_many(subdistrict):
    made = _communities_with_demand(subdistrict, 5)

    counts = []
    for chosen in (made[:1], made):
        with CaptureQueriesContext(connection) as queries:
            area = report_data.gather(Community.objects.filter(pk__in=[c.pk for c in chosen]))
        counts.append(len(queries))
        assert all(area.demand_of(c.id).waiting == 1 for c in chosen)
        assert all(area.demand_of(c.id).open_wishes == 2 for c in chosen)
    assert counts[0] == counts[1] <= 17


# ---- the community page ----


def test_the_community_page_shows_courses_and_wishes_beside_the_gaps(official, scene):
    community, wishes = scene["community"], scene["wishes"]

    response = english(official).get(page_of(community))

    assert response.status_code == 200
    text = response.content.decode()
    assert re.search(r'<h2 id="demand-title">Courses and residents(\'|&#x27;) wishes</h2>', text)
    assert response.context["demand"].waiting == 1
    assert "3 of 7" in text and "42% full" in text
    # The top wishes link to their pages; done and declined ones are not listed.
    for key in ("canteen", "barber", "care"):
        assert f'href="{wishes[key].get_absolute_url()}"' in text
    assert "书法班" not in text and "上门助浴" not in text
    # The canteen wish names a service that leaves residents of this community out.
    gaps = response.context["wished_gaps"]
    assert [(g.service.code, g.cell.uncovered) for g in gaps] == [
        ("canteen", 700),
        ("children", 1900),
        ("barber", 1900),
    ]
    assert "Wished for, and a gap here:" in text
    assert "a gap, 700 residents beyond the walk" in text
    assert f"?community={community.slug}" in text


def test_with_the_plan_a_wished_for_service_may_no_longer_be_a_gap(official, scene, far_compound):
    from facilities.models import Facility
    from tests.facilities.conftest import category, place

    place(
        far_compound,
        east=50,
        community=far_compound.community,
        category=category("canteen"),
        name="规划食堂",
        status=Facility.Status.PLANNED,
    )
    client = client_for(official)

    today = client.get(page_of(scene["community"]))
    planned = client.get(page_of(scene["community"]), {"plan": "on"})

    assert "canteen" in [g.service.code for g in today.context["wished_gaps"]]
    assert "canteen" not in [g.service.code for g in planned.context["wished_gaps"]]


def test_a_wish_counts_for_the_service_it_names_and_only_one_without_goes_by_its_title(
    official, compound_a, far_compound, canteen_a
):
    from facilities.models import Category

    community = compound_a.community
    blood_pressure = wish(community, "service", "能量个血压就好", supporters=2)  # no words match
    canteen_words = wish(community, "facility", "想要一个社区食堂", supporters=1)
    wish(community, "facility", "想要托儿所")
    Wish.objects.filter(pk=blood_pressure.pk).update(
        category=Category.objects.get(code="health_station")
    )
    Wish.objects.filter(pk=canteen_words.pk).update(category=Category.objects.get(code="barber"))

    response = client_for(official).get(page_of(community))

    top = response.context["demand"].top
    assert [w.codes for w in top] == [("health_station",), ("barber",), ("nursery",)]
    # The canteen leaves 700 residents out, but the wish that says 食堂 is counted for the barber.
    gaps = response.context["wished_gaps"]
    assert [(g.service.code, g.cell.uncovered) for g in gaps] == [
        ("health_station", 1900),
        ("nursery", 1900),
        ("barber", 1900),
    ]
    rows = {
        row.wish.title: [n.service.code for n in row.named] for row in response.context["wishes"]
    }
    assert rows["想要一个社区食堂"] == ["barber"]


def test_a_category_set_later_shows_on_the_next_page_view(official, compound_a, canteen_a):
    from facilities.models import Category

    community = compound_a.community
    posted = wish(community, "service", "能量个血压就好")
    client = client_for(official)
    assert client.get(page_of(community)).context["wished_gaps"] == []

    posted.category = Category.objects.get(code="health_station")
    posted.save()

    gaps = client.get(page_of(community)).context["wished_gaps"]
    assert [g.service.code for g in gaps] == ["health_station"]


def test_when_every_top_wish_names_its_service_the_categories_words_are_not_read(
    compound_a, django_assert_num_queries
):
    from facilities.models import Category

    community = compound_a.community
    posted = wish(community, "facility", "想要一个社区食堂")
    Wish.objects.filter(pk=posted.pk).update(category=Category.objects.get(code="canteen"))

    # The classes, the enrolments, the wishes by kind and the top wishes with their category.
    with django_assert_num_queries(4):
        demand = report_data.read_demand([community.id])[community.id]

    assert [w.codes for w in demand.top] == [("canteen",)]


def test_the_section_is_in_chinese_by_default(official, scene):
    response = client_for(official).get(page_of(scene["community"]))

    text = response.content.decode()
    assert '<html lang="zh-hans"' in text
    assert 'id="demand-title"' in text
    # Service names, wish kinds and statuses come in Chinese.
    canteen = next(g for g in response.context["wished_gaps"] if g.service.code == "canteen")
    assert canteen.service.name == "社区食堂"
    assert "<li>社区食堂：" in text or "<li>社区食堂:" in text
    assert ">设施<" in text  # the kind "facility"
    assert "Community canteen" not in text


def test_an_enrolment_shows_on_the_next_page_view_without_gathering_the_area_again(official, scene):
    client = client_for(official)
    url = page_of(scene["community"])
    assert client.get(url).context["demand"].waiting == 1
    assert client.get(url).status_code == 200  # now served whole from the cache

    enrolment.enrol(residents(1, start=13400000000)[0], scene["photography"])

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.context["demand"].waiting == 2
    # The coverage stays as cached: no compound is read again.
    assert not any('"communities_residentialcompound"' in q["sql"] for q in queries)
    # The session, the user, its authenticator, the scope, the mark, and the five queries of
    # the figures.
    assert len(queries) <= 10


def test_a_cancelled_seat_goes_to_the_first_waiting_and_the_figures_follow(official, scene):
    client = client_for(official)
    url = page_of(scene["community"])
    before = client.get(url).context["demand"]
    assert (before.waiting, before.full) == (1, 1)

    seat = scene["photography"].enrolments.get(user=scene["people"][0])
    enrolment.cancel(seat)

    after = client.get(url).context["demand"]
    assert (after.waiting, after.full, after.enrolled) == (0, 1, 3)
    assert after.residents == 3  # the one moved up has a seat; the one who left keeps 烹饪


def test_a_new_wish_and_a_new_supporter_show_on_the_next_page_view(official, scene):
    client = client_for(official)
    url = page_of(scene["community"])
    assert client.get(url).context["demand"].open_wishes == 3

    wish(scene["community"], "course", "电钢琴进阶班")
    Wish.add_support(scene["wishes"]["care"].pk, residents(1, start=13300000000)[0])

    demand = client.get(url).context["demand"]
    assert demand.open_wishes == 4
    assert demand.wishes_of("service").support == 3


def test_a_term_that_has_ended_drops_out_the_next_day(official, scene):
    term = CourseClass.objects.get(pk=scene["photography"].pk).course.term
    client = client_for(official)
    url = page_of(scene["community"])
    assert client.get(url).context["demand"].classes == 2

    # The last day passes: the date in the mark moves on with it.
    Term.objects.filter(pk=term.pk).update(ends_on=timezone.localdate() - timedelta(days=1))

    assert client.get(url).context["demand"].classes == 0


def test_the_figures_are_read_again_at_least_every_bound(official, scene, monkeypatch):
    """A writer that commits an event below one already read moves no maximum: the time slot in
    the mark still brings the figures up to date within DEMAND_BOUND_S."""
    client = english(official)
    url = page_of(scene["community"])

    def waiting() -> int:
        text = client.get(url).content.decode()
        return int(re.search(r"<dt>On waiting lists</dt><dd>(\d+)</dd>", text)[1])

    assert waiting() == 1
    # A change the mark cannot see (no event: written behind the trail's back).
    seat = scene["cooking"].enrolments.get()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no trigger fires
        try:
            cursor.execute(
                "UPDATE courses_enrolment SET status = 'waitlisted' WHERE id = %s", [seat.pk]
            )
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")

    assert waiting() == 1  # the page, cached under the same mark
    slot = report_data._slot() + 1
    monkeypatch.setattr(report_data, "_slot", lambda: slot)
    assert waiting() == 2


# ---- the overview, the matrix and the export ----


def test_the_overview_puts_waiting_lists_and_wishes_beside_the_gaps(official, scene):
    response = english(official).get(OVERVIEW)

    report = response.context["report"]
    assert (report.demand.classes, report.demand.waiting, report.demand.open_wishes) == (2, 1, 3)
    [row] = report.busiest
    assert row.place.name == "新竹社区"
    # Every required service but the canteen leaves everyone out; the canteen 700 of them.
    assert row.gaps == len(report.categories)
    [community] = report.communities
    assert (community.demand.enrolled, community.demand.waiting) == (3, 1)
    text = response.content.decode()
    assert "Where residents wait for a class or wish for something, beside the gaps" in text
    assert f'href="{page_of(scene["community"])}"' in text


def test_the_matrix_sorts_by_people_waiting(official, scene, subdistrict):
    quiet = Community.objects.create(
        subdistrict=subdistrict, name="安静社区", latitude=43.87, longitude=125.26
    )
    client = client_for(official)

    rows = client.get(MATRIX, {"sort": "waiting", "order": "desc"}).context["rows"]
    assert [r.place.name for r in rows] == ["新竹社区", quiet.name]
    assert [r.demand.waiting for r in rows] == [1, 0]
    rows = client.get(MATRIX, {"sort": "wishes"}).context["rows"]
    assert [r.place.name for r in rows] == [quiet.name, "新竹社区"]


def test_the_matrix_export_holds_the_course_and_wish_figures(official, scene):
    url = reverse("reports:export-csv", args=["matrix"])
    client = english(official)

    response = client.get(url)

    header, row = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    figures = dict(zip(header, row, strict=True))
    assert figures["Community"] == "新竹社区"
    assert figures["Classes in current terms"] == "2"
    assert (figures["Seats"], figures["Seats taken"], figures["Full classes"]) == ("7", "3", "1")
    assert (figures["On waiting lists"], figures["Residents with a seat"]) == ("1", "2")
    assert figures["Open wishes: Facility"] == "2"
    assert figures["Open wishes: Service"] == "1"
    assert figures["Open wishes: Course"] == "0"
    assert figures["Supporters of open wishes"] == "8"

    # An enrolment shows in the next download too.
    enrolment.enrol(residents(1, start=13200000000)[0], scene["photography"])
    header, row = list(csv.reader(io.StringIO(client.get(url).getvalue().decode("utf-8-sig"))))
    assert dict(zip(header, row, strict=True))["On waiting lists"] == "2"


# ---- scope ----


def test_an_official_sees_only_their_own_districts_figures(
    official, other_district, scene, elsewhere
):
    mine = client_for(official)
    overview = mine.get(OVERVIEW)
    assert [r.place.name for r in overview.context["report"].busiest] == ["新竹社区"]
    assert overview.context["report"].demand.waiting == 1  # not 石油社区's
    for url in (OVERVIEW, MATRIX, reverse("reports:export-csv", args=["matrix"])):
        assert "石油社区" not in mine.get(url).getvalue().decode("utf-8-sig")
    assert mine.get(page_of(elsewhere)).status_code == 404

    theirs = client_for(other_official(other_district))
    report = theirs.get(OVERVIEW).context["report"]
    assert [r.place.name for r in report.busiest] == ["石油社区"]
    assert (report.demand.waiting, report.demand.full, report.demand.open_wishes) == (1, 1, 1)
    page = theirs.get(page_of(elsewhere))
    assert "石油社区的游泳馆" in page.content.decode()
    assert "想要一个社区食堂" not in page.content.decode()
    assert theirs.get(page_of(scene["community"])).status_code == 404


def test_staff_see_their_own_community_and_residents_get_403(staff_b, resident, elsewhere):
    assert client_for(staff_b).get(page_of(elsewhere)).context["demand"].waiting == 1
    assert client_for(resident).get(page_of(elsewhere)).status_code == 403
