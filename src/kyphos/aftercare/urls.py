from django.urls import path

from kyphos.aftercare import views

app_name = "aftercare"
urlpatterns = [
    path("cases/<uuid:case_uuid>/recovery/", views.recovery_page, name="recovery"),
    path("cases/<uuid:case_uuid>/discharge-letter/", views.discharge_letter, {"fmt": "html"}, name="letter"),
    path("cases/<uuid:case_uuid>/discharge-letter.pdf", views.discharge_letter, {"fmt": "pdf"}, name="letter_pdf"),
]
