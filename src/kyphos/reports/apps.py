from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The manager's dashboard (its cache refreshed by the worker) and the registry export: figures computed from
    the pathway's records."""

    name = "kyphos.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from kyphos.messaging import jobs
        from kyphos.reports import cache

        jobs.register("reports.refresh_dashboard", cache.refresh)
        jobs.register("reports.warm_dashboard", cache.warm)
