from django.apps import AppConfig


class InteropConfig(AppConfig):
    """The hospital's other systems: HL7 v2 over MLLP in and out (and, later, FHIR). Every message goes through the
    same services as the staff pages."""

    name = "kyphos.interop"
    label = "interop"
    verbose_name = "Interfaces"

    def ready(self) -> None:
        # The handlers register themselves with the inbound dispatcher when read.
        from kyphos.interop.hl7v2 import adt, inbound, oru, outbound, siu  # noqa: F401, PLC0415
        from kyphos.messaging import jobs  # noqa: PLC0415

        jobs.register_sender("hl7_outbound", outbound.work)
        jobs.register("interop.replay_held", inbound.replay_held)
        from kyphos.interop.fhir import bulk  # noqa: PLC0415

        jobs.register_sender("fhir_export", bulk.work)
        jobs.register("interop.expire_exports", bulk.expire)
        from kyphos.interop.dicom import importing  # noqa: PLC0415

        # Outside imaging accepted on the staff page is stored to the PACS by the worker.
        jobs.register_sender("outside_imaging", importing.work)
