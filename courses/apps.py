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


def remember_before(sender, instance, raw=False, **kwargs) -> None:
    """pre_save of a class or a facility: what it was, for telling people what changed."""
    if raw or instance.pk is None:
        return
    from courses import telling
    from facilities.models import Facility

    if sender is Facility and instance.status != Facility.Status.TEMPORARILY_CLOSED:
        return  # only a closing concerns the people of its classes: no query for other saves
    fields = ["status"] if sender is Facility else telling.WHEN_AND_WHERE
    instance._before = sender.objects.filter(pk=instance.pk).values(*fields).first()


def tell_change(sender, instance, created=False, raw=False, **kwargs) -> None:
    """post_save: a class that moved in time or place, a facility that closed for a while."""
    before = getattr(instance, "_before", None)
    if raw or created or before is None:
        return
    from courses import telling
    from facilities.models import Facility

    if sender is Facility:
        if (
            instance.status == Facility.Status.TEMPORARILY_CLOSED
            and before["status"] != instance.status
        ):
            telling.venue_closed(instance)
    else:
        telling.class_changed(instance, before)


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        from communities import access

        access.register_learners(learners)

        # A person's own parts of the course pages (courses.views) are kept until one of their
        # enrolments or their resident profile changes.
        # People in a class hear when it moves, or when its venue closes for a while
        # (courses.telling), inside the save's transaction.
        from django.db.models.signals import post_delete, post_save, pre_save

        from facilities.models import Facility
        from residents.models import Resident

        for model in (self.get_model("CourseClass"), Facility):
            pre_save.connect(remember_before, sender=model, dispatch_uid=f"before.{model.__name__}")
            post_save.connect(tell_change, sender=model, dispatch_uid=f"tell.{model.__name__}")

        for model in (self.get_model("Enrolment"), Resident):
            for signal in (post_save, post_delete):
                uid = f"person.{model.__name__}.{signal}"
                signal.connect(moved, sender=model, dispatch_uid=uid)
