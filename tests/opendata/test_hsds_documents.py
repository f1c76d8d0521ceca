"""The open-data API's lists stay valid HSDS 3.1 under every query parameter, page by page (the
crawl of every object is in test_crawl.py)."""

import pytest

from communities.models import Community, ResidentialCompound
from opendata import hsds
from tests.opendata.conftest import LISTS, get, page_schema, validate, walk

pytestmark = pytest.mark.django_db


def test_the_format_checks_are_real():
    """Without the jsonschema extra the uri and date-time formats would pass unchecked."""
    from tests.opendata.conftest import FORMATS

    assert {"uuid", "uri", "date-time", "email"} <= set(FORMATS.checkers)
    assert not FORMATS.conforms("not-a-uuid", "uuid")
    assert not FORMATS.conforms("2026-13-45T99:00:00", "date-time")


def _lists_with_parameters():
    canteen = hsds.term_id("canteen")
    linyuan = hsds.organization_id(Community.objects.get(name="林园社区").pk)
    compound = ResidentialCompound.objects.order_by("pk").first()
    return [
        ("services", {"search": "吃饭"}),
        ("services", {"search": "chifan"}),
        ("services", {"search": "书法"}),
        ("services", {"taxonomy_term_id": canteen}),
        ("services", {"organization_id": linyuan}),
        ("services", {"modified_after": "2020-01-01T00:00:00Z"}),
        ("services", {"modified_after": "2999-01-01"}),
        ("services", {"per_page": 100}),
        ("services", {"per_page": 1, "search": "食堂"}),
        ("service_at_locations", {"compound": compound.pk, "proximity": 1000}),
        (
            "service_at_locations",
            {"lat": compound.latitude, "lng": compound.longitude, "proximity": 600, "per_page": 4},
        ),
        ("service_at_locations", {"taxonomy_term_id": canteen, "organization_id": linyuan}),
        ("service_at_locations", {"search": "摄影", "per_page": 2}),
        ("organizations", {"search": "社区", "per_page": 5}),
        ("taxonomy_terms", {"search": "看病"}),
        ("taxonomy_terms", {"taxonomy_id": hsds.TAXONOMY_ID, "per_page": 4}),
        ("taxonomies", {"search": "完整社区"}),
    ]


def test_lists_with_query_parameters_validate_page_by_page(api):
    for endpoint, params in _lists_with_parameters():
        items = walk(api, endpoint, params)
        if params.get("modified_after") == "2999-01-01":
            assert items == []
        else:
            assert items, (endpoint, params)


def test_a_page_past_the_end_is_valid_and_empty(api):
    page = get(api, "services", {"page": 1000})
    validate(page, page_schema(LISTS["services"]))
    assert (page["empty"], page["size"], page["contents"]) == (True, 0, [])
    assert page["total_items"] > 0 and not page["first_page"] and page["last_page"]
