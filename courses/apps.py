from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def learners(user):
    """The user ids of people holding a live place in the classes ``user`` keeps: staff look
    after them (communities.access.residents)."""
    from communities import access
    from courses.models import Enrolment

    return access.editable(Enrolment.objects.filter(status__in=Enrolment.LIVE), user).values(
        "user_id"
    )


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        from communities import access

        access.register_learners(learners)
