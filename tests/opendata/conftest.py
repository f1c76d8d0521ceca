"""The open-data API's tests: the HSDS schemas to validate against (opendata/hsds_schema), the
tally of documents validated (printed at the end of the run by ``pytest_terminal_summary`` in
tests/conftest.py), the demo data loaded once per module, and a crawler over every endpoint."""

import functools
import json
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from opendata.views import SCHEMA_DIR

VALIDATED: Counter[str] = Counter()

API = "/api/hsds/"
# What each endpoint answers, as the standard's API description has it.
LISTS = {
    "services": "compiled/service_list.json",
    "service_at_locations": "compiled/service_at_location_list.json",
    "organizations": "organization.json",
    "taxonomies": "taxonomy.json",
    "taxonomy_terms": "taxonomy_term.json",
}
DETAILS = {
    "services": "service.json",
    "service_at_locations": "service_at_location.json",
    "organizations": "organization.json",
    "taxonomies": "taxonomy.json",
    "taxonomy_terms": "taxonomy_term.json",
}
ABOUT = "openapi.json#/paths/~1/get/responses/200/content/application~1json/schema"
PAGE_FIELDS = [
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
]


def _registry() -> Registry:
    """Every vendored file under its path there, so that the schemas' relative ``$ref``s
    (``phone.json``) find each other."""
    return Registry().with_resources(
        (
            path.relative_to(SCHEMA_DIR).as_posix(),
            Resource.from_contents(
                json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012
            ),
        )
        for path in SCHEMA_DIR.rglob("*.json")
    )


REGISTRY = _registry()
FORMATS = Draft202012Validator.FORMAT_CHECKER


def page_schema(item: str) -> dict:
    """The standard's page envelope (its OpenAPI ``Page``) with every field present, around
    items of the schema ``item``."""
    return {
        "allOf": [{"$ref": "openapi.json#/components/schemas/Page"}],
        "required": PAGE_FIELDS,
        "properties": {"contents": {"type": "array", "items": {"$ref": item}}},
    }


@functools.cache
def _validator(schema: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema), registry=REGISTRY, format_checker=FORMATS)


def validate(document: dict, schema: dict | str) -> None:
    """Assert that ``document`` is valid against ``schema`` (a vendored file's path, or a
    schema referring to them), formats included; count it."""
    if isinstance(schema, str):
        schema = {"$ref": schema}
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, "\n".join(errors[:20])
    VALIDATED["documents"] += 1


def get(client: Client, path: str, params: dict | None = None) -> dict:
    """GET an API path that must answer 200 with JSON."""
    response = client.get(API + path, params or {})
    assert response.status_code == 200, (path, params, response.content[:500])
    assert response["Content-Type"] == "application/json"
    return response.json()


def walk(client: Client, endpoint: str, params: dict | None = None) -> list[dict]:
    """Every page of a list, each validated; the items of all of them."""
    items, number = [], 1
    while True:
        page = get(client, endpoint, {**(params or {}), "page": number})
        validate(page, page_schema(LISTS[endpoint]))
        assert page["page_number"] == number and page["size"] == len(page["contents"])
        items += page["contents"]
        if page["last_page"]:
            assert len(items) == page["total_items"]
            assert page["total_pages"] == (number if items else 0)
            return items
        assert page["size"] > 0
        number += 1


FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """``manage.py load_demo`` (with its demo residents, enrolments and wishes), loaded once for
    the module's tests inside a transaction that is rolled back after them; each test runs in a
    savepoint of its own within it."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        transaction.atomic(),
    ):
        call_command("load_demo", verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def api(demo, db) -> Client:
    return Client()
