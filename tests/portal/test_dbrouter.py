"""The read replica's router (portal/dbrouter.py) and the settings that switch it on.

Each case runs a Django process of its own with DATABASE_REPLICA_URL set and records which
alias every query went to. Its "replica" is the test database itself, reached through a second
connection (a server that is not a standby has nothing to replay), or a port where nothing
listens. tests/portal/test_scale_out.py runs the whole with a real streaming replica.
"""

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.portal.test_two_servers import _database_url

VISIT = """
import json, django
django.setup()
from django.conf import settings
from django.db import connections
from django.test import Client

def recorder(alias):
    def record(execute, sql, params, many, context):
        queries[alias].append(sql)
        return execute(sql, params, many, context)
    return record

for alias in settings.DATABASES:
    connections[alias].execute_wrappers.append(recorder(alias))
answers = []
for path in json.loads(PATHS):
    queries = {alias: [] for alias in settings.DATABASES}
    response = Client().get(path, HTTP_HOST="localhost")
    answers.append({"status": response.status_code, "queries": queries})
print("SETTINGS " + json.dumps({
    "aliases": sorted(settings.DATABASES),
    "routers": settings.DATABASE_ROUTERS,
    "middleware": settings.MIDDLEWARE,
    "options": settings.DATABASES["default"]["OPTIONS"].get("options", ""),
}))
print("ANSWERS " + json.dumps(answers))
"""


def visit(paths: list[str], **env: str) -> tuple[dict, list[dict], str]:
    """The settings, and the answer and queries (by alias) of each path, of a Django process on
    the test database with ``env``."""
    result = subprocess.run(
        [sys.executable, "-c", VISIT.replace("PATHS", repr(json.dumps(paths)))],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DATABASE_POOL": "false",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "ANSWERS " in result.stdout, result.stderr[-3000:]
    found = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return json.loads(found["SETTINGS"]), json.loads(found["ANSWERS"]), result.stderr


def reads(answer: dict, alias: str, table: str) -> bool:
    return any(f'"{table}"' in sql for sql in answer["queries"].get(alias, []))


def test_without_a_replica_url_there_is_one_database_and_no_router(django_db_setup):
    found, (api,), _log = visit(["/api/hsds/taxonomy_terms"], DATABASE_REPLICA_URL="")
    assert found["aliases"] == ["default"]
    assert found["routers"] == []
    assert "portal.dbrouter.ReplicaMiddleware" not in found["middleware"]
    assert "-c jit=off" in found["options"]
    assert api["status"] == 200 and reads(api, "default", "facilities_category")


def test_the_api_reads_from_the_replica_and_other_pages_from_the_primary(django_db_setup):
    found, (api, home, finder), _log = visit(
        ["/api/hsds/taxonomy_terms", "/", "/facilities/?q=食堂"],
        DATABASE_REPLICA_URL=_database_url(),
    )
    assert found["aliases"] == ["default", "replica"]
    assert found["routers"] == ["portal.dbrouter.ReplicaRouter"]
    middleware = found["middleware"]
    assert middleware.index("portal.dbrouter.ReplicaMiddleware") == (
        middleware.index("portal.outage.OutageMiddleware") + 1
    )
    assert api["status"] == home["status"] == finder["status"] == 200
    assert reads(api, "replica", "facilities_category")
    assert not reads(api, "default", "facilities_category")
    # Before its first read, the replica says how far it has replayed.
    replica = api["queries"]["replica"]
    first = next(i for i, sql in enumerate(replica) if '"facilities_category"' in sql)
    assert any("pg_last_wal_replay_lsn()" in sql for sql in replica[:first])
    for page in (home, finder):
        assert page["queries"]["replica"] == []
        assert reads(page, "default", "facilities_category")


def test_an_unreachable_replica_leaves_the_api_to_the_primary_without_an_error(django_db_setup):
    _found, answers, log = visit(
        ["/api/hsds/taxonomy_terms", "/api/hsds/taxonomy_terms?page=1"],
        DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:9/portal",
    )
    for answer in answers:
        assert answer["status"] == 200
        assert reads(answer, "default", "facilities_category")
    # Tried once, then left alone for a few seconds.
    assert log.count("read replica unreachable, reading from the primary") == 1


CHOICES = """
import django
django.setup()
from django import forms
from django.db import connection
from facilities.models import Category

def record(execute, sql, params, many, context):
    print("CURSOR", getattr(context["cursor"].cursor, "name", None) or "plain")
    return execute(sql, params, many, context)

connection.execute_wrappers.append(record)
list(forms.ModelChoiceField(Category.objects.all()).choices)
"""


def choices_cursor(**env: str) -> str:
    """The kind of cursor a form's choice list reads the categories through."""
    result = subprocess.run(
        [sys.executable, "-c", CHOICES],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DATABASE_POOL": "false",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "CURSOR" in result.stdout, result.stderr[-3000:]
    return result.stdout.split("CURSOR ")[-1].strip()


def test_behind_a_transaction_pooler_no_cursor_outlives_its_transaction(django_db_setup):
    # A choice list reads through a server-side cursor declared WITH HOLD outside a
    # transaction: behind PgBouncer in transaction mode, its next fetch may reach another
    # server connection, where the cursor does not exist.
    assert choices_cursor().startswith("_django_curs_")
    assert choices_cursor(DATABASE_TRANSACTION_POOLING="true") == "plain"
    found, (home,), _log = visit(["/"], DATABASE_TRANSACTION_POOLING="true")
    assert home["status"] == 200
    assert "jit" not in found["options"]  # PgBouncer refuses startup options
