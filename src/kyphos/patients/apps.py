from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "kyphos.patients"
    label = "patients"
