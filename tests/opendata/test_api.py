"""The open-data API over the demo data: what each list holds, the query parameters, hours,
prices and seats as HSDS has them, bad parameters, methods, headers and query counts."""

import time as clock
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Community, ResidentialCompound
from courses.models import Course, CourseClass
from facilities.models import Category, Facility, HoursException, OpeningHours, SeniorPrice
from opendata import hsds
from opendata.query import MAX_PER_PAGE
from portal.lib import geo
from tests.opendata.conftest import API, DETAILS, get, validate, walk

pytestmark = pytest.mark.django_db

DAYS = hsds.DAYS


def ids(items: list[dict]) -> set[str]:
    return {item["id"] for item in items}


def facility_services(facilities) -> set[str]:
    return {hsds.facility_service_id(pk) for pk in facilities.values_list("pk", flat=True)}


# ---- what the lists hold ----


def test_services_are_the_operating_facilities_and_the_current_courses(api):
    services = ids(walk(api, "services", {"per_page": 100}))
    operating = Facility.objects.operating()
    assert facility_services(operating) <= services
    hidden = Facility.objects.exclude(pk__in=operating)
    assert hidden.filter(status="planned").exists() and hidden.filter(status="closed").exists()
    assert not facility_services(hidden) & services
    courses = {
        c.course_id
        for c in CourseClass.objects.filter(course__term__ends_on__gte=timezone.localdate())
    }
    assert courses and {hsds.course_service_id(pk) for pk in courses} <= services
    assert len(services) == operating.count() + len(courses)


def test_a_planned_facility_has_no_document(api):
    planned = Facility.objects.filter(status="planned").first()
    response = api.get(f"{API}services/{hsds.facility_service_id(planned.pk)}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json()["error"]


def test_a_paused_facility_is_temporarily_closed(api):
    paused = Facility.objects.filter(status="paused").first()
    service = get(api, f"services/{hsds.facility_service_id(paused.pk)}")
    assert service["status"] == "temporarily closed"


def test_courses_of_ended_terms_are_left_out(api):
    course_class = CourseClass.objects.select_related("course__term").first()
    term = course_class.course.term
    term.starts_on, term.ends_on = date(2020, 3, 1), date(2020, 7, 1)
    term.save()
    services = ids(walk(api, "services", {"per_page": 100}))
    assert hsds.course_service_id(course_class.course_id) not in services
    response = api.get(f"{API}services/{hsds.course_service_id(course_class.course_id)}")
    assert response.status_code == 404


def test_organizations_are_the_communities(api):
    organizations = walk(api, "organizations", {"per_page": 100})
    assert ids(organizations) == {
        hsds.organization_id(pk) for pk in Community.objects.values_list("pk", flat=True)
    }
    assert {"林园社区", "新竹社区"} <= {o["name"] for o in organizations}


def test_taxonomy_terms_are_the_categories_and_the_courses_subjects_and_audiences(api):
    terms = walk(api, "taxonomy_terms", {"taxonomy_id": hsds.TAXONOMY_ID})
    assert {t["code"] for t in terms} == set(Category.objects.values_list("code", flat=True))
    canteen = get(api, f"taxonomy_terms/{hsds.term_id('canteen')}")
    assert (canteen["name"], canteen["taxonomy_detail"]["id"]) == ("社区食堂", hsds.TAXONOMY_ID)
    assert walk(api, "taxonomy_terms", {"taxonomy_id": hsds.term_id("canteen")}) == []
    subjects, audiences = hsds.course_taxonomy_id("subject"), hsds.course_taxonomy_id("audience")
    assert ids(walk(api, "taxonomies")) == {hsds.TAXONOMY_ID, subjects, audiences}
    by_taxonomy = {
        taxonomy: walk(api, "taxonomy_terms", {"taxonomy_id": taxonomy})
        for taxonomy in (subjects, audiences)
    }
    assert {t["code"] for t in by_taxonomy[subjects]} == {
        f"subject:{value}" for value in Course.Subject.values
    }
    assert {t["code"]: t["name"] for t in by_taxonomy[audiences]}["audience:senior"] == "老年人"
    every = walk(api, "taxonomy_terms", {"per_page": 100})
    assert len(every) == len(terms) + len(Course.Subject) + len(Course.Audience)
    found = walk(api, "taxonomy_terms", {"search": "photography"})
    assert [t["code"] for t in found] == ["subject:photography"]


def test_courses_are_found_by_their_subject_and_audience(api):
    photography = hsds.course_term_id("subject", "photography")
    found = walk(api, "services", {"taxonomy_term_id": photography})
    expected = CourseClass.objects.filter(
        course__subject="photography", course__term__ends_on__gte=timezone.localdate()
    ).values_list("course_id", flat=True)
    assert found and ids(found) == {hsds.course_service_id(pk) for pk in expected}
    detail = get(api, f"services/{found[0]['id']}")
    terms = {a["taxonomy_term_id"] for a in detail["attributes"]}
    audience = Course.objects.get(pk=hsds.key_of("course_service", found[0]["id"])).audience
    assert terms == {photography, hsds.course_term_id("audience", audience)}
    term = get(api, f"taxonomy_terms/{photography}")
    assert term["taxonomy_detail"]["id"] == hsds.course_taxonomy_id("subject")
    seniors = walk(api, "services", {"taxonomy_term_id": hsds.course_term_id("audience", "senior")})
    assert seniors and all(hsds.key_of("course_service", s["id"]) for s in seniors)


# ---- query parameters ----


def test_pages_cover_the_list_once_in_order(api):
    small = [s["id"] for s in walk(api, "services", {"per_page": 13})]
    large = [s["id"] for s in walk(api, "services", {"per_page": MAX_PER_PAGE})]
    assert small == large and len(small) == len(set(small))


def test_a_category_filters_the_facilities_that_count_for_it(api):
    canteen = Category.objects.get(code="canteen")
    found = walk(api, "services", {"taxonomy_term_id": hsds.term_id("canteen")})
    assert ids(found) == facility_services(Facility.objects.operating().in_category(canteen))
    for service in found[:5]:
        detail = get(api, f"services/{service['id']}")
        assert hsds.term_id("canteen") in {a["taxonomy_term_id"] for a in detail["attributes"]}


def test_everyday_words_and_pinyin_find_the_canteens(api):
    canteens = facility_services(
        Facility.objects.operating().in_category(Category.objects.get(code="canteen"))
    )
    assert canteens <= ids(walk(api, "services", {"search": "吃饭"}))
    assert canteens <= ids(walk(api, "services", {"search": "chifan"}))
    assert ids(walk(api, "services", {"search": "书法"})) >= {
        hsds.course_service_id(c.course_id) for c in CourseClass.objects.filter(course__name="书法")
    }


def test_an_organization_filters_its_services(api):
    linyuan = Community.objects.get(name="林园社区")
    found = walk(api, "services", {"organization_id": hsds.organization_id(linyuan.pk)})
    assert found and {s["organization_id"] for s in found} == {hsds.organization_id(linyuan.pk)}
    assert facility_services(Facility.objects.operating().filter(community=linyuan)) <= ids(found)


def test_modified_after_lists_what_changed_since(api):
    before = timezone.now()
    clock.sleep(0.01)
    facility = Facility.objects.operating().order_by("pk").first()
    OpeningHours.objects.filter(facility=facility).first().delete()  # an hours edit counts too
    found = walk(api, "services", {"modified_after": before.isoformat()})
    assert ids(found) == {hsds.facility_service_id(facility.pk)}
    assert datetime.fromisoformat(found[0]["last_modified"]) >= before.replace(microsecond=0)
    assert len(walk(api, "services", {"modified_after": "2020-01-01"})) > 300


def test_proximity_lists_what_lies_within_nearest_first(api):
    compound = ResidentialCompound.objects.get(name="林园小区")
    found = walk(api, "service_at_locations", {"compound": compound.pk, "proximity": 500})
    distances = [s["distance"] for s in found]
    assert distances == sorted(distances) and found and max(distances) <= 500
    for item in found:
        location = item["location"]
        exact = geo.distance_m(compound.point, (location["latitude"], location["longitude"]))
        assert abs(exact - item["distance"]) <= 1
    near = Facility.objects.operating().near(compound.point, 500)
    assert {hsds.facility_sal_id(pk) for pk in near.values_list("pk", flat=True)} <= ids(found)
    by_point = walk(
        api,
        "service_at_locations",
        {"lat": compound.latitude, "lng": compound.longitude, "proximity": 500},
    )
    assert [s["id"] for s in by_point] == [s["id"] for s in found]


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("services", {}),
        ("service_at_locations", {}),
        ("service_at_locations", {"compound": None, "proximity": 3000}),
    ],
)
def test_small_pages_cut_the_same_list_as_one_large_page(api, endpoint, params):
    """The database cuts the pages, facilities first and courses after (or all nearest first):
    small pages cross from facilities to courses mid-page and must neither lose nor repeat one."""
    if "compound" in params:
        params["compound"] = ResidentialCompound.objects.get(name="林园小区").pk
    whole = [item["id"] for item in walk(api, endpoint, {**params, "per_page": MAX_PER_PAGE})]
    facilities = Facility.objects.operating().count()
    size = next(n for n in (7, 6, 5) if facilities % n)  # a page that holds both kinds
    in_small_pages = [item["id"] for item in walk(api, endpoint, {**params, "per_page": size})]
    assert in_small_pages == whole and len(set(whole)) == len(whole)
    if endpoint == "services":
        courses = [i for i, id_ in enumerate(whole) if hsds.key_of("course_service", id_)]
        assert len(whole) - len(courses) == facilities
        assert courses == list(range(facilities, len(whole)))  # after every facility


def test_ids_carry_their_keys_and_their_kind():
    for kind in ("organization", "facility_service", "course_service", "facility_sal"):
        for key in (1, 4096, 2**40 + 3):
            id_ = hsds.keyed_id(kind, key)
            assert hsds.key_of(kind, id_) == key and hsds.key_of(kind, id_.upper()) == key
            others = set(hsds.KINDS) - {kind}
            assert all(hsds.key_of(other, id_) is None for other in others)
    assert hsds.key_of("course_sal", hsds.course_sal_id(12, 34)) == (12, 34)
    assert hsds.key_of("facility_service", hsds.uid("service", "facility", 1)) is None
    assert hsds.key_of("facility_service", "not-a-uuid") is None
    with pytest.raises(ValueError, match="out of range"):
        hsds.keyed_id("organization", 2**62)


def test_an_id_of_another_kind_or_a_hidden_object_answers_404(api):
    facility = Facility.objects.operating().first()
    planned = Facility.objects.filter(status="planned").first()
    community = Community.objects.first()
    for path in [
        f"services/{hsds.organization_id(community.pk)}",
        f"services/{hsds.facility_sal_id(facility.pk)}",
        f"services/{hsds.facility_service_id(planned.pk)}",
        f"services/{hsds.facility_service_id(10**12)}",
        f"service_at_locations/{hsds.facility_service_id(facility.pk)}",
        f"service_at_locations/{hsds.course_sal_id(1, facility.pk)}",
        f"organizations/{hsds.facility_service_id(community.pk)}",
        f"taxonomies/{hsds.term_id('canteen')}",
    ]:
        response = api.get(API + path)
        assert response.status_code == 404 and response.json()["error"], path
    upper = get(api, f"services/{hsds.facility_service_id(facility.pk).upper()}")
    assert upper["id"] == hsds.facility_service_id(facility.pk)


def test_courses_are_offered_where_their_classes_meet(api):
    course_class = CourseClass.objects.filter(course__name="摄影").first()
    found = walk(api, "service_at_locations", {"search": "摄影"})
    pair = hsds.course_sal_id(course_class.course_id, course_class.facility_id)
    assert pair in ids(found)
    detail = get(api, f"service_at_locations/{pair}")
    assert detail["location"]["name"] == course_class.facility.name
    assert detail["service"]["name"] == "摄影"


# ---- hours, prices, seats ----


def test_opening_hours_are_schedules(api):
    facility = Facility.objects.operating().filter(hours__isnull=False).first()
    tomorrow = timezone.localdate() + timedelta(days=1)
    HoursException.objects.create(facility=facility, start_date=tomorrow, note="设备检修")
    service = get(api, f"services/{hsds.facility_service_id(facility.pk)}")
    schedules = service["service_at_locations"][0]["schedules"]
    weekly = {
        (DAYS.index(day), s["opens_at"], s["closes_at"])
        for s in schedules
        if s.get("freq") == "WEEKLY" and "valid_from" not in s
        for day in s["byday"].split(",")
    }
    rows = {(h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for h in facility.hours.all()}
    assert weekly == rows
    closed = [s for s in schedules if s.get("description") == "closed"]
    assert {(s["valid_from"], s["valid_to"], s["notes"]) for s in closed} >= {
        (tomorrow.isoformat(), tomorrow.isoformat(), "设备检修")
    }


def test_senior_prices_are_cost_options(api):
    price = SeniorPrice.objects.select_related("facility").filter(facility__status="open").first()
    service = get(api, f"services/{hsds.facility_service_id(price.facility_id)}")
    options = {o["option"]: o for o in service["cost_options"]}
    option = options[f"{price.kind}, age {price.band}"]
    assert (option["amount"], option["currency"]) == (float(price.price), "CNY")
    assert len(options) == price.facility.senior_prices.count()


def test_class_seats_are_the_course_capacity(api):
    full = CourseClass.objects.get(course__name="视频剪辑")
    service = get(api, f"services/{hsds.course_service_id(full.course_id)}")
    capacities = {c["id"]: c for c in service["capacities"]}
    seats = capacities[hsds.uid("service_capacity", "class", full.pk)]
    assert (seats["available"], seats["maximum"]) == (0, full.capacity)
    beginners = CourseClass.objects.get(course__name="摄影", level="初级")
    service = get(api, f"services/{hsds.course_service_id(beginners.course_id)}")
    seats = {c["id"]: c for c in service["capacities"]}[
        hsds.uid("service_capacity", "class", beginners.pk)
    ]
    assert (seats["available"], seats["maximum"]) == (1, 6)
    meetings = [s for sal in service["service_at_locations"] for s in sal["schedules"]]
    assert hsds.uid("schedule", "class", beginners.pk) in ids(meetings)
    validate(service, DETAILS["services"])


# ---- bad parameters, methods, headers ----

BAD = [
    {"page": "x"},
    {"page": "0"},
    {"page": "9" * 5000},
    {"per_page": str(MAX_PER_PAGE + 1)},
    {"per_page": "-3"},
    {"modified_after": "yesterday"},
    {"modified_after": "2026-02-30T10:00:00"},
    {"search": "食堂\x00"},
    {"search": "长" * 10_000},
    {"taxonomy_term_id": "canteen"},
    {"organization_id": "0" * 40},
    {"lat": "91", "lng": "125", "proximity": "500"},
    {"lat": "nan", "lng": "125", "proximity": "500"},
    {"lat": "43.9", "lng": "inf", "proximity": "500"},
    {"lat": "43.9", "proximity": "500"},
    {"lat": "43.9", "lng": "125.2"},
    {"proximity": "500"},
    {"proximity": "1e400", "lat": "43.9", "lng": "125.2"},
    {"compound": "99999999999999999999999", "proximity": "500"},
    {"compound": "999999", "proximity": "500"},
]


@pytest.mark.parametrize("endpoint", ["services", "service_at_locations", "organizations"])
def test_bad_query_parameters_answer_400_in_json(api, endpoint):
    for params in BAD:
        response = api.get(API + endpoint, params)
        assert response.status_code == 400, (endpoint, params)
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["error"] and body.get("fields"), (params, body)


def test_too_many_parameters_answer_400_in_json(api):
    response = api.get(API + "services?" + "&".join(f"x{i}=1" for i in range(1200)))
    assert response.status_code == 400 and response.json()["error"]


def test_unknown_and_malformed_ids_answer_404_in_json(api):
    for endpoint in DETAILS:
        for id_ in (hsds.uid("nothing", endpoint), "not-a-uuid"):
            response = api.get(f"{API}{endpoint}/{id_}")
            assert response.status_code == 404 and response.json()["error"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get_is_allowed(api, method):
    response = getattr(api, method)(API + "services", {"name": "x"})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD" and response.json()["error"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_responses_are_public_json_cached_a_few_minutes(api):
    response = api.get(API + "services")
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=300"}
    assert "林园社区".encode() in response.content  # UTF-8, not \\u escapes
    assert "Set-Cookie" not in response.headers
    head = api.head(API + "services")
    assert head.status_code == 200 and head["Content-Type"] == "application/json"


# ---- query counts ----


def _count(api, path: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        get(api, path, params)
    return len(queries)


@pytest.mark.parametrize(
    ("endpoint", "params", "most"),
    [
        ("services", {}, 4),
        (
            "services",
            {"search": "吃饭", "organization_id": None, "modified_after": "2020-01-01"},
            6,
        ),
        ("service_at_locations", {}, 4),
        ("service_at_locations", {"compound": None, "proximity": 2000}, 7),
        ("organizations", {}, 2),
        ("taxonomy_terms", {"search": "食"}, 2),
        ("taxonomies", {}, 0),
    ],
)
def test_a_list_reads_a_fixed_number_of_queries_whatever_the_page_size(
    api, endpoint, params, most, django_assert_max_num_queries
):
    if "organization_id" in params:
        params["organization_id"] = hsds.organization_id(Community.objects.get(name="林园社区").pk)
    if "compound" in params:
        params["compound"] = ResidentialCompound.objects.get(name="林园小区").pk
    one = _count(api, endpoint, {**params, "per_page": 1})
    with django_assert_max_num_queries(most):
        get(api, endpoint, {**params, "per_page": MAX_PER_PAGE})
    assert _count(api, endpoint, {**params, "per_page": MAX_PER_PAGE, "page": 2}) <= one


def test_an_answer_is_kept_for_the_minute_and_an_edit_shows_at_once(api, django_assert_num_queries):
    facility = Facility.objects.operating().order_by("pk").first()
    path = f"services/{hsds.facility_service_id(facility.pk)}"
    first = get(api, path)
    with django_assert_num_queries(0):
        assert get(api, path) == first
    facility.name = "更名后的甲乙丙"
    facility.save()
    assert get(api, path)["name"] == "更名后的甲乙丙"
    listed = walk(api, "services", {"search": "更名后的甲乙丙"})
    assert [s["id"] for s in listed] == [first["id"]]
    # Another host's answer is its own: documents hold absolute URLs.
    other = api.get(API + path, headers={"host": "localhost"})
    assert other.status_code == 200 and "http://localhost/" in other.json()["url"]


def test_a_document_reads_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    facility = Facility.objects.operating().filter(category__code="canteen").first()
    course = CourseClass.objects.get(course__name="视频剪辑")
    for path, most in [
        (f"services/{hsds.facility_service_id(facility.pk)}", 6),
        (f"services/{hsds.course_service_id(course.course_id)}", 4),
        (f"service_at_locations/{hsds.facility_sal_id(facility.pk)}", 6),
        (f"service_at_locations/{hsds.course_sal_id(course.course_id, course.facility_id)}", 5),
        (f"organizations/{hsds.organization_id(facility.community_id)}", 2),
        (f"taxonomy_terms/{hsds.term_id('canteen')}", 2),
    ]:
        with django_assert_max_num_queries(most):
            get(api, path)
