"""An app server reads the districts' street networks as it starts, in the background, so the
first page that walks does not wait for them; with the database away it starts all the same."""

import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings

from portal.lib import geo
from streets import network
from tests.streets.hand_made import store_network


@pytest.mark.django_db(transaction=True)
def test_preload_reads_every_network_into_the_process(district):
    points = [(43.88, 125.30), geo.offset((43.88, 125.30), 0, 400)]
    stored = store_network(district, points, [(0, 1)])
    network._networks.clear()
    worker = threading.Thread(target=network.preload)
    worker.start()
    worker.join(30)
    assert district.pk in network._networks
    read = network._networks[district.pk]
    assert read.nodes == 2 and read.key.startswith(f"{stored.pk}:")
    # The next request finds it and reads nothing.
    assert network.load_streets([district.pk])[district.pk] is read


def test_an_app_server_starts_with_the_database_away():
    """The WSGI module, imported with no database answering: the preload logs and the
    application is there to answer (with its own error pages) once the database is back."""
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/portal"}
    script = (
        "import logging, threading, time; logging.basicConfig(); "
        "from portal.wsgi import application; "
        "[t.join(20) for t in threading.enumerate() if t.name == 'streets-preload']; "
        "print(type(application).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "WSGIHandler"
    assert "street networks not preloaded" in done.stderr
