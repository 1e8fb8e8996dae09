from django.urls import path

from kyphos.reports import views

app_name = "reports"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/figures.csv", views.dashboard_csv, name="dashboard_csv"),
    path("dashboard/registry.zip", views.registry_zip, name="registry_zip"),
]
