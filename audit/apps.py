from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit history"

    def ready(self):
        from . import receivers  # noqa: F401 (sign-in, sign-out and failed sign-in events)
