"""Imports run one way, like floors (README, Architecture): an app imports only from its own floor
or below, at the top of a module or inside a function alike. Where a lower app needs what a
higher one knows, the higher one registers it when it starts."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {
    "portal": 0,  # settings, lib, middleware, the audit trail, caching
    "communities": 1,
    "streets": 2,
    "facilities": 2,
    "residents": 3,
    "courses": 3,
    "wishes": 3,
    "notices": 3,
    "reports": 4,
    "opendata": 4,
}
# The project package's top: the URL conf, the pages, the app server's entry point and commands
# that compose every app.
TOP = {
    "portal/urls.py",
    "portal/wsgi.py",
    "portal/pages.py",
    "portal/views.py",
    "portal/admin.py",
    "portal/management/commands/load_demo.py",
}
ABOVE_ALL = max(FLOORS.values()) + 1


def modules():
    for app in FLOORS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), app


def imported_apps(source: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every import of one of the project's apps."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] in FLOORS]


def upward(path: str, app: str) -> list[str]:
    floor = ABOVE_ALL if path in TOP else FLOORS[app]
    return [
        f"{path}:{line} imports {name}"
        for line, name in imported_apps((ROOT / path).read_text())
        if FLOORS[name.split(".")[0]] > floor
    ]


@pytest.mark.parametrize("path, app", list(modules()), ids=lambda v: v if "/" in str(v) else "")
def test_no_module_imports_an_app_above_it(path, app):
    assert upward(path, app) == []


def test_the_judge_sees_an_import_above_even_inside_a_function():
    source = "def f():\n    from courses.models import Enrolment\n"
    assert imported_apps(source) == [(2, "courses.models")]
    floor = FLOORS["communities"]
    assert [n for _l, n in imported_apps(source) if FLOORS[n.split(".")[0]] > floor]
