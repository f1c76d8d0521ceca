"""Our public data as Open Referral HSDS 3.1 objects.

- organization: a community (社区) and its residents' committee, which keeps the data;
- service: a facility's service, or a course;
- location: a facility's place (and a community's office, on its organization);
- service_at_location: a facility's service in its own place, or a course in a facility where
  its classes meet;
- schedule: weekly opening hours, dated exceptions, a class's weekly meetings;
- cost_option: senior meal prices by age, a course's fee; service_capacity: a class's seats;
- taxonomy and taxonomy_term: the categories of the living circle (facilities/taxonomy.py).

Plain functions from model instances, whose related rows the views have already loaded, to
dicts: no query here. Strings are our data as stored (Chinese names); the few fixed words
("closed", "term fee") are API vocabulary, not translated. A field we have no value for is left
out rather than sent as null: the schemas type every field, and null is none of their types.

Ids are UUIDs, as HSDS asks (``format: uuid``), and an object keeps its id from one request,
restart or export to the next. The objects the API looks up again by id (organizations, services,
services at locations) carry their kind and primary keys inside a version 8 UUID (RFC 9562's own
layout), so a lookup reads the key straight out of the id: one indexed query, however many
facilities the city has. Everything else (taxonomy terms by their code, locations, schedules,
costs) has a version 5 UUID over a project namespace and a name made of its kind and keys.
"""

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, time

from django.urls import reverse
from django.utils import timezone, translation

from communities.models import Community
from courses.models import Course, CourseClass
from facilities.models import Category, Facility, HoursException, SeniorPrice

VERSION = "3.1"
PROFILE = "https://docs.openreferral.org/en/latest/"
NAMESPACE = uuid.UUID("6f0c1d52-3b7e-4c59-9a51-2f4e8d0b7a13")  # this portal's, chosen once
TAXONOMY_NAME = "完整社区设施分类"
TAXONOMY_DESCRIPTION = (
    "The categories of the 15-minute living circle kept by the Complete Community Portal: "
    "GB 50180-2018 life circles and the MOHURD complete-community guide."
)
UTC_OFFSET = 8  # facilities.hours.TZ, Asia/Shanghai: no daylight saving time
CURRENCY = "CNY"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # iCalendar weekdays; ours count from Monday
EVERY_DAY = ",".join(DAYS)
ACCESSIBILITY = ("step_free_entrance", "lift", "accessible_toilet", "seating", "hearing_loop")
STATUS = {Facility.Status.OPEN: "active", Facility.Status.TEMPORARILY_CLOSED: "temporarily closed"}

Absolute = Callable[[str], str]  # a site path to an absolute URL (request.build_absolute_uri)


def uid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def compact(fields: dict) -> dict:
    """The fields that have a value."""
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def _time(t: time) -> str:
    return f"{t:%H:%M}"


def _moment(at: datetime | None) -> str | None:
    return timezone.localtime(at).isoformat(timespec="milliseconds") if at else None


# ---- ids of the objects the API lists (and looks up again by id) ----

# A version 8 UUID's 128 bits: 48 of ours (``a``), the version (8), 12 of ours (``b``), the variant
# (binary 10), 62 of ours (``c``). ``b`` holds the kind; ``c`` the primary key; ``a`` this portal's
# tag, or for a course in a facility the course's key (``c`` then holding the facility's).
TAG = 0x6F0C1D523B7E
KINDS = {
    "organization": 1,
    "facility_service": 2,
    "course_service": 3,
    "facility_sal": 4,
    "course_sal": 5,
}
_A, _B, _C = 48, 12, 62


def keyed_id(kind: str, key: int, high: int = TAG) -> str:
    if not (0 <= key < 1 << _C and 0 <= high < 1 << _A):
        raise ValueError(f"key out of range for an id: {high}, {key}")
    bits = high << 80 | 0x8 << 76 | KINDS[kind] << 64 | 0b10 << 62 | key
    return str(uuid.UUID(int=bits))


def normal_id(id_: str) -> str:
    """The id in the form we write it (lower case, hyphens), "" when it is no UUID."""
    try:
        return str(uuid.UUID(id_))
    except ValueError:
        return ""


def key_of(kind: str, id_: str) -> int | tuple[int, int] | None:
    """The primary key (a course in a facility: the course's and the facility's) inside an id
    that ``keyed_id`` made for ``kind``; None for any other id."""
    try:
        bits = uuid.UUID(id_).int
    except ValueError:
        return None
    version, variant = bits >> 76 & 0xF, bits >> 62 & 0b11
    if version != 8 or variant != 0b10 or bits >> 64 & 0xFFF != KINDS[kind]:
        return None
    high, key = bits >> 80, bits & ((1 << _C) - 1)
    if kind == "course_sal":
        return high, key
    return key if high == TAG else None


def organization_id(community_id: int) -> str:
    return keyed_id("organization", community_id)


def facility_service_id(facility_id: int) -> str:
    return keyed_id("facility_service", facility_id)


def course_service_id(course_id: int) -> str:
    return keyed_id("course_service", course_id)


def location_id(facility_id: int) -> str:
    return uid("location", "facility", facility_id)


def facility_sal_id(facility_id: int) -> str:
    return keyed_id("facility_sal", facility_id)


def course_sal_id(course_id: int, facility_id: int) -> str:
    return keyed_id("course_sal", facility_id, high=course_id)


TAXONOMY_ID = uid("taxonomy", "categories")


def term_id(code: str) -> str:
    return uid("taxonomy_term", code)


# ---- taxonomy ----


def taxonomy() -> dict:
    return {"id": TAXONOMY_ID, "name": TAXONOMY_NAME, "description": TAXONOMY_DESCRIPTION}


# Courses are classified twice: by what they teach and by whom they are for. Their terms are the
# portal's fixed choices (courses.models.Course), named in Chinese with the English as the
# description, like the categories.
COURSE_TAXONOMIES = {
    "subject": (
        "课程科目",
        "What a community course teaches (Complete Community Portal).",
        Course.Subject,
    ),
    "audience": (
        "课程对象",
        "Whom a community course is for: seniors, children and young people, parents with "
        "children, everyone (Complete Community Portal).",
        Course.Audience,
    ),
}


def course_taxonomy_id(field: str) -> str:
    return uid("taxonomy", "course", field)


def course_term_id(field: str, value: str) -> str:
    return uid("taxonomy_term", "course", field, value)


def course_taxonomy(field: str) -> dict:
    name, description, _choices = COURSE_TAXONOMIES[field]
    return {"id": course_taxonomy_id(field), "name": name, "description": description}


def taxonomies() -> list[dict]:
    return [taxonomy(), *(course_taxonomy(field) for field in COURSE_TAXONOMIES)]


def course_term(field: str, value: str, *, full: bool = False) -> dict:
    choices = COURSE_TAXONOMIES[field][2]
    with translation.override("zh-hans"):
        name = str(choices(value).label)
    with translation.override("en"):
        description = str(choices(value).label)
    term = {
        "id": course_term_id(field, value),
        "code": f"{field}:{value}",
        "name": name,
        "description": description,
        "taxonomy": COURSE_TAXONOMIES[field][0],
        "taxonomy_id": course_taxonomy_id(field),
        "language": "zh",
    }
    if full:
        term["taxonomy_detail"] = course_taxonomy(field)
    return term


def course_terms() -> list[dict]:
    return [
        course_term(field, value)
        for field, (_n, _d, choices) in COURSE_TAXONOMIES.items()
        for value in choices.values
    ]


def course_term_of(id_: str) -> tuple[str, str] | None:
    """The field and value of the course term with this id."""
    for field, (_n, _d, choices) in COURSE_TAXONOMIES.items():
        for value in choices.values:
            if course_term_id(field, value) == id_:
                return field, value
    return None


def taxonomy_term(category: Category, *, full: bool = False) -> dict:
    term = {
        "id": term_id(category.code),
        "code": category.code,
        "name": category.name_zh,
        "description": category.name_en,
        "taxonomy": TAXONOMY_NAME,
        "taxonomy_id": TAXONOMY_ID,
        "language": "zh",
    }
    if full:
        term["taxonomy_detail"] = taxonomy()
    return term


# ---- organizations ----


def _phones(id_: str, number: str, **link: str) -> list[dict]:
    return [{"id": id_, **link, "number": number}] if number else []


def _address(id_: str, street: str, community: Community, location: str | None = None) -> dict:
    district = community.subdistrict.district
    address = compact(
        {
            "id": id_,
            "location_id": location,
            "address_1": street,
            "city": district.city,
            "region": district.name,
            "state_province": district.province,
            "country": "CN",
            "address_type": "physical",
        }
    )
    address["postal_code"] = ""  # required by HSDS; the portal keeps no postal codes
    return address


def organization(community: Community, absolute: Absolute, *, full: bool = False) -> dict:
    """The community's residents' committee. Its description falls back to where it is."""
    place = community.subdistrict
    org_id = organization_id(community.pk)
    data = compact(
        {
            "id": org_id,
            "name": community.name,
            "description": community.description
            or f"{place.district.city}{place.district.name}{place.name}{community.name}",
            "website": absolute(community.get_absolute_url()),
        }
    )
    if full:
        data["phones"] = _phones(
            uid("phone", "community", community.pk), community.phone, organization_id=org_id
        )
        office = uid("location", "community", community.pk)
        address = uid("address", "community", community.pk)
        data["locations"] = [
            {
                "id": office,
                "location_type": "physical",
                "organization_id": org_id,
                "name": community.name,
                "latitude": community.latitude,
                "longitude": community.longitude,
                "addresses": [_address(address, community.office_address, community, office)]
                if community.office_address
                else [],
            }
        ]
    return data


# ---- locations ----


def location(facility: Facility, absolute: Absolute, *, full: bool = False) -> dict:
    loc_id = location_id(facility.pk)
    data = {
        "id": loc_id,
        "location_type": "physical",
        "url": absolute(facility.get_absolute_url()),
        "organization_id": organization_id(facility.community_id),
        "name": facility.name,
        "latitude": facility.latitude,
        "longitude": facility.longitude,
    }
    if full:
        data["addresses"] = (
            [
                _address(
                    uid("address", "facility", facility.pk),
                    facility.address,
                    facility.community,
                    loc_id,
                )
            ]
            if facility.address
            else []
        )
        with translation.override("en"):
            data["accessibility"] = [
                {
                    "id": uid("accessibility", facility.pk, field),
                    "location_id": loc_id,
                    "description": str(Facility._meta.get_field(field).verbose_name),
                }
                for field in ACCESSIBILITY
                if getattr(facility, field)
            ]
    return data


# ---- schedules ----


def _schedule(id_: str, **fields) -> dict:
    return compact({"id": id_, "timezone": UTC_OFFSET, **fields})


def opening_schedules(facility: Facility, links: dict) -> list[dict]:
    """The weekly hours, one schedule per opening range with the days it applies to, then the
    dated exceptions still to come (prefetched by the view). ``links`` are the ids the schedules
    hang off (service, location, service_at_location)."""
    days: dict[tuple[time, time], list[int]] = {}
    for row in facility.hours.all():
        days.setdefault((row.opens, row.closes), []).append(row.weekday)
    weekly = [
        _schedule(
            uid("schedule", "hours", facility.pk, _time(opens), _time(closes)),
            **links,
            freq="WEEKLY",
            wkst="MO",
            byday=",".join(DAYS[d] for d in sorted(set(weekdays))),
            opens_at=_time(opens),
            closes_at=_time(closes),
        )
        for (opens, closes), weekdays in sorted(days.items())
    ]
    return weekly + [exception_schedule(e, links) for e in facility.exceptions.all()]


def exception_schedule(exception: HoursException, links: dict) -> dict:
    """Dates on which the weekly hours do not apply: closed, or open at other times every day."""
    dated = {
        "valid_from": exception.start_date.isoformat(),
        "valid_to": exception.last_date.isoformat(),
        "notes": exception.note,
    }
    if exception.closed:
        return _schedule(
            uid("schedule", "exception", exception.pk), **links, **dated, description="closed"
        )
    return _schedule(
        uid("schedule", "exception", exception.pk),
        **links,
        **dated,
        freq="WEEKLY",
        wkst="MO",
        byday=EVERY_DAY,
        opens_at=_time(exception.opens),
        closes_at=_time(exception.closes),
    )


def class_schedule(course_class: CourseClass, links: dict) -> dict:
    """A class's weekly meeting from its first to its last date."""
    return _schedule(
        uid("schedule", "class", course_class.pk),
        **links,
        freq="WEEKLY",
        wkst="MO",
        byday=DAYS[course_class.weekday],
        opens_at=_time(course_class.starts_at),
        closes_at=_time(course_class.ends_at),
        dtstart=course_class.first_date.isoformat(),
        until=course_class.last_date.isoformat(),
        valid_from=course_class.first_date.isoformat(),
        valid_to=course_class.last_date.isoformat(),
        description=course_class.level,
        notes=course_class.room,
    )


# ---- services ----


def facility_service(facility: Facility, absolute: Absolute, *, full: bool = False) -> dict:
    """A facility's service. The list form holds the one-to-one fields and the organization;
    the full form adds phones, categories, prices and its place with the opening hours."""
    service_id = facility_service_id(facility.pk)
    data = compact(
        {
            "id": service_id,
            "organization_id": organization_id(facility.community_id),
            "name": facility.name,
            "description": facility.description,
            "url": absolute(facility.get_absolute_url()),
            "status": STATUS[facility.status],
            "fees_description": facility.price_notes,
            "last_modified": _moment(facility.changed),
            "organization": organization(facility.community, absolute),
        }
    )
    if full:
        data["phones"] = _phones(
            uid("phone", "facility", facility.pk), facility.phone, service_id=service_id
        )
        data["attributes"] = [
            {
                "id": uid("attribute", "facility", facility.pk, category.code),
                "link_id": service_id,
                "link_entity": "service",
                "taxonomy_term_id": term_id(category.code),
                "taxonomy_term": taxonomy_term(category),
            }
            for category in [facility.category, *facility.other_categories.all()]
        ]
        data["cost_options"] = [senior_price(p, service_id) for p in facility.senior_prices.all()]
        data["service_at_locations"] = [facility_service_at_location(facility, absolute, full=True)]
    return data


def senior_price(price: SeniorPrice, service_id: str) -> dict:
    return {
        "id": uid("cost_option", "senior", price.pk),
        "service_id": service_id,
        "option": f"{price.kind}, age {price.band}",
        "currency": CURRENCY,
        "amount": float(price.price),
        "amount_description": "senior meal price",
    }


def course_url(course: Course) -> str:
    return reverse("courses:detail", kwargs={"slug": course.slug})


def course_service(
    course: Course,
    absolute: Absolute,
    *,
    classes: Iterable[CourseClass] | None = None,
    now: datetime | None = None,
) -> dict:
    """A course. Given its classes (with their venues), the full form: a term fee, each class's
    seats as a capacity, and a service_at_location per venue with its classes' meetings."""
    service_id = course_service_id(course.pk)
    community = course.term.community
    data = compact(
        {
            "id": service_id,
            "organization_id": organization_id(community.pk),
            "name": course.name,
            "description": course.description,
            "url": absolute(course_url(course)),
            "status": "active",
            "last_modified": _moment(course.changed),
            "organization": organization(community, absolute),
        }
    )
    if classes is None:
        return data
    classes = list(classes)
    data["attributes"] = [
        {
            "id": uid("attribute", "course", course.pk, field),
            "link_id": service_id,
            "link_entity": "service",
            "taxonomy_term_id": course_term_id(field, getattr(course, field)),
            "taxonomy_term": course_term(field, getattr(course, field)),
        }
        for field in COURSE_TAXONOMIES
    ]
    data["cost_options"] = [
        {
            "id": uid("cost_option", "course", course.pk),
            "service_id": service_id,
            "option": "term fee",
            "currency": CURRENCY,
            "amount": float(course.fee),
        }
    ]
    data["capacities"] = [seats(c, service_id, now or timezone.now()) for c in classes]
    venues = {c.facility_id: c.facility for c in classes}
    data["service_at_locations"] = [
        course_service_at_location(
            course, venue, absolute, classes=[c for c in classes if c.facility_id == venue.pk]
        )
        for venue in sorted(venues.values(), key=lambda f: (f.name, f.pk))
    ]
    return data


def seats(course_class: CourseClass, service_id: str, now: datetime) -> dict:
    """A class's seats: how many are free as read just now, of how many."""
    when = f"{DAYS[course_class.weekday]} {_time(course_class.starts_at)}"
    return {
        "id": uid("service_capacity", "class", course_class.pk),
        "service_id": service_id,
        "unit": {"id": uid("unit", "seat"), "name": "seat"},
        "available": course_class.seats_left,
        "maximum": course_class.capacity,
        "description": f"{course_class.level} {when}".strip(),
        "updated": _moment(now),
    }


# ---- services at locations ----


def facility_service_at_location(
    facility: Facility,
    absolute: Absolute,
    *,
    full: bool = False,
    service: dict | None = None,
) -> dict:
    sal_id = facility_sal_id(facility.pk)
    data = {
        "id": sal_id,
        "service_id": facility_service_id(facility.pk),
        "location_id": location_id(facility.pk),
        "location": location(facility, absolute, full=full),
    }
    if full:
        data["schedules"] = opening_schedules(facility, {"service_at_location_id": sal_id})
    if service is not None:
        data["service"] = service
    return data


def course_service_at_location(
    course: Course,
    venue: Facility,
    absolute: Absolute,
    *,
    classes: Iterable[CourseClass] | None = None,
    service: dict | None = None,
) -> dict:
    """A course where some of its classes meet; given those classes, the full form with their
    meetings as schedules."""
    sal_id = course_sal_id(course.pk, venue.pk)
    data = {
        "id": sal_id,
        "service_id": course_service_id(course.pk),
        "location_id": location_id(venue.pk),
        "location": location(venue, absolute, full=classes is not None),
    }
    if classes is not None:
        data["schedules"] = [class_schedule(c, {"service_at_location_id": sal_id}) for c in classes]
    if service is not None:
        data["service"] = service
    return data
