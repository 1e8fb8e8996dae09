from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kyphos.audit"
    label = "audit"
    verbose_name = "Audit"
