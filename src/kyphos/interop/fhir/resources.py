"""Every resource type the API serves, in the order the CapabilityStatement lists them. Each module registers its
``Kind`` with ``kinds.REGISTRY`` when imported; the views import this module."""

from kyphos.interop.fhir import (
    answers,
    appointment,
    clinical,
    condition,
    patient,
    procedure,
    records,
    service_request,
    workflow,
)

SERVED = (
    patient.KIND,
    appointment.LOCATION,
    service_request.KIND,
    condition.KIND,
    appointment.APPOINTMENT,
    workflow.ENCOUNTER,
    procedure.KIND,
    clinical.KIND,
    workflow.MEDICATION,
    workflow.TASK,
    workflow.CAREPLAN,
    records.ALLERGY,
    answers.QUESTIONNAIRE,
    answers.RESPONSE,
    answers.DOCUMENT,
    answers.PRACTITIONER,
    records.AUDIT,
)
