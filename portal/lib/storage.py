"""Where uploaded media (facility photos) live: the local media folder, or S3-compatible object
storage when MEDIA_S3_BUCKET is set, so that app servers keep no state of their own.

Object storage works with AWS S3 and with the S3 APIs of Aliyun OSS, Tencent COS, Huawei OBS and
MinIO (set MEDIA_S3_ENDPOINT_URL for those). Photos are public: their URLs carry no signature,
and each object is written with its JPEG content type, ``inline`` disposition and a year-long
immutable cache header (names are random and never reused).
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


@dataclass(frozen=True)
class MediaStorage:
    backend: dict
    origins: tuple[str, ...]  # for the Content Security Policy's img-src


def media_storage(env: dict[str, str]) -> MediaStorage:
    bucket = env.get("MEDIA_S3_BUCKET", "")
    if not bucket:
        return MediaStorage(LOCAL, ())
    endpoint = env.get("MEDIA_S3_ENDPOINT_URL", "") or None
    region = env.get("MEDIA_S3_REGION", "") or None
    domain = env.get("MEDIA_S3_CUSTOM_DOMAIN", "") or None
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": region,
        # Keys may also come from the usual AWS_* variables or an instance role.
        "access_key": env.get("MEDIA_S3_ACCESS_KEY_ID") or None,
        "secret_key": env.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
        "custom_domain": domain,
        "location": env.get("MEDIA_S3_PREFIX", ""),
        "querystring_auth": False,
        # Photos must be readable by anyone: by the bucket's policy (leave this unset), or by
        # a per-object ACL such as "public-read" where the service uses those.
        "default_acl": env.get("MEDIA_S3_ACL") or None,
        "file_overwrite": False,
        "object_parameters": {
            "CacheControl": "public, max-age=31536000, immutable",
            "ContentDisposition": "inline",
        },
        # S3-compatible services outside AWS mostly want bucket-in-path URLs.
        "addressing_style": "path" if endpoint else None,
    }
    if domain:
        origins = (f"https://{domain}",)
    elif endpoint:
        parts = urlsplit(endpoint)
        origins = (f"{parts.scheme}://{parts.netloc}",)
    else:
        origins = (f"https://{bucket}.s3.amazonaws.com",)
        if region:
            origins += (f"https://{bucket}.s3.{region}.amazonaws.com",)
    backend = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    return MediaStorage(backend, origins)
