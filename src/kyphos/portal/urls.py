from django.urls import path

from kyphos.portal import views

# The patient's own pages (signed link; no sign-in). URL names are global: letters and messages link to them.
urlpatterns = [
    path("p/<str:token>/", views.home, name="patient_home"),
    path("p/<str:token>/lang/<slug:lang>/", views.language, name="patient_lang"),
    path("p/<str:token>/checklist/", views.checklist, name="patient_checklist"),
    path("p/<str:token>/letter/", views.letter, name="patient_letter"),
    path("p/<str:token>/letter.pdf", views.letter, {"fmt": "pdf"}, name="patient_letter_pdf"),
    path("p/<str:token>/appointment.ics", views.ics, {"what": "appointment"}, name="patient_ics"),
    path("p/<str:token>/visit.ics", views.ics, {"what": "visit"}, name="patient_visit_ics"),
    path("p/<str:token>/diary/", views.diary_entry, name="patient_diary"),
    path("p/<str:token>/diary/<uuid:entry_uuid>/", views.diary_result, name="patient_diary_result"),
    path("p/<str:token>/questions/", views.questions, name="patient_questions"),
    path("p/<str:token>/questions/<int:questionnaire_id>/", views.questions, name="patient_questionnaire"),
]
