"""Errors on the FHIR edge, answered as an OperationOutcome with the status the specification gives them.

FHIR R4 (4.0.1) RESTful API, section 3.1.0.4 (status codes): 400 a request that cannot be read, 401 no valid
token, 403 a scope or role that does not allow it, 404 nothing there, 405 an interaction not supported, 409/412 a
version conflict, 422 a resource or a move the business rules refuse. The issue codes are the IssueType value set
(http://hl7.org/fhir/issue-type).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse

CONTENT_TYPE = "application/fhir+json; charset=utf-8"


class FhirError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str, expression: str = "") -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics, self.expression = status, code, diagnostics, expression


def outcome(code: str, diagnostics: str, severity: str = "error", expression: str = "") -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def respond(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status, content_type=CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="kyphos"'} if error.status == 401 else {}
    return respond(outcome(error.code, error.diagnostics, expression=error.expression), error.status, headers)


def refused(exc: ValidationError, where: dict[str, str], default: str) -> FhirError:
    """A service's ValidationError as a 422 naming the element at fault: ``where`` maps the service's field names
    to FHIR paths; a field it does not name is reported at ``default``."""
    field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("", exc.messages)
    return FhirError(422, "business-rule", " ".join(str(m) for m in messages), where.get(field, default))
