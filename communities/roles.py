"""The permission groups behind the roles in Membership, and keeping users in step with them.

A membership says *where* someone may act (communities.access); the group says *what* they may do
in the back office. ``sync_user(user)`` derives ``is_staff`` and the groups from the memberships, so
the two can never disagree.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from communities.models import Community, Membership

STAFF_GROUP = "社区工作人员"
CITY_ADMIN_GROUP = "市级管理员"

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
        "view_compoundgate",
        "add_compoundgate",
        "change_compoundgate",
        "delete_compoundgate",
    ],
    "facilities": [
        "view_facility",
        "add_facility",
        "change_facility",
        "delete_facility",
        "view_openinghours",
        "add_openinghours",
        "change_openinghours",
        "delete_openinghours",
        "view_hoursexception",
        "add_hoursexception",
        "change_hoursexception",
        "delete_hoursexception",
        "view_meal",
        "add_meal",
        "change_meal",
        "delete_meal",
        "view_seniorprice",
        "add_seniorprice",
        "change_seniorprice",
        "delete_seniorprice",
        "view_facilityphoto",
        "add_facilityphoto",
        "change_facilityphoto",
        "delete_facilityphoto",
        "view_idleroom",
        "add_idleroom",
        "change_idleroom",
        "delete_idleroom",
        # Categories are city-wide: staff choose from them and may read the list.
        "view_category",
    ],
    "courses": [
        "view_term",
        "add_term",
        "change_term",
        "delete_term",
        "view_course",
        "add_course",
        "change_course",
        "delete_course",
        "view_courseclass",
        "add_courseclass",
        "change_courseclass",
        "delete_courseclass",
        # Enrolments change only through courses.enrolment (the admin's cancel action).
        "view_enrolment",
        # Draws are made by courses.lottery (the class list's action) and never edited.
        "view_draw",
        # Marks are corrected, never deleted (the audit trail keeps every correction).
        "view_attendance",
        "add_attendance",
        "change_attendance",
    ],
    "wishes": [
        # Staff answer wishes (status and reply) and remove abusive ones; supports are the
        # residents' and not in the admin.
        "view_wish",
        "change_wish",
        "delete_wish",
    ],
    "residents": [
        # Staff register residents at the desk and correct their details; deleting an account
        # is the resident's own (residents.privacy), so no one deletes it in the admin.
        "view_resident",
        "add_resident",
        "change_resident",
    ],
    "notices": [
        # The outbox of their community: what was sent to whom (masked), and resending a
        # failed message (notices.admin); messages are written by the portal, never edited.
        "view_notice",
        "change_notice",
    ],
    "streets": [
        # A district's street network is the city's to import and remove; staff read their
        # own district's (streets.admin), to see which streets the walks follow.
        "view_streetnetwork",
    ],
}
# City administrators hold every permission of these apps.
CITY_ADMIN_APPS = [
    "communities",
    "streets",
    "facilities",
    "courses",
    "wishes",
    "residents",
    "notices",
    "auth",
]


def sync_role_groups(**kwargs) -> dict[str, Group]:
    """Create or update the groups; runs after every migrate (communities.apps)."""
    staff, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    wanted = Permission.objects.none()
    for app_label, codenames in STAFF_PERMISSIONS.items():
        wanted |= Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
    staff.permissions.set(wanted)
    city, _ = Group.objects.get_or_create(name=CITY_ADMIN_GROUP)
    city.permissions.set(Permission.objects.filter(content_type__app_label__in=CITY_ADMIN_APPS))
    return {STAFF_GROUP: staff, CITY_ADMIN_GROUP: city}


@transaction.atomic
def sync_user(user) -> None:
    """Give ``user`` the back-office access their memberships call for, and no more."""
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    groups = sync_role_groups()
    for role, name in [
        (Membership.Role.STAFF, STAFF_GROUP),
        (Membership.Role.CITY_ADMIN, CITY_ADMIN_GROUP),
    ]:
        if role in roles:
            user.groups.add(groups[name])
        else:
            user.groups.remove(groups[name])
    is_staff = user.is_superuser or bool(
        roles & {Membership.Role.STAFF, Membership.Role.CITY_ADMIN}
    )
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def make_staff(user, community: Community) -> Membership:
    """Let ``user`` keep ``community`` in the back office."""
    membership, _ = Membership.objects.get_or_create(
        user=user, role=Membership.Role.STAFF, community=community
    )
    sync_user(user)
    return membership
