from django.urls import path

from kyphos.procedure import views

app_name = "procedure"
urlpatterns = [
    path("cases/<uuid:case_uuid>/admission/", views.admission, name="admission"),
    path("cases/<uuid:case_uuid>/procedure/", views.procedure_page, name="page"),
    path("cases/<uuid:case_uuid>/procedure/note.pdf", views.note_pdf, name="note_pdf"),
]
