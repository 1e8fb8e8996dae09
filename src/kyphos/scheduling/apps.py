from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "kyphos.scheduling"
    label = "scheduling"
