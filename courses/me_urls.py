"""/me/: a resident's classes, waiting-list places and calendar feed (courses.views)."""

from django.urls import path

from courses import views

app_name = "me"

urlpatterns = [
    path("", views.me, name="home"),
    path("enrolments/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("calendar/new/", views.new_calendar_address, name="new-calendar"),
    # The token is the only key: anyone with the address can read the feed, so it can be renewed.
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar"),
]
