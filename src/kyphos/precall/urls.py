from django.urls import path

from kyphos.precall import views

app_name = "precall"
urlpatterns = [
    path("cases/<uuid:case_uuid>/call/", views.call_page, name="call"),
    path("cases/<uuid:case_uuid>/call/attempt/", views.attempt, name="attempt"),
    path("cases/<uuid:case_uuid>/letter/", views.letter_html, name="letter"),
    path("cases/<uuid:case_uuid>/letter.pdf", views.letter_pdf, name="letter_pdf"),
    path("tasks/<uuid:task_uuid>/agree/", views.agree, name="agree"),
]
