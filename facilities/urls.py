from django.urls import path

from facilities import views

app_name = "facilities"

urlpatterns = [
    path("", views.search, name="search"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/poster/", views.poster, name="poster"),
    path("<slug:slug>/history/", views.history, name="history"),
]
