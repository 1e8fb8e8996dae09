from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The patient's own pages, reached by a signed link without signing in."""

    name = "kyphos.portal"
    label = "portal"
