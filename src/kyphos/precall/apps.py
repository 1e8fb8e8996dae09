from django.apps import AppConfig


class PrecallConfig(AppConfig):
    name = "kyphos.precall"
    label = "precall"
    verbose_name = "Pre-procedure call"
