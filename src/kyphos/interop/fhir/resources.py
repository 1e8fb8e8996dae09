"""Every resource type the API serves, in the order the CapabilityStatement lists them. Each module registers its
``Kind`` with ``kinds.REGISTRY`` when imported; the views import this module."""

from kyphos.interop.fhir import observation, patient, service_request

SERVED = (patient.KIND, service_request.KIND, observation.KIND)
