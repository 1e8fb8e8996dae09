"""Who is acting: a signed-in user (or a system feed) and the address the request came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class Actor:
    user: Any  # a User, or None for a system process (HL7 feed, worker, demo loader)
    client_addr: str | None = None
    system_name: str = ""

    @property
    def name(self) -> str:
        if self.user is not None:
            return str(self.user.get_username())
        return self.system_name or "system"

    @property
    def user_or_none(self) -> Any:
        """The user to store on a record, or None for a system actor."""
        if self.user is None or isinstance(self.user, AnonymousUser):
            return None
        return self.user

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        """The signed-in user and the client address (set by ClientAddressMiddleware)."""
        return cls(user=request.user, client_addr=getattr(request, "client_addr", None))

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(user=None, client_addr=None, system_name=name)
