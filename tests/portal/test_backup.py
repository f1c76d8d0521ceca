"""`make backup` and `make restore` round-trip the database and the photos (README "Backups").

The Makefile targets run for real, as separate processes on the test database (``make -o
install``: the virtualenv is already there). Between backup and restore the data is damaged; after
the restore every table's rows, every sequence, trigger, constraint and index, and every photo's
bytes are what they were. A second restore into a brand-new empty database (the lost-server case)
gives the same. A tampered or incomplete backup is refused and changes nothing.
"""

import io
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from PIL import Image

from facilities import images, photos, taxonomy
from facilities.models import Category, Facility, FacilityPhoto
from portal.backup import BackupError, Tools, choose_tools, find_tools
from tests.facilities.conftest import category
from tests.facilities.test_object_storage import BUCKET, object_storage, s3_endpoint  # noqa: F401

# The Makefile targets run in other processes, which see only committed data.
round_trip = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)


def connect(name: str | None = None) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=name or db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
    )


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    if (db["HOST"] or "").startswith("/"):
        return f"postgres://{db['USER']}@/{name}?host={db['HOST']}"
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{name}"


def snapshot(name: str | None = None) -> dict:
    """Everything a restore must bring back: each table's row count and the md5 of its rows in
    a fixed order, the sequences' positions, and the triggers (the audit trail), constraints
    and indexes."""
    with connect(name) as conn:
        tables = conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        ).fetchall()
        rows = {
            table: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f" FROM {table} t"
            ).fetchone()
            for (table,) in tables
        }
        return {
            "rows": rows,
            "sequences": conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"
            ).fetchall(),
            "triggers": conn.execute(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
                "WHERE NOT tgisinternal ORDER BY 1, 2"
            ).fetchall(),
            # By table, name and kind: PostgreSQL prints a restored `IN (...)` check with its
            # casts in other places (an equal expression), so the printed definition may differ.
            "constraints": conn.execute(
                "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
            ).fetchall(),
            # Columns by name: a migrated table keeps the numbers of columns it dropped since.
            "indexes": conn.execute(
                "SELECT indrelid::regclass::text, indexrelid::regclass::text, indisunique, "
                "indpred IS NOT NULL, (SELECT array_agg(a.attname ORDER BY k.n) "
                "  FROM unnest(i.indkey) WITH ORDINALITY k(num, n) "
                "  LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num) "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1, 2"
            ).fetchall(),
        }


def media_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def make(target: str, database: str, media: Path, env: dict | None = None, **variables: str):
    """Run a Makefile target as an operator would, against ``database`` and ``media``."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "TESTING"}} | (
        env or {}
    )
    env |= {"DATABASE_URL": database_url(database), "MEDIA_ROOT": str(media)}
    env["DATABASE_POOL"] = "false"
    args = [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(
        ["make", "--no-print-directory", "-o", "install", target, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def a_photo(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (1200, 900), colour)
    for x in range(0, 1200, 40):  # some detail, so the renditions differ in content
        image.paste((x % 255, 80, 200), (x, 0, x + 20, 900))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def add_photo(facility: Facility, colour: tuple[int, int, int], alt: str) -> FacilityPhoto:
    """A photo through the upload pipeline: judged, re-encoded, stored, then saved."""
    photo = FacilityPhoto(facility=facility, alt_zh=alt)
    photos.store(photo, images.process(a_photo(colour)))
    photo.save()
    return photo


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def site(community_a, staff_a, resident, media):
    """A small community with two facilities, each with a photo, and their audit trail."""
    taxonomy.add_missing(Category)  # an earlier transactional test flushed the migrated ones
    shop = Facility.objects.create(
        community=community_a,
        category=category("supermarket"),
        name="小暖超市",
        latitude=community_a.latitude,
        longitude=community_a.longitude,
    )
    canteen = Facility.objects.create(
        community=community_a,
        category=category("canteen"),
        name="长者食堂",
        latitude=community_a.latitude,
        longitude=community_a.longitude,
    )
    return {
        "shop": add_photo(shop, (200, 120, 40), "超市门口"),
        "canteen": add_photo(canteen, (40, 120, 200), "食堂用餐区"),
    }


@pytest.fixture
def scratch_database():
    """A new empty database on the same server, dropped afterwards."""
    name = f"test_portal_backup_scratch_{uuid.uuid4().hex[:8]}"
    with connect("postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backup_of(tmp_path: Path, media: Path, env: dict | None = None) -> Path:
    database = connection.settings_dict["NAME"]
    done = make("backup", database, media, env, BACKUP_DIR=str(tmp_path / "bk"))
    assert done.returncode == 0, done.stderr
    (folder,) = (tmp_path / "bk").iterdir()
    return folder


@round_trip
def test_restore_brings_back_every_row_and_photo_after_damage(
    site, media, tmp_path, scratch_database, community_a, resident
):
    before, photos_before = snapshot(), media_files(media)
    assert len(photos_before) == 6  # two photos at 480, 960 and 1200 px
    assert before["rows"]["public.facilities_facilityphoto"][0] == 2
    assert before["triggers"]  # the audit trail's triggers are part of what must survive

    folder = backup_of(tmp_path, media)
    assert {p.name for p in folder.iterdir()} == {"database.dump", "media.tar", "manifest.json"}

    # Damage: a value changed, rows deleted (one photo with its files), a photo's files lost
    # from the disk, a row added.
    type(community_a).objects.filter(pk=community_a.pk).update(name="改掉的名字")
    site["shop"].delete()
    for file in (media / "photos").glob(f"{site['canteen'].key}-*.jpg"):
        file.unlink()
    resident.delete()
    type(resident).objects.create_user("intruder")
    assert snapshot()["rows"] != before["rows"]
    assert media_files(media) == {}

    done = make(
        "restore", connection.settings_dict["NAME"], media, BACKUP=str(folder), CONFIRM="yes"
    )
    assert done.returncode == 0, done.stderr
    assert "6 photo files written back" in done.stdout
    assert snapshot() == before
    assert media_files(media) == photos_before

    # The lost-server case: an empty database and an empty media folder.
    fresh_media = tmp_path / "fresh-media"
    done = make("restore", scratch_database, fresh_media, BACKUP=str(folder), CONFIRM="yes")
    assert done.returncode == 0, done.stderr
    assert snapshot(scratch_database) == before
    assert media_files(fresh_media) == photos_before


@round_trip
def test_a_tampered_or_incomplete_backup_or_no_confirmation_changes_nothing(
    site, media, tmp_path, community_a
):
    folder = backup_of(tmp_path, media)
    type(community_a).objects.filter(pk=community_a.pk).update(name="备份之后改的名字")
    site["shop"].delete()
    now, photos_now = snapshot(), media_files(media)
    database = connection.settings_dict["NAME"]

    tampered = tmp_path / "tampered"
    shutil.copytree(folder, tampered)
    dump = tampered / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    done = make("restore", database, media, BACKUP=str(tampered), CONFIRM="yes")
    assert done.returncode != 0
    assert "database.dump does not match the sha256 in the manifest" in done.stderr

    incomplete = tmp_path / "incomplete"
    shutil.copytree(folder, incomplete)
    (incomplete / "media.tar").unlink()
    done = make("restore", database, media, BACKUP=str(incomplete), CONFIRM="yes")
    assert done.returncode != 0
    assert "incomplete: media.tar is missing" in done.stderr

    # Without CONFIRM=yes and nobody at a terminal to answer, it only says what it would do.
    done = make("restore", database, media, BACKUP=str(folder))
    assert done.returncode != 0
    assert "Nothing was restored" in done.stderr

    assert snapshot() == now
    assert media_files(media) == photos_now


@round_trip
def test_photos_in_object_storage_are_copied_and_put_back_through_the_storage_api(
    object_storage,  # noqa: F811 (the fixtures imported above)
    s3_endpoint,  # noqa: F811
    community_a,
    tmp_path,
):
    s3, config = object_storage
    taxonomy.add_missing(Category)
    room = Facility.objects.create(
        community=community_a,
        category=category("canteen"),
        name="活动室",
        latitude=community_a.latitude,
        longitude=community_a.longitude,
    )
    photo = add_photo(room, (90, 160, 60), "活动室全景")

    def objects() -> dict[str, bytes]:
        listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}

    before = objects()
    assert len(before) == 3
    options = config.backend["OPTIONS"]
    s3_env = {
        "MEDIA_S3_BUCKET": BUCKET,
        "MEDIA_S3_ENDPOINT_URL": s3_endpoint,
        "MEDIA_S3_REGION": options["region_name"],
        "MEDIA_S3_ACCESS_KEY_ID": options["access_key"],
        "MEDIA_S3_SECRET_ACCESS_KEY": options["secret_key"],
        "MEDIA_S3_ACL": options["default_acl"],
    }
    no_media = tmp_path / "media"  # must stay empty: the photos live in the bucket
    folder = backup_of(tmp_path, no_media, s3_env)
    photos_saved = json.loads((folder / "manifest.json").read_text())["photos"]
    assert photos_saved["storage"] == "storages.backends.s3.S3Storage"
    assert photos_saved["count"] == 3

    photo.delete()  # the row, and its objects with it
    assert objects() == {}

    database = connection.settings_dict["NAME"]
    done = make("restore", database, no_media, s3_env, BACKUP=str(folder), CONFIRM="yes")
    assert done.returncode == 0, done.stderr
    assert objects() == before
    assert FacilityPhoto.objects.get().key == photo.key
    head = s3.head_object(Bucket=BUCKET, Key=next(iter(before)))
    assert head["ContentType"] == "image/jpeg"  # written back as the upload wrote it
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert not no_media.exists()


def test_the_tools_of_the_servers_version_are_preferred_then_the_nearest_newer():
    v15, v16, v18 = (Tools(m, f"{m}.1", Path(f"/pg{m}/bin")) for m in (15, 16, 18))
    assert choose_tools([v18, v15, v16], 15, "") == v15
    assert choose_tools([v18, v15], 16, "") == v18
    with pytest.raises(BackupError, match=r"PostgreSQL 17 or newer.*15\.1 in /pg15/bin"):
        choose_tools([v15, v16], 17, "the server runs PostgreSQL 17.2")


@pytest.mark.django_db
def test_this_machine_has_tools_for_its_server():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    assert any(t.major >= major for t in find_tools())
