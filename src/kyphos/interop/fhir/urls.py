"""``/fhir/``: the CapabilityStatement, the SMART configuration and token endpoint, and the resources."""

from django.urls import path

from kyphos.interop.fhir import views

app_name = "fhir"
TYPE = "<str:resource_type>"
ID = "<str:resource_id>"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", views.smart_configuration, name="smart_configuration"),
    path("auth/token", views.token, name="token"),
    path("$export", views.export_system, name="export"),
    path("Patient/$export", views.export_patients, name="export_patients"),
    path("Group/<str:group_id>/$export", views.export_group, name="export_group"),
    path("$export-status/<str:export_id>", views.export_status, name="export_status"),
    path("$export-file/<str:export_id>/<str:name>", views.export_file, name="export_file"),
    path(f"{TYPE}", views.type_level, name="type"),
    path(f"{TYPE}/_search", views.search_post, name="search"),
    path(f"{TYPE}/{ID}", views.instance_level, name="instance"),
    path(f"{TYPE}/{ID}/_history", views.instance_history, name="history"),
    path(f"{TYPE}/{ID}/_history/<str:version_id>", views.version_level, name="version"),
]
