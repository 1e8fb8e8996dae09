from django.urls import path

from kyphos.aftercare import followup_views, views

app_name = "aftercare"
urlpatterns = [
    path("cases/<uuid:case_uuid>/recovery/", views.recovery_page, name="recovery"),
    path("cases/<uuid:case_uuid>/recovery/checks/", views.record_check, name="check"),
    path("cases/<uuid:case_uuid>/recovery/ward/", views.to_ward, name="ward"),
    path("cases/<uuid:case_uuid>/recovery/pain/", views.record_pain, name="pain"),
    path("cases/<uuid:case_uuid>/recovery/discharge/", views.discharge, name="discharge"),
    path("cases/<uuid:case_uuid>/discharge-letter/", views.discharge_letter, {"fmt": "html"}, name="letter"),
    path(
        "cases/<uuid:case_uuid>/discharge-letter.pdf",
        views.discharge_letter,
        {"fmt": "pdf"},
        name="letter_pdf",
    ),
    path("cases/<uuid:case_uuid>/diary/", followup_views.diary_page, name="diary"),
    path("cases/<uuid:case_uuid>/follow-up/", followup_views.follow_up_page, name="follow_up"),
    path("cases/<uuid:case_uuid>/follow-up/close/", followup_views.close_case, name="close"),
    path(
        "cases/<uuid:case_uuid>/letters/<slug:kind>/",
        followup_views.referral_letter,
        {"fmt": "html"},
        name="referral_letter",
    ),
    path(
        "cases/<uuid:case_uuid>/letters/<slug:kind>.pdf",
        followup_views.referral_letter,
        {"fmt": "pdf"},
        name="referral_letter_pdf",
    ),
    path("follow-up/", followup_views.follow_up_list, name="follow_up_list"),
]
