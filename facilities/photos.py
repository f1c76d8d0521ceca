"""Storing and removing a facility's photo renditions (the judging and processing is
facilities/images.py). Files go through Django's default storage: the local media folder, or
object storage when STORAGES says so."""

import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from facilities import images
from facilities.models import FacilityPhoto


def store(photo: FacilityPhoto, processed: images.Processed) -> None:
    """Write the renditions under a new generated name and point ``photo`` at them."""
    key = uuid.uuid4().hex
    for rendition in processed.renditions:
        name = FacilityPhoto.path(key, rendition.width)
        saved = default_storage.save(name, ContentFile(rendition.data))
        if saved != name:  # a fresh random name never exists: fail loudly if it somehow does
            raise RuntimeError(f"storage renamed {name} to {saved}")
    old = (photo.key, photo.width_list) if photo.key else None
    photo.key = key
    photo.widths = ",".join(str(r.width) for r in processed.renditions)
    photo.width, photo.height = processed.width, processed.height
    if old:
        remove(*old)


def remove(key: str, widths: list[int]) -> None:
    for width in widths:
        default_storage.delete(FacilityPhoto.path(key, width))


def remove_files(sender, instance: FacilityPhoto, **kwargs) -> None:
    """post_delete receiver: a deleted photo leaves no file behind."""
    if instance.key:
        remove(instance.key, instance.width_list)
