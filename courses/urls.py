"""The residents' course pages (courses.views)."""

from django.urls import path

from courses import views

app_name = "courses"

urlpatterns = [
    path("", views.course_list, name="list"),
    path("classes/<int:pk>/enrol/", views.enrol, name="enrol"),
    path("classes/<int:pk>/draw/", views.draw, name="draw"),
    path("<slug:slug>/", views.detail, name="detail"),
]
