"""Template context shared by every staff page: the user's roles and what the policy lets them do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kyphos.pathway.policy import POLICY, roles_of
from kyphos.web import second_factor
from kyphos.web.middleware import idle_minutes


def kyphos(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    roles = roles_of(user)
    can = {perm.replace(".", "_"): bool(roles & allowed) for perm, allowed in POLICY.items()}
    return {
        "my_roles": sorted(r.label for r in roles),
        "can": can,
        "idle_seconds": (idle_minutes(request) if user is not None and user.is_authenticated else 0) * 60,
        "second_factor_waived": second_factor.waived_for_demo(user),
    }
