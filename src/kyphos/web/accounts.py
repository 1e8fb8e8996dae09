"""Changes to who may do what are audit entries: a user's roles (groups) added or removed, and the account made
active or inactive, staff or superuser, by whom (the signed-in user of the request, else the command line)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import Group, User
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from kyphos.audit import services as audit
from kyphos.audit.actor import Actor
from kyphos.audit.models import AuditAction
from kyphos.scheduling.models import Site

# The request being served, so that a change made through the admin is audited with the person who made it.
current_request: ContextVar[HttpRequest | None] = ContextVar("kyphos_current_request", default=None)
WATCHED = ("is_active", "is_staff", "is_superuser")


def _actor() -> Actor:
    request = current_request.get()
    if request is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
        return Actor.from_request(request)
    return Actor.system("command line")


def _record(user: User, detail: str) -> None:
    audit.record(_actor(), AuditAction.UPDATE, "user", user.pk, detail=f"{user.get_username()}: {detail}"[:200])


@receiver(m2m_changed, sender=User.groups.through)
def _roles_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kw: Any) -> None:
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    verb = {"post_add": "role added", "post_remove": "role removed", "pre_clear": "role removed"}[action]
    if reverse:  # group.user_set.add(user): the instance is the group
        users = User.objects.filter(pk__in=pk_set or []) if action != "pre_clear" else instance.user_set.all()
        for user in users:
            _record(user, f"{verb} {instance.name}")
        return
    groups = Group.objects.filter(pk__in=pk_set or []) if action != "pre_clear" else instance.groups.all()
    for group in groups:
        _record(instance, f"{verb} {group.name}")


@receiver(m2m_changed, sender=Site.staff.through)
def _sites_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kw: Any) -> None:
    """A user given or taken a site (Site.staff): who may see which patients changed."""
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    verb = "site added" if action == "post_add" else "site removed"
    if not reverse:  # site.staff.add(user): the instance is the site
        users = User.objects.filter(pk__in=pk_set or []) if action != "pre_clear" else instance.staff.all()
        for user in users:
            _record(user, f"{verb} {instance.code}")
        return
    sites = Site.objects.filter(pk__in=pk_set or []) if action != "pre_clear" else instance.work_sites.all()
    for site in sites:
        _record(instance, f"{verb} {site.code}")


@receiver(pre_save, sender=User)
def _remember_flags(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and not set(update_fields) & set(WATCHED):
        instance._kyphos_flags_before = None  # type: ignore[attr-defined]  # e.g. last_login at each sign-in
        return
    before = User.objects.filter(pk=instance.pk).values(*WATCHED).first() if instance.pk else None
    instance._kyphos_flags_before = before  # type: ignore[attr-defined]


@receiver(post_save, sender=User)
def _flags_changed(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if created:
        flags = ", ".join(name for name in WATCHED if getattr(instance, name))
        _record(instance, f"account created ({flags or 'no flags'})")
        return
    before = getattr(instance, "_kyphos_flags_before", None) or {}
    for name in WATCHED:
        if name in before and before[name] != getattr(instance, name):
            _record(instance, f"{name} {'on' if getattr(instance, name) else 'off'}")


def _device_removed(sender: Any, instance: Any, **kwargs: Any) -> None:
    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None:
        _record(user, f"second factor removed ({instance.name or sender.__name__})")


def connect_second_factor_audit() -> None:
    """Called from WebConfig.ready(): a device removed anywhere (our reset, django-otp's admin) is audited."""
    from django.db.models.signals import post_delete
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        post_delete.connect(_device_removed, sender=model, dispatch_uid=f"kyphos-audit-{model.__name__}")
