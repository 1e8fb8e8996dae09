"""SMART scopes for backend clients: what a token allows, read from its scope string.

SMART App Launch 2.0.0, section "Scopes and Launch Context": a v2 scope is ``system/<Resource>.<permissions>``
where the permissions are the letters ``c`` (create), ``r`` (read), ``u`` (update), ``d`` (delete) and ``s``
(search), in that order (``system/Patient.rs``, ``system/*.cruds``). The v1 forms ``.read``, ``.write`` and ``.*``
are accepted as their v2 equivalents. Only ``system/`` scopes mean anything to a backend client; ``patient/`` and
``user/`` scopes, and anything else, are not granted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LETTERS = "cruds"
V1 = {"read": "rs", "write": "cud", "*": "cruds"}
SCOPE = re.compile(r"^system/(?P<resource>\*|[A-Z][A-Za-z]{1,63})\.(?P<permissions>[cruds]{1,5}|read|write|\*)$")
# The interaction a request performs → the letter a scope must hold for it.
INTERACTIONS = {"create": "c", "read": "r", "vread": "r", "history": "r", "update": "u", "delete": "d", "search": "s"}


@dataclass(frozen=True)
class Scope:
    resource: str  # a resource type, or "*"
    permissions: str  # a subset of "cruds", in that order

    def __str__(self) -> str:
        return f"system/{self.resource}.{self.permissions}"


def parse_one(text: str) -> Scope | None:
    """The scope ``text`` names, or None when it is not a system scope Kyphos grants (v2 letters out of order
    are refused, as the specification requires them in order)."""
    found = SCOPE.match(text)
    if found is None:
        return None
    permissions = V1.get(found["permissions"], found["permissions"])
    if "".join(letter for letter in LETTERS if letter in permissions) != permissions:
        return None
    return Scope(found["resource"], permissions)


def parse(text: str) -> list[Scope]:
    """Every grantable scope in a space-separated scope string, in order, without repeats."""
    seen: list[Scope] = []
    for part in text.split():
        scope = parse_one(part)
        if scope is not None and scope not in seen:
            seen.append(scope)
    return seen


def allows(scopes: list[Scope], resource: str, interaction: str) -> bool:
    letter = INTERACTIONS[interaction]
    return any(s.resource in {"*", resource} and letter in s.permissions for s in scopes)


def narrowed(requested: list[Scope], registered: list[Scope]) -> list[Scope]:
    """What a token may carry: each requested scope cut down to what the client is registered for. A request for
    ``system/*.rs`` by a client registered for ``system/Patient.cruds`` gets ``system/Patient.rs``."""
    granted: list[Scope] = []
    for want in requested:
        for have in registered:
            if have.resource not in {"*", want.resource} and want.resource != "*":
                continue
            resource = want.resource if want.resource != "*" else have.resource
            permissions = "".join(
                letter for letter in LETTERS if letter in want.permissions and letter in have.permissions
            )
            scope = Scope(resource, permissions)
            if permissions and scope not in granted:
                granted.append(scope)
    return granted


def text_of(scopes: list[Scope]) -> str:
    return " ".join(str(s) for s in scopes)
