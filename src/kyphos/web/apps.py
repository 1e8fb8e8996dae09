from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kyphos.web"
    label = "web"

    def ready(self) -> None:
        # The sign-in and account audit receivers connect when their modules are read.
        from kyphos.web import accounts, signin  # noqa: F401, PLC0415 - the app registry must be ready first

        accounts.connect_second_factor_audit()
