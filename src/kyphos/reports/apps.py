from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The manager's dashboard (and, later, the registry export): figures computed from the pathway's records."""

    name = "kyphos.reports"
    label = "reports"
    verbose_name = "Reports"
