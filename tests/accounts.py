"""Signing a test client in as a person does: the password (skipped: ``force_login``) and, for the roles that need
one, the second factor (a confirmed authenticator app, verified in the session as the code page does)."""

from __future__ import annotations

from typing import Any


def sign_in(client: Any, user: Any) -> Any:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kyphos.web.second_factor import APP_DEVICE, needs_second_factor

    client.force_login(user)
    if needs_second_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name=APP_DEVICE, confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
