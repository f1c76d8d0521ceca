from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django's admin, on the portal's own site class (the staff desk on the index)."""

    default_site = "portal.admin.PortalAdminSite"
