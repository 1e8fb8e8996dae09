from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "kyphos.messaging"
    label = "messaging"

    def ready(self) -> None:
        from kyphos.messaging import jobs, reminders

        jobs.register("messaging.reminders", reminders.derive)
