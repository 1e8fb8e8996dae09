from django.urls import path

from kyphos.interop.dicom import views

app_name = "imaging"
urlpatterns = [
    path("cases/<uuid:case_uuid>/imaging/", views.imaging_page, name="page"),
    path("cases/<uuid:case_uuid>/imaging/upload/", views.upload, name="upload"),
    path("cases/<uuid:case_uuid>/imaging/documents/", views.add_document, name="document_add"),
    path("cases/<uuid:case_uuid>/imaging/documents/<uuid:document_uuid>/", views.document, name="document"),
    path("cases/<uuid:case_uuid>/imaging/<uuid:import_uuid>/", views.import_page, name="import"),
]
