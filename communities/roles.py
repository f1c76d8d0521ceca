"""The permission groups behind the roles in Membership, kept in step after every migrate."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from communities.models import Community, Membership

STAFF_GROUP = "社区工作人员"

# app label → codenames community staff hold. Later apps add their models here, so that the
# group always matches what CommunityScopedAdmin lets staff reach.
STAFF_PERMISSIONS = {
    "communities": [
        "view_community",
        "change_community",
        "view_residentialcompound",
        "add_residentialcompound",
        "change_residentialcompound",
        "delete_residentialcompound",
    ],
}


def sync_role_groups(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    wanted = Permission.objects.none()
    for app_label, codenames in STAFF_PERMISSIONS.items():
        wanted |= Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
    group.permissions.set(wanted)
    return group


@transaction.atomic
def make_staff(user, community: Community) -> Membership:
    """Let ``user`` keep ``community`` in the back office."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(sync_role_groups())
    membership, _ = Membership.objects.get_or_create(
        user=user, role=Membership.Role.STAFF, community=community
    )
    return membership
