"""The OpenAPI 3.1 description of the open-data API, served at /api/hsds/openapi.json.

Ours, not the standard's template: it lists the endpoints and parameters this portal serves. The
objects are the standard's own JSON schemas, served beside the API (/api/hsds/schema/...) and
referenced relative to this document.
"""

from opendata import query

HSDS = "Open Referral Human Services Data Specification (HSDS) 3.1"


def _parameter(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PARAMETERS = {
    "search": _parameter(
        "search",
        "Text to look for in names, addresses and descriptions; a category's everyday words "
        "(吃饭, 看病) or their pinyin find its facilities.",
        {"type": "string", "maxLength": query.MAX_SEARCH},
    ),
    "page": _parameter("page", "Page number, from 1.", {"type": "integer", "minimum": 1}),
    "per_page": _parameter(
        "per_page",
        f"Items per page (default {query.DEFAULT_PER_PAGE}).",
        {"type": "integer", "minimum": 1, "maximum": query.MAX_PER_PAGE},
    ),
    "taxonomy_term_id": _parameter(
        "taxonomy_term_id",
        "Only the facilities of this category (as their main or a further one).",
        {"type": "string", "format": "uuid"},
    ),
    "taxonomy_id": _parameter(
        "taxonomy_id", "Only the terms of this taxonomy.", {"type": "string", "format": "uuid"}
    ),
    "organization_id": _parameter(
        "organization_id",
        "Only the services of this community.",
        {"type": "string", "format": "uuid"},
    ),
    "modified_after": _parameter(
        "modified_after",
        "Only what changed at or after this moment (ISO 8601; without an offset, China time).",
        {"type": "string", "format": "date-time"},
    ),
    "proximity": _parameter(
        "proximity",
        "Only what lies within this many metres (straight line) of the point given by lat and "
        "lng or by compound, nearest first, each with its distance in metres.",
        {"type": "number", "minimum": 1, "maximum": query.MAX_PROXIMITY_M},
    ),
    "lat": _parameter(
        "lat", "Latitude of the point (WGS-84).", {"type": "number", "minimum": -90, "maximum": 90}
    ),
    "lng": _parameter(
        "lng",
        "Longitude of the point (WGS-84).",
        {"type": "number", "minimum": -180, "maximum": 180},
    ),
    "compound": _parameter(
        "compound",
        "A residential compound (小区) whose point to measure from: its id as the portal's "
        "facility search uses it (near=).",
        {"type": "integer", "minimum": 1},
    ),
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/{name}"}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _list(summary: str, item: str, parameters: list[str]) -> dict:
    page = {
        "allOf": [_ref("schemas/Page")],
        "properties": {"contents": {"type": "array", "items": {"$ref": f"schema/{item}"}}},
    }
    return {
        "get": {
            "summary": summary,
            "parameters": [_ref(f"parameters/{p}") for p in ["page", "per_page", *parameters]],
            "responses": {
                "200": _json("One page of the list.", page),
                "400": _json("Some query parameters are not valid.", _ref("schemas/Error")),
            },
        }
    }


def _detail(summary: str, schema: str) -> dict:
    return {
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "get": {
            "summary": summary,
            "responses": {
                "200": _json(summary, {"$ref": f"schema/{schema}"}),
                "404": _json("Nothing has this id.", _ref("schemas/Error")),
            },
        },
    }


def document(server: str) -> dict:
    """The description, with ``server`` (the absolute URL of /api/hsds) as its base."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Complete Community Portal: open data",
            "version": "1.0.0",
            "summary": f"Facilities, courses and communities as {HSDS}.",
            "description": (
                "Read-only public data of the 15-minute living circle: facilities and courses "
                "as services, facilities as locations, communities as organizations, the "
                "categories and the courses' subjects and audiences as taxonomies. No personal "
                "data. The schemas are the "
                f"{HSDS}, an Open Referral resource (https://openreferral.org/), CC BY-SA 4.0."
            ),
        },
        "servers": [{"url": server}],
        "paths": {
            "/": {
                "get": {
                    "summary": "This API and its relation to HSDS.",
                    "responses": {"200": _json("About this API.", _ref("schemas/About"))},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This description.",
                    "responses": {"200": _json("This OpenAPI document.", {"type": "object"})},
                }
            },
            "/services": _list(
                "Facilities' services, then courses.",
                "compiled/service_list.json",
                ["search", "taxonomy_term_id", "organization_id", "modified_after"],
            ),
            "/services/{id}": _detail(
                "A service with its phones, categories, prices, seats, places and hours.",
                "service.json",
            ),
            "/service_at_locations": _list(
                "Services in the places where they are offered.",
                "compiled/service_at_location_list.json",
                [
                    "search",
                    "taxonomy_term_id",
                    "organization_id",
                    "modified_after",
                    "proximity",
                    "lat",
                    "lng",
                    "compound",
                ],
            ),
            "/service_at_locations/{id}": _detail(
                "A service in one place, with the place's address, accessibility and hours.",
                "service_at_location.json",
            ),
            "/organizations": _list("Communities.", "organization.json", ["search"]),
            "/organizations/{id}": _detail(
                "A community with its office phone and address.", "organization.json"
            ),
            "/taxonomies": _list("Taxonomies.", "taxonomy.json", ["search"]),
            "/taxonomies/{id}": _detail("A taxonomy.", "taxonomy.json"),
            "/taxonomy_terms": _list(
                "Categories of the living circle.", "taxonomy_term.json", ["search", "taxonomy_id"]
            ),
            "/taxonomy_terms/{id}": _detail("A category, with its taxonomy.", "taxonomy_term.json"),
            "/schema/{name}": {
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "get": {
                    "summary": f"A JSON schema of the {HSDS}, as this API uses it.",
                    "responses": {
                        "200": _json("The schema.", {"type": "object"}),
                        "404": _json("No such schema.", _ref("schemas/Error")),
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "About": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "string"},
                        "profile": {"type": "string", "format": "uri"},
                        "openapi_url": {"type": "string", "format": "uri"},
                    },
                },
                # The standard's page envelope; contents are given per list.
                "Page": {
                    "type": "object",
                    "required": [
                        "total_items",
                        "total_pages",
                        "page_number",
                        "size",
                        "first_page",
                        "last_page",
                        "empty",
                        "contents",
                    ],
                    "properties": {
                        "total_items": {"type": "integer"},
                        "total_pages": {"type": "integer"},
                        "page_number": {"type": "integer"},
                        "size": {"type": "integer", "description": "Items on this page."},
                        "first_page": {"type": "boolean"},
                        "last_page": {"type": "boolean"},
                        "empty": {"type": "boolean", "description": "This page has no items."},
                        "contents": {"type": "array"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
            "parameters": PARAMETERS,
        },
    }
