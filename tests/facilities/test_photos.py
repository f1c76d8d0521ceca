"""Staff upload facility photos in the back office; residents see them; nothing unsafe is kept."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from facilities.models import Facility, FacilityPhoto
from tests.conftest import client_for
from tests.facilities.conftest import category
from tests.facilities.test_admin_scope import form_data, url

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def phone_photo() -> bytes:
    """A JPEG as a phone writes it: landscape pixels, EXIF saying "rotate" and where it was."""
    image = Image.new("RGB", (2000, 1500), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (34.0, 36.0, 3.6), 3: "E", 4: (112.0, 27.0, 3.6)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


@pytest.fixture
def facility(community_a) -> Facility:
    return Facility.objects.create(
        community=community_a,
        category=category("supermarket"),
        name="小暖超市",
        latitude=community_a.latitude,
        longitude=community_a.longitude,
    )


def upload(client, facility: Facility, content: bytes, name: str, alt: str = "超市门口"):
    change = url(Facility, "change", facility.pk)
    data = form_data(client.get(change))
    data |= {
        "photos-0-upload": SimpleUploadedFile(name, content),
        "photos-0-alt_zh": alt,
        "photos-0-sort_order": "0",
    }
    return client.post(change, data)


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def test_a_phone_photo_is_stored_without_its_location_and_upright(staff_a, facility, media):
    response = upload(client_for(staff_a), facility, phone_photo(), "IMG_2041.jpg")
    assert response.status_code == 302, response.content.decode()[:2000]
    photo = FacilityPhoto.objects.get(facility=facility)
    assert photo.width_list == [480, 960, 1500]
    files = stored_files(media)
    assert [f.name for f in files] == sorted(f"{photo.key}-{w}.jpg" for w in photo.width_list)
    for file in files:
        data = file.read_bytes()
        assert b"PhoneMaker" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert not image.getexif() and "exif" not in image.info
            assert image.height > image.width  # the phone's rotation applied to the pixels


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF", "scan.jpg"),
        (b"GIF89a<html><script>alert(1)</script></html>", "cat.jpg"),
    ],
    ids=["svg", "pdf-named-jpg", "gif-html-polyglot"],
)
def test_what_is_not_a_photo_is_refused_and_nothing_is_stored(
    staff_a, facility, media, content, name
):
    response = upload(client_for(staff_a), facility, content, name)
    assert response.status_code == 200
    assert "不是 JPEG、PNG 或 WebP 照片" in response.content.decode()
    assert not FacilityPhoto.objects.exists() and stored_files(media) == []


def test_a_photo_needs_its_description(staff_a, facility, media):
    response = upload(client_for(staff_a), facility, phone_photo(), "a.jpg", alt="")
    assert response.status_code == 200
    assert not FacilityPhoto.objects.exists() and stored_files(media) == []


def test_residents_see_photos_sized_and_described(client, staff_a, facility):
    upload(client_for(staff_a), facility, phone_photo(), "IMG_2041.jpg", alt="超市门口的台阶")
    photo = FacilityPhoto.objects.get()
    html = client.get(facility.get_absolute_url()).content.decode()
    assert f'srcset="{photo.srcset}"' in html and 'alt="超市门口的台阶"' in html
    assert f'width="{photo.width}" height="{photo.height}"' in html
    card = client.get("/facilities/", {"q": "小暖"}).content.decode()
    assert photo.small_url in card and 'loading="lazy"' in card
    response = client.get(photo.small_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get("/media/photos/../../etc/passwd").status_code == 404
    assert client.get("/media/photos/evil.html").status_code == 404


def test_deleting_a_photo_removes_its_files(staff_a, facility, media):
    upload(client_for(staff_a), facility, phone_photo(), "IMG.jpg")
    assert stored_files(media)
    FacilityPhoto.objects.get().delete()
    assert stored_files(media) == []


def test_staff_of_another_community_cannot_add_photos(staff_b, facility, media):
    client = client_for(staff_b)
    change = url(Facility, "change", facility.pk)
    assert client.get(change).status_code == 404
    response = client.post(
        change,
        {
            "photos-TOTAL_FORMS": "1",
            "photos-INITIAL_FORMS": "0",
            "photos-0-upload": SimpleUploadedFile("a.jpg", phone_photo()),
            "photos-0-alt_zh": "别人的照片",
        },
    )
    assert response.status_code == 404
    assert not FacilityPhoto.objects.exists() and stored_files(media) == []
