import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.lib.env import env_bool, env_int, env_list, parse_database_url


def test_env_bool_reads_common_spellings(monkeypatch):
    for raw, expected in [("1", True), ("TRUE", True), ("on", True), ("0", False), ("no", False)]:
        monkeypatch.setenv("FLAG", raw)
        assert env_bool("FLAG", not expected) is expected


def test_env_bool_fails_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG", False)


def test_env_helpers_fall_back_to_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("UNSET_THING", raising=False)
    assert env_bool("UNSET_THING", True) is True
    assert env_int("UNSET_THING", 7) == 7
    assert env_list("UNSET_THING", ["a"]) == ["a"]


def test_env_int_fails_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("WORKERS", "four")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("WORKERS", 1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , ,b.example")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_database_url_with_host_port_and_password():
    db = parse_database_url("postgres://portal:s%40cret@db.internal:6432/portal?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "portal",
        "s@cret",
        "db.internal",
        "6432",
        "portal",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_database_url_with_a_unix_socket_directory():
    db = parse_database_url("postgres://postgres@/portal?host=/work/.local/pgdata")
    assert db["HOST"] == "/work/.local/pgdata"
    assert db["NAME"] == "portal"
    assert db["OPTIONS"] == {}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/portal", "must start with postgres://"),
        ("postgres://localhost", "names no database"),
        ("postgres://localhost:port/portal", "port that is not a number"),
    ],
)
def test_database_url_rejects_what_it_cannot_use(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_database_url(url)
