from django.urls import path

from kyphos.procedure import views

app_name = "procedure"
urlpatterns = [
    path("cases/<uuid:case_uuid>/admission/", views.admission, name="admission"),
    path("cases/<uuid:case_uuid>/admission/admit/", views.admit, name="admit"),
    path("cases/<uuid:case_uuid>/admission/labs/", views.record_lab, name="lab"),
    path("cases/<uuid:case_uuid>/procedure/", views.procedure_page, name="page"),
    path("cases/<uuid:case_uuid>/procedure/checklist/<slug:part>/", views.sign_checklist, name="checklist"),
    path("cases/<uuid:case_uuid>/procedure/sedation/", views.record_sedation, name="sedation"),
    path("cases/<uuid:case_uuid>/procedure/start/", views.start_procedure, name="start"),
    path("cases/<uuid:case_uuid>/procedure/levels/", views.record_level, name="level"),
    path(
        "cases/<uuid:case_uuid>/procedure/levels/<int:level_id>/cement-set/",
        views.cement_set,
        name="cement_set",
    ),
    path("cases/<uuid:case_uuid>/procedure/end/", views.end_procedure, name="end"),
    path("cases/<uuid:case_uuid>/procedure/note/sign/", views.sign_note, name="sign_note"),
    path("cases/<uuid:case_uuid>/procedure/note/addendum/", views.add_addendum, name="addendum"),
    path("cases/<uuid:case_uuid>/procedure/note.pdf", views.note_pdf, name="note_pdf"),
]
