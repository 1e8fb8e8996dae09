from django.apps import AppConfig


class ProcedureConfig(AppConfig):
    name = "kyphos.procedure"
    label = "procedure"
    verbose_name = "Procedure day"
