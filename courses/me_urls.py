"""/me/: a resident's classes, waiting-list places and calendar feed (courses.views)."""

app_name = "me"

urlpatterns = []
