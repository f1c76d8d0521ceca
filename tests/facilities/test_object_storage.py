"""With MEDIA_S3_BUCKET set, photos go to S3-compatible object storage instead of the app
server's disk. An S3 API server (moto's) runs on this machine for the test; the upload goes
through the real admin form, storage library and HTTP."""

import socket
import urllib.request

import boto3
import pytest
from django.conf import settings
from moto.server import ThreadedMotoServer

from facilities.models import FacilityPhoto
from portal.lib.storage import media_storage
from tests.conftest import client_for
from tests.facilities.test_photos import facility, phone_photo, upload  # noqa: F401

pytestmark = pytest.mark.django_db

BUCKET = "community-photos"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def object_storage(s3_endpoint, settings, tmp_path):
    env = {
        "MEDIA_S3_BUCKET": BUCKET,
        "MEDIA_S3_ENDPOINT_URL": s3_endpoint,
        "MEDIA_S3_REGION": "cn-north-1",
        "MEDIA_S3_ACCESS_KEY_ID": "portal",
        "MEDIA_S3_SECRET_ACCESS_KEY": "portal-secret",
        # Photos are public; this S3 server honours object ACLs (not bucket policies).
        "MEDIA_S3_ACL": "public-read",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="cn-north-1",
        aws_access_key_id="portal",
        aws_secret_access_key="portal-secret",
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"}
    )
    config = media_storage(env)
    settings.STORAGES = {**settings.STORAGES, "default": config.backend}
    settings.MEDIA_ROOT = tmp_path / "media"  # must stay empty
    yield client, config
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_without_a_bucket_photos_stay_in_the_media_folder():
    config = media_storage({})
    assert config.backend["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert config.origins == ()


def test_photos_go_to_the_bucket_and_are_served_from_it(
    object_storage,
    staff_a,
    facility,  # noqa: F811 (the fixture imported above)
    s3_endpoint,
):
    s3, config = object_storage
    response = upload(client_for(staff_a), facility, phone_photo(), "IMG_0001.jpg")
    assert response.status_code == 302

    photo = FacilityPhoto.objects.get()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == sorted(FacilityPhoto.path(photo.key, w) for w in photo.width_list)
    assert not (settings.MEDIA_ROOT).exists()  # nothing on the app server's disk

    head = s3.head_object(Bucket=BUCKET, Key=keys[0])
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentDisposition"] == "inline"

    url = photo.url()
    assert url.startswith(f"{s3_endpoint}/{BUCKET}/photos/") and "?" not in url
    with urllib.request.urlopen(url) as served:
        assert served.read(3) == b"\xff\xd8\xff"  # a JPEG, fetched anonymously
    # The pages may show images from there, and from nowhere else.
    assert config.origins == (s3_endpoint,)

    photo.delete()
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_aws_and_a_custom_domain_give_the_origins_pages_need():
    aws = media_storage({"MEDIA_S3_BUCKET": "p", "MEDIA_S3_REGION": "cn-north-1"})
    assert aws.origins == ("https://p.s3.amazonaws.com", "https://p.s3.cn-north-1.amazonaws.com")
    assert aws.backend["OPTIONS"]["addressing_style"] is None
    cdn = media_storage({"MEDIA_S3_BUCKET": "p", "MEDIA_S3_CUSTOM_DOMAIN": "img.example.cn"})
    assert cdn.origins == ("https://img.example.cn",)
