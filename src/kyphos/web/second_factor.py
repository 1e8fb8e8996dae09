"""The second factor: a code from an authenticator app (TOTP, RFC 6238) or a one-time recovery code.

Required for administrators, managers, auditors and superusers, and for any role a hospital adds in
``KYPHOS_SECOND_FACTOR_ROLES``. Such a user, once signed in with the password, sees nothing else until they enter a
code: the first time, they set up their app from a QR code drawn here (no outside service sees the secret) and
receive ten recovery codes, shown once. An administrator resets a lost device (admin action or
``kyphos reset-second-factor USER``). In a demo database the published demo users are not asked, and every page
says so. Each step is an audit entry (web.accounts audits devices added and removed).
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.demo import department as demo
from kyphos.pathway.policy import Role, roles_of

ALWAYS = frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR})
RECOVERY_CODES = 10
APP_DEVICE = "authenticator app"
RECOVERY_DEVICE = "recovery codes"


def required_roles() -> frozenset[Role]:
    return ALWAYS | frozenset(Role(name) for name in settings.KYPHOS_SECOND_FACTOR_ROLES)


def needs_second_factor(user: Any) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_superuser or roles_of(user) & required_roles())


def waived_for_demo(user: Any) -> bool:
    """A demo database's users have published passwords; asking them for a second factor would prove nothing."""
    return needs_second_factor(user) and demo.is_demo()


def verified(user: Any) -> bool:
    """The session has passed a second factor (set by django-otp's middleware)."""
    return bool(getattr(user, "is_verified", lambda: False)())


def has_app(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


class SecondFactorMiddleware:
    """After the password, a user who needs a second factor reaches only the pages that ask for it."""

    OPEN = (
        "/login/",
        "/logout/",
        "/account/",
        "/static/",
        "/session/keep-alive/",
        "/p/",
        "/healthz",
        "/metrics",
        "/favicon",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and needs_second_factor(user)
            and not verified(user)
            and not request.path.startswith(self.OPEN)
            and not demo.is_demo()
        ):
            target = "second_factor_verify" if has_app(user) else "second_factor_setup"
            return HttpResponseRedirect(f"{reverse(target)}?next={_safe_next(request, request.get_full_path())}")
        return self.get_response(request)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return reverse("home")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        help_text=gettext_lazy("The 6 digits your authenticator app shows now, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def clean_code(self) -> str:
        return "".join(str(self.cleaned_data["code"]).split()).lower()


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: bytes = image.to_string()
    return svg.decode()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _recovery_codes(user: Any) -> list[str]:
    """New recovery codes (the old ones stop working), to be shown once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if has_app(user):
        return redirect("second_factor_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("code", _("Too many wrong codes in a row. Wait a few seconds, then try the newest code."))
        elif device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            codes = _recovery_codes(user)
            audit.record(
                Actor.from_request(request), AuditAction.UPDATE, "user", user.pk, detail="second factor set up"
            )
            return render(
                request,
                "kyphos/second_factor_codes.html",
                {"codes": codes, "next": _safe_next(request, request.GET.get("next"))},
            )
        else:
            form.add_error("code", _("That code does not match. Check the time on your phone and try the newest code."))
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "kyphos/second_factor_setup.html",
        {"form": form, "qr": mark_safe(_qr_svg(device.config_url)), "secret": _grouped(secret)},  # noqa: S308
    )


def _verify(request: HttpRequest, code: str) -> tuple[Any, str]:
    """The device that accepts the code and how it was used, or (None, why not)."""
    user = request.user
    for device in [*TOTPDevice.objects.filter(user=user, confirmed=True), *StaticDevice.objects.filter(user=user)]:
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            return None, "throttled"
        if device.verify_token(code):
            return device, "recovery code" if isinstance(device, StaticDevice) else "authenticator app"
    return None, "wrong"


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not has_app(user):
        return redirect("second_factor_setup")
    target = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if verified(user):
        return HttpResponseRedirect(target)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, how = _verify(request, form.cleaned_data["code"])
        actor = Actor.from_request(request)
        if device is not None:
            otp_login(request, device)
            audit.record(actor, AuditAction.SIGN_IN, "user", user.pk, detail=f"second factor: {how}")
            if how == "recovery code":
                remaining = StaticToken.objects.filter(device__user=user).count()
                messages.warning(
                    request,
                    _("You used a recovery code; %(count)s are left. Set up your app again if you lost it.")
                    % {"count": remaining},
                )
            return HttpResponseRedirect(target)
        audit.record(actor, AuditAction.SIGN_IN_FAILED, "user", user.pk, detail=f"second factor: {how}")
        if how == "throttled":
            form.add_error("code", _("Too many wrong codes in a row. Wait a few seconds, then try the newest code."))
        else:
            form.add_error("code", _("That code does not match. Try the newest code, or a recovery code."))
    return render(request, "kyphos/second_factor_verify.html", {"form": form, "next": target})


def reset(actor: Actor, user: Any) -> int:
    """Remove a user's app and recovery codes (a lost phone): they set up again at their next sign-in."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user):
            device.delete()
            removed += 1
    audit.record(actor, AuditAction.UPDATE, "user", user.pk, detail=f"{user.get_username()}: second factor reset")
    return removed
