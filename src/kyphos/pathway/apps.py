from django.apps import AppConfig


class PathwayConfig(AppConfig):
    name = "kyphos.pathway"
    label = "pathway"
