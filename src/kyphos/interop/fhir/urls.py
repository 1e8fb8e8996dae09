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
    path(f"{TYPE}", views.type_level, name="type"),
    path(f"{TYPE}/_search", views.search_post, name="search"),
    path(f"{TYPE}/{ID}", views.instance_level, name="instance"),
    path(f"{TYPE}/{ID}/_history/<str:version_id>", views.version_level, name="version"),
]
