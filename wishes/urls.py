"""Residents' wishes (需求征集), under /wishes/ (wishes.views)."""

from django.urls import path

from wishes import views

app_name = "wishes"

urlpatterns = [
    path("", views.wish_list, name="list"),
    path("new/", views.new, name="new"),
    path("summary/", views.summary, name="summary"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/support/", views.support, name="support"),
]
