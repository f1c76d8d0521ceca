import os
import subprocess
import sys

from django.conf import settings


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with ``env`` on top of this one's environment."""
    return subprocess.run(
        [sys.executable, "-c", "import portal.settings as s; print(s.LANGUAGE_CODE, s.TIME_ZONE)"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "SECRET_KEY": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_local_use_needs_no_secret_key():
    result = load_settings(ALLOWED_HOSTS="localhost,127.0.0.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["zh-hans", "Asia/Shanghai"]


def test_a_public_host_without_a_secret_key_refuses_to_start():
    result = load_settings(ALLOWED_HOSTS="portal.example.cn")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_missing_database_url_says_how_to_get_one():
    result = load_settings(DATABASE_URL="")
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr and "make run" in result.stderr


def test_a_misspelt_boolean_refuses_to_start():
    result = load_settings(DEBUG="ture")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_english_is_offered_beside_the_chinese_default():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert dict(settings.LANGUAGES).keys() == {"zh-hans", "en"}
    assert settings.TIME_ZONE == "Asia/Shanghai"
