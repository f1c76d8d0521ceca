"""The API's own OpenAPI 3.1 description: it parses, names every endpoint the URLs serve (and
none they do not), every query parameter the API reads, and refers only to things that exist."""

import json
import re

import pytest

from opendata import urls
from opendata.query import Query
from tests.opendata.conftest import API, get

pytestmark = pytest.mark.django_db


def openapi_path(route: str) -> str:
    """A Django route as OpenAPI writes it: services/<str:id> → /services/{id}."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_it_parses_and_lists_every_endpoint_the_urls_serve(client):
    response = client.get(API + "openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://testserver/api/hsds"}]
    served = {openapi_path(str(p.pattern)) for p in urls.urlpatterns}
    assert set(document["paths"]) == served
    assert {"/services", "/services/{id}", "/service_at_locations", "/taxonomies"} <= served
    for path, item in document["paths"].items():
        assert item["get"]["responses"]["200"]["content"]["application/json"]["schema"], path


def test_it_describes_every_query_parameter_the_api_reads(client):
    document = get(client, "openapi.json")
    assert set(document["components"]["parameters"]) == set(Query.base_fields)
    used = {
        ref.rsplit("/", 1)[1]
        for item in document["paths"].values()
        for ref in refs(item.get("get", {}).get("parameters", []))
    }
    assert used == set(Query.base_fields)


def test_every_reference_resolves(client):
    document = get(client, "openapi.json")
    schemas = set()
    for ref in refs(document):
        if ref.startswith("#/"):
            node = document
            for part in ref[2:].split("/"):
                node = node[part]
        else:
            assert ref.startswith("schema/"), ref
            schemas.add(ref)
    assert {"schema/service.json", "schema/compiled/service_list.json"} <= schemas
    for ref in schemas:
        schema = get(client, ref)  # relative to /api/hsds/openapi.json
        assert schema["type"] == "object" and schema["properties"], ref


def test_only_the_standards_schemas_are_served(client):
    for name in ["openapi.json", "../views.py", "LICENSE", "nothing.json"]:
        response = client.get(f"{API}schema/{name}")
        assert response.status_code == 404, name
