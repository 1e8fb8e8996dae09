from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "kyphos.messaging"
    label = "messaging"
