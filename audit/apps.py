from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit history"

    def ready(self):
        from . import checks, receivers  # noqa: F401 (system checks; sign-in/out events and the change recorder)
