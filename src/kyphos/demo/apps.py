from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo department and the one builder that takes a case to any stage through the real services."""

    name = "kyphos.demo"
    label = "demo"
