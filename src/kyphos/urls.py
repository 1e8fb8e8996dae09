from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from kyphos.web import audit_views, integration_views, metrics, scope, second_factor, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/second-factor/", second_factor.setup, name="second_factor_setup"),
    path("account/verify/", second_factor.verify, name="second_factor_verify"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.referral_new, name="referral_new"),
    path("cases/<uuid:case_uuid>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:case_uuid>/book/", views.case_book, name="case_book"),
    path("cases/<uuid:case_uuid>/book/plan/", views.case_book_plan, name="case_book_plan"),
    path("cases/<uuid:case_uuid>/reschedule/", views.case_book, {"reschedule": True}, name="case_reschedule"),
    path("cases/<uuid:case_uuid>/do/<slug:action>/", views.case_action, name="case_action"),
    path("cases/<uuid:case_uuid>/patient-link/", views.case_link, name="case_link"),
    path("tasks/<uuid:task_uuid>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<uuid:task_uuid>/release/", views.task_release, name="task_release"),
    path("patients/<uuid:patient_uuid>/", views.patient_detail, name="patient_detail"),
    path("patients/<uuid:patient_uuid>/break-glass/", scope.break_glass, name="break_glass"),
    path("day/", views.day_list, name="day_list"),
    path("messages/not-sent/", views.messages_not_sent, name="messages_not_sent"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("integration/", integration_views.message_list, name="integration"),
    path("integration/<int:message_id>/", integration_views.message_detail, name="integration_detail"),
    path("integration/<int:message_id>/again/", integration_views.message_replay, name="integration_replay"),
    path("healthz", metrics.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
    # Browsers ask for /favicon.ico before reading the page's icon link.
    path("favicon.ico", RedirectView.as_view(url=static("kyphos/favicon.svg"), permanent=True)),
    path("", include("kyphos.precall.urls")),
    path("", include("kyphos.procedure.urls")),
    path("", include("kyphos.aftercare.urls")),
    path("admin/", admin.site.urls),
    path("fhir/", include("kyphos.interop.fhir.urls")),
    path("", include("kyphos.interop.dicom.urls")),
    path("", include("kyphos.reports.urls")),
    path("", include("kyphos.portal.urls")),
]
