from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "kyphos.aftercare"
    label = "aftercare"
