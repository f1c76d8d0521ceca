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


def moved(sender, instance, **kwargs) -> None:
    """A signal receiver: this row's person's course parts are read again after the commit."""
    from courses.enrolment import person_moved

    person_moved(instance.user_id)


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        from communities import access

        access.register_learners(learners)

        # A person's own parts of the course pages (courses.views) are kept until one of their
        # enrolments or their resident profile changes.
        from django.db.models.signals import post_delete, post_save

        from residents.models import Resident

        for model in (self.get_model("Enrolment"), Resident):
            for signal in (post_save, post_delete):
                uid = f"person.{model.__name__}.{signal}"
                signal.connect(moved, sender=model, dispatch_uid=uid)
