"""The residents' course pages (courses.views)."""

app_name = "courses"

urlpatterns = []
