from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the portal's own site class (the staff desk on the index)."""

    default = False  # named in INSTALLED_APPS; PortalConfig is the package's own app

    default_site = "portal.admin.PortalAdminSite"


class PortalConfig(AppConfig):
    """The project package as an app: its management commands (load_demo, which loads every
    app's demo data and so stands above them all)."""

    name = "portal"
    default = True
