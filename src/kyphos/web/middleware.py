"""Every page Kyphos renders may show a patient's data: none is kept by a browser or a proxy cache, and a staff
session left alone ends by itself."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from kyphos import clock
from kyphos.scheduling.models import Site
from kyphos.web import accounts


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response that does not set its own caching (static files, served
    before this middleware by WhiteNoise, keep theirs)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


IDLE_KEY = "kyphos_last_seen"
IDLE_LIMIT_KEY = "kyphos_idle_minutes"


def idle_minutes(request: HttpRequest) -> int:
    """This session's idle limit: the strictest of the user's sites, never more than KYPHOS_IDLE_MINUTES.
    Read once per session (a site's new setting applies from the next sign-in)."""
    cached = request.session.get(IDLE_LIMIT_KEY)
    if isinstance(cached, int):
        return cached
    limits = Site.objects.filter(staff=request.user.pk).values_list("idle_minutes", flat=True)
    minutes = min([settings.KYPHOS_IDLE_MINUTES, *limits])
    request.session[IDLE_LIMIT_KEY] = minutes
    return minutes


class IdleSignOutMiddleware:
    """A staff session ends after ``idle_minutes`` without a request (default 15): the next request signs
    out and asks to sign in again. The page warns a minute before (kyphos.js) and can keep the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = clock.current().timestamp()
            last = request.session.get(IDLE_KEY)
            limit = idle_minutes(request)
            if isinstance(last, (int, float)) and now - last > limit * 60:
                request.kyphos_sign_out_reason = "idle"  # type: ignore[attr-defined]
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after {minutes} minutes without activity. Please sign in again.").format(
                        minutes=limit
                    ),
                )
                return redirect_to_login(request.get_full_path())
            if last is None or now - float(last) > 20:  # write the session at most every 20 s
                request.session[IDLE_KEY] = now
        return self.get_response(request)


class CurrentRequestMiddleware:
    """Keeps the request at hand for audit receivers that Django calls without one (web.accounts)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = accounts.current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            accounts.current_request.reset(token)
