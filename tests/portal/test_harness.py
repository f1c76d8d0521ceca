import os
import subprocess
import sys

from django.conf import settings


def test_browser_tests_fail_and_say_how_to_install_chromium_when_it_is_missing():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/browser/test_journeys.py",
            "-k",
            "keyboard",
            "-p",
            "no:cacheprovider",
            "--create-db",
        ],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "CHROMIUM_PATH": "/nonexistent/chromium",
            "TEST_DATABASE_NAME": "test_portal_harness",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "apt-get install -y chromium" in result.stdout
    assert "1 error" in result.stdout or "1 failed" in result.stdout
