from django.apps import AppConfig


class InteropConfig(AppConfig):
    """The hospital's other systems: HL7 v2 over MLLP in and out (and, later, FHIR). Every message goes through the
    same services as the staff pages."""

    name = "kyphos.interop"
    label = "interop"
    verbose_name = "Interfaces"
