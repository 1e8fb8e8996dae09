from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "kyphos.aftercare"
    label = "aftercare"

    def ready(self) -> None:
        from kyphos.aftercare import followup
        from kyphos.messaging import jobs

        jobs.register("aftercare.missed_visits", followup.mark_missed_visits)
