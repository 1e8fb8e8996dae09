from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kyphos.web"
    label = "web"
