from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kyphos.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from kyphos.audit import chain  # noqa: F401  (connects the per-connection set-up of the triggers)
