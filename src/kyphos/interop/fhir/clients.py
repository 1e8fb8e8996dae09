"""API clients and their tokens: registering a client, SMART Backend Services token exchange, bearer checks.

SMART App Launch 2.0.0, "Backend Services": the client signs a JWT (RFC 7523) with its private key — RS384 or
ES384 — whose ``iss`` and ``sub`` are its client_id, ``aud`` the token endpoint's URL, ``exp`` at most five
minutes ahead and ``jti`` never used before; it posts it with ``grant_type=client_credentials``. Kyphos checks the
signature against the public keys registered with the client and answers a short-lived access token carrying the
scopes asked for, cut down to those the client is registered for. Only digests of tokens are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kyphos import clock
from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.errors import InvalidInput
from kyphos.interop.fhir import scopes
from kyphos.interop.models import ApiClient, ApiToken, UsedAssertion
from kyphos.pathway.policy import Role
from kyphos.scheduling.models import Site

ACCESS_SECONDS = 300  # SMART Backend Services: access tokens live five minutes
ASSERTION_MAX_SECONDS = 300  # and an assertion's exp is at most five minutes ahead
ALGORITHMS = ("RS384", "ES384")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenRefused(Exception):  # noqa: N818 - an OAuth error answer, not a bug
    """An OAuth 2.0 error response (RFC 6749 section 5.2): ``error`` code and a description."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class Grant:
    """Who a request acts as and what its token allows."""

    client: ApiClient
    scopes: list[scopes.Scope]

    def actor(self, client_addr: str | None) -> Actor:
        return Actor(user=self.client.user, client_addr=client_addr)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_client(
    actor: Actor, name: str, scope_text: str, roles: list[str], site_codes: list[str], jwks: dict[str, Any]
) -> ApiClient:
    """Register a client with its own service account: roles as for staff, the sites whose patients it sees
    (none named: every site there is now; a site added later is given to it in the admin), the scopes it may be
    granted and its public keys."""
    wanted = scopes.parse(scope_text)
    unknown = [part for part in scope_text.split() if scopes.parse_one(part) is None]
    if not wanted or unknown:
        raise InvalidInput(
            format_lazy(
                gettext_lazy("Not a system scope Kyphos grants: {scope} (for example system/Patient.rs)."),
                scope=(unknown or [scope_text or "—"])[0],
            ),
            field="scopes",
        )
    bad_roles = [role for role in roles if role not in Role.values]
    if bad_roles:
        raise InvalidInput(format_lazy(gettext_lazy("Unknown role {role}."), role=bad_roles[0]), field="role")
    sites = list(Site.objects.filter(code__in=site_codes) if site_codes else Site.objects.all())
    if site_codes and len(sites) != len(set(site_codes)):
        missing = sorted(set(site_codes) - {s.code for s in sites})
        raise InvalidInput(format_lazy(gettext_lazy("Unknown site {code}."), code=missing[0]), field="site")
    _check_jwks(jwks)
    if ApiClient.objects.filter(name=name).exists():
        raise InvalidInput(format_lazy(gettext_lazy("A client named {name} exists."), name=name), field="name")
    user = get_user_model().objects.create(username=f"api:{name}"[:150], is_active=True)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    for site in sites:
        site.staff.add(user)
    client = ApiClient.objects.create(name=name, user=user, scopes=scopes.text_of(wanted), jwks=jwks)
    audit.record(actor, AuditAction.CREATE, "api_client", client.pk, detail=f"{name}: {client.scopes}"[:200])
    return client


def _check_jwks(jwks: dict[str, Any]) -> None:
    keys = jwks.get("keys", []) if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise InvalidInput(gettext_lazy("The key set must be a JWKS: an object with a list of keys."), field="jwks")
    for key in keys:
        try:
            algorithm = jwt.PyJWK(key).algorithm_name if isinstance(key, dict) else ""
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            algorithm = ""
        if not isinstance(key, dict) or key.get("d") is not None or not algorithm:
            raise InvalidInput(
                gettext_lazy("Each key must be a public RSA or EC key in JWK form (never the private key)."),
                field="jwks",
            )


def issue_script_token(actor: Actor, client: ApiClient, days: int) -> str:
    """A bearer token for a script, valid ``days`` days with all the client's scopes; returned once, kept hashed."""
    token = "kys_" + secrets.token_urlsafe(32)
    now = clock.current()
    ApiToken.objects.create(
        client=client,
        digest=digest(token),
        kind=ApiToken.Kind.SCRIPT,
        scopes=client.scopes,
        issued_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit.record(actor, AuditAction.CREATE, "api_token", client.pk, detail=f"script token, {days} days")
    return token


def exchange(form: dict[str, str], token_url: str, client_addr: str | None) -> dict[str, Any]:
    """The token endpoint: check the client's signed assertion, answer an access token (RFC 6749 section 5.1)."""
    if form.get("grant_type") != "client_credentials":
        raise TokenRefused("unsupported_grant_type", _("Only the client_credentials grant is supported."))
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        raise TokenRefused("invalid_request", _("A signed client assertion (private_key_jwt) is required."))
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
        claimed = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenRefused("invalid_client", _("The client assertion is not a JWT.")) from None
    name = claimed.get("iss")
    client = ApiClient.objects.select_related("user").filter(name=name if isinstance(name, str) else "").first()
    if client is None or not client.active or not client.user.is_active:
        raise TokenRefused("invalid_client", _("Unknown or inactive client."), status=401)
    claims = _verified(assertion, header, client, token_url)
    requested = scopes.parse(form.get("scope", ""))
    granted = scopes.narrowed(requested, scopes.parse(client.scopes))
    if not granted:
        raise TokenRefused("invalid_scope", _("None of the requested scopes is granted to this client."))
    token, now = secrets.token_urlsafe(32), clock.current()
    expires = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=str(claims["jti"])[:255], expires_at=expires)
            ApiToken.objects.create(
                client=client,
                digest=digest(token),
                kind=ApiToken.Kind.ACCESS,
                scopes=scopes.text_of(granted),
                issued_at=now,
                expires_at=now + timedelta(seconds=ACCESS_SECONDS),
            )
    except IntegrityError:
        raise TokenRefused("invalid_grant", _("This client assertion was used already.")) from None
    UsedAssertion.objects.filter(expires_at__lt=now - timedelta(minutes=5)).delete()
    audit.record(
        Actor(user=client.user, client_addr=client_addr),
        AuditAction.CREATE,
        "api_token",
        client.pk,
        detail=f"access token: {scopes.text_of(granted)}"[:200],
    )
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ACCESS_SECONDS,
        "scope": scopes.text_of(granted),
    }


def _verified(assertion: str, header: dict[str, Any], client: ApiClient, token_url: str) -> dict[str, Any]:
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise TokenRefused("invalid_client", _("The assertion must be signed with RS384 or ES384."), status=401)
    keys = [k for k in (client.jwks or {}).get("keys", []) if isinstance(k, dict)]
    if header.get("kid"):
        keys = [k for k in keys if k.get("kid") == header["kid"]]
    for key in keys:
        try:
            public = jwt.PyJWK(key, algorithm=algorithm)
            claims: dict[str, Any] = jwt.decode(
                assertion,
                public.key,
                algorithms=[algorithm],
                audience=token_url,
                issuer=client.name,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
                leeway=30,
            )
        except (jwt.InvalidSignatureError, jwt.PyJWKError, jwt.InvalidKeyError):
            continue  # another of the client's keys may have signed it
        except jwt.PyJWTError as exc:
            raise TokenRefused(
                "invalid_client", _("The client assertion is not valid: {why}").format(why=exc)
            ) from None
        if claims["sub"] != client.name:
            raise TokenRefused("invalid_client", _("The assertion's sub must be the client_id."), status=401)
        if int(claims["exp"]) > clock.current().timestamp() + ASSERTION_MAX_SECONDS + 30:
            raise TokenRefused("invalid_client", _("The assertion must expire within five minutes."), status=401)
        return claims
    raise TokenRefused("invalid_client", _("No key registered for this client verifies the signature."), status=401)


def authenticate(authorization: str) -> Grant | None:
    """The grant a ``Bearer`` token carries, or None when the token is missing, unknown, expired or revoked."""
    kind, _space, token = authorization.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return None
    row = (
        ApiToken.objects.select_related("client", "client__user")
        .filter(digest=digest(token.strip()), revoked_at__isnull=True, expires_at__gt=clock.current())
        .first()
    )
    if row is None or not row.client.active or not row.client.user.is_active:
        return None
    return Grant(row.client, scopes.parse(row.scopes))
