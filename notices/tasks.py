"""The workers' jobs (Django's tasks framework, kept in PostgreSQL by django-tasks-db): run by
``manage.py work``, on as many machines as needed, which share the one queue."""

from django.tasks import task

from notices import delivery


@task(queue_name="notices")
def deliver(notice_id: int) -> str:
    """One attempt at one message (notices.delivery.attempt)."""
    return delivery.attempt(notice_id)
