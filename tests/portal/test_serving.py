"""The production server is a complete site: it serves its own static files, hashed, compressed
and cached for good, so pages come up styled and htmx works with nothing in front of it."""

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.portal.test_two_servers import BIN, ROOT, _database_url, _free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def production(tmp_path, community_a):
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DEBUG"}}
    env |= {
        "DATABASE_URL": _database_url(),
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_POOL": "false",
        "DEBUG": "false",
    }
    env.pop("STATICFILES_BACKEND", None)  # the production storage
    for command in (["collectstatic", "--noinput", "-v0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    port = _free_port()
    process = subprocess.Popen(
        [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "portal.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()[-3000:]
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def fetch(url: str, **headers):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()  # case-insensitive


def test_pages_name_hashed_static_files_that_the_server_sends_compressed_and_cached_for_good(
    production,
):
    _status, _headers, html = fetch(production + "/")
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)
    names = {a.decode().rsplit("/", 1)[1] for a in assets}
    assert {n.split(".")[0] for n in names} >= {"tokens", "base", "components", "htmx"}
    for asset in assets:
        assert re.search(rb"\.[0-9a-f]{12}\.(css|js)$", asset), asset  # content-hashed
        status, headers, body = fetch(production + asset.decode(), **{"Accept-Encoding": "br"})
        assert status == 200 and body
        assert headers["Content-Encoding"] == "br"
        assert "immutable" in headers["Cache-Control"]
        assert "max-age=315360000" in headers["Cache-Control"]
    status, headers, _body = fetch(production + assets[0].decode(), **{"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
