from django.apps import AppConfig


class LabsConfig(AppConfig):
    """Lab results for a case: typed on the admission screen today, from the HL7 lab feed next; read by every stage."""

    name = "kyphos.labs"
    label = "labs"
